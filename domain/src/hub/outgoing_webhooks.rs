//! Outgoing webhooks: a call to a URL when something happens in chosen
//! channels of a workspace — a message (optionally only one that starts
//! with a trigger word), a member joining, a reaction, a call starting.
//!
//! Calls are made from the event log, not beside the change: a reader
//! ([`Hub::dispatch_outgoing_webhooks`]) turns logged events into queued
//! deliveries and moves its cursor in the same transaction, so every event
//! becomes its calls once, whichever node reads it, and nothing committed
//! is missed. The delivery worker makes the calls (signed, through the
//! outgoing-address guard, retried with back-off), records each attempt for
//! the webhook's log, and posts an answer that has text as the webhook's
//! bot ([`Hub::answer_outgoing_call`]).
//!
//! A webhook hears only what the person who made it may still see and
//! manage: their `manage_webhooks` in the channel is read again for every
//! event, so a maker who leaves a private channel stops its calls there.
//! Bots' messages are not sent, so that two bots cannot answer each other
//! for ever. Payloads are Slack's: its outgoing-webhook fields (`token`,
//! `team_id`, `channel_id`, `user_name`, `text`, `trigger_word`, …), and in
//! JSON an `event` object shaped as Slack's Events API.

use super::Hub;
use super::messages::Post;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, Event, EventKind};
use crate::id::Id;
use crate::model::{
    Channel, ChannelKind, Message, OutgoingWebhook, PayloadFormat, UserSummary, WebhookDelivery, WebhookEvent,
};
use crate::password;
use crate::permissions::{self, ChannelFacts};
use crate::store::{Delivery, OutgoingKey, OutgoingRule};
use crate::webhook_payload::WebhookPost;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// The longest name an outgoing webhook may have.
const MAX_NAME: usize = 80;
/// The most trigger words one webhook may have, and the longest.
const MAX_WORDS: usize = 20;
const MAX_WORD: usize = 40;
/// The longest URL a webhook may call.
const MAX_URL: usize = 2000;
/// How many of a webhook's latest calls its log shows.
pub const LOG_LENGTH: i64 = 50;

/// What an outgoing webhook is made with.
#[derive(Debug, Clone)]
pub struct NewOutgoingWebhook<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub format: PayloadFormat,
    pub events: &'a [WebhookEvent],
    /// The channels it hears; none: every public channel of the workspace.
    pub channels: &'a [Id],
    /// Words (separated by spaces or commas) a message must start with to
    /// be sent; empty: every message.
    pub trigger_words: &'a str,
}

/// An outgoing webhook just made, with what is shown only now: the token
/// its payloads carry and the secret its calls are signed with.
#[derive(Debug, Clone)]
pub struct CreatedOutgoingWebhook {
    pub webhook: OutgoingWebhook,
    pub token: String,
    pub signing_secret: String,
}

/// What was looked up while a page of the log is read, so that each is
/// read once: where each webhook's maker stands in a channel, and each
/// workspace's name.
#[derive(Default)]
struct Lookups {
    standing: HashMap<(Id, Id), Option<(Channel, ChannelFacts)>>,
    workspace_names: HashMap<Id, String>,
}

/// Which outgoing-webhook event a logged event is, if any. Bots' messages
/// are none: two bots must not answer each other for ever. Nor are
/// end-to-end encrypted ones: only their readers' devices can read them.
pub fn heard_by_webhooks(kind: &EventKind) -> Option<WebhookEvent> {
    Some(match kind {
        EventKind::MessageCreated(m) if !m.author.is_bot && m.sent_from.is_none() => {
            WebhookEvent::MessagePosted
        }
        EventKind::ChannelMemberAdded { .. } => WebhookEvent::MemberJoined,
        EventKind::ReactionAdded { .. } => WebhookEvent::ReactionAdded,
        EventKind::CallStarted { .. } => WebhookEvent::MeetingStarted,
        _ => return None,
    })
}

/// What one logged event is, to an outgoing webhook.
struct Happening<'a> {
    kind: WebhookEvent,
    channel: Id,
    /// Who did it (wrote, joined, reacted, started the call).
    actor: UserSummary,
    /// A message's text; empty otherwise.
    text: &'a str,
    /// The thread a message was posted in: its webhook's answer goes there.
    thread: Option<Id>,
    /// The event as Slack's Events API shows it, less what every event has.
    detail: Value,
}

