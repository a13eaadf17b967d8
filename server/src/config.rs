//! Settings, read from the environment once at start-up.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `PARLEY_BIND` | `127.0.0.1:3000` | address to listen on (port 0: any free port) |
//! | `PARLEY_PUBLIC_URL` | `http://<bind>` | the origin people use; links and Origin checks use it |
//! | `PARLEY_DATA_DIR` | `./data` | database file (SQLite) and other local state |
//! | `DATABASE_URL` | SQLite in the data dir | `sqlite://...` or `postgres://...` |
//! | `PARLEY_LOG` / `RUST_LOG` | `info` | log filter |
//! | `PARLEY_SITE_ROOT` | `target/site` | the built web assets (wasm, JS, CSS, public/) |
//! | `PARLEY_SECURE_COOKIES` | on when the public URL is https | mark the session cookie `Secure` |
//! | `PARLEY_UPLOAD_TYPES` | seed 000's list (jpg, png, pdf, ...) | file extensions that may be attached, comma-separated |
//! | `PARLEY_UPLOAD_MAX_MB` | `25` | the largest file one may attach, in MB |
//! | `PARLEY_SMTP_HOST` | none | the SMTP server; without it, emails are written to `<data dir>/outbox/` |
//! | `PARLEY_SMTP_PORT` | 587, 465 with `tls`, 25 with `none` | its port |
//! | `PARLEY_SMTP_TLS` | `starttls` | `starttls`, `tls` (implicit) or `none` (trusted network only) |
//! | `PARLEY_SMTP_USERNAME`, `PARLEY_SMTP_PASSWORD` | none | credentials, if the server wants them |
//! | `PARLEY_MAIL_FROM` | `Parley <parley@localhost>` | the sender of every email |
//! | `PARLEY_DIGEST_MINUTES` | `15` | how long a routine email waits for others to join it in one digest (0: none) |
//! | `PARLEY_MEETING_REMINDER_MINUTES` | `10` | how long before a meeting its people are reminded (0: never) |
//! | `PARLEY_PUSH_SUBJECT` | `mailto:` the sender's address | the contact push services see in the VAPID token |
//! | `PARLEY_PUSH_ALLOW_PRIVATE` | off | accept push endpoints on private or loopback addresses (a push service inside the network) |
//! | `PARLEY_SMS_ACCOUNT_SID`, `PARLEY_SMS_AUTH_TOKEN`, `PARLEY_SMS_FROM` | none | a Twilio-compatible SMS account; without them SMS is unavailable |
//! | `PARLEY_SMS_URL` | `https://api.twilio.com` | the SMS provider's API |
//! | `PARLEY_RTC_ANNOUNCED_IPS` | the interfaces' addresses | addresses the SFU announces in its ICE candidates (its public IP behind NAT) |
//! | `PARLEY_RTC_UDP_PORTS` | any | the UDP port range for calls, like `50000-50100` |
//! | `PARLEY_STUN_URLS` | none | STUN servers for browsers, comma-separated (`stun:host:3478`) |
//! | `PARLEY_TURN_URLS` | none | TURN servers for browsers, comma-separated (`turn:host:3478?transport=udp`) |
//! | `PARLEY_TURN_SECRET` | none | the secret shared with the TURN server (coturn `use-auth-secret`): browsers get credentials valid for a day |
//! | `PARLEY_TURN_TTL_SECONDS` | `86400` | how long those credentials stay valid |
//! | `PARLEY_LIMIT_<BUCKET>` | see [`domain::limits::Bucket::default_rate`] | a rate limit, `N/<duration>` (`10/10s`) or `off` |
//! | `PARLEY_PASSWORD_HASHES` | the number of cores | password hashes computed at once, at most |
//! | `PARLEY_UPLOADS_PER_PERSON` | `3` | uploads one person may have in flight at once |
//! | `PARLEY_MAX_BODY_KB` | `64` | the largest request body (and gateway frame), uploads, key backups and group commits aside |
//! | `PARLEY_CLAMD` | none | scan every upload with clamd before accepting it: `host:port` or `unix:/path` |
//! | `PARLEY_CLAMD_UNREACHABLE` | `refuse` | when clamd cannot be reached: `refuse` uploads, or `accept` them marked "not scanned" |
//! | `PARLEY_JITSI_URL` | none | offer meetings a room on this Jitsi Meet server (`https://meet.example.com`) |
//! | `PARLEY_JITSI_APP_ID` | `parley` | the app id of that server's token authentication (`iss`) |
//! | `PARLEY_JITSI_SECRET` | none | its secret: links then carry a JWT signed HS256 (unset: plain links, for a server without tokens) |
//! | `PARLEY_TRUST_PROXY` | off | take the client's address from `X-Forwarded-For` (behind a reverse proxy only) |
//! | `PARLEY_ADMINS` | none | usernames of the deployment's administrators, comma-separated (besides its first account) |
//! | `PARLEY_MESSAGE_RETENTION_DAYS` | none (keep everything) | the deployment's default: messages older than this many days are removed |
//! | `PARLEY_FILE_RETENTION_DAYS` | none (keep everything) | the same for attached files (their messages stay) |

