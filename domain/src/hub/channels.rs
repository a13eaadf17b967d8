use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind, NewEvent};
use crate::id::Id;
use crate::input::{ChannelName, Description, Username};
use crate::model::{
    Category, Channel, ChannelKind, ChannelListing, Member, Message, MessagePage, ReadMark, UserSummary,
    Workspace,
};
use crate::permissions::{self, Perm};

/// What a person fills in to create a channel, unparsed.
#[derive(Debug, Clone)]
pub struct NewChannel<'a> {
    pub name: &'a str,
    pub topic: &'a str,
    pub kind: ChannelKind,
    pub is_private: bool,
    pub is_external: bool,
    pub auto_join: bool,
    /// For voice channels (0: no limit).
    pub user_limit: i64,
    pub category: Option<Id>,
    /// Kept out of search, and not quoted in notifications.
    pub sensitive: bool,
}

impl<'a> NewChannel<'a> {
    /// A public or private text channel.
    pub fn text(name: &'a str, topic: &'a str, is_private: bool) -> Self {
        NewChannel {
            name,
            topic,
            kind: ChannelKind::Text,
            is_private,
            is_external: false,
            auto_join: false,
            user_limit: 0,
            category: None,
            sensitive: false,
        }
    }
}

/// What a channel's page shows (see [`Hub::channel_page`]).
#[derive(Debug)]
pub struct ChannelPage {
    pub workspace: Workspace,
    pub channel: ChannelListing,
    pub messages: MessagePage,
    /// As they were before the page read the channel.
    pub read_marks: Vec<ReadMark>,
    pub pinned: Vec<Message>,
    pub categories: Vec<Category>,
    /// The sidebar's: every channel `actor` sees in the workspace, counted.
    pub channels: Vec<ChannelListing>,
    pub members: Vec<Member>,
}

impl Hub {
    /// Creates a public or private text channel.
    pub async fn create_channel(
        &self,
        actor: Id,
        ws: Id,
        name: &str,
        topic: &str,
        is_private: bool,
    ) -> Result<Channel> {
        self.create_channel_with(actor, ws, NewChannel::text(name, topic, is_private)).await
    }

    /// Creates a channel of any type but direct; its creator joins it. An
    /// auto-join channel is joined by everyone in the workspace (guests aside).
    pub async fn create_channel_with(&self, actor: Id, ws: Id, new: NewChannel<'_>) -> Result<Channel> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::create_channel(facts)?;
        if new.kind == ChannelKind::Direct {
            return Err(Error::invalid("kind", "Start a direct conversation with “New message” instead."));
        }
        if !(0..=99).contains(&new.user_limit) {
            return Err(Error::invalid("user_limit", "A user limit is 0 (no limit) to 99."));
        }
        if (new.auto_join || new.category.is_some()) && !facts.perms.has(Perm::ManageChannels) {
            return Err(Error::forbidden(
                "Only people who manage channels can make auto-join channels or put channels in categories.",
            ));
        }
        if let Some(c) = new.category
            && !self.store.categories(ws).await?.iter().any(|k| k.id == c)
        {
            return Err(Error::NotFound(Thing::Category));
        }
        let mut channel = Channel::new(ws, ChannelName::parse(new.name)?.into_inner(), new.kind, actor);
        channel.topic = Description::parse(new.topic)
            .map_err(|_| Error::invalid("topic", "A topic is at most 500 characters."))?
            .into_inner();
        channel.is_private = new.is_private;
        channel.is_external = new.is_external;
        channel.auto_join = new.auto_join && !new.is_private;
        channel.user_limit = if new.kind == ChannelKind::Voice { new.user_limit } else { 0 };
        channel.category_id = new.category;
        channel.sensitive = new.sensitive;
        let mut members = Vec::new();
        if channel.auto_join {
            let everyone = self.store.workspace_members(ws).await?;
            members.extend(everyone.iter().filter(|m| !m.is_guest && m.user.id != actor).map(|m| m.user.id));
        }
        let mut events = Vec::new();
        if !channel.is_private {
            events.push(NewEvent::new(Audience::Workspace(ws), EventKind::ChannelCreated(channel.clone())));
        }
        for m in members.iter().chain([&actor]) {
            events.extend(channel_member_added(&channel, *m));
        }
        self.store.create_channel(&channel, &members, &events).await?;
        Ok(channel)
    }