impl Hub {
    /// Makes an outgoing webhook in `ws`, answering as a new bot account
    /// named after it. Takes `manage_webhooks` in the workspace, and in each
    /// channel it is to hear; direct conversations cannot be heard.
    pub async fn create_outgoing_webhook(
        &self,
        actor: Id,
        ws: Id,
        new: NewOutgoingWebhook<'_>,
    ) -> Result<CreatedOutgoingWebhook> {
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "name",
                "Name the webhook (up to 80 characters): its answers show this name, e.g. \"Deploy bot\".",
            ));
        }
        let url = new.url.trim();
        if url.len() > MAX_URL {
            return Err(Error::invalid("url", "The URL is longer than 2,000 characters."));
        }
        self.delivery.outgoing.check(url).map_err(|e| Error::invalid("url", e.to_string()))?;
        if new.events.is_empty() {
            return Err(Error::invalid(
                "events",
                "Choose at least one event to call the webhook for: messages, members joining, reactions or \
                 calls starting.",
            ));
        }
        let mut events: Vec<WebhookEvent> = Vec::new();
        for e in new.events {
            if !events.contains(e) {
                events.push(*e);
            }
        }
        let trigger_words = trigger_words(new.trigger_words)?;
        if !trigger_words.is_empty() && !events.contains(&WebhookEvent::MessagePosted) {
            return Err(Error::invalid(
                "trigger_words",
                "Trigger words choose which messages are sent: add the event \"messages\", or leave them empty.",
            ));
        }
        let (_, ws_facts, _) = self.workspace_standing(ws, actor).await?;
        permissions::manage_outgoing_webhooks(ws_facts)?;
        let mut channels = Vec::new();
        for &channel in new.channels {
            let (ch, facts) = self.channel_facts(channel, actor).await?;
            if ch.workspace_id != ws {
                return Err(Error::NotFound(Thing::Channel));
            }
            if ch.kind == ChannelKind::Direct {
                return Err(Error::invalid(
                    "channels",
                    "Outgoing webhooks cannot hear direct conversations: what is said there stays there.",
                ));
            }
            permissions::manage_webhooks(facts)?;
            if !channels.iter().any(|(id, _)| *id == ch.id) {
                channels.push((ch.id, ch.name.clone()));
            }
        }
        let maker = self.store.user(actor).await?.ok_or(Error::NotFound(Thing::User))?;
        let (id, now) = (Id::new(), crate::now_ms());
        let bot = super::webhooks::bot_account(id, name, now);
        let webhook = OutgoingWebhook {
            id,
            workspace_id: ws,
            name: name.to_string(),
            url: url.to_string(),
            format: new.format,
            events,
            channels,
            trigger_words,
            bot: UserSummary::from(&bot),
            created_by: UserSummary::from(&maker),
            created_at: now,
        };
        let token = password::new_secret("owt_");
        let secret = password::new_secret("owsec_");
        self.store.create_outgoing_webhook(&webhook, &bot, &token, &secret).await?;
        let summary = format!("Added the outgoing webhook “{name}”, calling {url}");
        self.audit(ws, actor, "outgoing_webhook.create", None, Some(id), summary).await?;
        Ok(CreatedOutgoingWebhook { webhook, token, signing_secret: secret })
    }

    /// The outgoing webhooks of `ws`, for who may manage them; oldest first.
    pub async fn outgoing_webhooks(&self, actor: Id, ws: Id) -> Result<Vec<OutgoingWebhook>> {
        let (_, facts, _) = self.workspace_standing(ws, actor).await?;
        permissions::manage_outgoing_webhooks(facts)?;
        self.store.outgoing_webhooks_in(ws).await
    }

    /// The channels of `ws` an outgoing webhook of `actor`'s may hear (where
    /// they may manage webhooks; not direct conversations), with their names.
    pub async fn outgoing_webhook_channels(&self, actor: Id, ws: Id) -> Result<Vec<(Id, String)>> {
        Ok(self
            .manageable(actor, ws)
            .await?
            .into_iter()
            .filter(|(c, _)| c.kind != ChannelKind::Direct)
            .map(|(c, _)| (c.id, c.name))
            .collect())
    }

    /// Whether `actor` may manage outgoing webhooks in `ws`.
    pub async fn may_manage_outgoing_webhooks(&self, actor: Id, ws: Id) -> Result<bool> {
        let (_, facts, _) = self.workspace_standing(ws, actor).await?;
        Ok(permissions::manage_outgoing_webhooks(facts).is_ok())
    }

    /// Webhook `id`, when `actor` may manage it (else it is not found).
    async fn managed_outgoing(&self, actor: Id, id: Id) -> Result<OutgoingWebhook> {
        let hook = self.store.outgoing_webhook(id).await?.ok_or(Error::NotFound(Thing::Webhook))?;
        let (_, facts, _) = self.workspace_standing(hook.workspace_id, actor).await?;
        permissions::manage_outgoing_webhooks(facts).map_err(|e| match e {
            Error::NotFound(_) => Error::NotFound(Thing::Webhook),
            other => other,
        })?;
        Ok(hook)
    }

    /// Removes an outgoing webhook: no more calls, queued ones included;
    /// what its bot answered stays.
    pub async fn delete_outgoing_webhook(&self, actor: Id, id: Id) -> Result<()> {
        let hook = self.managed_outgoing(actor, id).await?;
        if !self.store.delete_outgoing_webhook(id).await? {
            return Err(Error::NotFound(Thing::Webhook));
        }
        let summary = format!("Removed the outgoing webhook “{}”", hook.name);
        self.audit(hook.workspace_id, actor, "outgoing_webhook.delete", None, Some(id), summary).await
    }

    /// A webhook with its latest calls, newest first, each with its attempts.
    pub async fn outgoing_webhook_log(
        &self,
        actor: Id,
        id: Id,
    ) -> Result<(OutgoingWebhook, Vec<WebhookDelivery>)> {
        let hook = self.managed_outgoing(actor, id).await?;
        let calls = self.store.webhook_deliveries(id, LOG_LENGTH).await?;
        Ok((hook, calls))
    }

    /// Sends a call of webhook `id` again, as it was first sent (signed
    /// anew): a new entry in its log.
    pub async fn redeliver(&self, actor: Id, id: Id, call: Id) -> Result<WebhookDelivery> {
        self.managed_outgoing(actor, id).await?;
        let old = self.store.queued_call(call).await?;
        let old = old.filter(|d| d.webhook_id == Some(id.0)).ok_or(Error::NotFound(Thing::Webhook))?;
        let again = Delivery {
            id: Id::new().0,
            due_at: crate::now_ms(),
            attempts: 0,
            sent_at: None,
            failed_at: None,
            last_error: String::new(),
            ..old
        };
        self.store.enqueue_delivery(&again).await?;
        self.deliveries.notify_one();
        self.store.webhook_delivery(Id(again.id)).await?.ok_or(Error::NotFound(Thing::Webhook))
    }

    /// Turns the events logged since the last reading into calls to the
    /// outgoing webhooks that hear them, and queues the calls. Safe to run
    /// on any number of nodes at once: each event becomes its calls once.
    /// Returns how many calls were queued.
    pub async fn dispatch_outgoing_webhooks(&self) -> Result<usize> {
        let mut queued = 0;
        loop {
            let rules = self.store.outgoing_rules().await?;
            if rules.is_empty() {
                return Ok(queued);
            }
            let from = self.store.outgoing_cursor().await?;
            let page = self.store.logged_after(from, crate::store::LOG_PAGE).await?;
            let Some(&(to, _)) = page.last() else { return Ok(queued) };
            let mut calls = Vec::new();
            let mut lookups = Lookups::default();
            for event in page.iter().filter_map(|(_, e)| e.as_ref()) {
                calls.extend(self.calls_for(event, &rules, &mut lookups).await?);
            }
            if self.store.queue_outgoing_calls(from, to, &calls).await? {
                queued += calls.len();
                if !calls.is_empty() {
                    self.deliveries.notify_one();
                }
                if (page.len() as i64) < crate::store::LOG_PAGE {
                    return Ok(queued);
                }
            }
            // Otherwise another node read this page first: read on from where it left off.
        }
    }

    /// The calls one logged event makes.
    async fn calls_for(
        &self,
        event: &Event,
        rules: &[OutgoingRule],
        lookups: &mut Lookups,
    ) -> Result<Vec<Delivery>> {
        // What happened in a channel is told to its members (a joiner is
        // also told on their own): the channel's copy is the one that counts.
        if !matches!(event.audience, Audience::Channel(_)) {
            return Ok(Vec::new());
        }
        let Some(heard) = heard_by_webhooks(&event.kind) else { return Ok(Vec::new()) };
        if !rules.iter().any(|r| r.events.contains(&heard)) {
            return Ok(Vec::new());
        }
        let Some(happening) = self.happening(&event.kind, heard).await? else { return Ok(Vec::new()) };
        let mut calls = Vec::new();
        for rule in rules {
            if event.seq <= rule.after_seq
                || !rule.events.contains(&happening.kind)
                || happening.actor.id == rule.bot.id
            {
                continue;
            }
            let trigger = match (happening.kind, rule.trigger_words.is_empty()) {
                (WebhookEvent::MessagePosted, false) => {
                    match triggered(&rule.trigger_words, happening.text) {
                        Some(word) => word,
                        None => continue,
                    }
                }
                _ => "",
            };
            let known = match lookups.standing.entry((happening.channel, rule.created_by)) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(unknown) => {
                    let found = match self.channel_facts(happening.channel, rule.created_by).await {
                        Ok(found) => Some(found),
                        Err(Error::NotFound(_)) => None,
                        Err(e) => return Err(e),
                    };
                    unknown.insert(found)
                }
            };
            let Some((ch, facts)) = known else { continue };
            let heard = if rule.channels.is_empty() {
                ch.kind != ChannelKind::Direct && !ch.is_private
            } else {
                rule.channels.contains(&ch.id)
            };
            // Its maker may still see and manage webhooks there.
            if ch.workspace_id != rule.workspace_id || !heard || permissions::manage_webhooks(*facts).is_err()
            {
                continue;
            }
            let team_domain = match lookups.workspace_names.entry(ch.workspace_id) {
                Entry::Occupied(name) => name.into_mut(),
                Entry::Vacant(unknown) => {
                    let workspace = self.store.workspace(ch.workspace_id).await?;
                    unknown.insert(workspace.map(|w| w.name).unwrap_or_default())
                }
            };
            let body = payload(rule, ch, team_domain, &happening, trigger, event.at);
            let mut call =
                Delivery::whole("webhook", &rule.url, happening.kind.as_str(), &body, "", crate::now_ms());
            call.webhook_id = Some(rule.id.0);
            call.answer_channel_id = Some(ch.id.0);
            call.answer_thread_id = happening.thread.map(|t| t.0);
            calls.push(call);
        }
        Ok(calls)
    }

    /// What a logged event, `heard` as an outgoing-webhook event, is to
    /// outgoing webhooks: where, by whom, and its details.
    async fn happening<'a>(&self, kind: &'a EventKind, heard: WebhookEvent) -> Result<Option<Happening<'a>>> {
        Ok(Some(match kind {
            EventKind::MessageCreated(m) => Happening {
                kind: heard,
                channel: m.channel_id,
                actor: m.author.clone(),
                text: &m.body,
                thread: m.thread_id,
                detail: json!({
                    "type": "message",
                    "text": m.body,
                    "ts": slack_ts(m.created_at),
                    "message_id": m.id.to_string(),
                    "thread_ts": m.thread_id.map(|t| t.to_string()),
                    "files": m.attachments.iter().map(|a| json!({"name": a.file_name, "size": a.size})).collect::<Vec<_>>(),
                }),
            },
            EventKind::ChannelMemberAdded { channel, user_id } => {
                let Some(user) = self.store.user(*user_id).await? else { return Ok(None) };
                Happening {
                    kind: heard,
                    channel: channel.id,
                    actor: UserSummary::from(&user),
                    text: "",
                    thread: None,
                    detail: json!({
                        "type": "member_joined_channel",
                        "channel_type": if channel.is_private { "G" } else { "C" },
                    }),
                }
            }
            EventKind::ReactionAdded { channel_id, message_id, emoji, user } => Happening {
                kind: heard,
                channel: *channel_id,
                actor: user.clone(),
                text: "",
                thread: None,
                detail: json!({
                    "type": "reaction_added",
                    "reaction": emoji,
                    "item": {"type": "message", "channel": channel_id.to_string(), "message_id": message_id.to_string()},
                }),
            },
            EventKind::CallStarted { channel_id, by, .. } => {
                let meeting = self.store.meeting_of_channel(*channel_id).await?;
                Happening {
                    kind: heard,
                    channel: *channel_id,
                    actor: by.clone(),
                    text: "",
                    thread: None,
                    detail: json!({
                        "type": "meeting_started",
                        "meeting": meeting.map(|m| json!({
                            "id": m.id.to_string(),
                            "title": m.title,
                            "starts_at": m.starts_at,
                            "ends_at": m.ends_at,
                        })),
                    }),
                }
            }
            _ => return Ok(None),
        }))
    }

    /// Posts what outgoing webhook `key` answered to `call` (Slack's answer:
    /// `{"text": …}`, with the same fields an incoming webhook takes) as its
    /// bot, where the call's event happened, on the authority of the person
    /// who made it. An answer with nothing to post is no error: `None`.
    pub async fn answer_outgoing_call(
        &self,
        key: &OutgoingKey,
        call: &Delivery,
        answer: &[u8],
    ) -> Result<Option<Message>> {
        let Some(channel) = call.answer_channel_id else { return Ok(None) };
        let Ok(answer) = WebhookPost::from_json(answer) else { return Ok(None) };
        // The call's id: an answer taken twice (a worker stopped after
        // posting it) is posted once.
        let nonce = format!("webhook-call-{}", call.id);
        let post = Post { nonce: Some(&nonce), thread: call.answer_thread_id.map(Id), ..Default::default() };
        let posted = self.post_as_webhook(key.bot.clone(), key.created_by, Id(channel), answer, post).await?;
        Ok(Some(posted))
    }
}

