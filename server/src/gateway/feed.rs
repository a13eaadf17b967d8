//! What reaches one gateway connection: the events the [`router`] hands it
//! and those a `RESUME` reads back from the log, gone through in log order
//! and filtered by what its person follows.
//!
//! [`router`]: super::router

use super::dialect::Dialect;
use super::outgoing::Outgoing;
use super::router::{Route, Router};
use domain::events::{Audience, Event, EventKind};
use domain::{Hub, Id};
use std::collections::HashSet;
use std::sync::Arc;

/// A replayed typing indicator or ringing call older than this is left out.
const FLEETING_MS: i64 = 10_000;

/// The client's queue is full.
pub(super) struct TooSlow;

/// One connection's stream of events: its place in the router, what its
/// person follows, and how far in the log it has gone.
pub(super) struct Feed {
    subs: Subscriptions,
    route: Route,
    /// The last log position this connection went through.
    position: i64,
}

impl Feed {
    /// Joins the router, then reads what `user` follows: until the router
    /// is told, it routes every event here, so nothing falls between the
    /// two. The feed starts at the router's position when it joined.
    pub async fn open(hub: &Hub, router: &Router, user: Id) -> domain::Result<Feed> {
        let (route, start) = router.join(user);
        let mut subs = Subscriptions {
            user,
            channels: HashSet::new(),
            workspaces: HashSet::new(),
            member_of: HashSet::new(),
            changed: false,
        };
        Box::pin(subs.reload(hub)).await?;
        subs.publish(&route, start);
        Ok(Feed { subs, route, position: start })
    }

    /// What tells the router which channel this connection shows.
    pub fn viewer(&self) -> super::router::Viewer {
        self.route.viewer()
    }

    /// The last log position this connection went through.
    pub fn position(&self) -> i64 {
        self.position
    }

    /// The next event routed here; `None` once the router cut this
    /// connection off ([`Self::lagged`]) or stopped.
    pub async fn recv(&mut self) -> Option<Arc<Event>> {
        self.route.recv().await
    }

    /// Whether this connection was cut off for not taking its events.
    pub fn lagged(&self) -> bool {
        self.route.lagged()
    }

    /// Goes through one event routed here (unless this connection is
    /// already past it: replayed, or before its start) and queues its frame
    /// if the client is to see it.
    pub async fn forward(
        &mut self,
        hub: &Hub,
        dialect: Dialect,
        event: &Event,
        out: &mut Outgoing,
    ) -> Result<(), TooSlow> {
        if event.seq <= self.position {
            return Ok(());
        }
        self.position = event.seq;
        self.subs.follow(hub, event).await;
        self.subs.publish(&self.route, event.seq);
        match self.subs.wants(event).then(|| dialect.render_logged(event)).flatten() {
            Some(m) => out.push(m),
            None => Ok(()),
        }
    }

    /// Goes through every event routed here so far; then this connection is
    /// past every event the router had dispatched, routed here or not.
    /// Returns that position (what `PONG` reports).
    pub async fn catch_up(
        &mut self,
        hub: &Hub,
        dialect: Dialect,
        out: &mut Outgoing,
    ) -> Result<i64, TooSlow> {
        let dispatched = self.route.dispatched();
        while let Some(event) = self.route.try_recv() {
            self.forward(hub, dialect, &event, out).await?;
        }
        self.position = self.position.max(dispatched);
        Ok(self.position)
    }

    /// Sends the logged events after `after` up to the end of the log that
    /// the client is to see, in order, waiting for room in the queue;
    /// returns how many. The feed then goes on after the end of the log
    /// (the router's copies of those events are passed over). `None` when
    /// the log no longer has them all (or `after` is not a position it ever
    /// had).
    ///
    /// The end of the log, not the router's position: an event committed
    /// on another node may be in the log before this node's router has it,
    /// and a client resuming expects it before `RESUMED`.
    pub async fn replay(&mut self, hub: &Hub, after: i64, out: &mut Outgoing) -> domain::Result<Option<u64>> {
        let head = hub.event_position().await?;
        if after < 0 || after > head {
            return Ok(None);
        }
        let upto = head.max(self.position);
        let now = domain::now_ms();
        let (mut cursor, mut sent) = (after, 0);
        'pages: while cursor < upto {
            let page = hub.events_after(cursor).await?;
            match page.first() {
                None => break,
                // Pruned since: part of what was missed is gone.
                Some(first) if cursor == after && first.seq != after + 1 => return Ok(None),
                Some(_) => {}
            }
            for event in page {
                if event.seq > upto {
                    break 'pages;
                }
                cursor = event.seq;
                // Memberships follow the events as they come, so that what
                // the person could not see at the time stays out; the router
                // is told only at the end (it routes live events by what
                // they follow now).
                self.subs.follow(hub, &event).await;
                if !self.subs.wants(&event) || (event.kind.is_fleeting() && now - event.at > FLEETING_MS) {
                    continue;
                }
                if let Some(m) = Dialect::Gateway.render_logged(&event) {
                    out.send(m).await;
                    sent += 1;
                }
            }
        }
        if cursor < upto {
            // The log's own end, or what the bus handed out: the log must
            // have everything up to it. What the events went through may
            // have left memberships half followed: they are read afresh.
            self.subs.reload(hub).await?;
            self.subs.publish(&self.route, self.position);
            return Ok(None);
        }
        self.position = upto;
        self.subs.publish(&self.route, upto);
        Ok(Some(sent))
    }
}

