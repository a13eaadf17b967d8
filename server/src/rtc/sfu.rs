//! The selective forwarding unit: one peer connection per participant,
//! each publisher's RTP copied to the others' local tracks.

use super::RtcConfig;
use app::wire::{ApiError, GatewayEvent, IceCandidateDto};
use domain::{Hub, Id};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use tokio::sync::{Mutex, mpsc};
use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::MediaEngine;
use webrtc::api::setting_engine::SettingEngine;
use webrtc::api::{API, APIBuilder};
use webrtc::ice::udp_network::{EphemeralUDP, UDPNetwork};
use webrtc::ice_transport::ice_candidate::{RTCIceCandidate, RTCIceCandidateInit};
use webrtc::ice_transport::ice_candidate_type::RTCIceCandidateType;
use webrtc::interceptor::registry::Registry;
use webrtc::media::io::Writer;
use webrtc::media::io::ivf_reader::IVFFileHeader;
use webrtc::media::io::ivf_writer::IVFWriter;
use webrtc::media::io::ogg_writer::OggWriter;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::peer_connection::signaling_state::RTCSignalingState;
use webrtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use webrtc::rtp_transceiver::rtp_codec::RTPCodecType;
use webrtc::rtp_transceiver::rtp_sender::RTCRtpSender;
use webrtc::rtp_transceiver::rtp_transceiver_direction::RTCRtpTransceiverDirection;
use webrtc::rtp_transceiver::{RTCRtpTransceiver, RTCRtpTransceiverInit};
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;
use webrtc::track::track_local::{TrackLocal, TrackLocalWriter};
use webrtc::track::track_remote::TrackRemote;

/// Events for one gateway connection (its call's signalling); bounded: a
/// connection too slow to take them is closed by the gateway. They wait
/// boxed: a queue holds its first block of slots from the moment it is
/// made, and every connection has one, in a call or not.
#[derive(Clone)]
pub struct Outbox(mpsc::Sender<Box<GatewayEvent>>);

impl Outbox {
    /// An outbox holding up to `capacity` events, and where they come out.
    pub fn channel(capacity: usize) -> (Outbox, mpsc::Receiver<Box<GatewayEvent>>) {
        let (tx, rx) = mpsc::channel(capacity);
        (Outbox(tx), rx)
    }

    /// Queues `event` without waiting. A connection that has gone is no
    /// longer told anything; one whose queue is full has stopped taking its
    /// events (it is closed as a slow consumer, and its call ends with it):
    /// what it misses is logged.
    pub fn try_send(&self, event: impl Into<Box<GatewayEvent>>) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.0.try_send(event.into()) {
            tracing::warn!("call signalling dropped: the connection's queue is full");
        }
    }
}

/// A track someone publishes, as the others receive it.
struct Published {
    /// The publisher's session.
    from: u64,
    local: Arc<TrackLocalStaticRTP>,
    /// The publisher's connection, for keyframe requests.
    publisher: Weak<RTCPeerConnection>,
    ssrc: u32,
    /// `audio`, `camera` or `screen`, and the codec's media type.
    role: &'static str,
    mime: String,
    /// Where its packets are recorded while the call is.
    sink: Sink,
}

type Sink = Arc<std::sync::Mutex<Option<Box<dyn Writer + Send>>>>;

/// A call being recorded: the files written so far (path, name to post).
struct Recorder {
    /// Whose call it records: its files' names in `files/tmp/` carry it, so
    /// a server stopped mid-recording posts them at the next start.
    of: domain::files::RecordingOf,
    files: Vec<(PathBuf, String)>,
}

