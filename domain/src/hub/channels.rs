use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind};
use crate::id::Id;
use crate::input::{ChannelName, Description, Username};
use crate::model::{Channel, ChannelKind, ChannelListing, ReadMark, UserSummary};
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
            kind: ChannelKind::Text,
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

    /// The channels of a workspace that `actor` may see (direct
    /// conversations included, with their members), with unread counts.
    pub async fn channels(&self, actor: Id, ws: Id) -> Result<Vec<ChannelListing>> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        let mut list = self.store.visible_channels(ws, actor).await?;
        let counts = self.store.unread_counts(ws, actor).await?;
        let direct: Vec<Id> =
            list.iter().filter(|l| l.channel.kind == ChannelKind::Direct).map(|l| l.channel.id).collect();
        let mut members = self.store.members_of_channels(&direct).await?;
        for l in &mut list {
            if let Some(&(unread, mentions)) = counts.get(&l.channel.id) {
                (l.unread, l.mentions) = (unread, mentions);
            }
            l.members = members.remove(&l.channel.id).unwrap_or_default();
        }
        Ok(list)
    }

    /// The channel to open when entering a workspace: the first auto-join
    /// channel `actor` belongs to, else the first they belong to, else the first visible.
    pub async fn first_channel(&self, actor: Id, ws: Id) -> Result<Channel> {
        let list = self.channels(actor, ws).await?;
        let list: Vec<_> = list.into_iter().filter(|l| l.channel.kind == ChannelKind::Text).collect();
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
        let mut listing = ChannelListing::new(ch, facts.channel_member);
        if facts.is_direct {
            listing.members = self
                .store
                .members_of_channels(&[listing.channel.id])
                .await?
                .remove(&listing.channel.id)
                .unwrap_or_default();
        }
        Ok(listing)
    }

    /// Opens the direct conversation between `actor` and the people named
    /// (usernames, `@` optional, separated by commas or spaces): at most 8
    /// people in all, every one a member of the workspace. The same people
    /// always get the same conversation back.
    pub async fn open_direct(&self, actor: Id, ws: Id, usernames: &str) -> Result<Channel> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        let mut ids = vec![actor];
        for raw in usernames.split(|c: char| c == ',' || c.is_whitespace()) {
            let raw = raw.trim().trim_start_matches('@');
            if raw.is_empty() {
                continue;
            }
            let name = Username::parse(raw).map_err(|_| {
                Error::invalid(
                    "usernames",
                    format!("“{raw}” is not a username. Separate usernames with commas."),
                )
            })?;
            let not_member = || {
                Error::invalid("usernames", format!("@{} is not a member of this workspace.", name.as_str()))
            };
            let user = self.store.user_by_username(name.as_str()).await?.ok_or_else(not_member)?;
            if !self.store.is_workspace_member(ws, user.id).await? {
                return Err(not_member());
            }
            if !ids.contains(&user.id) {
                ids.push(user.id);
            }
        }
        if ids.len() > 8 {
            return Err(Error::invalid(
                "usernames",
                format!(
                    "A group conversation has at most 8 people, you included; this one would have {}.",
                    ids.len()
                ),
            ));
        }
        ids.sort();
        let now = crate::now_ms();
        let channel = Channel {
            id: Id::new(),
            workspace_id: ws,
            name: format!("@{}", ids.iter().map(|i| i.0.to_string()).collect::<Vec<_>>().join(",")),
            topic: String::new(),
            is_private: true,
            auto_join: false,
            kind: ChannelKind::Direct,
            created_by: actor,
            created_at: now,
        };
        let (channel, created) = self.store.create_direct(&channel, &ids).await?;
        if created {
            for id in ids {
                self.announce_channel_member(channel.clone(), id);
            }
        }
        Ok(channel)
    }

    /// Renames a channel or changes its topic (what is `None` stays).
    pub async fn update_channel(
        &self,
        actor: Id,
        channel: Id,
        name: Option<&str>,
        topic: Option<&str>,
    ) -> Result<Channel> {
        let (mut ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::manage_channel(facts)?;
        if let Some(name) = name {
            ch.name = ChannelName::parse(name)?.into_inner();
        }
        if let Some(topic) = topic {
            ch.topic = Description::parse(topic)
                .map_err(|_| Error::invalid("topic", "A topic is at most 500 characters."))?
                .into_inner();
        }
        self.store.update_channel(ch.id, &ch.name, &ch.topic).await?;
        let audience =
            if ch.is_private { Audience::Channel(ch.id) } else { Audience::Workspace(ch.workspace_id) };
        self.bus.publish(audience, EventKind::ChannelUpdated(ch.clone()));
        Ok(ch)
    }

    /// Deletes a channel with everything in it.
    pub async fn delete_channel(&self, actor: Id, channel: Id) -> Result<()> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::manage_channel(facts)?;
        let files = self.store.delete_channel(ch.id).await?;
        self.files.remove_attachments(&files).await;
        let audience =
            if ch.is_private { Audience::Channel(ch.id) } else { Audience::Workspace(ch.workspace_id) };
        self.bus.publish(
            audience,
            EventKind::ChannelDeleted { workspace_id: ch.workspace_id, channel_id: ch.id },
        );
        Ok(())
    }

    /// Marks `channel` read by `actor` up to `message` (the newest message
    /// when `None`); the read mark never moves back. Returns the mark now.
    pub async fn mark_read(&self, actor: Id, channel: Id, message: Option<Id>) -> Result<Id> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts)?;
        let latest = self.store.latest_message_id(ch.id).await?;
        let upto = message.map_or(latest, |m| Id(m.0.min(latest.0)));
        if facts.channel_member && upto.0 > 0 && self.store.mark_read(ch.id, actor, upto).await? {
            let kind = EventKind::ReadUpdated { channel_id: ch.id, user_id: actor, last_read_id: upto };
            if facts.is_direct {
                self.bus.publish(Audience::Channel(ch.id), kind.clone());
            }
            self.bus.publish(Audience::User(actor), kind);
        }
        Ok(upto)
    }

    /// How far each member has read a channel `actor` may see.
    pub async fn read_marks(&self, actor: Id, channel: Id) -> Result<Vec<ReadMark>> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts)?;
        self.store.read_marks(ch.id).await
    }

    /// Who has read a message (its author aside): read receipts.
    pub async fn readers(&self, actor: Id, message: Id) -> Result<Vec<UserSummary>> {
        let (msg, _) = self.message_facts(actor, message).await?;
        let marks = self.store.read_marks(msg.channel_id).await?;
        let members = self
            .store
            .members_of_channels(&[msg.channel_id])
            .await?
            .remove(&msg.channel_id)
            .unwrap_or_default();
        Ok(members
            .into_iter()
            .filter(|u| u.id != msg.author.id)
            .filter(|u| marks.iter().any(|m| m.user_id == u.id && m.last_read_id.0 >= msg.id.0))
            .collect())
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
        permissions::leave_channel(facts)?;
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
