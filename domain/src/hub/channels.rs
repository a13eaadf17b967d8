use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind};
use crate::id::Id;
use crate::input::{ChannelName, Description, Username};
use crate::model::{Channel, ChannelListing};
use crate::permissions;

impl Hub {
    pub async fn create_channel(
        &self,
        actor: Id,
        ws: Id,
        name: &str,
        topic: &str,
        is_private: bool,
    ) -> Result<Channel> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::create_in_workspace(facts)?;
        let channel = Channel {
            id: Id::new(),
            workspace_id: ws,
            name: ChannelName::parse(name)?.into_inner(),
            topic: Description::parse(topic)
                .map_err(|_| Error::invalid("topic", "A topic is at most 500 characters."))?
                .into_inner(),
            is_private,
            auto_join: false,
            created_by: actor,
            created_at: crate::now_ms(),
        };
        self.store.create_channel(&channel).await?;
        if !is_private {
            self.bus.publish(Audience::Workspace(ws), EventKind::ChannelCreated(channel.clone()));
        }
        self.announce_channel_member(channel.clone(), actor);
        Ok(channel)
    }

    /// The channels of a workspace that `actor` may see.
    pub async fn channels(&self, actor: Id, ws: Id) -> Result<Vec<ChannelListing>> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        self.store.visible_channels(ws, actor).await
    }

    /// The channel to open when entering a workspace: the first auto-join
    /// channel `actor` belongs to, else the first they belong to, else the first visible.
    pub async fn first_channel(&self, actor: Id, ws: Id) -> Result<Channel> {
        let list = self.channels(actor, ws).await?;
        list.iter()
            .find(|l| l.is_member && l.channel.auto_join)
            .or_else(|| list.iter().find(|l| l.is_member))
            .or_else(|| list.first())
            .map(|l| l.channel.clone())
            .ok_or(Error::NotFound(Thing::Channel))
    }

    /// A channel `actor` may see, and whether they are a member.
    pub async fn channel(&self, actor: Id, channel: Id) -> Result<ChannelListing> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts)?;
        Ok(ChannelListing { channel: ch, is_member: facts.channel_member })
    }

    pub async fn join_channel(&self, actor: Id, channel: Id) -> Result<Channel> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::join_channel(facts)?;
        if self.store.add_channel_member(ch.id, actor, crate::now_ms()).await? {
            self.announce_channel_member(ch.clone(), actor);
        }
        Ok(ch)
    }

    pub async fn leave_channel(&self, actor: Id, channel: Id) -> Result<()> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts)?;
        if self.store.remove_channel_member(ch.id, actor).await? {
            self.announce_channel_member_gone(ch.id, actor);
        }
        Ok(())
    }

    /// Adds a workspace member (by username) to a channel `actor` belongs to.
    pub async fn add_channel_member(&self, actor: Id, channel: Id, username: &str) -> Result<Channel> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::add_to_channel(facts)?;
        let username = Username::parse(username.trim().trim_start_matches('@'))?;
        let not_member = || {
            Error::invalid(
                "username",
                format!(
                    "@{} is not a member of this workspace. Send them an invite link instead.",
                    username.as_str()
                ),
            )
        };
        let user = self.store.user_by_username(username.as_str()).await?.ok_or_else(not_member)?;
        if !self.store.is_workspace_member(ch.workspace_id, user.id).await? {
            return Err(not_member());
        }
        if self.store.add_channel_member(ch.id, user.id, crate::now_ms()).await? {
            self.announce_channel_member(ch.clone(), user.id);
        }
        Ok(ch)
    }

    /// Tells `user` (all their connections) and the channel that they joined.
    pub(super) fn announce_channel_member(&self, channel: Channel, user: Id) {
        let kind = EventKind::ChannelMemberAdded { channel: channel.clone(), user_id: user };
        self.bus.publish(Audience::User(user), kind.clone());
        self.bus.publish(Audience::Channel(channel.id), kind);
    }

    pub(super) fn announce_channel_member_gone(&self, channel_id: Id, user: Id) {
        let kind = EventKind::ChannelMemberRemoved { channel_id, user_id: user };
        self.bus.publish(Audience::Channel(channel_id), kind.clone());
        self.bus.publish(Audience::User(user), kind);
    }
}