struct Peer {
    pc: Arc<RTCPeerConnection>,
    out: Outbox,
    /// What this peer receives: the published track's id → its sender here.
    senders: HashMap<String, Arc<RTCRtpSender>>,
    /// An offer is out and unanswered; another is wanted once it is answered.
    awaiting_answer: bool,
    offer_again: bool,
    /// Whether this peer's audio is forwarded (may speak, not muted by a moderator).
    audible: Arc<AtomicBool>,
    /// The transceiver its camera arrives on (other incoming video is a screen).
    camera: Weak<RTCRtpTransceiver>,
    /// Whether it shares its screen (one share per person at a time).
    sharing: bool,
}

#[derive(Default)]
struct Room {
    peers: HashMap<u64, Peer>,
    /// Published tracks by track id.
    tracks: HashMap<String, Published>,
    recorder: Option<Recorder>,
    /// Its last peer left and it was taken out of [`Rooms`]: whoever still
    /// holds it looks again.
    closed: bool,
}

/// The calls, by channel. Each call has a lock of its own, held while its
/// peers are awaited; the map's lock is never held across an await, so one
/// slow peer holds up only its own call.
#[derive(Default)]
struct Rooms {
    by_channel: std::sync::Mutex<HashMap<Id, Arc<Mutex<Room>>>>,
    /// The call each connection is in.
    by_session: std::sync::Mutex<HashMap<u64, Id>>,
}

impl Rooms {
    fn get(&self, channel: Id) -> Option<Arc<Mutex<Room>>> {
        self.by_channel.lock().expect("rooms lock").get(&channel).cloned()
    }

    /// `channel`'s call, locked; a new one if it has none (or its last one
    /// just closed).
    async fn open(&self, channel: Id) -> tokio::sync::OwnedMutexGuard<Room> {
        loop {
            let room = self.by_channel.lock().expect("rooms lock").entry(channel).or_default().clone();
            let guard = room.lock_owned().await;
            if !guard.closed {
                return guard;
            }
        }
    }

    /// The call connection `session` is in: its channel, and the room locked.
    async fn of_session(&self, session: u64) -> Option<(Id, tokio::sync::OwnedMutexGuard<Room>)> {
        let channel = *self.by_session.lock().expect("rooms lock").get(&session)?;
        let guard = self.get(channel)?.lock_owned().await;
        guard.peers.contains_key(&session).then_some((channel, guard))
    }

    fn placed(&self, session: u64, channel: Id) {
        self.by_session.lock().expect("rooms lock").insert(session, channel);
    }

    fn left(&self, session: u64) {
        self.by_session.lock().expect("rooms lock").remove(&session);
    }

    /// Takes `room` (locked, now empty) out of the map.
    fn close(&self, channel: Id, room: &mut Room) {
        room.closed = true;
        self.by_channel.lock().expect("rooms lock").remove(&channel);
    }

    fn channels(&self) -> Vec<Id> {
        self.by_channel.lock().expect("rooms lock").keys().copied().collect()
    }
}

#[derive(Clone)]
pub struct Sfu {
    api: Arc<API>,
    hub: Hub,
    config: Arc<RtcConfig>,
    /// Calls by channel.
    rooms: Arc<Rooms>,
}

impl Sfu {
    pub fn new(hub: Hub, config: &RtcConfig) -> Result<Self, webrtc::Error> {
        let mut media = MediaEngine::default();
        media.register_default_codecs()?;
        let registry = register_default_interceptors(Registry::new(), &mut media)?;
        let mut settings = SettingEngine::default();
        if !config.announced_ips.is_empty() {
            settings.set_nat_1to1_ips(config.announced_ips.clone(), RTCIceCandidateType::Host);
        }
        if let Some((low, high)) = config.udp_ports {
            settings.set_udp_network(UDPNetwork::Ephemeral(EphemeralUDP::new(low, high)?));
        }
        settings.set_include_loopback_candidate(true);
        let api = APIBuilder::new()
            .with_media_engine(media)
            .with_interceptor_registry(registry)
            .with_setting_engine(settings)
            .build();
        Ok(Sfu { api: Arc::new(api), hub, config: Arc::new(config.clone()), rooms: Default::default() })
    }

