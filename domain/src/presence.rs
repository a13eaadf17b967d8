//! Who is online, away or offline. A user is online while at least one of
//! their gateway connections is active (its page saw the person recently),
//! away while they are connected but every connection is idle, offline with
//! no connection.
//!
//! [`Presence`] counts this process's connections. With several nodes, each
//! node's view of a person goes to a [`SharedPresence`] (Redis, in the
//! server), which says what the whole deployment sees: the best status any
//! node reports.

use crate::id::Id;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Online,
    Away,
    Offline,
}

/// Presence across the nodes of a deployment.
#[async_trait::async_trait]
pub trait SharedPresence: Send + Sync + 'static {
    /// Records this node's view of `user`; returns the deployment-wide
    /// status when it changed (for exactly one node to announce it).
    async fn record(&self, user: Id, here: Status) -> std::result::Result<Option<Status>, String>;

    /// The deployment-wide status of each of `users`, in order.
    async fn statuses(&self, users: &[Id]) -> std::result::Result<Vec<Status>, String>;
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Online => "online",
            Status::Away => "away",
            Status::Offline => "offline",
        }
    }
}

#[derive(Default, Clone, Copy)]
struct Count {
    connections: usize,
    active: usize,
}

impl Count {
    fn status(self) -> Status {
        if self.active > 0 {
            Status::Online
        } else if self.connections > 0 {
            Status::Away
        } else {
            Status::Offline
        }
    }
}

#[derive(Clone, Default)]
pub struct Presence {
    users: Arc<Mutex<HashMap<Id, Count>>>,
}

impl Presence {
    /// Applies `change` to `user`'s counts; returns the new status if it changed.
    fn update(&self, user: Id, change: impl FnOnce(&mut Count)) -> Option<Status> {
        let mut map = self.users.lock().expect("presence lock");
        let count = map.entry(user).or_default();
        let before = count.status();
        change(count);
        let after = count.status();
        if count.connections == 0 {
            map.remove(&user);
        }
        (before != after).then_some(after)
    }

    /// Counts a new connection (active at first).
    pub fn connect(&self, user: Id) -> Option<Status> {
        self.update(user, |c| {
            c.connections += 1;
            c.active += 1;
        })
    }

    /// Counts a closed connection, which was `active` or idle.
    pub fn disconnect(&self, user: Id, active: bool) -> Option<Status> {
        self.update(user, |c| {
            c.connections = c.connections.saturating_sub(1);
            if active {
                c.active = c.active.saturating_sub(1);
            }
        })
    }

    /// One connection went idle (`false`) or active again (`true`).
    pub fn set_active(&self, user: Id, active: bool) -> Option<Status> {
        self.update(user, |c| {
            if active {
                c.active = (c.active + 1).min(c.connections);
            } else {
                c.active = c.active.saturating_sub(1);
            }
        })
    }

    pub fn status(&self, user: Id) -> Status {
        self.users.lock().expect("presence lock").get(&user).copied().unwrap_or_default().status()
    }

    /// Everyone connected to this process, with their status here.
    pub fn connected(&self) -> Vec<(Id, Status)> {
        self.users.lock().expect("presence lock").iter().map(|(u, c)| (*u, c.status())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_while_any_connection_is_active() {
        let p = Presence::default();
        let ana = Id(1);
        assert_eq!(p.connect(ana), Some(Status::Online));
        assert_eq!(p.connect(ana), None, "a second tab is not news");
        assert_eq!(p.set_active(ana, false), None, "the other tab is still active");
        assert_eq!(p.set_active(ana, false), Some(Status::Away));
        assert_eq!(p.status(ana), Status::Away);
        assert_eq!(p.set_active(ana, true), Some(Status::Online));
        assert_eq!(p.disconnect(ana, true), Some(Status::Away), "the tab left open is idle");
        assert_eq!(p.disconnect(ana, false), Some(Status::Offline));
        assert_eq!(p.status(ana), Status::Offline);
        assert_eq!(p.disconnect(ana, false), None, "an unknown disconnect changes nothing");
    }
}