    /// The channels of a workspace that `actor` may see (direct
    /// conversations included, with their members), with unread counts.
    pub async fn channels(&self, actor: Id, ws: Id) -> Result<Vec<ChannelListing>> {
        let (_, list) = self.visible_listings(ws, actor).await?;
        let list = list.into_iter().map(|(l, _)| l).collect();
        self.with_counts(actor, ws, list).await
    }

    /// `list` (what `actor` sees of `ws`) with unread counts, notification
    /// levels, the members of direct conversations and who is in calls.
    async fn with_counts(
        &self,
        actor: Id,
        ws: Id,
        mut list: Vec<ChannelListing>,
    ) -> Result<Vec<ChannelListing>> {
        let direct: Vec<Id> =
            list.iter().filter(|l| l.channel.kind == ChannelKind::Direct).map(|l| l.channel.id).collect();
        // Three reads that do not need each other, asked for together.
        let (counts, levels, mut members) = tokio::try_join!(
            self.store.unread_counts(ws, actor),
            self.store.channel_levels_of(actor),
            self.store.members_of_channels(&direct)
        )?;
        for l in &mut list {
            if let Some(&(unread, mentions)) = counts.get(&l.channel.id) {
                (l.unread, l.mentions) = (unread, mentions);
            }
            if let Some(&level) = levels.get(&l.channel.id) {
                l.notify_level = level;
            }
            l.members = members.remove(&l.channel.id).unwrap_or_default();
            if matches!(l.channel.kind, ChannelKind::Voice | ChannelKind::Direct) {
                l.call = self.call_shown(l.channel.id);
            }
        }
        Ok(list)
    }

    /// Everything a channel's page shows, with one look at where `actor`
    /// stands in its workspace and one in the channel, rather than one per
    /// part: the workspace, the channel, a page of its messages (those
    /// `before` one, else the newest, which reads the channel as
    /// [`Hub::mark_read`] does), read marks, pins, the sidebar's channels
    /// and categories, and the members.
    pub async fn channel_page(
        &self,
        actor: Id,
        ws: Id,
        channel: Id,
        before: Option<Id>,
        limit: i64,
    ) -> Result<ChannelPage> {
        // Each part is a round trip to the database; the parts that do not
        // need each other are asked for together, so the page waits for its
        // longest chain of them, not for all of them. The two standings are
        // judged in the order they were read in before (the workspace's
        // refusal first).
        let (in_workspace, in_channel) =
            tokio::join!(self.workspace_standing(ws, actor), self.channel_facts(channel, actor));
        let (workspace, wf, roles) = in_workspace?;
        permissions::view_workspace(wf)?;
        let (ch, facts) = in_channel?;
        permissions::view_channel(facts)?;
        if ch.workspace_id != ws {
            return Err(Error::NotFound(Thing::Channel));
        }
        let limit = limit.clamp(1, super::messages::MAX_PAGE);
        let history = async {
            let (mut messages, mut pinned) = tokio::try_join!(
                self.store.messages(ch.id, before, limit),
                self.store.pinned_messages(ch.id)
            )?;
            self.paint(ws, messages.messages.iter_mut().chain(pinned.iter_mut()).collect()).await?;
            Ok::<_, Error>((messages, pinned))
        };
        // The marks as they stood before this reading, then the reading.
        let reading = async {
            let marks = self.store.read_marks(ch.id).await?;
            if before.is_none() {
                self.read_to(&ch, facts, actor, None).await?;
            }
            Ok::<_, Error>(marks)
        };
        let ((messages, pinned), read_marks, visible, categories) = tokio::try_join!(
            history,
            reading,
            self.listings_in(ws, actor, wf, &roles),
            self.store.categories(ws)
        )?;
        let joined = super::workspaces::joined_channels(visible.iter().map(|(l, _)| l));
        let visible: Vec<ChannelListing> = visible.into_iter().map(|(l, _)| l).collect();
        // The counts once the reading is done: this channel's are read.
        let (channels, members) = tokio::try_join!(
            self.with_counts(actor, ws, visible),
            self.members_seen(actor, ws, wf, &joined)
        )?;
        // Its level and a conversation's members as the sidebar has them.
        let (level, direct) = channels
            .iter()
            .find(|l| l.channel.id == ch.id)
            .map_or((None, Vec::new()), |l| (Some(l.notify_level), l.members.clone()));
        let channel = Self::listing_of(ch, facts, level, direct);
        Ok(ChannelPage { categories, members, workspace, channel, messages, read_marks, pinned, channels })
    }