    /// Applies a call command of connection `session` (of `user`), whose
    /// signalling goes to `out`: this node runs the call.
    pub async fn apply(
        &self,
        session: u64,
        user: Id,
        command: super::calls::CallCommand,
        out: &Outbox,
    ) -> Result<(), ApiError> {
        use super::calls::CallCommand as C;
        match command {
            C::Join { channel } => self.join(session, user, channel, out.clone()).await,
            C::Leave => {
                self.leave(session).await;
                Ok(())
            }
            C::Answer { sdp } => self.answer(session, sdp).await,
            C::Candidate { candidate, sdp_mid, sdp_mline_index } => {
                let init =
                    RTCIceCandidateInit { candidate, sdp_mid, sdp_mline_index, username_fragment: None };
                self.candidate(session, init).await
            }
            C::Screen { sharing: true } => self.add_screen(session).await,
            C::Screen { sharing: false } => self.stop_screen(session).await,
            C::Record { recording: true } => self.start_recording(user, session).await,
            C::Record { recording: false } => self.stop_recording(user, session).await,
            C::SelfState { muted, camera } => Ok(self.hub.set_call_self(session, muted, camera).await?),
            C::Mute { channel, user: target, muted } => {
                self.hub.mute_in_call(user, channel, target, muted).await?;
                Ok(())
            }
        }
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// Whether this node runs `channel`'s call now.
    pub fn runs(&self, channel: Id) -> bool {
        self.rooms.get(channel).is_some()
    }

    /// The calls this node runs.
    pub fn channels(&self) -> Vec<Id> {
        self.rooms.channels()
    }

    /// Joins `channel`'s call on connection `session` and sends the first offer.
    async fn join(&self, session: u64, user: Id, channel: Id, out: Outbox) -> Result<(), ApiError> {
        let (ch, me, joined) = self.hub.join_voice(user, channel, session).await?;
        if let Some(old) = joined.replaced {
            self.drop_peer(old, "You joined the call from another page.").await;
        }
        // Moving from another call on this connection: that peer goes first.
        self.drop_peer(session, "").await;
        let pc = Arc::new(self.api.new_peer_connection(RTCConfiguration::default()).await.map_err(internal)?);
        let mut camera = None;
        for kind in [RTPCodecType::Audio, RTPCodecType::Video] {
            let init = RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Recvonly,
                send_encodings: vec![],
            };
            camera = Some(pc.add_transceiver_from_kind(kind, Some(init)).await.map_err(internal)?);
        }
        let camera = Arc::downgrade(&camera.expect("two transceivers"));
        let audible = Arc::new(AtomicBool::new(me.forwarded()));
        self.watch(&pc, session, ch.id, out.clone(), audible.clone(), camera.clone());
        out.try_send(GatewayEvent::VoiceJoined {
            channel_id: ch.id.to_string(),
            can_speak: me.can_speak,
            ice_servers: self.config.ice_servers_for(user),
            end_to_end: ch.end_to_end,
        });
        let mut room = self.rooms.open(ch.id).await;
        let mut peer = Peer {
            pc,
            out,
            senders: HashMap::new(),
            awaiting_answer: false,
            offer_again: false,
            audible,
            camera,
            sharing: false,
        };
        for (id, t) in &room.tracks {
            if let Some(sender) = forward_to(&peer.pc, t).await {
                peer.senders.insert(id.clone(), sender);
            }
        }
        offer(&mut peer).await;
        room.peers.insert(session, peer);
        self.rooms.placed(session, ch.id);
        Ok(())
    }