use std::net::SocketAddr;
use std::path::PathBuf;

/// The encryption key of [`Config::for_tests`] (a test's, never a deployment's).
pub const TEST_ENCRYPTION_KEY: &str = "5e6f0d1c2b3a49587766554433221100ffeeddccbbaa99887766554433221100";

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    /// `None`: derive from the bound address (useful with port 0).
    pub public_url: Option<String>,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    /// `PARLEY_ENCRYPTION_KEY`: the master keys, newest first (else the
    /// key file in the data directory; see [`Config::keyring`]).
    pub encryption_key: Option<String>,
    pub log: String,
    pub site_root: PathBuf,
    pub secure_cookies: Option<bool>,
    pub uploads: domain::files::FilePolicy,
    /// Scans uploads when set.
    pub scanner: Option<domain::virus_scan::Scanner>,
    /// Jitsi, when meetings are to offer it.
    pub jitsi: Option<JitsiConfig>,
    pub mail: MailConfig,
    pub notify: NotifyConfig,
    pub rtc: crate::rtc::RtcConfig,
    pub limits: domain::limits::LimitSettings,
    /// The largest request body and gateway frame, uploads aside.
    pub max_body_bytes: usize,
    /// Whether the client's address comes from `X-Forwarded-For`.
    pub trust_proxy: bool,
    /// How long the event log keeps events (a gateway session can resume
    /// within this window).
    pub event_log_keep: std::time::Duration,
    /// How often the event log is read for events the bus did not get
    /// (another node's, when no doorbell rang).
    pub event_log_poll: std::time::Duration,
    /// Redis, between the nodes of one deployment (`None`: one node).
    pub redis_url: Option<String>,
    /// Deployment administrators and the default retention.
    pub compliance: domain::hub::ComplianceOptions,
}

/// How long the event log keeps events by default.
pub const DEFAULT_EVENT_LOG_HOURS: u64 = 24;

/// The largest request body and gateway frame by default.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

/// A Jitsi Meet server meetings offer rooms on.
#[derive(Debug, Clone)]
pub struct JitsiConfig {
    pub url: String,
    /// The app id and secret of its token authentication, if it uses it.
    pub token: Option<(String, String)>,
}

fn jitsi_from_env() -> Result<Option<JitsiConfig>, ConfigError> {
    let Some(url) = var("PARLEY_JITSI_URL") else { return Ok(None) };
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ConfigError::Invalid {
            name: "PARLEY_JITSI_URL",
            reason: format!("`{url}` must start with https:// (or http://)"),
        });
    }
    let app_id = var("PARLEY_JITSI_APP_ID").unwrap_or_else(|| "parley".into());
    Ok(Some(JitsiConfig { url, token: var("PARLEY_JITSI_SECRET").map(|secret| (app_id, secret)) }))
}

fn scanner_from_env() -> Result<Option<domain::virus_scan::Scanner>, ConfigError> {
    use domain::virus_scan::{ScanAddress, Scanner, WhenUnreachable};
    let Some(address) = var("PARLEY_CLAMD") else { return Ok(None) };
    let address = ScanAddress::parse(&address)
        .map_err(|reason| ConfigError::Invalid { name: "PARLEY_CLAMD", reason })?;
    let when = match var("PARLEY_CLAMD_UNREACHABLE").as_deref().map(str::trim) {
        None | Some("refuse") => WhenUnreachable::Refuse,
        Some("accept") => WhenUnreachable::Accept,
        Some(other) => {
            return Err(ConfigError::Invalid {
                name: "PARLEY_CLAMD_UNREACHABLE",
                reason: format!("`{other}` should be refuse or accept"),
            });
        }
    };
    Ok(Some(Scanner::new(address, when)))
}