/// What one user's connection forwards: events of the channels they
/// belong to and may see, workspace-wide events of the workspaces where they
/// are not a guest, and `WORKSPACE_UPDATE` of every workspace they are in.
struct Subscriptions {
    user: Id,
    channels: HashSet<Id>,
    workspaces: HashSet<Id>,
    member_of: HashSet<Id>,
    /// Whether they changed since the router was last told.
    changed: bool,
}

impl Subscriptions {
    /// Follows the membership changes `event` makes for this user. A channel
    /// they were added to joins only once the hub says they may see it
    /// ([`Self::admit`]), the one check that needs the database; a change
    /// of roles or permissions in one of their workspaces reads everything
    /// again.
    async fn follow(&mut self, hub: &Hub, event: &Event) {
        if let Some(channel) = self.update(&event.kind) {
            Box::pin(self.admit(hub, channel)).await;
        }
        if let EventKind::WorkspaceUpdated { workspace_id } = &event.kind
            && self.member_of.contains(workspace_id)
            && let Err(e) = Box::pin(self.reload(hub)).await
        {
            tracing::warn!(error = ?e, "gateway could not reload subscriptions");
        }
    }

    /// Follows the membership changes that need no database. Returns a
    /// channel they were added to.
    fn update(&mut self, kind: &EventKind) -> Option<Id> {
        match kind {
            EventKind::ChannelMemberAdded { channel, user_id } if *user_id == self.user => {
                return Some(channel.id);
            }
            EventKind::ChannelMemberRemoved { channel_id, user_id } if *user_id == self.user => {
                self.channels.remove(channel_id);
                self.changed = true;
            }
            EventKind::WorkspaceMemberAdded { workspace_id, member } if member.user.id == self.user => {
                if !member.is_guest {
                    self.workspaces.insert(*workspace_id);
                }
                self.member_of.insert(*workspace_id);
                self.changed = true;
            }
            EventKind::WorkspaceMemberRemoved { workspace_id, user_id } if *user_id == self.user => {
                self.workspaces.remove(workspace_id);
                self.member_of.remove(workspace_id);
                self.changed = true;
            }
            _ => {}
        }
        None
    }

    /// Subscribes to `channel` if the user may see it.
    async fn admit(&mut self, hub: &Hub, channel: Id) {
        if hub.channel(self.user, channel).await.is_ok() {
            self.changed |= self.channels.insert(channel);
        }
    }

    /// Reads again what the user may see (after roles or permissions changed).
    async fn reload(&mut self, hub: &Hub) -> domain::Result<()> {
        let (channels, workspaces, member_of) = hub.subscriptions(self.user).await?;
        self.channels = channels.into_iter().collect();
        self.workspaces = workspaces.into_iter().collect();
        self.member_of = member_of.into_iter().collect();
        self.changed = true;
        Ok(())
    }

    /// Tells the router what this connection now follows, having gone
    /// through the events up to `position`, if it changed or the router waits for it.
    fn publish(&mut self, route: &Route, position: i64) {
        if std::mem::take(&mut self.changed) || route.should_publish(position) {
            route.publish(&self.channels, &self.member_of, position);
        }
    }

    fn wants(&self, event: &Event) -> bool {
        if let EventKind::WorkspaceUpdated { workspace_id } = &event.kind {
            // To the workspace's members, or to one person (their own settings changed).
            return self.member_of.contains(workspace_id)
                && match event.audience {
                    Audience::Workspace(_) => true,
                    Audience::User(u) => u == self.user,
                    Audience::Channel(_) => false,
                };
        }
        match event.audience {
            Audience::Channel(c) => self.channels.contains(&c),
            Audience::Workspace(w) => self.workspaces.contains(&w),
            Audience::User(u) => u == self.user,
        }
    }
}
