use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind};
use crate::id::Id;
use crate::model::{Channel, UserSummary};
use crate::permissions;
use crate::voice::{Joined, Participant};

impl Hub {
    /// Joins `channel`'s call on gateway connection `session`: a voice
    /// channel one may join, with room left (its user limit). Returns the
    /// channel, the new participant (whether they may speak) and what changed.
    pub async fn join_voice(
        &self,
        actor: Id,
        channel: Id,
        session: u64,
    ) -> Result<(Channel, Participant, Joined)> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::join_voice(facts)?;
        let user = self.store.user(actor).await?.ok_or(Error::NotFound(Thing::User))?;
        let me = Participant {
            user: UserSummary::from(&user),
            session,
            self_muted: false,
            server_muted: false,
            can_speak: permissions::speak(facts),
            camera: false,
            joined_at: crate::now_ms(),
        };
        let joined = self.rooms.join(ch.id, ch.user_limit, me.clone())?;
        if let Some((left, people)) = &joined.left {
            self.announce_voice_of(*left, people.clone()).await?;
        }
        self.announce_voice(&ch, joined.participants.clone());
        Ok((ch, me, joined))
    }

    /// Ends the call participation of `session` (leaving, or its connection
    /// closed); returns the channel it was in.
    pub async fn leave_voice(&self, session: u64) -> Result<Option<Id>> {
        match self.rooms.leave(session) {
            Some((channel, people)) => {
                self.announce_voice_of(channel, people).await?;
                Ok(Some(channel))
            }
            None => Ok(None),
        }
    }

    /// The call `session` is in, if any.
    pub fn voice_channel_of(&self, session: u64) -> Option<Id> {
        self.rooms.channel_of(session)
    }

    /// Mutes or unmutes `target` for everyone in `channel`'s call (mute_members).
    pub async fn mute_in_call(&self, actor: Id, channel: Id, target: Id, muted: bool) -> Result<Participant> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::mute_in_call(facts)?;
        let people = self
            .rooms
            .update(ch.id, target, |p| p.server_muted = muted)
            .ok_or_else(|| Error::invalid("user_id", "That person is not in this call."))?;
        let changed = people.iter().find(|p| p.user.id == target).cloned().expect("updated");
        let summary =
            format!("{} @{} in #{}", if muted { "Muted" } else { "Unmuted" }, changed.user.username, ch.name);
        self.audit(ch.workspace_id, actor, "voice.mute", Some(target), Some(ch.id), summary).await?;
        self.announce_voice(&ch, people);
        Ok(changed)
    }

    /// A participant's own microphone and camera switches, as others see them.
    pub async fn set_call_self(&self, session: u64, muted: bool, camera: bool) -> Result<()> {
        let Some(channel) = self.rooms.channel_of(session) else { return Ok(()) };
        let people = self.rooms.participants(channel);
        let Some(me) = people.iter().find(|p| p.session == session) else { return Ok(()) };
        if let Some(people) = self.rooms.update(channel, me.user.id, |p| {
            p.self_muted = muted;
            p.camera = camera;
        }) {
            self.announce_voice_of(channel, people).await?;
        }
        Ok(())
    }

    /// Everyone in `channel`'s call, as they are now (for the SFU's checks).
    pub fn in_call(&self, channel: Id) -> Vec<Participant> {
        self.rooms.participants(channel)
    }

    /// Re-reads, for everyone in `ws`'s calls, whether they may still be
    /// there and speak (after roles, overrides, a timeout, a kick or a ban):
    /// who may no longer join leaves, who may no longer speak is no longer
    /// forwarded. Everyone hears what changed.
    pub(super) async fn refresh_calls(&self, ws: Id) -> Result<()> {
        for channel in self.rooms.channels() {
            let Some(ch) = self.store.channel(channel).await? else { continue };
            if ch.workspace_id != ws {
                continue;
            }
            let mut changed = false;
            for p in self.rooms.participants(channel) {
                let facts = match self.channel_facts(channel, p.user.id).await {
                    // A timeout keeps one in the call, silent.
                    Ok((_, f))
                        if permissions::join_voice(f).is_ok()
                            || (permissions::view_channel(f).is_ok() && f.ws.timed_out_until.is_some()) =>
                    {
                        Some(f)
                    }
                    _ => None,
                };
                match facts {
                    None => {
                        self.rooms.leave(p.session);
                        changed = true;
                    }
                    Some(f) if permissions::speak(f) != p.can_speak => {
                        self.rooms.update(channel, p.user.id, |x| x.can_speak = permissions::speak(f));
                        changed = true;
                    }
                    Some(_) => {}
                }
            }
            if changed {
                self.announce_voice(&ch, self.rooms.participants(channel));
            }
        }
        Ok(())
    }

    async fn announce_voice_of(&self, channel: Id, people: Vec<Participant>) -> Result<()> {
        if let Some(ch) = self.store.channel(channel).await? {
            self.announce_voice(&ch, people);
        }
        Ok(())
    }

    /// Tells those who may see the channel who is in its call.
    fn announce_voice(&self, ch: &Channel, participants: Vec<Participant>) {
        let audience =
            if ch.is_private { Audience::Channel(ch.id) } else { Audience::Workspace(ch.workspace_id) };
        self.bus.publish(
            audience,
            EventKind::VoiceState { workspace_id: ch.workspace_id, channel_id: ch.id, participants },
        );
    }
}
