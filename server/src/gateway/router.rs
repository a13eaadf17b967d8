//! Routes logged events to the gateway connections that may want them.
//!
//! The router listens to the event bus ([`Listener`]): as the bus hands out
//! each event, in log order and in the task that released it, the router
//! puts it in the queues of the connections indexed under its audience —
//! the members' connections of a channel, the connections of a workspace's
//! members, or one person's. An event of one channel wakes the connections
//! of its members, not every connection of the process, and no task in
//! between (a task of the router's own doubled the cost of a message sent
//! to a few people: one more wake-up each time).
//!
//! The index is what each connection last told the router ([`Route::publish`]).
//! A connection whose subscriptions are about to change — its person was
//! added to a channel or a workspace, or the roles of a workspace they are
//! in changed — receives every event until it has gone through that change
//! and published again: it learns what it may see from the database, and
//! meanwhile no event it would want can miss it. The connection still
//! decides what it forwards; the index only spares it what it would
//! certainly drop.
//!
//! Typing reaches only the connections that show its channel, when they
//! said which one they show ([`Viewer::view`]): a person in many busy
//! channels is not sent every keystroke of all of them.
//!
//! Invariant: the router never waits on a connection. A connection whose
//! queue is full is cut off from routing and told so ([`Route::lagged`]);
//! the client resumes from the event log.

use domain::Id;
use domain::events::{Audience, Event, EventBus, EventKind, Listener};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Events waiting for one connection before it counts as too slow.
const QUEUE: usize = 4096;

#[derive(Clone)]
pub struct Router {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    /// The last event handed to every connection that may want it.
    dispatched: AtomicI64,
}

#[derive(Default)]
struct State {
    next: u64,
    connections: HashMap<u64, Connection>,
    channels: HashMap<Id, HashSet<u64>>,
    /// By the workspaces a connection's person is a member of (guests too).
    workspaces: HashMap<Id, HashSet<u64>>,
    users: HashMap<Id, HashSet<u64>>,
    /// Connections that receive every event until they publish again.
    everything: HashSet<u64>,
}

struct Connection {
    user: Id,
    tx: mpsc::Sender<Arc<Event>>,
    flags: Arc<Flags>,
    channels: HashSet<Id>,
    workspaces: HashSet<Id>,
    viewing: Viewing,
}

/// Which channel's typing a connection is sent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Viewing {
    /// Every channel's: the client never said which one it shows.
    Every,
    /// Only this one's (`None`: it shows no channel).
    Only(Option<Id>),
}

impl Viewing {
    fn shows(self, channel: Id) -> bool {
        match self {
            Viewing::Every => true,
            Viewing::Only(shown) => shown == Some(channel),
        }
    }
}

/// What the router tells one connection without waiting for it.
#[derive(Default)]
struct Flags {
    /// It receives every event, until it has gone through `until`.
    everything: AtomicBool,
    until: AtomicI64,
    /// Its queue overflowed: it receives nothing more.
    lagged: AtomicBool,
}

/// One connection's place in the router; it leaves when dropped.
pub struct Route {
    id: u64,
    router: Router,
    flags: Arc<Flags>,
    events: mpsc::Receiver<Arc<Event>>,
}

impl Router {
    /// A router that listens to `bus`, from the events released after now.
    pub fn new(bus: &EventBus) -> Self {
        let router = Router {
            shared: Arc::new(Shared { state: Mutex::new(State::default()), dispatched: AtomicI64::new(0) }),
        };
        let after = bus.listen(Arc::new(router.clone()));
        // An event released since then is dispatched already: it counts.
        router.shared.dispatched.fetch_max(after, Ordering::AcqRel);
        router
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().expect("gateway router lock")
    }

    /// Adds a connection of `user`. It receives every event after the
    /// returned position, all of them until its first [`Route::publish`].
    pub fn join(&self, user: Id) -> (Route, i64) {
        let (tx, events) = mpsc::channel(QUEUE);
        let flags = Arc::new(Flags::default());
        let mut state = self.state();
        let start = self.shared.dispatched.load(Ordering::Acquire);
        flags.everything.store(true, Ordering::Release);
        flags.until.store(start, Ordering::Release);
        state.next += 1;
        let id = state.next;
        state.everything.insert(id);
        state.users.entry(user).or_default().insert(id);
        let connection = Connection {
            user,
            tx,
            flags: flags.clone(),
            channels: HashSet::new(),
            workspaces: HashSet::new(),
            viewing: Viewing::Every,
        };
        state.connections.insert(id, connection);
        (Route { id, router: self.clone(), flags, events }, start)
    }

