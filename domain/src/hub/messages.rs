use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind};
use crate::id::Id;
use crate::input::{Emoji, MessageBody, Nonce};
use crate::model::{Message, MessagePage, SearchHit, UserSummary};
use crate::permissions;
use crate::permissions::ChannelFacts;

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
            html: crate::markdown::render(body.as_str()),
            body: body.into_inner(),
            nonce: nonce.map(|n| n.into_inner()),
            created_at: id.timestamp_ms(),
            edited_at: None,
            reactions: Vec::new(),
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

    /// A live message and what `actor` is to its channel. A message in a
    /// channel they cannot see is "not found", like one that does not exist.
    async fn message_facts(&self, actor: Id, message: Id) -> Result<(Message, ChannelFacts)> {
        let msg = self.store.message(message).await?.ok_or(Error::NotFound(Thing::Message))?;
        let (_, facts) = self.channel_facts(msg.channel_id, actor).await?;
        permissions::view_channel(facts).map_err(|_| Error::NotFound(Thing::Message))?;
        Ok((msg, facts))
    }

    /// Replaces the body of `actor`'s own message.
    pub async fn edit_message(&self, actor: Id, message: Id, body: &str) -> Result<Message> {
        let body = MessageBody::parse(body)?;
        let (msg, facts) = self.message_facts(actor, message).await?;
        permissions::edit_message(facts, msg.author.id == actor)?;
        let edited = self
            .store
            .edit_message(msg.id, body.as_str(), &crate::markdown::render(body.as_str()), crate::now_ms())
            .await?
            .ok_or(Error::NotFound(Thing::Message))?;
        self.bus.publish(Audience::Channel(edited.channel_id), EventKind::MessageUpdated(edited.clone()));
        Ok(edited)
    }

    pub async fn delete_message(&self, actor: Id, message: Id) -> Result<()> {
        let (msg, facts) = self.message_facts(actor, message).await?;
        permissions::delete_message(facts, msg.author.id == actor)?;
        if self.store.delete_message(msg.id, crate::now_ms()).await? {
            self.bus.publish(
                Audience::Channel(msg.channel_id),
                EventKind::MessageDeleted { channel_id: msg.channel_id, message_id: msg.id },
            );
        }
        Ok(())
    }

    /// Adds `actor`'s reaction (adding it twice changes nothing).
    pub async fn add_reaction(&self, actor: Id, message: Id, emoji: &str) -> Result<()> {
        let emoji = Emoji::parse(emoji)?;
        let (msg, facts) = self.message_facts(actor, message).await?;
        permissions::react(facts)?;
        if self.store.add_reaction(msg.id, actor, emoji.as_str(), crate::now_ms()).await? {
            let user = self.store.user(actor).await?.ok_or(Error::NotFound(Thing::User))?;
            self.bus.publish(
                Audience::Channel(msg.channel_id),
                EventKind::ReactionAdded {
                    channel_id: msg.channel_id,
                    message_id: msg.id,
                    emoji: emoji.into_inner(),
                    user: UserSummary::from(&user),
                },
            );
        }
        Ok(())
    }

    pub async fn remove_reaction(&self, actor: Id, message: Id, emoji: &str) -> Result<()> {
        let emoji = Emoji::parse(emoji)?;
        let (msg, facts) = self.message_facts(actor, message).await?;
        permissions::view_channel(facts)?;
        if self.store.remove_reaction(msg.id, actor, emoji.as_str()).await? {
            self.bus.publish(
                Audience::Channel(msg.channel_id),
                EventKind::ReactionRemoved {
                    channel_id: msg.channel_id,
                    message_id: msg.id,
                    emoji: emoji.into_inner(),
                    user_id: actor,
                },
            );
        }
        Ok(())
    }

    /// Searches the messages `actor` may see, in one workspace or all of theirs.
    pub async fn search(&self, actor: Id, query: &str, workspace: Option<Id>) -> Result<Vec<SearchHit>> {
        let q = crate::search::SearchQuery::parse(query)?;
        if let Some(ws) = workspace {
            let (_, facts) = self.workspace_facts(ws, actor).await?;
            permissions::view_workspace(facts)?;
        }
        let found = self.store.search_messages(actor, workspace, &q, 50).await?;
        Ok(found
            .into_iter()
            .map(|(message, channel_name, workspace_id)| SearchHit {
                highlight: crate::search::highlight(&message.body, &q.terms),
                message,
                channel_name,
                workspace_id,
            })
            .collect())
    }

    /// Tells the channel that `actor` is typing; only those who may post
    /// there can. Nothing is stored.
    pub async fn typing(&self, actor: Id, channel: Id) -> Result<()> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::send_message(facts)?;
        let user = self.store.user(actor).await?.ok_or(Error::NotFound(Thing::User))?;
        self.bus.publish(
            Audience::Channel(ch.id),
            EventKind::Typing { channel_id: ch.id, user: UserSummary::from(&user) },
        );
        Ok(())
    }
}