    /// Applies the answer of `session` to the server's offer.
    async fn answer(&self, session: u64, sdp: String) -> Result<(), ApiError> {
        let (_, mut room) = self.rooms.of_session(session).await.ok_or_else(not_in_call)?;
        let peer = room.peers.get_mut(&session).ok_or_else(not_in_call)?;
        let answer =
            RTCSessionDescription::answer(sdp).map_err(|e| ApiError::invalid("sdp", e.to_string()))?;
        peer.pc.set_remote_description(answer).await.map_err(|e| ApiError::invalid("sdp", e.to_string()))?;
        peer.awaiting_answer = false;
        if std::mem::take(&mut peer.offer_again) {
            offer(peer).await;
        }
        Ok(())
    }

    /// Makes room for one more video track from `session` (a screen share)
    /// and offers it.
    async fn add_screen(&self, session: u64) -> Result<(), ApiError> {
        let (_, mut room) = self.rooms.of_session(session).await.ok_or_else(not_in_call)?;
        let peer = room.peers.get_mut(&session).ok_or_else(not_in_call)?;
        if peer.sharing {
            return Err(ApiError::from(domain::Error::invalid(
                "sharing",
                "You are sharing your screen already. Stop sharing it before sharing another.",
            )));
        }
        peer.sharing = true;
        let init =
            RTCRtpTransceiverInit { direction: RTCRtpTransceiverDirection::Recvonly, send_encodings: vec![] };
        peer.pc.add_transceiver_from_kind(RTPCodecType::Video, Some(init)).await.map_err(internal)?;
        offer(peer).await;
        Ok(())
    }

    /// Ends `session`'s screen share: the server stops receiving it, so it
    /// leaves everyone else's connection, and the sharer's offer shows it inactive.
    async fn stop_screen(&self, session: u64) -> Result<(), ApiError> {
        let (_, mut room) = self.rooms.of_session(session).await.ok_or_else(not_in_call)?;
        let peer = room.peers.get_mut(&session).ok_or_else(not_in_call)?;
        peer.sharing = false;
        let camera = peer.camera.upgrade();
        for t in peer.pc.get_transceivers().await {
            let receiving = t.direction() == RTCRtpTransceiverDirection::Recvonly;
            let is_camera = camera.as_ref().is_some_and(|c| Arc::ptr_eq(c, &t));
            if receiving && t.kind() == RTPCodecType::Video && !is_camera {
                t.stop().await.map_err(internal)?;
            }
        }
        offer(peer).await;
        Ok(())
    }

    /// Starts recording the call `session` is in: from now on each published
    /// track is written to a file of its own (Opus in Ogg, VP8 in IVF).
    async fn start_recording(&self, user: Id, session: u64) -> Result<(), ApiError> {
        let (ch, recording) = self.hub.start_recording(user, session).await?;
        let people = self.hub.in_call(ch.id);
        let Some(room) = self.rooms.get(ch.id) else { return Ok(()) };
        let mut room = room.lock().await;
        let of = domain::files::RecordingOf {
            workspace: ch.workspace_id,
            channel: ch.id,
            started_at: recording.started_at,
            by: recording.by.id,
        };
        let mut recorder = Recorder { of, files: Vec::new() };
        for t in room.tracks.values() {
            self.record(&mut recorder, t, &people).await;
        }
        room.recorder = Some(recorder);
        Ok(())
    }

    /// Stops recording the call `session` is in and posts the files in its channel.
    async fn stop_recording(&self, user: Id, session: u64) -> Result<(), ApiError> {
        let (ch, recording) = self.hub.stop_recording(user, session).await?;
        let files = match self.rooms.get(ch.id) {
            Some(room) => close_recorder(&mut *room.lock().await).unwrap_or_default(),
            None => Vec::new(),
        };
        self.post_recording(&ch, &recording, files).await;
        Ok(())
    }