    /// The last event handed to every connection that may want it: once a
    /// connection has taken what its queue holds, it has seen everything
    /// meant for it up to here.
    pub fn dispatched(&self) -> i64 {
        self.shared.dispatched.load(Ordering::Acquire)
    }

    /// Hands `event` to the connections that may want it.
    fn dispatch(&self, event: &Arc<Event>) {
        let mut guard = self.state();
        let state = &mut *guard;
        let indexed = match event.audience {
            Audience::Channel(c) => state.channels.get(&c),
            Audience::Workspace(w) => state.workspaces.get(&w),
            Audience::User(u) => state.users.get(&u),
        };
        let mut targets: Vec<u64> = indexed.into_iter().flatten().chain(&state.everything).copied().collect();
        // Whose subscriptions the event changes: they receive it (whatever
        // its audience), and those gaining something receive everything
        // until they have looked it up.
        let (concerned, gaining): (Vec<u64>, bool) = match &event.kind {
            EventKind::ChannelMemberAdded { user_id, .. } => (state.of_user(*user_id), true),
            EventKind::WorkspaceMemberAdded { member, .. } => (state.of_user(member.user.id), true),
            EventKind::ChannelMemberRemoved { user_id, .. }
            | EventKind::WorkspaceMemberRemoved { user_id, .. } => (state.of_user(*user_id), false),
            EventKind::WorkspaceUpdated { .. } => (targets.clone(), true),
            _ => (Vec::new(), false),
        };
        targets.extend(concerned.iter().copied());
        // A connection may be indexed and also receive everything.
        targets.sort_unstable();
        targets.dedup();
        if gaining {
            for id in concerned {
                if let Some(c) = state.connections.get(&id) {
                    c.flags.until.fetch_max(event.seq, Ordering::AcqRel);
                    c.flags.everything.store(true, Ordering::Release);
                    state.everything.insert(id);
                }
            }
        }
        let typing_in = match &event.kind {
            EventKind::Typing { channel_id, .. } => Some(*channel_id),
            _ => None,
        };
        let mut overflowed = Vec::new();
        for id in targets {
            let Some(c) = state.connections.get(&id) else { continue };
            if typing_in.is_some_and(|channel| !c.viewing.shows(channel)) {
                continue;
            }
            if c.tx.try_send(event.clone()).is_err() {
                overflowed.push(id);
            }
        }
        for id in overflowed {
            state.cut_off(id);
        }
        self.shared.dispatched.store(event.seq, Ordering::Release);
    }
}

impl Listener for Router {
    fn hear(&self, event: &Arc<Event>) {
        self.dispatch(event);
    }
}

impl State {
    fn of_user(&self, user: Id) -> Vec<u64> {
        self.users.get(&user).map(|s| s.iter().copied().collect()).unwrap_or_default()
    }

    /// Stops routing to `id` and tells it why.
    fn cut_off(&mut self, id: u64) {
        if let Some(c) = self.connections.get(&id) {
            c.flags.lagged.store(true, Ordering::Release);
        }
        self.remove(id);
    }

    fn remove(&mut self, id: u64) {
        let Some(c) = self.connections.remove(&id) else { return };
        for channel in &c.channels {
            unindex(&mut self.channels, *channel, id);
        }
        for workspace in &c.workspaces {
            unindex(&mut self.workspaces, *workspace, id);
        }
        unindex(&mut self.users, c.user, id);
        self.everything.remove(&id);
    }
}

fn unindex(index: &mut HashMap<Id, HashSet<u64>>, key: Id, id: u64) {
    if let Some(ids) = index.get_mut(&key) {
        ids.remove(&id);
        if ids.is_empty() {
            index.remove(&key);
        }
    }
}

