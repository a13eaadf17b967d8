//! Events: what changed, for the gateway to fan out.
//!
//! Every event has a place in the event log (the `events` table), written in
//! the transaction of the change it reports (`Store::commit`), so what is
//! committed and what is announced never differ. Its `seq` orders it among
//! all events of the deployment: a client that reconnects asks for what came
//! after the last `seq` it saw.
//!
//! [`EventBus`] hands logged events to this process's subscribers, in `seq`
//! order and each once: events committed by concurrent writers may reach it
//! out of order, so it holds back an event until those before it arrived
//! (or were read back from the log). Publishing never blocks, and a
//! subscriber that falls behind by more than the buffer learns that it
//! lagged (the gateway then closes that connection; the client resumes).

use crate::id::Id;
use crate::model::{Channel, Member, Message, UserSummary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, watch};

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
    /// A message's link previews changed (one was fetched or removed): those it shows now.
    LinkPreviews {
        channel_id: Id,
        message_id: Id,
        previews: Vec<crate::model::LinkPreview>,
    },
    /// A retention policy removed messages (with their thread replies) or
    /// only attachments from a channel.
    MessagesPurged {
        channel_id: Id,
        message_ids: Vec<Id>,
        attachment_ids: Vec<Id>,
    },
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
    /// A call began in a channel: `by` was the first to join it.
    CallStarted {
        workspace_id: Id,
        channel_id: Id,
        by: crate::model::UserSummary,
    },
    /// A slash command's answer for the person who typed it alone (a
    /// workspace's own command answering later through its response URL).
    CommandAnswer {
        workspace_id: Id,
        channel_id: Id,
        thread_id: Option<Id>,
        /// The command, with its slash: "/deploy".
        command: String,
        /// The answer as sanitised HTML.
        html: String,
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
    /// An end-to-end encrypted conversation's keys changed (sent to its members).
    GroupCommitted(crate::model::GroupCommit),
    /// A device was added to an encrypted conversation (sent to its person).
    Welcomed(crate::model::Welcome),
    /// A member's device shared a conversation's history with one of the
    /// person's devices (sent to them; the history itself is fetched).
    HistoryShared {
        channel_id: Id,
        device_id: Id,
    },
    /// `user_id` added or removed a device (sent to them and to the people
    /// they share encrypted conversations with, whose devices then add or
    /// remove it).
    DevicesChanged {
        channel_id: Id,
        user_id: Id,
    },
    /// `user_id` replaced their identity key (sent to the members of their
    /// encrypted conversations, whose clients say that their keys changed).
    IdentityChanged {
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

impl EventKind {
    /// Short-lived: worth showing only when it is fresh (a replay skips an old one).
    pub fn is_fleeting(&self) -> bool {
        matches!(self, EventKind::Typing { .. } | EventKind::CallRing { .. })
    }
}

/// An event about to be logged: who may receive it, and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvent {
    pub audience: Audience,
    pub kind: EventKind,
}

impl NewEvent {
    pub fn new(audience: Audience, kind: EventKind) -> Self {
        NewEvent { audience, kind }
    }
}

/// A logged event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Its position in the log: one more than the event logged before it.
    pub seq: i64,
    /// When it was logged (Unix milliseconds).
    pub at: i64,
    pub audience: Audience,
    pub kind: EventKind,
    /// The event as connections send it, made once for all of them.
    #[serde(skip)]
    pub wire: Wire,
}

impl Event {
    pub fn new(seq: i64, at: i64, audience: Audience, kind: EventKind) -> Self {
        Event { seq, at, audience, kind, wire: Wire::default() }
    }
}

/// What an event becomes on the wire, made by the first connection that
/// sends it and shared by the others (an event goes to every member of its
/// channel: it is serialised once, not once per member). Not part of what
/// the event is: events are equal whatever their wire form.
#[derive(Debug, Clone, Default)]
pub struct Wire(std::sync::OnceLock<bytes::Bytes>);

impl Wire {
    /// The wire form, made with `make` if no connection made it yet.
    pub fn get_or_init(&self, make: impl FnOnce() -> bytes::Bytes) -> bytes::Bytes {
        self.0.get_or_init(make).clone()
    }
}

impl PartialEq for Wire {
    fn eq(&self, _: &Wire) -> bool {
        true
    }
}

impl Eq for Wire {}