/// The trigger words given, as a list: separated by spaces or commas, each
/// one word of at most 40 characters, at most 20 of them.
fn trigger_words(given: &str) -> Result<Vec<String>> {
    let mut words: Vec<String> = Vec::new();
    for w in given.split(|c: char| c == ',' || c.is_whitespace()).filter(|w| !w.is_empty()) {
        if w.chars().count() > MAX_WORD || w.chars().any(char::is_control) {
            return Err(Error::invalid("trigger_words", "A trigger word has at most 40 characters."));
        }
        if !words.iter().any(|x| x.eq_ignore_ascii_case(w)) {
            words.push(w.to_string());
        }
    }
    if words.len() > MAX_WORDS {
        return Err(Error::invalid("trigger_words", "A webhook takes at most 20 trigger words."));
    }
    Ok(words)
}

/// The trigger word `text` starts with (ignoring case and leading space), if any.
fn triggered<'w>(words: &'w [String], text: &str) -> Option<&'w str> {
    let text = text.trim_start().to_lowercase();
    words.iter().find(|w| text.starts_with(&w.to_lowercase())).map(String::as_str)
}

/// A time as Slack writes it: seconds, a dot, microseconds.
fn slack_ts(ms: i64) -> String {
    format!("{}.{:06}", ms.div_euclid(1000), ms.rem_euclid(1000) * 1000)
}

