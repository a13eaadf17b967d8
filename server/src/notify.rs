//! Notification delivery: the workers that send what the hub queued.
//!
//! `Deliverer` claims due deliveries (an email, a push to one browser, an
//! SMS), composes each from its notifications and the workspace's templates
//! (several gathered notifications make a digest or a collapsed push),
//! sends it, and marks it sent the moment the other side took it; failures
//! are retried with doubling waits. Calls to outgoing webhooks are
//! deliveries too: each attempt is recorded for the webhook's log, and an
//! answer with text is posted as the webhook's bot. `Scheduler` fires scheduled
//! notifications (`send_at`, meeting reminders) when they are due.

use app::wire::{PushDto, PushedMessageDto};
use domain::mail::{EmailContent, Mailer};
use domain::model::Notification;
use domain::model::WebhookAttempt;
use domain::notify::DeliveryChannel;
use domain::notify::push::{PushError, PushMessage, PushSender, Subscription};
use domain::notify::sms::SmsSender;
use domain::notify::templates::{self, DIGEST, Template};
use domain::store::{Delivery, Store};
use domain::webhook_call::WebhookCaller;
use domain::{Hub, Id};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How long a claimed delivery or schedule stays with this worker before
/// another may take it.
const LEASE: Duration = Duration::from_secs(300);

/// Why a delivery failed: worth retrying, or not.
#[derive(Debug)]
enum Failure {
    Temporary(String),
    Permanent(String),
}

impl Failure {
    /// A sender's error, retried unless it is permanent.
    fn of(error: impl std::fmt::Display, permanent: bool) -> Self {
        if permanent { Failure::Permanent(error.to_string()) } else { Failure::Temporary(error.to_string()) }
    }

    fn from_mail(e: domain::mail::MailError) -> Self {
        let permanent = e.is_permanent();
        Failure::of(e, permanent)
    }
}

/// The ways out, each optional but email and webhooks.
#[derive(Clone)]
pub struct Senders {
    pub mailer: Mailer,
    pub push: Option<PushSender>,
    pub sms: Option<SmsSender>,
    pub webhooks: WebhookCaller,
}

/// Sends queued deliveries: each due one is claimed, sent, and marked sent;
/// a failure makes it due again after a wait that doubles each time, until
/// it has been tried `max_attempts` times (or was refused for good). Wakes
/// when something is queued, and when the next one is due.
pub struct Deliverer {
    hub: Hub,
    store: Store,
    senders: Senders,
    composer: Composer,
    queued: Arc<Notify>,
    retry_after: Duration,
    max_attempts: i64,
}

impl Deliverer {
    pub fn new(
        hub: Hub,
        senders: Senders,
        public_url: &str,
        queued: Arc<Notify>,
        retry_after: Duration,
        max_attempts: i64,
    ) -> Self {
        let store = hub.store().clone();
        let composer =
            Composer { store: store.clone(), public_url: public_url.trim_end_matches('/').to_string() };
        Deliverer { hub, store, senders, composer, queued, retry_after, max_attempts }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(to = %self.senders.mailer.describe(), "emails are sent through");
        loop {
            if let Err(e) = self.deliver_due(&shutdown).await {
                tracing::warn!(error = ?e, "could not read the delivery queue");
            }
            let wait = match self.store.next_delivery_due().await {
                Ok(Some(at)) => Duration::from_millis((at - domain::now_ms()).clamp(0, 60_000) as u64),
                _ => Duration::from_secs(60),
            };
            tokio::select! {
                _ = self.queued.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => break,
            }
        }
    }

    /// Sends what is due, a batch at a time, until nothing is or the server
    /// is stopping (a batch under way is finished first).
    async fn deliver_due(&self, shutdown: &watch::Receiver<bool>) -> domain::Result<()> {
        while !*shutdown.borrow() {
            let batch =
                self.store.claim_due_deliveries(domain::now_ms(), LEASE.as_millis() as i64, 20).await?;
            if batch.is_empty() {
                return Ok(());
            }
            // At once: one slow webhook does not hold up the emails.
            let attempts: Vec<_> = batch.into_iter().map(|d| self.attempt(d)).collect();
            for done in futures::future::join_all(attempts).await {
                done?;
            }
        }
        Ok(())
    }