impl Audience {
    /// As the log stores it: `channel:5`, `workspace:5`, `user:5`.
    pub fn to_key(self) -> String {
        match self {
            Audience::Channel(id) => format!("channel:{id}"),
            Audience::Workspace(id) => format!("workspace:{id}"),
            Audience::User(id) => format!("user:{id}"),
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        let (kind, id) = key.split_once(':')?;
        let id = Id(id.parse().ok()?);
        match kind {
            "channel" => Some(Audience::Channel(id)),
            "workspace" => Some(Audience::Workspace(id)),
            "user" => Some(Audience::User(id)),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

struct Inner {
    tx: broadcast::Sender<Arc<Event>>,
    order: Mutex<Order>,
    /// The last event this process committed (for the doorbell that tells
    /// other nodes).
    committed: watch::Sender<i64>,
}

/// What has been handed out, and what waits for an earlier event.
struct Order {
    /// The `seq` of the last event handed to subscribers.
    released: i64,
    /// Events that arrived before one they follow (`None`: one passed over).
    waiting: BTreeMap<i64, Option<Arc<Event>>>,
    listeners: Vec<Arc<dyn Listener>>,
}

/// Hears each event as the bus hands it out, before its subscribers: in log
/// order, in the task that released it, while the bus keeps other events
/// back. Invariant: a listener neither waits nor blocks (the gateway's
/// router hands events to bounded queues, and cuts off a full one).
///
/// A subscriber is woken for each event, in a task of its own; a listener
/// costs no wake-up of its own, which halves the work of a message sent
/// to a few people.
pub trait Listener: Send + Sync {
    fn hear(&self, event: &Arc<Event>);
}

impl EventBus {
    /// A bus whose next event is `after + 1`, holding up to `capacity`
    /// events for each subscriber.
    pub fn new(capacity: usize, after: i64) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        let order = Mutex::new(Order { released: after, waiting: BTreeMap::new(), listeners: Vec::new() });
        let (committed, _) = watch::channel(after);
        EventBus { inner: Arc::new(Inner { tx, order, committed }) }
    }

    /// Hands `events` (already logged) to subscribers: each once, in `seq`
    /// order. Returns the first `seq` still missing when an event after it
    /// waits, for the caller to read it back from the log.
    pub fn release(&self, events: impl IntoIterator<Item = Event>) -> Option<i64> {
        self.admit(events.into_iter().map(|e| (e.seq, Some(Arc::new(e)))))
    }

    /// Goes past `seq` without handing anything out (a log entry that cannot
    /// be read), so the events after it are not held back.
    pub fn pass_over(&self, seq: i64) -> Option<i64> {
        self.admit([(seq, None)])
    }

    fn admit(&self, entries: impl IntoIterator<Item = (i64, Option<Arc<Event>>)>) -> Option<i64> {
        let mut order = self.inner.order.lock().expect("event order lock");
        for (seq, e) in entries {
            if seq > order.released {
                order.waiting.insert(seq, e);
            }
        }
        loop {
            let next = order.released + 1;
            let Some(e) = order.waiting.remove(&next) else { break };
            order.released = next;
            if let Some(e) = e {
                for listener in &order.listeners {
                    listener.hear(&e);
                }
                // Having no subscribers is fine.
                let _ = self.inner.tx.send(e);
            }
        }
        (!order.waiting.is_empty()).then_some(order.released + 1)
    }

    /// This process committed events up to `seq`.
    pub fn committed_here(&self, seq: i64) {
        self.inner.committed.send_if_modified(|last| {
            let newer = seq > *last;
            if newer {
                *last = seq;
            }
            newer
        });
    }

    /// Changes whenever this process commits events: the position of the last.
    pub fn watch_committed(&self) -> watch::Receiver<i64> {
        self.inner.committed.subscribe()
    }

    /// The `seq` of the last event handed to subscribers.
    pub fn released(&self) -> i64 {
        self.inner.order.lock().expect("event order lock").released
    }

    /// Whether an event after `released()` waits for one before it.
    pub fn has_gap(&self) -> bool {
        !self.inner.order.lock().expect("event order lock").waiting.is_empty()
    }

    /// Adds `listener`: it hears every event after the returned `seq`, and
    /// none before or at it.
    pub fn listen(&self, listener: Arc<dyn Listener>) -> i64 {
        let mut order = self.inner.order.lock().expect("event order lock");
        order.listeners.push(listener);
        order.released
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.inner.tx.subscribe()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64) -> Event {
        Event::new(seq, 0, Audience::User(Id(1)), EventKind::NotificationsRead { ids: Vec::new() })
    }

    #[test]
    fn events_reach_subscribers_in_log_order_whatever_order_they_were_released_in() {
        let bus = EventBus::new(16, 10);
        let mut rx = bus.subscribe();
        assert_eq!(bus.release([event(12)]), Some(11), "12 waits for 11");
        assert!(rx.drain_now().is_empty());
        assert_eq!(bus.release([event(11), event(13)]), None);
        let seqs: Vec<i64> = rx.drain_now().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![11, 12, 13]);
        assert_eq!(bus.released(), 13);
    }

    /// Records what it hears.
    #[derive(Default)]
    struct Heard(Mutex<Vec<i64>>);

    impl Listener for Heard {
        fn hear(&self, event: &Arc<Event>) {
            self.0.lock().unwrap().push(event.seq);
        }
    }

    #[test]
    fn a_listener_hears_each_event_after_it_joined_once_in_log_order() {
        let bus = EventBus::new(16, 0);
        bus.release([event(1)]);
        let heard = Arc::new(Heard::default());
        assert_eq!(bus.listen(heard.clone()), 1, "it starts after what was released");
        bus.release([event(3)]);
        assert!(heard.0.lock().unwrap().is_empty(), "3 waits for 2");
        bus.release([event(2), event(3), event(1)]);
        assert_eq!(*heard.0.lock().unwrap(), vec![2, 3]);
    }

    #[test]
    fn an_event_released_twice_reaches_subscribers_once() {
        let bus = EventBus::new(16, 0);
        let mut rx = bus.subscribe();
        bus.release([event(1), event(2)]);
        bus.release([event(2), event(1)]);
        assert_eq!(rx.drain_now().len(), 2);
    }

    #[test]
    fn an_unreadable_entry_does_not_hold_back_the_ones_after_it() {
        let bus = EventBus::new(16, 0);
        let mut rx = bus.subscribe();
        assert_eq!(bus.release([event(2)]), Some(1));
        assert_eq!(bus.pass_over(1), None);
        let seqs: Vec<i64> = rx.drain_now().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![2]);
    }

    #[test]
    fn audiences_survive_the_log() {
        for a in [Audience::Channel(Id(5)), Audience::Workspace(Id(6)), Audience::User(Id(7))] {
            assert_eq!(Audience::from_key(&a.to_key()), Some(a));
        }
        assert_eq!(Audience::from_key("room:5"), None);
    }
}