    /// Starts writing `t` into a file of `recorder`'s (and asks its publisher
    /// for a keyframe, so the video file starts with a whole picture).
    async fn record(&self, recorder: &mut Recorder, t: &Published, people: &[domain::voice::Participant]) {
        let who = people.iter().find(|p| p.session == t.from).map_or("someone", |p| p.user.username.as_str());
        let extension = match t.mime.to_ascii_lowercase().as_str() {
            "audio/opus" => "ogg",
            "video/vp8" | "video/vp9" => "ivf",
            other => {
                tracing::warn!(codec = other, "a track in a recorded call has a codec that is not recorded");
                return;
            }
        };
        let mut name = format!("{who}-{}.{extension}", t.role);
        for n in 2.. {
            if !recorder.files.iter().any(|(_, f)| *f == name) {
                break;
            }
            name = format!("{who}-{}-{n}.{extension}", t.role);
        }
        let opened = async {
            let path =
                self.hub.files().recording_path(&recorder.of, &name).await.map_err(|e| e.to_string())?;
            let file = std::io::BufWriter::new(std::fs::File::create(&path).map_err(|e| e.to_string())?);
            let writer: Box<dyn Writer + Send> = if extension == "ogg" {
                Box::new(OggWriter::new(file, 48_000, 2).map_err(|e| e.to_string())?)
            } else {
                let header = IVFFileHeader {
                    signature: *b"DKIF",
                    version: 0,
                    header_size: 32,
                    four_cc: if t.mime.eq_ignore_ascii_case("video/vp9") { *b"VP90" } else { *b"VP80" },
                    width: 1280,
                    height: 720,
                    timebase_denominator: 30,
                    timebase_numerator: 1,
                    num_frames: 0,
                    unused: 0,
                };
                Box::new(IVFWriter::new(file, &header).map_err(|e| e.to_string())?)
            };
            Ok::<_, String>((path, writer))
        };
        match opened.await {
            Ok((path, writer)) => {
                *t.sink.lock().expect("sink lock") = Some(writer);
                recorder.files.push((path, name));
                if let (true, Some(publisher)) = (extension == "ivf", t.publisher.upgrade()) {
                    let pli = PictureLossIndication { sender_ssrc: 0, media_ssrc: t.ssrc };
                    let _ = publisher.write_rtcp(&[Box::new(pli)]).await;
                }
            }
            Err(e) => tracing::error!(error = %e, "could not start recording a track"),
        }
    }

    /// Posts a finished recording's files (those with anything in them).
    async fn post_recording(
        &self,
        ch: &domain::model::Channel,
        recording: &domain::voice::Recording,
        files: Vec<(PathBuf, String)>,
    ) {
        let mut uploads = Vec::new();
        for (tmp, file_name) in files {
            let size = tokio::fs::metadata(&tmp).await.map(|m| m.len()).unwrap_or(0);
            uploads.push(domain::files::Upload { tmp, file_name, size });
        }
        if uploads.is_empty() {
            return;
        }
        if let Err(e) = self.hub.post_recording(ch, recording, uploads, false).await {
            // Its files stay in files/tmp/, named for their call: the next
            // start posts them.
            tracing::error!(error = ?e, channel = %ch.id, "could not post a call recording");
        }
    }

    /// Adds one of the client's ICE candidates.
    async fn candidate(&self, session: u64, candidate: RTCIceCandidateInit) -> Result<(), ApiError> {
        let pc = {
            let room = self.rooms.of_session(session).await;
            room.and_then(|(_, r)| r.peers.get(&session).map(|p| p.pc.clone()))
        };
        let pc = pc.ok_or_else(not_in_call)?;
        pc.add_ice_candidate(candidate).await.map_err(|e| ApiError::invalid("candidate", e.to_string()))
    }

    /// Leaves the call `session` is in (asked for, or its connection closed).
    pub async fn leave(&self, session: u64) {
        self.drop_peer(session, "").await;
        if let Err(e) = self.hub.leave_voice(session).await {
            tracing::warn!(error = ?e, "could not announce that someone left a call");
        }
    }