fn compliance_from_env() -> Result<domain::hub::ComplianceOptions, ConfigError> {
    let days = |name: &'static str| {
        whole(name)?
            .map(|d| match d as i64 {
                d if d <= domain::hub::MAX_RETENTION_DAYS => Ok(d),
                _ => Err(ConfigError::Invalid {
                    name,
                    reason: format!("should be at most {} days", domain::hub::MAX_RETENTION_DAYS),
                }),
            })
            .transpose()
    };
    Ok(domain::hub::ComplianceOptions {
        admins: list("PARLEY_ADMINS"),
        retention: domain::model::RetentionPolicy {
            messages_days: days("PARLEY_MESSAGE_RETENTION_DAYS")?,
            files_days: days("PARLEY_FILE_RETENTION_DAYS")?,
        },
        // `exports/` in the data directory, set when the server starts.
        exports_dir: Default::default(),
    })
}

fn limits_from_env() -> Result<domain::limits::LimitSettings, ConfigError> {
    use domain::limits::{Bucket, Rate};
    let mut settings = domain::limits::LimitSettings::default();
    for bucket in Bucket::ALL {
        let name = format!("PARLEY_LIMIT_{}", bucket.name().to_ascii_uppercase());
        if let Some(v) = var(&name) {
            let rate = Rate::parse(&v).map_err(|reason| ConfigError::Invalid { name: leak(name), reason })?;
            settings.rates.set(bucket, rate);
        }
    }
    if let Some(n) = whole("PARLEY_PASSWORD_HASHES")? {
        settings.hashing = n;
    }
    if let Some(n) = whole("PARLEY_UPLOADS_PER_PERSON")? {
        settings.uploads_per_person = n;
    }
    Ok(settings)
}

/// A setting's name made at run time, kept for the error that names it.
fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

/// A positive whole number, if set.
fn whole(name: &'static str) -> Result<Option<usize>, ConfigError> {
    var(name)
        .map(|v| {
            v.trim().parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| ConfigError::Invalid {
                name,
                reason: format!("`{v}` should be a positive whole number"),
            })
        })
        .transpose()
}

fn flag(name: &'static str) -> Result<Option<bool>, ConfigError> {
    match var(name).as_deref() {
        None => Ok(None),
        Some("1" | "true" | "yes" | "on") => Ok(Some(true)),
        Some("0" | "false" | "no" | "off") => Ok(Some(false)),
        Some(other) => {
            Err(ConfigError::Invalid { name, reason: format!("`{other}` should be true or false") })
        }
    }
}

/// Notification delivery beyond email. The VAPID key for web push is made
/// on first start and kept in the data directory.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub digest_window: std::time::Duration,
    pub reminder_minutes: i64,
    /// `None`: `mailto:` the sender's address.
    pub push_subject: Option<String>,
    pub push_allow_private: bool,
    /// `None`: SMS is unavailable.
    pub sms: Option<domain::notify::sms::SmsConfig>,
}

impl NotifyConfig {
    fn from_env() -> Result<Self, ConfigError> {
        let minutes = |name: &'static str, default: u64| match var(name) {
            None => Ok(default),
            Some(v) => v.trim().parse::<u64>().map_err(|_| ConfigError::Invalid {
                name,
                reason: format!("`{v}` should be a whole number of minutes"),
            }),
        };
        let sms = match (var("PARLEY_SMS_ACCOUNT_SID"), var("PARLEY_SMS_AUTH_TOKEN"), var("PARLEY_SMS_FROM"))
        {
            (Some(account_sid), Some(auth_token), Some(from)) => Some(domain::notify::sms::SmsConfig {
                base_url: var("PARLEY_SMS_URL").unwrap_or_else(|| "https://api.twilio.com".into()),
                account_sid,
                auth_token,
                from,
            }),
            (None, None, None) => None,
            _ => {
                return Err(ConfigError::Invalid {
                    name: "PARLEY_SMS_ACCOUNT_SID",
                    reason:
                        "SMS needs PARLEY_SMS_ACCOUNT_SID, PARLEY_SMS_AUTH_TOKEN and PARLEY_SMS_FROM together"
                            .into(),
                });
            }
        };
        Ok(NotifyConfig {
            digest_window: std::time::Duration::from_secs(60 * minutes("PARLEY_DIGEST_MINUTES", 15)?),
            reminder_minutes: minutes("PARLEY_MEETING_REMINDER_MINUTES", 10)? as i64,
            push_subject: var("PARLEY_PUSH_SUBJECT"),
            push_allow_private: matches!(
                var("PARLEY_PUSH_ALLOW_PRIVATE").as_deref(),
                Some("1" | "true" | "yes")
            ),
            sms,
        })
    }
}