    /// The channel to open when entering a workspace: the first auto-join
    /// channel `actor` belongs to, else the first they belong to, else the first visible.
    pub async fn first_channel(&self, actor: Id, ws: Id) -> Result<Channel> {
        let list = self.channels(actor, ws).await?;
        let list: Vec<_> = list
            .into_iter()
            .filter(|l| {
                matches!(l.channel.kind, ChannelKind::Text | ChannelKind::Announcement)
                    && l.channel.archived_at.is_none()
            })
            .collect();
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
        let level = self.store.channel_level(actor, channel).await?;
        let members = if ch.kind == ChannelKind::Direct {
            self.store.members_of_channels(&[ch.id]).await?.remove(&ch.id).unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok(Self::listing_of(ch, facts, level, members))
    }

    /// `ch` as `actor` (who stands there as `facts`) sees it: what they may
    /// do, why they may not post, their notification level, and `members`
    /// (a direct conversation's; none for other channels).
    fn listing_of(
        ch: Channel,
        facts: permissions::ChannelFacts,
        level: Option<crate::notify::Level>,
        members: Vec<UserSummary>,
    ) -> ChannelListing {
        let mut listing = ChannelListing::new(ch, facts.channel_member);
        listing.perms = facts.perms;
        listing.post_block = permissions::send_message(facts).err().map(|e| e.to_string());
        if let Some(level) = level {
            listing.notify_level = level;
        }
        listing.members = members;
        listing
    }

    /// Opens the direct conversation between `actor` and the people named
    /// (usernames, `@` optional, separated by commas or spaces): at most 8
    /// people in all, every one a member of the workspace. The same people
    /// always get the same conversation back.
    pub async fn open_direct(&self, actor: Id, ws: Id, usernames: &str) -> Result<Channel> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        // A guest may write only to people they share a channel with.
        let reachable = if facts.is_guest { Some(self.members(actor, ws).await?) } else { None };
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
            if let Some(people) = &reachable
                && !people.iter().any(|m| m.user.id == user.id)
            {
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
        let name = format!("@{}", ids.iter().map(|i| i.0.to_string()).collect::<Vec<_>>().join(","));
        let mut channel = Channel::new(ws, name, ChannelKind::Direct, actor);
        channel.end_to_end = self.store.encrypts_direct(ws).await?;
        let events: Vec<NewEvent> = ids.iter().flat_map(|id| channel_member_added(&channel, *id)).collect();
        let (channel, _) = self.store.create_direct(&channel, &ids, &events).await?;
        self.archive_into(&channel).await?;
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
        let renamed = self.store.channel(ch.id).await?.is_some_and(|old| old.name != ch.name);
        self.store.update_channel(&ch, &[channel_updated(&ch)]).await?;
        if renamed {
            let summary = format!("Renamed a channel to #{}", ch.name);
            self.audit_in(&ch, actor, "channel.update", None, Some(ch.id), summary).await?;
        }
        Ok(ch)
    }

    /// Deletes a channel with everything in it; refused while a legal hold
    /// keeps messages in it.
    pub async fn delete_channel(&self, actor: Id, channel: Id) -> Result<()> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::manage_channel(facts)?;
        if self.store.channel_held(ch.id).await? {
            return Err(Error::conflict(
                "channel",
                "This channel holds messages under a legal hold, so it cannot be deleted until the hold is \
                 released. Archive it instead.",
            ));
        }
        let audience =
            if ch.is_private { Audience::Channel(ch.id) } else { Audience::Workspace(ch.workspace_id) };
        let deleted = NewEvent::new(
            audience,
            EventKind::ChannelDeleted { workspace_id: ch.workspace_id, channel_id: ch.id },
        );
        let files = self.store.delete_channel(ch.id, &[deleted]).await?;
        self.files.remove_attachments(&files).await;
        self.audit_in(&ch, actor, "channel.delete", None, Some(ch.id), format!("Deleted #{}", ch.name))
            .await?;
        Ok(())
    }