/// Replaces `old` by `new` in `index` for connection `id`.
fn reindex(index: &mut HashMap<Id, HashSet<u64>>, id: u64, old: &HashSet<Id>, new: &HashSet<Id>) {
    for key in old.difference(new) {
        unindex(index, *key, id);
    }
    for key in new.difference(old) {
        index.entry(*key).or_default().insert(id);
    }
}

/// Tells the router which channel one connection shows (see the module's
/// documentation); it can be held apart from the connection's [`Route`].
pub struct Viewer {
    id: u64,
    router: Router,
}

impl Viewer {
    /// From now on this connection is sent typing only from `channel`
    /// (`None`: from none).
    pub fn view(&self, channel: Option<Id>) {
        if let Some(c) = self.router.state().connections.get_mut(&self.id) {
            c.viewing = Viewing::Only(channel);
        }
    }
}

impl Route {
    /// What says which channel this connection shows.
    pub fn viewer(&self) -> Viewer {
        Viewer { id: self.id, router: self.router.clone() }
    }

    /// The next event routed here; `None` once cut off ([`Self::lagged`]).
    pub async fn recv(&mut self) -> Option<Arc<Event>> {
        self.events.recv().await
    }

    /// An event already routed here, without waiting.
    pub fn try_recv(&mut self) -> Option<Arc<Event>> {
        self.events.try_recv().ok()
    }

    /// See [`Router::dispatched`].
    pub fn dispatched(&self) -> i64 {
        self.router.dispatched()
    }

    /// Whether this connection was cut off for not taking its events.
    pub fn lagged(&self) -> bool {
        self.flags.lagged.load(Ordering::Acquire)
    }

    /// Whether [`Self::publish`] is awaited: the connection receives every
    /// event, and has gone through the change that made it so.
    pub fn should_publish(&self, position: i64) -> bool {
        self.flags.everything.load(Ordering::Acquire) && position >= self.flags.until.load(Ordering::Acquire)
    }

    /// What this connection forwards, having gone through the events up to
    /// `position`: the channels it follows and the workspaces its person is
    /// a member of. Ends receiving every event unless a change after
    /// `position` awaits it.
    pub fn publish(&self, channels: &HashSet<Id>, workspaces: &HashSet<Id>, position: i64) {
        let mut state = self.router.state();
        let state = &mut *state;
        let Some(c) = state.connections.get_mut(&self.id) else { return };
        reindex(&mut state.channels, self.id, &c.channels, channels);
        reindex(&mut state.workspaces, self.id, &c.workspaces, workspaces);
        c.channels.clone_from(channels);
        c.workspaces.clone_from(workspaces);
        if position >= c.flags.until.load(Ordering::Acquire) {
            c.flags.everything.store(false, Ordering::Release);
            state.everything.remove(&self.id);
        }
    }
}