    async fn attempt(&self, d: Delivery) -> domain::Result<()> {
        let attempts = d.attempts + 1;
        match self.send(&d).await? {
            Ok(()) => self.store.mark_delivery_sent(d.id, attempts, domain::now_ms()).await,
            Err(failure) => {
                let now = domain::now_ms();
                let (error, retry) = match failure {
                    Failure::Permanent(e) => (e, None),
                    Failure::Temporary(e) => {
                        let retry = (attempts < self.max_attempts).then(|| {
                            let wait = self
                                .retry_after
                                .saturating_mul(1 << (attempts - 1).min(16))
                                .min(Duration::from_secs(3600));
                            now + wait.as_millis() as i64
                        });
                        (e, retry)
                    }
                };
                tracing::warn!(delivery = d.id, channel = %d.channel, attempts, retry = retry.is_some(), %error, "a delivery was not sent");
                self.store.mark_delivery_failed(d.id, attempts, &error, retry, now).await
            }
        }
    }

    /// Composes and sends one delivery; the outer error is the database's.
    async fn send(&self, d: &Delivery) -> domain::Result<Result<(), Failure>> {
        if d.channel == "webhook" {
            return self.call_webhook(d).await;
        }
        if d.user_id.is_none() {
            // Written whole when queued (an invitation).
            let mail = EmailContent {
                subject: d.subject.clone(),
                text: d.body_text.clone(),
                html: d.body_html.clone(),
            };
            return Ok(self.senders.mailer.send(d.id, &d.recipient, &mail).await.map_err(Failure::from_mail));
        }
        let items = self.store.delivery_items(d.id).await?;
        if items.is_empty() {
            return Ok(Ok(())); // its notifications are gone (their workspace was deleted)
        }
        Ok(match DeliveryChannel::parse(&d.channel) {
            Some(DeliveryChannel::Email) => {
                let mail = self.composer.email(&items).await?;
                self.senders.mailer.send(d.id, &d.recipient, &mail).await.map_err(Failure::from_mail)
            }
            Some(DeliveryChannel::Push) => self.push(d, &items).await?,
            Some(DeliveryChannel::Sms) => match &self.senders.sms {
                Some(sms) => {
                    let text = self.composer.sms(&items).await?;
                    sms.send(&d.recipient, &text).await.map_err(|e| {
                        let permanent = e.is_permanent();
                        Failure::of(e, permanent)
                    })
                }
                None => Err(Failure::Permanent("SMS is no longer configured".into())),
            },
            _ => Err(Failure::Permanent(format!("unknown delivery channel `{}`", d.channel))),
        })
    }

    /// Calls an outgoing webhook, records the attempt for its log, and
    /// posts its answer when it has text.
    async fn call_webhook(&self, d: &Delivery) -> domain::Result<Result<(), Failure>> {
        let key = match d.webhook_id {
            Some(id) => self.store.outgoing_key(Id(id)).await?,
            None => None,
        };
        let Some(key) = key else {
            return Ok(Err(Failure::Permanent("the webhook was removed".into())));
        };
        let outcome =
            self.senders.webhooks.call(&key.url, key.format, &key.signing_secret, &d.body_text).await;
        tracing::debug!(delivery = d.id, status = ?outcome.status, error = ?outcome.error, "called an outgoing webhook");
        let mut excerpt = outcome.excerpt();
        if outcome.delivered() {
            match self.hub.answer_outgoing_call(&key, d, &outcome.answer).await {
                Ok(Some(_)) => excerpt = format!("(answer posted) {excerpt}"),
                Ok(None) => {}
                Err(e) => excerpt = format!("(answer not posted: {e}) {excerpt}"),
            }
        }
        let attempt = WebhookAttempt {
            at: domain::now_ms(),
            status_code: outcome.status,
            latency_ms: outcome.latency_ms,
            ok: outcome.delivered(),
            excerpt,
        };
        self.store.record_webhook_attempt(d.id, &attempt).await?;
        Ok(match (outcome.delivered(), outcome.error) {
            (true, _) => Ok(()),
            (false, error) => Err(Failure::of(error.unwrap_or_default(), !outcome.retry)),
        })
    }

