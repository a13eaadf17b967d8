use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind, NewEvent};
use crate::id::Id;
use crate::model::{FollowedThread, Message, ThreadView};
use crate::permissions;

impl Hub {
    /// A thread with its replies; reading it marks its replies read for a follower.
    pub async fn thread(&self, actor: Id, thread: Id) -> Result<ThreadView> {
        let parent = self.store.thread_parent(thread).await?.ok_or(Error::NotFound(Thing::Message))?;
        let (_, facts) = self.channel_facts(parent.channel_id, actor).await?;
        permissions::view_channel(facts).map_err(|_| Error::NotFound(Thing::Message))?;
        let mut replies = self.store.replies(parent.id).await?;
        if let Some(last) = replies.last() {
            self.store.mark_thread_read(parent.id, actor, last.id).await?;
        }
        let following = self.store.is_following(parent.id, actor).await?;
        let mut parent = parent;
        self.paint(facts.workspace_id, std::iter::once(&mut parent).chain(&mut replies).collect()).await?;
        Ok(ThreadView { parent, replies, following })
    }

    /// Marks a thread's replies read for `actor` (a follower with it open)
    /// without loading them.
    pub async fn read_thread(&self, actor: Id, thread: Id) -> Result<()> {
        let parent = self.store.thread_parent(thread).await?.ok_or(Error::NotFound(Thing::Message))?;
        let (_, facts) = self.channel_facts(parent.channel_id, actor).await?;
        permissions::view_channel(facts).map_err(|_| Error::NotFound(Thing::Message))?;
        if let Some(last) = self.store.latest_reply_id(parent.id).await? {
            self.store.mark_thread_read(parent.id, actor, last).await?;
        }
        Ok(())
    }

    /// Follows or unfollows a thread (its first message, or any reply in it).
    pub async fn follow_thread(&self, actor: Id, message: Id, following: bool) -> Result<Id> {
        let (msg, facts) = self.message_facts(actor, message).await?;
        permissions::view_channel(facts)?;
        let thread = msg.thread_id.unwrap_or(msg.id);
        let changed = NewEvent::new(
            Audience::User(actor),
            EventKind::ThreadFollowChanged { thread_id: thread, user_id: actor, following },
        );
        self.store.set_following(thread, actor, following, &[changed]).await?;
        Ok(thread)
    }

    /// The threads `actor` follows in a workspace, most recently answered first.
    pub async fn followed_threads(&self, actor: Id, ws: Id) -> Result<Vec<FollowedThread>> {
        let (_, visible) = self.visible_listings(ws, actor).await?;
        let found = self.store.followed_threads(ws, actor, 50).await?;
        let mut threads: Vec<FollowedThread> = found
            .into_iter()
            .filter(|(parent, _, _)| visible.iter().any(|(l, _)| l.channel.id == parent.channel_id))
            .map(|(parent, channel_name, unread)| FollowedThread { parent, channel_name, unread })
            .collect();
        self.paint(ws, threads.iter_mut().map(|t| &mut t.parent).collect()).await?;
        Ok(threads)
    }

    /// Pins or unpins a message; everyone in the channel sees the change.
    pub async fn set_pinned(&self, actor: Id, message: Id, pinned: bool) -> Result<Message> {
        let (msg, facts) = self.message_facts(actor, message).await?;
        permissions::pin(facts)?;
        let channel = msg.channel_id;
        let now = Message { pinned, ..msg };
        let updated = [NewEvent::new(Audience::Channel(channel), EventKind::MessageUpdated(now.clone()))];
        if pinned {
            self.store.pin(now.id, channel, actor, crate::now_ms(), &updated).await?;
        } else {
            self.store.unpin(now.id, &updated).await?;
        }
        Ok(now)
    }

    /// A channel's pinned messages, most recently pinned first.
    pub async fn pinned(&self, actor: Id, channel: Id) -> Result<Vec<Message>> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts)?;
        let mut pinned = self.store.pinned_messages(ch.id).await?;
        self.paint(ch.workspace_id, pinned.iter_mut().collect()).await?;
        Ok(pinned)
    }
}