/// The body of one call: Slack's outgoing-webhook fields, and in JSON the
/// event as Slack's Events API shows it.
fn payload(
    rule: &OutgoingRule,
    ch: &Channel,
    team_domain: &str,
    happening: &Happening<'_>,
    trigger: &str,
    at: i64,
) -> String {
    let fields: [(&str, String); 12] = [
        ("token", rule.token.clone()),
        ("team_id", ch.workspace_id.to_string()),
        ("team_domain", team_domain.to_string()),
        ("channel_id", ch.id.to_string()),
        ("channel_name", ch.name.clone()),
        ("timestamp", slack_ts(at)),
        ("user_id", happening.actor.id.to_string()),
        ("user_name", happening.actor.username.clone()),
        ("text", happening.text.to_string()),
        ("trigger_word", trigger.to_string()),
        ("event_type", happening.kind.as_str().to_string()),
        ("webhook_id", rule.id.to_string()),
    ];
    match rule.format {
        PayloadFormat::Form => crate::webhook_call::form_body(&fields),
        PayloadFormat::Json => {
            let mut event = happening.detail.clone();
            if let Value::Object(e) = &mut event {
                e.insert("channel".into(), json!(ch.id.to_string()));
                e.insert("user".into(), json!(happening.actor.id.to_string()));
                e.insert("team".into(), json!(ch.workspace_id.to_string()));
                e.insert("event_ts".into(), json!(slack_ts(at)));
            }
            let mut body: serde_json::Map<String, Value> =
                fields.into_iter().map(|(k, v)| (k.to_string(), Value::String(v))).collect();
            body.insert("event".into(), event);
            Value::Object(body).to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_words_are_split_on_spaces_and_commas_once_each() {
        assert_eq!(trigger_words(" deploy, Build  deploy,,status ").unwrap(), ["deploy", "Build", "status"]);
        assert!(trigger_words(&"x".repeat(41)).is_err());
        assert!(trigger_words(&(0..21).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ")).is_err());
    }

    #[test]
    fn a_message_is_triggered_by_the_word_it_starts_with() {
        let words = vec!["deploy".to_string(), "!status".to_string()];
        assert_eq!(triggered(&words, "  Deploy main to staging"), Some("deploy"));
        assert_eq!(triggered(&words, "!status"), Some("!status"));
        assert_eq!(triggered(&words, "please deploy"), None);
    }

    #[test]
    fn times_are_written_as_slack_writes_them() {
        assert_eq!(slack_ts(1_700_000_000_123), "1700000000.123000");
    }
}
