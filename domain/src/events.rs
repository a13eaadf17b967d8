//! Events published after a change is committed, for the gateway to fan out.
//!
//! [`EventBus`] is an in-process broadcast: publishing never blocks, and a
//! subscriber that falls behind by more than the buffer learns that it
//! lagged (the gateway then closes that connection so the client resyncs).

use crate::id::Id;
use crate::model::{Channel, Member, Message, UserSummary};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Who may receive an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// Members of this channel.
    Channel(Id),
    /// Members of this workspace.
    Workspace(Id),
    /// This one user (all their connections).
    User(Id),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    MessageCreated(Message),
    /// The body changed (an edit).
    MessageUpdated(Message),
    MessageDeleted {
        channel_id: Id,
        message_id: Id,
        /// Set when a thread reply was deleted.
        thread_id: Option<Id>,
    },
    /// `user_id` has read `channel_id` up to `last_read_id` (sent to that
    /// user's connections, and to the members of a direct conversation for
    /// read receipts).
    ReadUpdated {
        channel_id: Id,
        user_id: Id,
        last_read_id: Id,
    },
    /// `user_id` followed or unfollowed a thread (sent to that user).
    ThreadFollowChanged {
        thread_id: Id,
        user_id: Id,
        following: bool,
    },
    /// A channel's name, topic, type or flags changed.
    ChannelUpdated(Channel),
    /// Who is in a voice channel's call changed (joined, left, muted).
    VoiceState {
        workspace_id: Id,
        channel_id: Id,
        participants: Vec<crate::voice::Participant>,
        /// Who is recording the call, if anyone.
        recording: Option<crate::model::UserSummary>,
    },
    /// A new in-app notification for its person.
    NotificationCreated(crate::model::Notification),
    /// Notifications were marked read (all of them when `ids` is empty).
    NotificationsRead {
        ids: Vec<Id>,
    },
    /// Someone started a call in a direct conversation: the others' pages ring.
    CallRing {
        workspace_id: Id,
        channel_id: Id,
        from: crate::model::UserSummary,
    },
    /// Someone declined a call in a direct conversation.
    CallDeclined {
        workspace_id: Id,
        channel_id: Id,
        user: crate::model::UserSummary,
    },
    ChannelDeleted {
        workspace_id: Id,
        channel_id: Id,
    },
    /// `user_id` came online, went away or offline (sent per workspace).
    PresenceChanged {
        workspace_id: Id,
        user_id: Id,
        status: crate::presence::Status,
    },
    /// `user` is typing in the channel (lasts a few seconds unless repeated).
    Typing {
        channel_id: Id,
        user: UserSummary,
    },
    ReactionAdded {
        channel_id: Id,
        message_id: Id,
        emoji: String,
        user: UserSummary,
    },
    ReactionRemoved {
        channel_id: Id,
        message_id: Id,
        emoji: String,
        user_id: Id,
    },
    ChannelCreated(Channel),
    /// `user_id` became a member of `channel`.
    ChannelMemberAdded {
        channel: Channel,
        user_id: Id,
    },
    ChannelMemberRemoved {
        channel_id: Id,
        user_id: Id,
    },
    WorkspaceMemberAdded {
        workspace_id: Id,
        member: Member,
    },
    WorkspaceMemberRemoved {
        workspace_id: Id,
        user_id: Id,
    },
    /// Roles, permissions, timeouts, categories or the order of channels
    /// changed: what members may see and do there may have changed.
    WorkspaceUpdated {
        workspace_id: Id,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub audience: Audience,
    pub kind: EventKind,
}

#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl EventBus {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        EventBus { tx }
    }

    /// Publishes to whoever listens now; having no listeners is fine.
    pub fn publish(&self, audience: Audience, kind: EventKind) {
        let _ = self.tx.send(Arc::new(Event { audience, kind }));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(4096)
    }
}

/// Reads what a subscription has buffered, without waiting (for tests and diagnostics).
pub trait EventBusExt {
    fn drain_now(&mut self) -> Vec<Arc<Event>>;
}

impl EventBusExt for broadcast::Receiver<Arc<Event>> {
    fn drain_now(&mut self) -> Vec<Arc<Event>> {
        let mut out = Vec::new();
        while let Ok(e) = self.try_recv() {
            out.push(e);
        }
        out
    }
}
