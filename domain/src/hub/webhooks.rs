//! Incoming webhooks: a secret address per channel that a script posts to.
//!
//! Each webhook posts as a bot account of its own (its name is the bot's
//! display name; a call may show another name and an emoji, as Slack's
//! `username` and `icon_emoji`), and with the right to post of the person
//! who made it, looked at again on every call: when they can no longer post
//! in the channel (they left, were removed, or it was archived), neither can
//! their webhook. Managing webhooks takes `manage_webhooks` in the channel;
//! in a direct conversation its members may, as it is theirs. A webhook may
//! require its calls to be signed, as Slack signs its requests: HMAC-SHA256
//! with the webhook's signing secret over `v0:<timestamp>:<body>`.

use super::Hub;
use super::messages::Post;
use super::notifications::place;
use crate::error::{Error, Result, Thing};
use crate::id::Id;
use crate::input::MessageBody;
use crate::limits::Bucket;
use crate::model::{Channel, ChannelKind, Message, User, UserSummary, Webhook};
use crate::password;
use crate::permissions;
use crate::webhook_payload::WebhookPost;
use hmac::{Hmac, Mac};
use std::collections::HashMap;

/// How far a signed call's timestamp may be from the server's clock.
const SIGNATURE_WINDOW_SECS: i64 = 300;

/// The longest name a webhook may have.
const MAX_NAME: usize = 80;

/// A webhook just made, with what is shown only now: its address, and the
/// secret its calls are signed with when it requires signatures.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub webhook: Webhook,
    pub url: String,
    pub signing_secret: Option<String>,
}

/// A call's signature headers, as sent.
#[derive(Debug, Clone, Copy)]
pub struct Signature<'a> {
    /// Seconds since 1970.
    pub timestamp: &'a str,
    /// `v0=` and the HMAC in hex.
    pub signature: &'a str,
}