    async fn push(&self, d: &Delivery, items: &[Notification]) -> domain::Result<Result<(), Failure>> {
        let Some(sender) = &self.senders.push else {
            return Ok(Err(Failure::Permanent("web push is not configured".into())));
        };
        let sub = match d.recipient.parse::<i64>() {
            Ok(id) => self.store.push_subscription(Id(id)).await?,
            Err(_) => None,
        };
        let Some(sub) = sub else {
            return Ok(Err(Failure::Permanent("the browser turned push off".into())));
        };
        let payload = self.composer.push(items, &d.group_key).await?;
        let urgent = items.iter().any(|n| domain::notify::is_urgent(&n.priority));
        let msg = PushMessage {
            payload: payload.into_bytes(),
            topic: Some(domain::notify::push::topic(&d.group_key)),
            urgency: if urgent { "high" } else { "normal" },
            ttl_secs: 24 * 3600,
        };
        let target = Subscription { endpoint: sub.endpoint.clone(), p256dh: sub.p256dh, auth: sub.auth };
        Ok(match sender.send(&target, &msg).await {
            Ok(()) => Ok(()),
            Err(PushError::Gone(status)) => {
                self.store.delete_push_subscription(&sub.endpoint, None).await?;
                Err(Failure::Permanent(format!("the subscription is gone (HTTP {status}); removed")))
            }
            Err(e) => {
                let permanent = e.is_permanent();
                Err(Failure::of(e, permanent))
            }
        })
    }
}

/// Writes deliveries from notifications and templates.
struct Composer {
    store: Store,
    public_url: String,
}

impl Composer {
    /// The template a notification uses on `channel`: its template id's,
    /// else its type's, stored in its workspace, else built in.
    async fn template(&self, n: &Notification, channel: DeliveryChannel) -> domain::Result<Template> {
        let kind = domain::notify::switch_kind(&n.kind).to_string();
        if let Some(ws) = n.workspace_id {
            for name in [n.template.as_str(), n.kind.as_str(), kind.as_str()] {
                if !name.is_empty()
                    && let Some(t) = self.store.template(ws, name, channel).await?
                {
                    return Ok(t.template);
                }
            }
        }
        Ok(templates::builtin(&kind, channel))
    }

    fn link(&self, n: &Notification) -> String {
        format!("{}{}", self.public_url, app::conversions::notification_path(n).unwrap_or_else(|| "/".into()))
    }

    /// The values a notification's templates can use.
    async fn vars(&self, n: &Notification) -> domain::Result<HashMap<String, String>> {
        let mut vars: HashMap<String, String> = HashMap::new();
        if let Ok(serde_json::Value::Object(data)) = serde_json::from_str::<serde_json::Value>(&n.data) {
            for (k, v) in data {
                vars.insert(k, templates::json_text(&v));
            }
        }
        let workspace = match n.workspace_id {
            Some(ws) => self.store.workspace(ws).await?.map(|w| w.name).unwrap_or_default(),
            None => String::new(),
        };
        let recipient = self.store.user(n.user_id).await?.map(|u| u.display_name).unwrap_or_default();
        for (k, v) in [
            ("title", n.title.clone()),
            ("content", n.content.clone()),
            ("url", self.link(n)),
            ("type", n.kind.clone()),
            ("priority", n.priority.clone()),
            ("workspace", workspace),
            ("recipient", recipient),
        ] {
            vars.insert(k.to_string(), v);
        }
        Ok(vars)
    }

    async fn render(
        &self,
        n: &Notification,
        channel: DeliveryChannel,
    ) -> domain::Result<(Template, HashMap<String, String>, String, String)> {
        let t = self.template(n, channel).await?;
        let vars = self.vars(n).await?;
        let get = |k: &str| vars.get(k).cloned();
        let (subject, body) = (templates::render(&t.subject, &get), templates::render(&t.body, &get));
        Ok((t, vars, subject, body))
    }