    /// Follows who is in each call as the hub has it: whoever is no longer
    /// there (kicked, banned, no longer allowed) is dropped, and each
    /// publisher's audio is forwarded only while they may be heard (speak,
    /// not muted by a moderator). It reads the hub's current state on each
    /// change, so events arriving late cannot undo a newer one.
    pub async fn run(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut events = self.hub.bus().subscribe();
        loop {
            let channel = tokio::select! {
                e = events.recv() => match e {
                    Ok(e) => match &e.kind {
                        domain::events::EventKind::VoiceState { channel_id, participants, .. } => {
                            self.hub.call_seen(*channel_id, participants.clone());
                            Some(*channel_id)
                        }
                        // Changed on any node: the calls run here re-read
                        // who may stay and speak (announcing what changed).
                        domain::events::EventKind::WorkspaceUpdated { workspace_id }
                        | domain::events::EventKind::WorkspaceMemberRemoved { workspace_id, .. } => {
                            if let Err(e) = self.hub.refresh_calls(*workspace_id).await {
                                tracing::warn!(error = ?e, "could not re-read who may be in calls");
                            }
                            None
                        }
                        _ => None,
                    },
                    // Missed some: check every call.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => None,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
                _ = shutdown.changed() => {
                    self.finish_recordings().await;
                    break;
                }
            };
            let channels = match channel {
                Some(c) => vec![c],
                None => self.rooms.channels(),
            };
            for channel in channels {
                self.follow(channel).await;
            }
        }
    }

    /// The server is stopping: every running recording ends and is posted.
    async fn finish_recordings(&self) {
        let mut finished: Vec<(Id, Vec<(PathBuf, String)>)> = Vec::new();
        for channel in self.rooms.channels() {
            if let Some(room) = self.rooms.get(channel)
                && let Some(files) = close_recorder(&mut *room.lock().await)
            {
                finished.push((channel, files));
            }
        }
        for (channel, files) in finished {
            if let Ok(Some(ch)) = self.hub.store().channel(channel).await
                && let Some(recording) = self.hub.end_recording(&ch).await
            {
                self.post_recording(&ch, &recording, files).await;
            }
        }
    }

    async fn follow(&self, channel: Id) {
        let people = self.hub.in_call(channel);
        let gone: Vec<u64> = {
            let Some(room) = self.rooms.get(channel) else { return };
            let room = room.lock().await;
            for (session, peer) in &room.peers {
                if let Some(p) = people.iter().find(|p| p.session == *session) {
                    peer.audible.store(p.forwarded(), Ordering::Relaxed);
                }
            }
            room.peers.keys().filter(|s| self.hub.voice_channel_of(**s) != Some(channel)).copied().collect()
        };
        for session in gone {
            self.drop_peer(session, "You are no longer in this call.").await;
        }
    }

    /// Removes `session`'s peer: its connection closes and what it published
    /// leaves everyone else's connection. `reason`, when given, goes to it.
    async fn drop_peer(&self, session: u64, reason: &str) {
        let Some((channel, mut room)) = self.rooms.of_session(session).await else { return };
        let peer = room.peers.remove(&session).expect("found");
        self.rooms.left(session);
        if !reason.is_empty() {
            peer.out
                .try_send(GatewayEvent::VoiceLeft { channel_id: channel.to_string(), reason: reason.into() });
        }
        let gone: Vec<String> =
            room.tracks.iter().filter(|(_, t)| t.from == session).map(|(id, _)| id.clone()).collect();
        for id in &gone {
            // A recorded track's file ends here, whole (its header written),
            // whatever becomes of the recording.
            if let Some(t) = room.tracks.remove(id)
                && let Some(mut writer) = t.sink.lock().expect("sink lock").take()
            {
                let _ = writer.close();
            }
        }
        for other in room.peers.values_mut() {
            let mut changed = false;
            for id in &gone {
                if let Some(sender) = other.senders.remove(id) {
                    let _ = other.pc.remove_track(&sender).await;
                    changed = true;
                }
            }
            if changed {
                offer(other).await;
            }
        }
        let mut unfinished = None;
        if room.peers.is_empty() {
            unfinished = close_recorder(&mut room);
            self.rooms.close(channel, &mut room);
        }
        drop(room);
        let _ = peer.pc.close().await;
        // The call emptied while recorded: the recording ends and is posted.
        if let Some(files) = unfinished
            && let Ok(Some(ch)) = self.hub.store().channel(channel).await
            && let Some(recording) = self.hub.end_recording(&ch).await
        {
            self.post_recording(&ch, &recording, files).await;
        }
    }

    /// Wires a new peer connection: candidates go to the client, incoming
    /// tracks are published to the room, a failed connection leaves the call.
    fn watch(
        &self,
        pc: &Arc<RTCPeerConnection>,
        session: u64,
        channel: Id,
        out: Outbox,
        audible: Arc<AtomicBool>,
        camera: Weak<RTCRtpTransceiver>,
    ) {
        let to_client = out.clone();
        pc.on_ice_candidate(Box::new(move |c: Option<RTCIceCandidate>| {
            let to_client = to_client.clone();
            Box::pin(async move {
                if let Some(init) = c.and_then(|c| c.to_json().ok()) {
                    to_client.try_send(GatewayEvent::RtcCandidate(IceCandidateDto {
                        candidate: init.candidate,
                        sdp_mid: init.sdp_mid,
                        sdp_mline_index: init.sdp_mline_index,
                    }));
                }
            })
        }));
        let sfu = self.clone();
        pc.on_peer_connection_state_change(Box::new(move |state| {
            let sfu = sfu.clone();
            Box::pin(async move {
                if state == RTCPeerConnectionState::Failed {
                    tracing::info!(session, "a call connection failed");
                    sfu.leave(session).await;
                }
            })
        }));
        let sfu = self.clone();
        let publisher = Arc::downgrade(pc);
        pc.on_track(Box::new(move |track, _, transceiver| {
            let (sfu, publisher, audible) = (sfu.clone(), publisher.clone(), audible.clone());
            // Video on any other transceiver than the first is a screen share.
            let stream = match camera.upgrade() {
                Some(camera)
                    if track.kind() == RTPCodecType::Video && !Arc::ptr_eq(&camera, &transceiver) =>
                {
                    format!("{session}-screen")
                }
                _ => format!("{session}-av"),
            };
            // The handler must return: tracks are announced one after another.
            tokio::spawn(
                async move { sfu.publish(session, channel, track, stream, publisher, audible).await },
            );
            Box::pin(async {})
        }));
    }

    /// Makes `track` of `session` available to everyone else in the call (in
    /// `stream`, which tells them whose it is and whether it is a screen), and
    /// forwards its packets until it ends.
    async fn publish(
        &self,
        session: u64,
        channel: Id,
        track: Arc<TrackRemote>,
        stream: String,
        publisher: Weak<RTCPeerConnection>,
        audible: Arc<AtomicBool>,
    ) {
        let id = format!("{session}-{}", track.id());
        let capability = track.codec().capability;
        let role = match track.kind() {
            RTPCodecType::Audio => "audio",
            _ if stream.ends_with("-screen") => "screen",
            _ => "camera",
        };
        let mime = capability.mime_type.clone();
        let local = Arc::new(TrackLocalStaticRTP::new(capability, id.clone(), stream));
        let sink: Sink = Default::default();
        let published = Published {
            from: session,
            local: local.clone(),
            publisher,
            ssrc: track.ssrc(),
            role,
            mime,
            sink: sink.clone(),
        };
        {
            let Some(room) = self.rooms.get(channel) else { return };
            let mut room = room.lock().await;
            if room.closed {
                return;
            }
            if let Some(mut recorder) = room.recorder.take() {
                self.record(&mut recorder, &published, &self.hub.in_call(channel)).await;
                room.recorder = Some(recorder);
            }
            for (other, peer) in room.peers.iter_mut() {
                if *other == session {
                    continue;
                }
                if let Some(sender) = forward_to(&peer.pc, &published).await {
                    peer.senders.insert(id.clone(), sender);
                    offer(peer).await;
                }
            }
            room.tracks.insert(id.clone(), published);
        }
        let is_audio = track.kind() == RTPCodecType::Audio;
        while let Ok((packet, _)) = track.read_rtp().await {
            if is_audio && !audible.load(Ordering::Relaxed) {
                continue;
            }
            if let Some(writer) = sink.lock().expect("sink lock").as_mut()
                && let Err(e) = writer.write_rtp(&packet)
            {
                tracing::debug!(error = %e, "a packet could not be recorded");
            }
            if local.write_rtp(&packet).await.is_err() {
                break;
            }
        }
        if let Some(mut writer) = sink.lock().expect("sink lock").take() {
            let _ = writer.close();
        }
        // The track ended: it leaves the others' connections.
        let Some(room) = self.rooms.get(channel) else { return };
        let mut room = room.lock().await;
        if room.tracks.remove(&id).is_none() {
            return;
        }
        for peer in room.peers.values_mut() {
            if let Some(sender) = peer.senders.remove(&id) {
                let _ = peer.pc.remove_track(&sender).await;
                offer(peer).await;
            }
        }
    }
}

/// Ends `room`'s recording: every file is closed; returns them.
fn close_recorder(room: &mut Room) -> Option<Vec<(PathBuf, String)>> {
    let recorder = room.recorder.take()?;
    for t in room.tracks.values() {
        if let Some(mut writer) = t.sink.lock().expect("sink lock").take() {
            let _ = writer.close();
        }
    }
    Some(recorder.files)
}

/// Adds `t` to `pc` and passes keyframe requests for it back to its publisher.
async fn forward_to(pc: &Arc<RTCPeerConnection>, t: &Published) -> Option<Arc<RTCRtpSender>> {
    let sender = pc.add_track(t.local.clone() as Arc<dyn TrackLocal + Send + Sync>).await.ok()?;
    let (rtcp, publisher, ssrc) = (sender.clone(), t.publisher.clone(), t.ssrc);
    tokio::spawn(async move {
        while let Ok((packets, _)) = rtcp.read_rtcp().await {
            let wants_keyframe = packets
                .iter()
                .any(|p| p.as_any().is::<PictureLossIndication>() || p.as_any().is::<FullIntraRequest>());
            if wants_keyframe {
                let Some(publisher) = publisher.upgrade() else { break };
                let pli = PictureLossIndication { sender_ssrc: 0, media_ssrc: ssrc };
                let _ = publisher.write_rtcp(&[Box::new(pli)]).await;
            }
        }
    });
    Some(sender)
}

/// Sends `peer` a new offer, or asks for one once its current offer is answered.
async fn offer(peer: &mut Peer) {
    if peer.awaiting_answer || peer.pc.signaling_state() != RTCSignalingState::Stable {
        peer.offer_again = true;
        return;
    }
    let made = async {
        let offer = peer.pc.create_offer(None).await?;
        peer.pc.set_local_description(offer).await?;
        Ok::<_, webrtc::Error>(peer.pc.local_description().await)
    }
    .await;
    match made {
        Ok(Some(desc)) => {
            peer.awaiting_answer = true;
            peer.out.try_send(GatewayEvent::RtcOffer { sdp: desc.sdp });
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "could not make an offer"),
    }
}

fn not_in_call() -> ApiError {
    ApiError::from(domain::Error::forbidden("This connection is not in a call. Join the call first."))
}

fn internal(e: webrtc::Error) -> ApiError {
    tracing::error!(error = %e, "the SFU failed");
    ApiError::from(domain::Error::Internal(Box::new(e)))
}
