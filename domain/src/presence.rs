//! Who is online: a user is online while they have at least one gateway
//! connection to this server process. (Across several processes, each
//! tracks its own connections; sharing them is part of scale-out.)

use crate::id::Id;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct Presence {
    connections: Arc<Mutex<HashMap<Id, usize>>>,
}

impl Presence {
    /// Counts a new connection; returns whether the user just came online.
    pub fn connect(&self, user: Id) -> bool {
        let mut map = self.connections.lock().expect("presence lock");
        let n = map.entry(user).or_insert(0);
        *n += 1;
        *n == 1
    }

    /// Counts a closed connection; returns whether the user just went offline.
    pub fn disconnect(&self, user: Id) -> bool {
        let mut map = self.connections.lock().expect("presence lock");
        match map.get_mut(&user) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                map.remove(&user);
                true
            }
            None => false,
        }
    }

    pub fn is_online(&self, user: Id) -> bool {
        self.connections.lock().expect("presence lock").contains_key(&user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_while_any_connection_is_open() {
        let p = Presence::default();
        let ana = Id(1);
        assert!(p.connect(ana));
        assert!(!p.connect(ana), "a second tab is not news");
        assert!(!p.disconnect(ana));
        assert!(p.is_online(ana));
        assert!(p.disconnect(ana));
        assert!(!p.is_online(ana));
        assert!(!p.disconnect(ana), "an unknown disconnect changes nothing");
    }
}
