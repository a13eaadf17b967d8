//! One call to an outgoing webhook: the payload POSTed through the
//! outgoing-address guard, signed as Slack signs its requests, within a
//! time limit, and what came back, bounded, for the webhook's log.

use crate::model::PayloadFormat;
use crate::outgoing::{Guard, Refused};
use std::time::{Duration, Instant};

/// How long a call may take, answer included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an answer is read (an answer to post is small).
const MAX_ANSWER: usize = 64 * 1024;
/// How much of an answer, or of an error, the log keeps.
const EXCERPT: usize = 500;

/// What happened to one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutcome {
    /// The answer's status; none when there was no answer.
    pub status: Option<u16>,
    pub latency_ms: i64,
    /// The answer's body, up to 64 KiB.
    pub answer: Vec<u8>,
    /// Why there was no answer, or what the answer means.
    pub error: Option<String>,
    /// Whether trying again later may work (no answer, a time-out, 429, 5xx).
    pub retry: bool,
}

impl CallOutcome {
    /// Whether the webhook took the call (a 2xx answer).
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// The start of the answer, or what went wrong, for the log.
    pub fn excerpt(&self) -> String {
        let text = match &self.error {
            Some(e) if self.answer.is_empty() => e.clone(),
            Some(e) => format!("{e}: {}", String::from_utf8_lossy(&self.answer)),
            None => String::from_utf8_lossy(&self.answer).into_owned(),
        };
        let mut excerpt: String = text.chars().take(EXCERPT).collect();
        if text.chars().count() > EXCERPT {
            excerpt.push('…');
        }
        excerpt
    }
}

/// Fields as a form body (`application/x-www-form-urlencoded`), as Slack's
/// classic outgoing webhooks and slash commands send them.
pub fn form_body(fields: &[(&str, String)]) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        form.append_pair(k, v);
    }
    form.finish()
}

/// Makes the calls, with one HTTP client for all of them.
#[derive(Clone)]
pub struct WebhookCaller {
    guard: Guard,
    client: reqwest::Client,
}

impl WebhookCaller {
    pub fn new(guard: Guard) -> Self {
        WebhookCaller { guard, client: guard.client(CALL_TIMEOUT) }
    }

    /// POSTs `body` to `url`, signed with `secret` at the time of sending:
    /// `X-Parley-Request-Timestamp` and `X-Parley-Signature` (`v0=` and the
    /// hex HMAC-SHA256 of `v0:<timestamp>:<body>`), and the same under
    /// Slack's names, so that a receiver written for Slack checks it as it is.
    pub async fn call(&self, url: &str, format: PayloadFormat, secret: &str, body: &str) -> CallOutcome {
        let started = Instant::now();
        let elapsed = |started: Instant| started.elapsed().as_millis() as i64;
        let target = match self.guard.check(url) {
            Ok(target) => target,
            Err(refused) => return refused_outcome(refused),
        };
        let timestamp = crate::now_ms() / 1000;
        let signature = crate::hub::sign_webhook_call(secret, timestamp, body.as_bytes());
        let content_type = match format {
            PayloadFormat::Json => "application/json",
            PayloadFormat::Form => "application/x-www-form-urlencoded",
        };
        let sent = self
            .client
            .post(target)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .header(reqwest::header::USER_AGENT, concat!("Parley-Webhooks/", env!("CARGO_PKG_VERSION")))
            .header("X-Parley-Request-Timestamp", timestamp.to_string())
            .header("X-Parley-Signature", &signature)
            .header("X-Slack-Request-Timestamp", timestamp.to_string())
            .header("X-Slack-Signature", &signature)
            .body(body.to_string())
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => {
                let (error, retry) = describe(&e);
                return CallOutcome {
                    status: None,
                    latency_ms: elapsed(started),
                    answer: Vec::new(),
                    error: Some(error),
                    retry,
                };
            }
        };
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_string);
        let mut answer = Vec::new();
        let mut cut = None;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_ANSWER - answer.len();
                    answer.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if chunk.len() >= room {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    cut = Some(describe(&e).0);
                    break;
                }
            }
        }
        let latency_ms = elapsed(started);
        let retry = status == 408 || status == 429 || status >= 500;
        let error = match status {
            200..=299 => cut.map(|e| format!("the answer was cut off ({e})")),
            300..=399 => Some(format!(
                "answered with a redirect{}: calls do not follow redirects, so give the webhook its final address",
                location.map(|l| format!(" to {l}")).unwrap_or_default()
            )),
            _ => Some(format!("answered HTTP {status}{}", if retry { ", tried again later" } else { "" })),
        };
        CallOutcome { status: Some(status), latency_ms, answer, error, retry }
    }
}

fn refused_outcome(refused: Refused) -> CallOutcome {
    CallOutcome {
        status: None,
        latency_ms: 0,
        answer: Vec::new(),
        error: Some(format!("not called: {refused}")),
        retry: false,
    }
}

/// What went wrong with a request that got no answer, and whether trying
/// again may help (a name that leads only into the server's network will not).
fn describe(e: &reqwest::Error) -> (String, bool) {
    let mut chain = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    if chain.contains("no public address") {
        return (format!("not called: {chain} (the server calls only the public internet)"), false);
    }
    if e.is_timeout() {
        return (format!("no answer within {} seconds", CALL_TIMEOUT.as_secs()), true);
    }
    if e.is_connect() {
        return (format!("could not connect: {chain}"), true);
    }
    (chain, true)
}
