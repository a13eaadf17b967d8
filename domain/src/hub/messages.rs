use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind};
use crate::id::Id;
use crate::input::{MessageBody, Nonce};
use crate::model::{Message, MessagePage, UserSummary};
use crate::permissions;

/// Largest page of history one request may ask for.
pub const MAX_PAGE: i64 = 100;

impl Hub {
    /// Posts a message. It is returned only once committed; the same
    /// `nonce` from the same author returns the first message again, with
    /// `false`: nothing new was created or published.
    pub async fn post_message(
        &self,
        actor: Id,
        channel: Id,
        body: &str,
        nonce: Option<&str>,
    ) -> Result<(Message, bool)> {
        let body = MessageBody::parse(body)?;
        let nonce = Nonce::parse_optional(nonce)?;
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::send_message(facts)?;
        let author = self.store.user(actor).await?.ok_or(Error::NotFound(Thing::User))?;
        let id = Id::new();
        let msg = Message {
            id,
            channel_id: ch.id,
            author: UserSummary::from(&author),
            body: body.into_inner(),
            nonce: nonce.map(|n| n.into_inner()),
            created_at: id.timestamp_ms(),
        };
        let (stored, created) = self.store.insert_message(&msg).await?;
        if created {
            self.bus.publish(Audience::Channel(ch.id), EventKind::MessageCreated(stored.clone()));
        }
        Ok((stored, created))
    }

    /// A page of history, newest first; `limit` is clamped to 1..=100.
    pub async fn messages(
        &self,
        actor: Id,
        channel: Id,
        before: Option<Id>,
        limit: i64,
    ) -> Result<MessagePage> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts)?;
        self.store.messages(ch.id, before, limit.clamp(1, MAX_PAGE)).await
    }
}