impl Hub {
    /// Makes an incoming webhook in `channel` (of workspace `ws`), posting
    /// as a new bot account named `name`; with `signed`, its calls must
    /// carry a signature.
    pub async fn create_webhook(
        &self,
        actor: Id,
        ws: Id,
        channel: Id,
        name: &str,
        signed: bool,
    ) -> Result<NewWebhook> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(Error::invalid(
                "name",
                "Name the webhook (up to 80 characters): its posts show this name, e.g. \"Deploys\".",
            ));
        }
        let (ch, facts, (maker, _)) = self.channel_standing(channel, actor).await?;
        if ch.workspace_id != ws {
            return Err(Error::NotFound(Thing::Channel));
        }
        permissions::manage_webhooks(facts)?;
        // It posts with its maker's right to post.
        permissions::send_message(facts)?;
        let maker = maker.ok_or(Error::NotFound(Thing::User))?;
        let (id, now) = (Id::new(), crate::now_ms());
        let bot = bot_account(id, name, now);
        let webhook = Webhook {
            id,
            workspace_id: ch.workspace_id,
            channel_id: ch.id,
            channel_label: format!("#{}", ch.name),
            bot: UserSummary::from(&bot),
            created_by: maker,
            created_at: now,
            signed,
            last_used_at: None,
        };
        let token = password::new_secret("wh_");
        let secret = signed.then(|| password::new_secret("whsec_"));
        let digest = password::token_digest(&token);
        self.store.create_webhook(&webhook, &bot, &digest, secret.as_deref().unwrap_or("")).await?;
        let summary = format!("Added the incoming webhook “{name}” to {}", place(&ch));
        self.audit_in(&ch, actor, "webhook.create", None, Some(id), summary).await?;
        let url = format!("{}/hooks/{token}", self.public_url.trim_end_matches('/'));
        Ok(NewWebhook { webhook, url, signing_secret: secret })
    }

    /// The webhooks of `ws` in the channels where `actor` may manage them,
    /// oldest first; a direct conversation is named by who is in it.
    pub async fn webhooks(&self, actor: Id, ws: Id) -> Result<Vec<Webhook>> {
        let manageable: HashMap<Id, ChannelKind> =
            self.manageable(actor, ws).await?.into_iter().map(|(c, _)| (c.id, c.kind)).collect();
        let mut hooks: Vec<Webhook> = self
            .store
            .webhooks_in(ws)
            .await?
            .into_iter()
            .filter(|h| manageable.contains_key(&h.channel_id))
            .collect();
        let direct: Vec<Id> = hooks
            .iter()
            .filter(|h| manageable.get(&h.channel_id) == Some(&ChannelKind::Direct))
            .map(|h| h.channel_id)
            .collect();
        let mut names = self.direct_names(&direct).await?;
        for h in &mut hooks {
            if let Some(name) = names.remove(&h.channel_id) {
                h.channel_label = name;
            }
        }
        Ok(hooks)
    }

    /// Where `actor` may add a webhook in `ws` (they manage webhooks there
    /// and may post), each with its label: `#name`, or who is in a direct
    /// conversation.
    pub async fn webhook_channels(&self, actor: Id, ws: Id) -> Result<Vec<(Id, String)>> {
        let open: Vec<Channel> = self
            .manageable(actor, ws)
            .await?
            .into_iter()
            .filter(|(_, facts)| permissions::send_message(*facts).is_ok())
            .map(|(c, _)| c)
            .collect();
        let direct: Vec<Id> = open.iter().filter(|c| c.kind == ChannelKind::Direct).map(|c| c.id).collect();
        let mut names = self.direct_names(&direct).await?;
        Ok(open
            .into_iter()
            .map(|c| {
                let label = names.remove(&c.id).unwrap_or_else(|| format!("#{}", c.name));
                (c.id, label)
            })
            .collect())
    }

    /// The channels of `ws` where `actor` may manage webhooks, with their facts.
    pub(super) async fn manageable(
        &self,
        actor: Id,
        ws: Id,
    ) -> Result<Vec<(Channel, permissions::ChannelFacts)>> {
        let (_, listings) = self.visible_listings(ws, actor).await?;
        Ok(listings
            .into_iter()
            .filter(|(_, facts)| permissions::manage_webhooks(*facts).is_ok())
            .map(|(l, facts)| (l.channel, facts))
            .collect())
    }

    /// Each direct conversation of `ids` named by who is in it.
    async fn direct_names(&self, ids: &[Id]) -> Result<HashMap<Id, String>> {
        let members = self.store.members_of_channels(ids).await?;
        Ok(members
            .into_iter()
            .map(|(id, people)| {
                let names: Vec<&str> = people.iter().map(|p| p.display_name.as_str()).collect();
                (id, names.join(", "))
            })
            .collect())
    }

    /// Deletes a webhook: its address stops working at once; what it posted stays.
    pub async fn delete_webhook(&self, actor: Id, id: Id) -> Result<()> {
        let hook = self.store.webhook(id).await?.ok_or(Error::NotFound(Thing::Webhook))?;
        let (ch, facts, _) = self.channel_standing(hook.channel_id, actor).await?;
        permissions::manage_webhooks(facts).map_err(|e| match e {
            Error::NotFound(_) => Error::NotFound(Thing::Webhook),
            other => other,
        })?;
        if !self.store.delete_webhook(id).await? {
            return Err(Error::NotFound(Thing::Webhook));
        }
        let summary = format!("Removed the incoming webhook “{}” from {}", hook.bot.display_name, place(&ch));
        self.audit_in(&ch, actor, "webhook.delete", None, Some(id), summary).await
    }

    /// Posts what a call to a webhook's address sent (`payload`, JSON: see
    /// [`WebhookPost`]), once the signature of the request's body as sent
    /// (`signed`: the JSON, or the form holding it) is checked if it needs one.
    pub async fn post_by_webhook(
        &self,
        token: &str,
        signature: Option<Signature<'_>>,
        signed: &[u8],
        payload: &[u8],
    ) -> Result<Message> {
        let key = self.store.webhook_by_digest(&password::token_digest(token)).await?;
        let key = key.ok_or(Error::NotFound(Thing::Webhook))?;
        if !key.signing_secret.is_empty() {
            verify(&key.signing_secret, signature, signed, crate::now_ms() / 1000)?;
        }
        let call = WebhookPost::from_json(payload)?;
        let stored =
            self.post_as_webhook(key.bot, key.created_by, key.channel_id, call, Post::default()).await?;
        self.store.webhook_used(key.id, stored.created_at).await?;
        Ok(stored)
    }

    /// Posts what a webhook (incoming, or an outgoing one's answer) sent as
    /// its bot in `channel`, on the authority of `maker`, the person who made
    /// it: rate-limited per bot and channel, and refused, saying why, when
    /// the maker can no longer post there.
    pub(super) async fn post_as_webhook(
        &self,
        bot: UserSummary,
        maker: Id,
        channel: Id,
        call: WebhookPost,
        post: Post<'_>,
    ) -> Result<Message> {
        let body = MessageBody::parse(&call.body)?.into_inner();
        self.limits.check(Bucket::Post, &format!("{}:{channel}", bot.id)).await?;
        let (ch, facts, _, levels) = self.channel_standing_with(channel, maker, true).await?;
        if post.thread.is_none() && permissions::send_message(facts).is_err() {
            return Err(Error::forbidden(if facts.archived {
                "The webhook's channel is archived: nothing can be posted there until it is unarchived."
            } else {
                "The person who made this webhook can no longer post in its channel, so neither can the \
                 webhook. Ask someone who can to make a new one."
            }));
        }
        let mut msg = Message::new(ch.id, bot, body, None);
        (msg.shown_name, msg.shown_icon) = (call.shown_name, call.shown_icon);
        msg.nonce = post.nonce.map(str::to_string);
        let (stored, _) = self.publish(&ch, facts, msg, post, levels).await?;
        Ok(stored)
    }
}