/// How emails leave, and how failed ones are retried.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `None`: write each email to the outbox folder instead.
    pub smtp: Option<domain::mail::SmtpSettings>,
    pub from: String,
    /// The wait after the first failure; it doubles with each one after.
    pub retry_after: std::time::Duration,
    /// Attempts before an email is given up on.
    pub max_attempts: i64,
}

/// A comma-separated list, empty when unset.
fn list(name: &str) -> Vec<String> {
    var(name)
        .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

fn rtc_from_env() -> Result<crate::rtc::RtcConfig, ConfigError> {
    let udp_ports = match var("PARLEY_RTC_UDP_PORTS") {
        None => None,
        Some(range) => {
            let parsed = range
                .split_once('-')
                .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
            match parsed {
                Some((low, high)) if low <= high => Some((low, high)),
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "PARLEY_RTC_UDP_PORTS",
                        reason: format!("`{range}` should be a range of ports like 50000-50100"),
                    });
                }
            }
        }
    };
    Ok(crate::rtc::RtcConfig {
        announced_ips: list("PARLEY_RTC_ANNOUNCED_IPS"),
        udp_ports,
        stun_urls: list("PARLEY_STUN_URLS"),
        turn_urls: list("PARLEY_TURN_URLS"),
        turn_secret: var("PARLEY_TURN_SECRET"),
        turn_ttl: std::time::Duration::from_secs(match var("PARLEY_TURN_TTL_SECONDS") {
            None => 86_400,
            Some(s) => s.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| ConfigError::Invalid {
                name: "PARLEY_TURN_TTL_SECONDS",
                reason: format!("`{s}` should be a number of seconds, like 86400"),
            })?,
        }),
    })
}

