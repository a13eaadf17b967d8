//! Who is in which call, in memory: a call lives as long as someone is in
//! it, and a person is in at most one call at a time (joining another, or
//! the same from another page, moves them). Each participation belongs to one
//! gateway connection (its session), so a closed connection ends it.

use crate::error::{Error, Result};
use crate::id::Id;
use crate::model::UserSummary;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One person in a call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Participant {
    pub user: UserSummary,
    /// The gateway connection that carries their call.
    pub session: u64,
    /// They muted themselves.
    pub self_muted: bool,
    /// A moderator muted them for everyone.
    pub server_muted: bool,
    /// They may speak here (speak permission, not timed out).
    pub can_speak: bool,
    pub camera: bool,
    pub joined_at: i64,
}

impl Participant {
    /// Whether the server forwards their audio: they may speak, no
    /// moderator muted them, and they did not mute themselves (so "muted"
    /// as the others see it holds even for a client that keeps sending).
    pub fn forwarded(&self) -> bool {
        self.can_speak && !self.server_muted && !self.self_muted
    }
}

/// What joining changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    pub participants: Vec<Participant>,
    /// The call they were in before, with who is left in it.
    pub left: Option<(Id, Vec<Participant>)>,
    /// Their earlier session (another page), now ended.
    pub replaced: Option<u64>,
}

/// A call being recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// Who started it; the recording is posted by Parley, naming them.
    pub by: UserSummary,
    pub started_at: i64,
}

#[derive(Clone, Default)]
pub struct Rooms {
    inner: Arc<Mutex<HashMap<Id, Vec<Participant>>>>,
    recordings: Arc<Mutex<HashMap<Id, Recording>>>,
}

impl Rooms {
    /// Puts `p` in `channel`'s call, unless it is full (`limit` people; 0:
    /// no limit). Someone already in the call on another page takes that place.
    pub fn join(&self, channel: Id, limit: i64, p: Participant) -> Result<Joined> {
        let mut rooms = self.inner.lock().expect("rooms lock");
        let others = rooms.get(&channel).map_or(0, |r| r.iter().filter(|x| x.user.id != p.user.id).count());
        if limit > 0 && others as i64 >= limit {
            return Err(Error::forbidden(format!(
                "This voice channel is full ({limit} of {limit} people). Try again when someone leaves."
            )));
        }
        let mut left = None;
        let mut replaced = None;
        for (id, room) in rooms.iter_mut() {
            if let Some(i) = room.iter().position(|x| x.user.id == p.user.id) {
                let old = room.remove(i);
                if old.session != p.session {
                    replaced = Some(old.session);
                }
                if *id != channel {
                    left = Some((*id, room.clone()));
                }
            }
        }
        rooms.retain(|_, r| !r.is_empty());
        let room = rooms.entry(channel).or_default();
        room.push(p);
        Ok(Joined { participants: room.clone(), left, replaced })
    }

    /// Takes `session` out of whatever call it is in: the channel and who is
    /// left there, if it was in one.
    pub fn leave(&self, session: u64) -> Option<(Id, Vec<Participant>)> {
        let mut rooms = self.inner.lock().expect("rooms lock");
        let mut out = None;
        for (id, room) in rooms.iter_mut() {
            if let Some(i) = room.iter().position(|x| x.session == session) {
                room.remove(i);
                out = Some((*id, room.clone()));
                break;
            }
        }
        rooms.retain(|_, r| !r.is_empty());
        out
    }

    /// The channels with a call going on.
    pub fn channels(&self) -> Vec<Id> {
        self.inner.lock().expect("rooms lock").keys().copied().collect()
    }

    pub fn participants(&self, channel: Id) -> Vec<Participant> {
        self.inner.lock().expect("rooms lock").get(&channel).cloned().unwrap_or_default()
    }

    /// The call `session` is in.
    pub fn channel_of(&self, session: u64) -> Option<Id> {
        let rooms = self.inner.lock().expect("rooms lock");
        rooms.iter().find(|(_, r)| r.iter().any(|x| x.session == session)).map(|(id, _)| *id)
    }

    /// Marks `channel`'s call as recorded; refused if it already is.
    pub fn start_recording(&self, channel: Id, recording: Recording) -> Result<()> {
        let mut recordings = self.recordings.lock().expect("recordings lock");
        if let Some(r) = recordings.get(&channel) {
            return Err(Error::conflict(
                "recording",
                format!("{} is already recording this call.", r.by.display_name),
            ));
        }
        recordings.insert(channel, recording);
        Ok(())
    }

    /// Ends the recording of `channel`'s call, if there is one.
    pub fn stop_recording(&self, channel: Id) -> Option<Recording> {
        self.recordings.lock().expect("recordings lock").remove(&channel)
    }

    pub fn recording(&self, channel: Id) -> Option<Recording> {
        self.recordings.lock().expect("recordings lock").get(&channel).cloned()
    }

    /// Changes one participant of `channel`; `None` when `user` is not in it.
    pub fn update(
        &self,
        channel: Id,
        user: Id,
        change: impl FnOnce(&mut Participant),
    ) -> Option<Vec<Participant>> {
        let mut rooms = self.inner.lock().expect("rooms lock");
        let room = rooms.get_mut(&channel)?;
        change(room.iter_mut().find(|x| x.user.id == user)?);
        Some(room.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: i64, session: u64) -> Participant {
        Participant {
            user: UserSummary::person(Id(id), format!("u{id}"), format!("U{id}")),
            session,
            self_muted: false,
            server_muted: false,
            can_speak: true,
            camera: false,
            joined_at: 0,
        }
    }

    #[test]
    fn limits_moves_and_leaving() {
        let rooms = Rooms::default();
        let (a, b) = (Id(10), Id(20));
        assert_eq!(rooms.join(a, 2, person(1, 1)).unwrap().participants.len(), 1);
        assert_eq!(rooms.join(a, 2, person(2, 2)).unwrap().participants.len(), 2);
        let full = rooms.join(a, 2, person(3, 3)).unwrap_err();
        assert!(full.to_string().contains("full (2 of 2 people)"), "{full}");
        // The same person from another page takes their own place, even when full.
        let again = rooms.join(a, 2, person(2, 22)).unwrap();
        assert_eq!((again.participants.len(), again.replaced, again.left), (2, Some(2), None));
        // Joining another call leaves the first.
        let moved = rooms.join(b, 0, person(1, 1)).unwrap();
        assert_eq!(moved.left.as_ref().map(|(c, p)| (*c, p.len())), Some((a, 1)));
        assert_eq!(rooms.channel_of(1), Some(b));
        assert_eq!(rooms.leave(1).map(|(c, p)| (c, p.len())), Some((b, 0)));
        assert_eq!(rooms.leave(1), None);
        assert!(rooms.participants(b).is_empty());
        let muted = rooms.update(a, Id(2), |p| p.server_muted = true).unwrap();
        assert!(!muted[0].forwarded());
        assert!(rooms.update(a, Id(99), |p| p.server_muted = true).is_none());
    }
}