/// The bot account webhook `id` (incoming or outgoing) posts as, named
/// `name`: no password, a made-up address.
pub(super) fn bot_account(id: Id, name: &str, now: i64) -> User {
    User {
        id: Id::new(),
        // A space: no person's username can be the same.
        username: format!("webhook {}", id.0),
        display_name: name.to_string(),
        email: format!("webhook-{}@bots.parley.invalid", id.0),
        created_at: now,
        is_bot: true,
    }
}

/// Checks a call's signature: `v0=` and hex HMAC-SHA256 with `secret` over
/// `v0:<timestamp>:<body>`, the timestamp within five minutes of `now`
/// (seconds), so that a recorded call cannot be played again later.
fn verify(secret: &str, signature: Option<Signature<'_>>, body: &[u8], now: i64) -> Result<()> {
    let Some(sig) = signature else {
        return Err(Error::BadSignature(
            "This webhook takes only signed calls: send X-Parley-Request-Timestamp and X-Parley-Signature \
             (v0= and the HMAC-SHA256 of v0:timestamp:body with its signing secret).",
        ));
    };
    let at: i64 = sig.timestamp.trim().parse().map_err(|_| {
        Error::BadSignature("The request timestamp is not a whole number of seconds since 1970.")
    })?;
    if (now - at).abs() > SIGNATURE_WINDOW_SECS {
        return Err(Error::BadSignature(
            "The request timestamp is more than five minutes from the server's clock: sign each call as it is sent.",
        ));
    }
    let mismatch = || {
        Error::BadSignature(
            "The signature does not match: it must be v0= and the hex HMAC-SHA256 of v0:timestamp:body \
             with this webhook's signing secret.",
        )
    };
    let given =
        sig.signature.trim().strip_prefix("v0=").and_then(|h| hex::decode(h).ok()).ok_or_else(mismatch)?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| mismatch())?;
    mac.update(format!("v0:{}:", sig.timestamp.trim()).as_bytes());
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| mismatch())
}

/// The signature of `body` sent at `timestamp`, as a caller makes it.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig<'a>(timestamp: &'a str, signature: &'a str) -> Option<Signature<'a>> {
        Some(Signature { timestamp, signature })
    }

    #[test]
    fn a_call_signed_with_the_secret_passes() {
        let s = sign("whsec_1", 1_000, b"{}");
        assert!(verify("whsec_1", sig("1000", &s), b"{}", 1_100).is_ok());
    }

    #[test]
    fn a_changed_body_or_another_secret_fails() {
        let s = sign("whsec_1", 1_000, b"{}");
        assert!(matches!(verify("whsec_1", sig("1000", &s), b"{ }", 1_000), Err(Error::BadSignature(_))));
        assert!(matches!(verify("whsec_2", sig("1000", &s), b"{}", 1_000), Err(Error::BadSignature(_))));
    }

    #[test]
    fn an_old_or_missing_signature_fails() {
        let s = sign("whsec_1", 1_000, b"{}");
        let e = verify("whsec_1", sig("1000", &s), b"{}", 1_000 + 301).unwrap_err();
        assert!(e.to_string().contains("five minutes"), "{e}");
        let e = verify("whsec_1", None, b"{}", 1_000).unwrap_err();
        assert!(e.to_string().contains("X-Parley-Signature"), "{e}");
    }
}