impl MailConfig {
    fn from_env() -> Result<Self, ConfigError> {
        use domain::mail::SmtpTls;
        let smtp = match var("PARLEY_SMTP_HOST") {
            None => None,
            Some(host) => {
                let tls = match var("PARLEY_SMTP_TLS").as_deref().unwrap_or("starttls") {
                    "starttls" => SmtpTls::StartTls,
                    "tls" => SmtpTls::Implicit,
                    "none" => SmtpTls::None,
                    other => {
                        return Err(ConfigError::Invalid {
                            name: "PARLEY_SMTP_TLS",
                            reason: format!("`{other}` should be starttls, tls or none"),
                        });
                    }
                };
                let port = match var("PARLEY_SMTP_PORT") {
                    Some(p) => p.trim().parse().map_err(|_| ConfigError::Invalid {
                        name: "PARLEY_SMTP_PORT",
                        reason: format!("`{p}` should be a port number, like 587"),
                    })?,
                    None => match tls {
                        SmtpTls::StartTls => 587,
                        SmtpTls::Implicit => 465,
                        SmtpTls::None => 25,
                    },
                };
                Some(domain::mail::SmtpSettings {
                    host,
                    port,
                    tls,
                    username: var("PARLEY_SMTP_USERNAME"),
                    password: var("PARLEY_SMTP_PASSWORD"),
                })
            }
        };
        Ok(MailConfig {
            smtp,
            from: var("PARLEY_MAIL_FROM").unwrap_or_else(|| "Parley <parley@localhost>".into()),
            retry_after: std::time::Duration::from_secs(30),
            max_attempts: 8,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let bind = var("PARLEY_BIND").unwrap_or_else(|| "127.0.0.1:3000".into());
        let bind = bind.parse().map_err(|e| ConfigError::Invalid {
            name: "PARLEY_BIND",
            reason: format!("`{bind}` is not an address like 127.0.0.1:3000 ({e})"),
        })?;
        let public_url = var("PARLEY_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_string());
        if let Some(u) = &public_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err(ConfigError::Invalid {
                name: "PARLEY_PUBLIC_URL",
                reason: format!("`{u}` must start with http:// or https://"),
            });
        }
        let secure_cookies = flag("PARLEY_SECURE_COOKIES")?;
        let mut uploads = domain::files::FilePolicy::default();
        if let Some(types) = var("PARLEY_UPLOAD_TYPES") {
            uploads.allowed = types
                .split(',')
                .map(|t| t.trim().trim_start_matches('.').to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect();
        }
        if let Some(mb) = var("PARLEY_UPLOAD_MAX_MB") {
            let n: u64 = mb.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| ConfigError::Invalid {
                name: "PARLEY_UPLOAD_MAX_MB",
                reason: format!("`{mb}` should be a whole number of megabytes, like 25"),
            })?;
            uploads.max_bytes = n * 1024 * 1024;
        }
        Ok(Config {
            uploads,
            scanner: scanner_from_env()?,
            jitsi: jitsi_from_env()?,
            bind,
            public_url,
            data_dir: var("PARLEY_DATA_DIR").unwrap_or_else(|| "data".into()).into(),
            database_url: var("DATABASE_URL"),
            encryption_key: var("PARLEY_ENCRYPTION_KEY"),
            log: var("PARLEY_LOG").or_else(|| var("RUST_LOG")).unwrap_or_else(|| "info".into()),
            site_root: var("PARLEY_SITE_ROOT").unwrap_or_else(|| "target/site".into()).into(),
            secure_cookies,
            mail: MailConfig::from_env()?,
            notify: NotifyConfig::from_env()?,
            rtc: rtc_from_env()?,
            limits: limits_from_env()?,
            max_body_bytes: whole("PARLEY_MAX_BODY_KB")?
                .map_or(DEFAULT_MAX_BODY, |kb| kb.saturating_mul(1024)),
            trust_proxy: flag("PARLEY_TRUST_PROXY")?.unwrap_or(false),
            event_log_keep: std::time::Duration::from_secs(
                3600 * whole("PARLEY_EVENT_LOG_HOURS")?.map_or(DEFAULT_EVENT_LOG_HOURS, |h| h as u64),
            ),
            event_log_poll: std::time::Duration::from_secs(2),
            redis_url: var("PARLEY_REDIS_URL"),
            compliance: compliance_from_env()?,
        })
    }

    /// A configuration for tests: any free port on loopback, the given
    /// database and data directory, [`TEST_ENCRYPTION_KEY`].
    pub fn for_tests(database_url: String, data_dir: PathBuf) -> Self {
        Config {
            bind: "127.0.0.1:0".parse().expect("valid address"),
            public_url: None,
            data_dir,
            database_url: Some(database_url),
            // One key for every test server: several share a database with
            // data directories of their own, as nodes given the key do.
            encryption_key: Some(TEST_ENCRYPTION_KEY.to_string()),
            log: "warn".into(),
            site_root: "target/site".into(),
            secure_cookies: None,
            uploads: domain::files::FilePolicy::default(),
            scanner: None,
            jitsi: None,
            mail: MailConfig {
                smtp: None,
                from: "Parley <parley@localhost>".into(),
                retry_after: std::time::Duration::from_millis(50),
                max_attempts: 4,
            },
            notify: NotifyConfig {
                digest_window: std::time::Duration::ZERO,
                reminder_minutes: 10,
                push_subject: None,
                push_allow_private: true,
                sms: None,
            },
            rtc: crate::rtc::RtcConfig { announced_ips: vec!["127.0.0.1".into()], ..Default::default() },
            limits: {
                // Tests sign many people up and in from one address, and send
                // many requests at once; the tests of these limits set them.
                use domain::limits::Bucket;
                let mut limits = domain::limits::LimitSettings::default();
                for bucket in [Bucket::Requests, Bucket::Signup, Bucket::Login] {
                    limits.rates.set(bucket, None);
                }
                limits
            },
            max_body_bytes: DEFAULT_MAX_BODY,
            event_log_keep: std::time::Duration::from_secs(3600 * DEFAULT_EVENT_LOG_HOURS),
            event_log_poll: std::time::Duration::from_secs(2),
            redis_url: None,
            compliance: Default::default(),
            trust_proxy: false,
        }
    }

    /// The keys that encrypt what is stored: `PARLEY_ENCRYPTION_KEY`, else
    /// the key file in the data directory (made with a new key at first).
    pub fn keyring(&self) -> Result<domain::crypto::Keyring, domain::crypto::KeyError> {
        domain::crypto::Keyring::load(self.encryption_key.as_deref(), &self.data_dir)
    }

    /// The database to use: `DATABASE_URL`, else SQLite in the data directory.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", self.data_dir.join("parley.db").display()))
    }
}