impl Drop for Route {
    fn drop(&mut self) {
        self.router.state().remove(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64, audience: Audience, kind: EventKind) -> Arc<Event> {
        Arc::new(Event::new(seq, 0, audience, kind))
    }

    fn in_channel(seq: i64, channel: i64) -> Arc<Event> {
        let kind =
            EventKind::MessageDeleted { channel_id: Id(channel), message_id: Id(seq), thread_id: None };
        event(seq, Audience::Channel(Id(channel)), kind)
    }

    fn received(route: &mut Route) -> Vec<i64> {
        std::iter::from_fn(|| route.try_recv()).map(|e| e.seq).collect()
    }

    fn set(ids: &[i64]) -> HashSet<Id> {
        ids.iter().map(|i| Id(*i)).collect()
    }

    fn router() -> Router {
        Router::new(&EventBus::new(16, 0))
    }

    #[test]
    fn an_event_of_a_channel_reaches_only_the_connections_that_follow_it() {
        let router = router();
        let (mut a, start) = router.join(Id(1));
        let (mut b, _) = router.join(Id(2));
        a.publish(&set(&[10]), &set(&[100]), start);
        b.publish(&set(&[20]), &set(&[100]), start);
        router.dispatch(&in_channel(1, 10));
        router.dispatch(&in_channel(2, 20));
        assert_eq!(received(&mut a), vec![1]);
        assert_eq!(received(&mut b), vec![2]);
        assert_eq!(router.dispatched(), 2);
    }

    #[test]
    fn a_connection_receives_every_event_until_it_says_what_it_follows() {
        let router = router();
        let (mut a, start) = router.join(Id(1));
        router.dispatch(&in_channel(1, 10));
        a.publish(&set(&[]), &set(&[]), start);
        router.dispatch(&in_channel(2, 10));
        assert_eq!(received(&mut a), vec![1]);
    }

    #[test]
    fn members_receive_every_event_until_they_have_gone_through_a_change_of_their_workspace() {
        let router = router();
        let (mut a, start) = router.join(Id(1));
        a.publish(&set(&[10]), &set(&[100]), start);
        let updated = EventKind::WorkspaceUpdated { workspace_id: Id(100) };
        router.dispatch(&event(1, Audience::Workspace(Id(100)), updated));
        router.dispatch(&in_channel(2, 20));
        assert!(!a.should_publish(0), "it has not gone through the change yet");
        assert!(a.should_publish(1));
        // Having reloaded at the change, it follows channel 20 too.
        a.publish(&set(&[10, 20]), &set(&[100]), 1);
        router.dispatch(&in_channel(3, 30));
        router.dispatch(&in_channel(4, 20));
        assert_eq!(received(&mut a), vec![1, 2, 4]);
    }

    #[test]
    fn a_person_removed_from_a_channel_hears_of_it_whatever_its_audience() {
        let router = router();
        let (mut a, start) = router.join(Id(1));
        a.publish(&set(&[]), &set(&[]), start);
        let removed = EventKind::ChannelMemberRemoved { channel_id: Id(10), user_id: Id(1) };
        router.dispatch(&event(1, Audience::Channel(Id(10)), removed));
        assert_eq!(received(&mut a), vec![1]);
        assert!(!a.should_publish(1), "losing a channel needs no lookup");
    }

    #[test]
    fn a_connection_that_does_not_take_its_events_is_cut_off() {
        let router = router();
        let (mut a, start) = router.join(Id(1));
        a.publish(&set(&[10]), &set(&[]), start);
        for seq in 1..=(QUEUE as i64 + 1) {
            router.dispatch(&in_channel(seq, 10));
        }
        assert!(a.lagged());
        assert_eq!(received(&mut a).len(), QUEUE, "what was queued is still there to take");
        let (mut b, _) = router.join(Id(2));
        b.publish(&set(&[10]), &set(&[]), QUEUE as i64 + 1);
        router.dispatch(&in_channel(QUEUE as i64 + 2, 10));
        assert_eq!(received(&mut a), Vec::<i64>::new());
        assert_eq!(received(&mut b), vec![QUEUE as i64 + 2]);
    }

    fn typing(seq: i64, channel: i64) -> Arc<Event> {
        let user = domain::model::UserSummary::person(Id(7), "ana".into(), "Ana".into());
        event(seq, Audience::Channel(Id(channel)), EventKind::Typing { channel_id: Id(channel), user })
    }

    #[test]
    fn typing_reaches_a_connection_that_said_what_it_shows_only_from_that_channel() {
        let router = router();
        let (mut a, start) = router.join(Id(1));
        a.publish(&set(&[10, 20]), &set(&[]), start);
        router.dispatch(&typing(1, 10));
        router.dispatch(&typing(2, 20));
        a.viewer().view(Some(Id(20)));
        router.dispatch(&typing(3, 10));
        router.dispatch(&typing(4, 20));
        router.dispatch(&in_channel(5, 10));
        a.viewer().view(None);
        router.dispatch(&typing(6, 20));
        assert_eq!(received(&mut a), vec![1, 2, 4, 5], "other events of a channel not shown still arrive");
    }

    #[test]
    fn a_connection_that_leaves_is_forgotten() {
        let router = router();
        let (a, start) = router.join(Id(1));
        a.publish(&set(&[10]), &set(&[100]), start);
        drop(a);
        let state = router.state();
        assert!(state.connections.is_empty() && state.channels.is_empty());
        assert!(state.workspaces.is_empty() && state.users.is_empty() && state.everything.is_empty());
    }
}