    /// One notification's email, or a digest of several.
    async fn email(&self, items: &[Notification]) -> domain::Result<EmailContent> {
        if let [n] = items {
            let (t, vars, subject, text) = self.render(n, DeliveryChannel::Email).await?;
            let html = if t.body_html.trim().is_empty() {
                templates::text_to_html(&text)
            } else {
                templates::render_html(&t.body_html, &|k| vars.get(k).cloned())
            };
            return Ok(EmailContent { subject: one_line(&subject), text, html });
        }
        let mut text_items = String::new();
        let mut html_items = String::from("<ul>");
        for n in items {
            let url = self.link(n);
            text_items.push_str(&format!("• {}\n  {}\n  {}\n\n", n.title, n.content, url));
            html_items.push_str(&format!(
                "<li><a href=\"{}\">{}</a><br>{}</li>",
                domain::markdown::escape(&url),
                domain::markdown::escape(&n.title),
                domain::markdown::escape(&n.content)
            ));
        }
        html_items.push_str("</ul>");
        let t = match items[0].workspace_id {
            Some(ws) => self.store.template(ws, DIGEST, DeliveryChannel::Email).await?.map(|s| s.template),
            None => None,
        }
        .unwrap_or_else(|| templates::builtin(DIGEST, DeliveryChannel::Email));
        let home = format!("{}/", self.public_url);
        let count = items.len().to_string();
        let vars = |k: &str| match k {
            "count" => Some(count.clone()),
            "items" => Some(text_items.clone()),
            "url" => Some(home.clone()),
            _ => None,
        };
        let text = templates::render(&t.body, &vars);
        let html = if t.body_html.trim().is_empty() {
            // The list as HTML, the rest of the text as paragraphs.
            let rest =
                templates::render(&t.body, &|k| if k == "items" { Some(String::new()) } else { vars(k) });
            format!("{html_items}{}", templates::text_to_html(&rest))
        } else {
            templates::render_html(&t.body_html, &|k| if k == "items" { None } else { vars(k) })
                .replace("{{items}}", &html_items)
        };
        Ok(EmailContent { subject: one_line(&templates::render(&t.subject, &vars)), text, html })
    }

    /// A push's JSON payload: the newest notification, and how many it stands for.
    async fn push(&self, items: &[Notification], group_key: &str) -> domain::Result<String> {
        let n = items.last().expect("a delivery with items");
        let (_, _, title, mut body) = self.render(n, DeliveryChannel::Push).await?;
        if items.len() > 1 {
            body = format!("{body} (+{} more)", items.len() - 1);
        }
        let clip = |s: &str, max: usize| s.chars().take(max).collect::<String>();
        let push = PushDto {
            title: clip(&one_line(&title), 200),
            body: clip(&body, 1000),
            url: self.link(n),
            tag: group_key.to_string(),
            count: items.len(),
            id: n.id.to_string(),
            encrypted: self.encrypted_message(n).await?,
        };
        Ok(serde_json::to_string(&push).expect("strings and numbers serialise"))
    }

    /// What the service worker needs to decrypt the message `n` is about,
    /// when that message is end-to-end encrypted.
    async fn encrypted_message(&self, n: &Notification) -> domain::Result<Option<PushedMessageDto>> {
        let Some(id) = n.message_id else { return Ok(None) };
        let Some(msg) = self.store.message_alone(id).await?.filter(|m| m.sent_from.is_some()) else {
            return Ok(None);
        };
        Ok(Some(PushedMessageDto {
            user_id: n.user_id.to_string(),
            channel_id: msg.channel_id.to_string(),
            message_id: msg.id.to_string(),
        }))
    }

    async fn sms(&self, items: &[Notification]) -> domain::Result<String> {
        let n = items.last().expect("a delivery with items");
        let (_, _, _, body) = self.render(n, DeliveryChannel::Sms).await?;
        Ok(if items.len() > 1 {
            format!("{} new notifications on Parley. Latest: {}", items.len(), body)
        } else {
            body
        })
    }
}

/// A subject on one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Fires scheduled notifications when due: custom ones sent with `send_at`,
/// meeting reminders. Each is claimed with a lease and marked done in the
/// transaction that stores what it makes, so a restart neither loses nor
/// repeats one.
pub struct Scheduler {
    hub: Hub,
    added: Arc<Notify>,
}

impl Scheduler {
    pub fn new(hub: Hub) -> Self {
        let added = hub.schedules_added();
        Scheduler { hub, added }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let store = self.hub.store().clone();
        loop {
            match store.claim_due_schedules(domain::now_ms(), LEASE.as_millis() as i64, 20).await {
                Ok(due) => {
                    let any = !due.is_empty();
                    for s in due {
                        let id = s.id;
                        if let Err(e) = self.hub.fire_scheduled(s).await {
                            tracing::warn!(schedule = %id, error = ?e, "a scheduled notification did not fire; retried when its claim runs out");
                        }
                    }
                    if any {
                        continue;
                    }
                }
                Err(e) => tracing::warn!(error = ?e, "could not read the schedule"),
            }
            let wait = match store.next_schedule_due().await {
                Ok(Some(at)) => Duration::from_millis((at - domain::now_ms()).clamp(0, 60_000) as u64),
                _ => Duration::from_secs(60),
            };
            tokio::select! {
                _ = self.added.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => break,
            }
        }
    }
}