    /// Marks `channel` read by `actor` up to `message` (the newest message
    /// when `None`); the read mark never moves back. Returns the mark now.
    pub async fn mark_read(&self, actor: Id, channel: Id, message: Option<Id>) -> Result<Id> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts)?;
        self.read_to(&ch, facts, actor, message).await
    }

    /// [`Hub::mark_read`] once `actor` is known to see `ch`.
    async fn read_to(
        &self,
        ch: &Channel,
        facts: permissions::ChannelFacts,
        actor: Id,
        message: Option<Id>,
    ) -> Result<Id> {
        let (latest, read) = self.store.read_position(ch.id, actor).await?;
        let upto = message.map_or(latest, |m| Id(m.0.min(latest.0)));
        // Reading again what was read writes nothing (opening a channel
        // read already is most page loads).
        if facts.channel_member && upto.0 > read.0 {
            let kind = EventKind::ReadUpdated { channel_id: ch.id, user_id: actor, last_read_id: upto };
            let mut events = vec![NewEvent::new(Audience::User(actor), kind.clone())];
            if facts.kind == ChannelKind::Direct {
                events.insert(0, NewEvent::new(Audience::Channel(ch.id), kind));
            }
            self.store.mark_read(ch.id, actor, upto, &events).await?;
        }
        Ok(upto.max(read))
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
        self.store
            .add_channel_member(ch.id, actor, crate::now_ms(), &channel_member_added(&ch, actor))
            .await?;
        Ok(ch)
    }

    pub async fn leave_channel(&self, actor: Id, channel: Id) -> Result<()> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::leave_channel(facts)?;
        self.keep_archivist(&ch, actor).await?;
        self.store.remove_channel_member(ch.id, actor, &channel_member_gone(ch.id, actor)).await?;
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
        let ws = self.store.workspace(ch.workspace_id).await?.ok_or(Error::NotFound(Thing::Workspace))?;
        let (target, _) = self.standing(&ws, user.id).await?;
        if !target.is_member {
            return Err(not_member());
        }
        if target.is_guest && !ch.is_external {
            return Err(Error::invalid(
                "username",
                format!("@{} is a guest; guests can only be in channels open to guests.", username.as_str()),
            ));
        }
        self.store
            .add_channel_member(ch.id, user.id, crate::now_ms(), &channel_member_added(&ch, user.id))
            .await?;
        Ok(ch)
    }
}

/// Tells `user` (all their connections) and the channel that they joined.
pub(super) fn channel_member_added(channel: &Channel, user: Id) -> [NewEvent; 2] {
    let kind = EventKind::ChannelMemberAdded { channel: channel.clone(), user_id: user };
    [NewEvent::new(Audience::User(user), kind.clone()), NewEvent::new(Audience::Channel(channel.id), kind)]
}

/// Tells the channel and `user` that they left it.
pub(super) fn channel_member_gone(channel_id: Id, user: Id) -> [NewEvent; 2] {
    let kind = EventKind::ChannelMemberRemoved { channel_id, user_id: user };
    [NewEvent::new(Audience::Channel(channel_id), kind.clone()), NewEvent::new(Audience::User(user), kind)]
}

/// Tells who may see `ch` that it changed (its members if it is private,
/// the workspace otherwise).
pub(super) fn channel_updated(ch: &Channel) -> NewEvent {
    let audience =
        if ch.is_private { Audience::Channel(ch.id) } else { Audience::Workspace(ch.workspace_id) };
    NewEvent::new(audience, EventKind::ChannelUpdated(ch.clone()))
}
