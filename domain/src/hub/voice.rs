use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind, NewEvent};
use crate::id::Id;
use crate::model::{Channel, UserSummary};
use crate::permissions;
use crate::voice::{Joined, Participant, Recording};

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
        // Who is in a voice channel's call is in its channel too: they see its
        // chat (and the call's recordings) as they arrive.
        if !facts.channel_member && permissions::join_channel(facts).is_ok() {
            let added = super::channels::channel_member_added(&ch, actor);
            self.store.add_channel_member(ch.id, actor, crate::now_ms(), &added).await?;
        }
        if let Some((left, _)) = &joined.left {
            self.announce_voice_of(*left).await?;
        }
        self.announce_voice(&ch).await?;
        // The first one in starts the call (outgoing webhooks hear of it);
        // in a direct conversation, it rings the others.
        if joined.participants.len() == 1 {
            let (workspace_id, channel_id) = (ch.workspace_id, ch.id);
            let mut started = vec![EventKind::CallStarted { workspace_id, channel_id, by: me.user.clone() }];
            if ch.kind == crate::model::ChannelKind::Direct {
                started.push(EventKind::CallRing { workspace_id, channel_id, from: me.user.clone() });
            }
            let events: Vec<NewEvent> =
                started.into_iter().map(|k| NewEvent::new(Audience::Channel(ch.id), k)).collect();
            self.store.announce(&events).await?;
        }
        Ok((ch, me, joined))
    }

    /// Ends the call participation of `session` (leaving, or its connection
    /// closed); returns the channel it was in.
    pub async fn leave_voice(&self, session: u64) -> Result<Option<Id>> {
        match self.rooms.leave(session) {
            Some((channel, _)) => {
                self.announce_voice_of(channel).await?;
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
        self.audit_in(&ch, actor, "voice.mute", Some(target), Some(ch.id), summary).await?;
        self.announce_voice(&ch).await?;
        Ok(changed)
    }

    /// A participant's own microphone and camera switches, as others see them.
    pub async fn set_call_self(&self, session: u64, muted: bool, camera: bool) -> Result<()> {
        let Some(channel) = self.rooms.channel_of(session) else { return Ok(()) };
        let people = self.rooms.participants(channel);
        let Some(me) = people.iter().find(|p| p.session == session) else { return Ok(()) };
        if self
            .rooms
            .update(channel, me.user.id, |p| {
                p.self_muted = muted;
                p.camera = camera;
            })
            .is_some()
        {
            self.announce_voice_of(channel).await?;
        }
        Ok(())
    }

    /// Everyone in `channel`'s call run on this node, as they are now (for
    /// the SFU's checks).
    pub fn in_call(&self, channel: Id) -> Vec<Participant> {
        self.rooms.participants(channel)
    }

    /// Notes who is in `channel`'s call as announced (`VOICE_STATE`), so
    /// that a node shows calls that another node runs.
    pub fn call_seen(&self, channel: Id, participants: Vec<Participant>) {
        let mut seen = self.calls_seen.lock().unwrap_or_else(|e| e.into_inner());
        if participants.is_empty() {
            seen.remove(&channel);
        } else {
            seen.insert(channel, participants);
        }
    }

    /// The calls this node shows that another node runs, as last announced.
    pub fn calls_seen_elsewhere(&self) -> Vec<Id> {
        let seen = self.calls_seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.keys().copied().filter(|c| self.rooms.participants(*c).is_empty()).collect()
    }

    /// The node that ran `channel`'s call is gone, and the call with it:
    /// unless a call runs here, everyone hears that nobody is in it (its
    /// people lost their connections with that node, or were told to join
    /// again).
    pub async fn call_gone(&self, channel: Id) -> Result<()> {
        if !self.rooms.participants(channel).is_empty() {
            return Ok(());
        }
        self.calls_seen.lock().unwrap_or_else(|e| e.into_inner()).remove(&channel);
        let Some(ch) = self.store.channel(channel).await? else { return Ok(()) };
        self.announce_voice(&ch).await
    }

    /// Everyone in `channel`'s call, to show: as this node has it when it
    /// runs the call, else as last announced.
    pub fn call_shown(&self, channel: Id) -> Vec<Participant> {
        let here = self.rooms.participants(channel);
        if !here.is_empty() {
            return here;
        }
        self.calls_seen.lock().unwrap_or_else(|e| e.into_inner()).get(&channel).cloned().unwrap_or_default()
    }

    /// Re-reads, for everyone in `ws`'s calls, whether they may still be
    /// there and speak (after roles, overrides, a timeout, a kick or a ban):
    /// who may no longer join leaves, who may no longer speak is no longer
    /// forwarded. Everyone hears what changed.
    pub async fn refresh_calls(&self, ws: Id) -> Result<()> {
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
                self.announce_voice(&ch).await?;
            }
        }
        Ok(())
    }

    async fn announce_voice_of(&self, channel: Id) -> Result<()> {
        match self.store.channel(channel).await? {
            Some(ch) => self.announce_voice(&ch).await,
            None => Ok(()),
        }
    }

    /// Declines a call ringing in direct conversation `channel`: the caller
    /// is told, and the decliner's other pages stop ringing.
    pub async fn decline_call(&self, actor: Id, channel: Id) -> Result<()> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts)?;
        if ch.kind != crate::model::ChannelKind::Direct {
            return Err(Error::invalid("channel_id", "Only calls in direct conversations ring."));
        }
        let user = self.store.user(actor).await?.ok_or(Error::NotFound(Thing::User))?;
        let declined = EventKind::CallDeclined {
            workspace_id: ch.workspace_id,
            channel_id: ch.id,
            user: UserSummary::from(&user),
        };
        self.store.announce(&[NewEvent::new(Audience::Channel(ch.id), declined)]).await
    }

    /// Starts recording the call `session` is in (record_call); everyone in
    /// it is told. Returns the call's channel and the recording.
    pub async fn start_recording(&self, actor: Id, session: u64) -> Result<(Channel, Recording)> {
        let ch = self.call_of(actor, session).await?;
        if ch.end_to_end {
            return Err(Error::conflict(
                "recording",
                "This call is end-to-end encrypted: the server relays its sound and pictures without \
                 being able to hear or see them, so it cannot record it.",
            ));
        }
        let (_, facts) = self.channel_facts(ch.id, actor).await?;
        if let Err(e) = permissions::record_call(facts) {
            // A meeting's organizer may record it when it was scheduled so.
            let meeting = self.store.meeting_of_channel(ch.id).await?;
            if !meeting.is_some_and(|m| m.enable_recording && m.organizer.id == actor) {
                return Err(e);
            }
        }
        let user = self.store.user(actor).await?.ok_or(Error::NotFound(Thing::User))?;
        let recording = Recording { by: UserSummary::from(&user), started_at: crate::now_ms() };
        self.rooms.start_recording(ch.id, recording.clone())?;
        self.audit_in(
            &ch,
            actor,
            "voice.record",
            None,
            Some(ch.id),
            format!("Started recording #{}", ch.name),
        )
        .await?;
        self.announce_voice(&ch).await?;
        Ok((ch, recording))
    }

    /// Stops the recording of the call `session` is in (whoever started it,
    /// or anyone who may record).
    pub async fn stop_recording(&self, actor: Id, session: u64) -> Result<(Channel, Recording)> {
        let ch = self.call_of(actor, session).await?;
        let not_recorded = || Error::invalid("recording", "This call is not being recorded.");
        let current = self.rooms.recording(ch.id).ok_or_else(not_recorded)?;
        if current.by.id != actor {
            let (_, facts) = self.channel_facts(ch.id, actor).await?;
            permissions::record_call(facts)?;
        }
        let recording = self.end_recording(&ch).await.ok_or_else(not_recorded)?;
        Ok((ch, recording))
    }

    /// Ends `ch`'s recording without asking (its call emptied); everyone is told.
    pub async fn end_recording(&self, ch: &Channel) -> Option<Recording> {
        let recording = self.rooms.stop_recording(ch.id)?;
        if let Err(e) = self.announce_voice(ch).await {
            tracing::warn!(error = ?e, channel = %ch.id, "could not announce that a recording ended");
        }
        Some(recording)
    }

    /// Posts a finished recording's files in its call's channel, as a notice
    /// from Parley naming who started it (so it is posted even when they were
    /// removed since, or the channel archived). `cut_short`: the server
    /// stopped while it ran, and posts what it has at the next start.
    pub async fn post_recording(
        &self,
        ch: &Channel,
        recording: &Recording,
        files: Vec<crate::files::Upload>,
        cut_short: bool,
    ) -> Result<crate::model::Message> {
        let how = match (cut_short, (crate::now_ms() - recording.started_at) / 60_000) {
            (true, _) => "cut short when the server stopped".to_string(),
            (false, 0) => "under a minute".to_string(),
            (false, 1) => "1 minute".to_string(),
            (false, n) => format!("{n} minutes"),
        };
        let body = format!(
            "Recording of the call in 🔊 {}, started by {} ({how}): one file per person and track.",
            ch.name, recording.by.display_name,
        );
        self.post_notice(ch, &body, files).await
    }

    /// The channel of the call `session` is in, which must be `actor`'s.
    async fn call_of(&self, actor: Id, session: u64) -> Result<Channel> {
        let not_in_call = || Error::forbidden("This connection is not in a call. Join the call first.");
        let channel = self.rooms.channel_of(session).ok_or_else(not_in_call)?;
        if !self.rooms.participants(channel).iter().any(|p| p.session == session && p.user.id == actor) {
            return Err(not_in_call());
        }
        self.store.channel(channel).await?.ok_or(Error::NotFound(Thing::Channel))
    }

    /// Tells those who may see the channel who is in its call now. One
    /// announcement at a time, each reading the call as it is then: the
    /// last one logged is the call's present state, whatever order
    /// concurrent changes were made in.
    async fn announce_voice(&self, ch: &Channel) -> Result<()> {
        let _turn = self.voice_announcements.lock().await;
        let audience =
            if ch.is_private { Audience::Channel(ch.id) } else { Audience::Workspace(ch.workspace_id) };
        let state = EventKind::VoiceState {
            workspace_id: ch.workspace_id,
            channel_id: ch.id,
            participants: self.rooms.participants(ch.id),
            recording: self.rooms.recording(ch.id).map(|r| r.by),
        };
        self.store.announce(&[NewEvent::new(audience, state)]).await
    }
}
