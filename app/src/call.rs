//! The browser's side of a call: the microphone, camera and screen
//! (getUserMedia, getDisplayMedia), one `RTCPeerConnection` to the server's
//! SFU, and the signalling over the page's gateway connection.
//!
//! The server always offers; this side answers. In the server's offer, the
//! m-lines the server receives on are, in order: the microphone, the camera,
//! then one per screen share. Whatever the server forwards from the others
//! arrives in streams named `{session}-av` and `{session}-screen`.
//!
//! The call outlives the page it was started on (moving between channels
//! keeps it); what views show is in [`CallUi`], whose signals this module
//! keeps up to date. Remote audio plays through `<audio>` elements of its
//! own, outside the views.
//!
//! Every page follows rings ([`watch`]); the rest is reached only through
//! the `#[lazy]` [`act`], and so loaded when a call is first joined.

use crate::components::call::{
    CallPhase, CallStats, CallUi, DeviceOption, LOCAL_CAMERA, LOCAL_SCREEN, RemoteStream,
};
use crate::live::{self, LiveEvent};
use crate::wire::{GatewayCommand, GatewayEvent, IceCandidateDto, IceServerDto};
use futures::StreamExt;
use futures::channel::mpsc;
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    HtmlAudioElement, HtmlMediaElement, MediaStream, MediaStreamConstraints, MediaStreamTrack,
    RtcConfiguration, RtcIceCandidateInit, RtcIceServer, RtcPeerConnection, RtcPeerConnectionIceEvent,
    RtcPeerConnectionState, RtcRtpTransceiver, RtcRtpTransceiverDirection, RtcSdpType,
    RtcSessionDescriptionInit, RtcTrackEvent,
};

/// Above this audio level (0–1), someone counts as speaking.
const SPEAKING_LEVEL: f64 = 0.02;

enum Signal {
    Offer(String),
    Candidate(IceCandidateDto),
}

/// The peer connection of one joining, with what it needs kept alive.
struct Connection {
    pc: RtcPeerConnection,
    signals: mpsc::UnboundedSender<Signal>,
    /// Where this side's microphone, camera and screen go (found in the offers).
    mic: Option<RtcRtpTransceiver>,
    camera: Option<RtcRtpTransceiver>,
    screen: Option<RtcRtpTransceiver>,
    _handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

#[derive(Default)]
struct Engine {
    ui: Option<CallUi>,
    /// The voice channel this page is in (or joining).
    channel: Option<String>,
    /// The join was sent on the current gateway connection.
    join_sent: bool,
    conn: Option<Connection>,
    mic: Option<MediaStreamTrack>,
    camera: Option<MediaStreamTrack>,
    screen: Option<MediaStreamTrack>,
    /// The screen waits for the server's offer of a place for it.
    screen_pending: bool,
    mic_device: Option<String>,
    camera_device: Option<String>,
    /// Streams received from the others, by their name.
    remote: HashMap<String, MediaStream>,
    /// One `<audio>` per received stream with sound.
    players: HashMap<String, HtmlAudioElement>,
    stats_timer: Option<IntervalHandle>,
    /// The audio energy and duration each audio statistic (by its id) had
    /// counted at the last poll, to measure loudness between two polls.
    energy: HashMap<String, (f64, f64)>,
    /// The call's events are followed (from the first call joined).
    subscribed: bool,
    /// Rings are followed (from the first page).
    watching: bool,
    /// In a call of an encrypted conversation: its media's encryption.
    media: Option<crate::e2ee::media::MediaEncryption>,
}

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::default());
}

/// What a page asks of the call; [`act`] carries it out.
enum Act {
    /// (The call's signals, boxed: the largest part by far.)
    Join {
        ui: Box<CallUi>,
        me_id: String,
        channel_id: String,
        channel_name: String,
        workspace_id: String,
    },
    Leave,
    Mute(bool),
    Camera(bool),
    Share(bool),
    Device {
        kind: String,
        device_id: String,
    },
    Show {
        element: HtmlMediaElement,
        name: String,
    },
}

/// Carries out `act`. The media devices, the peer connection, signalling
/// and statistics are reached only from here, so the release build splits
/// them off the WebAssembly every page loads: they are fetched when a
/// page first asks (joining a call); what follows runs in turn.
#[leptos::lazy]
fn act(act: Act) {
    match act {
        Act::Join { ui, me_id, channel_id, channel_name, workspace_id } => {
            start(*ui, me_id, channel_id, channel_name, workspace_id)
        }
        Act::Leave => hang_up(),
        Act::Mute(muted) => mute(muted),
        Act::Camera(on) => turn_camera(on),
        Act::Share(on) => share_screen(on),
        Act::Device { kind, device_id } => switch_device(&kind, device_id),
        Act::Show { element, name } => show(&element, &name),
    }
}

fn ask(a: Act) {
    leptos::task::spawn_local(act(a));
}

/// Joins `channel`'s call: asks for the microphone, then the server.
pub fn join(ui: CallUi, me_id: String, channel_id: String, channel_name: String, workspace_id: String) {
    ask(Act::Join { ui: Box::new(ui), me_id, channel_id, channel_name, workspace_id });
}

/// Leaves the call.
pub fn leave() {
    ask(Act::Leave);
}

/// Mutes or unmutes the microphone.
pub fn set_muted(muted: bool) {
    ask(Act::Mute(muted));
}

/// Turns the camera on or off.
pub fn set_camera(on: bool) {
    ask(Act::Camera(on));
}

/// Starts or stops sharing the screen.
pub fn set_sharing(on: bool) {
    ask(Act::Share(on));
}

/// Switches the microphone or camera to another device.
pub fn choose_device(kind: &str, device_id: String) {
    ask(Act::Device { kind: kind.to_string(), device_id });
}

/// The media stream of `name` (a received stream, or the local previews),
/// for a `<video>` to show.
pub fn attach(element: &HtmlMediaElement, name: &str) {
    ask(Act::Show { element: element.clone(), name: name.to_string() });
}

fn with<R>(f: impl FnOnce(&mut Engine) -> R) -> R {
    ENGINE.with(|e| f(&mut e.borrow_mut()))
}

fn current_ui() -> Option<CallUi> {
    with(|e| e.ui)
}

fn notice(text: impl Into<String>) {
    if let Some(ui) = current_ui() {
        ui.notice.set(Some(text.into()));
    }
}

/// What a failed browser call says, for a person to read (also the safety
/// number's scanner's, for the camera).
pub(crate) fn describe(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        let name = String::from(err.name());
        let message = String::from(err.message());
        return match name.as_str() {
            "NotAllowedError" => {
                "the browser was not allowed to use it (check the site's permissions)".into()
            }
            "NotFoundError" => "no such device was found".into(),
            "NotReadableError" => "another program is using it".into(),
            _ => format!("{name}: {message}"),
        };
    }
    e.as_string().unwrap_or_else(|| "an unknown error".into())
}

/// Shows the media stream of `name` (a received stream, or the local
/// previews) in a `<video>`.
fn show(element: &HtmlMediaElement, name: &str) {
    let stream = with(|e| match name {
        LOCAL_CAMERA => e.camera.as_ref().map(single),
        LOCAL_SCREEN => e.screen.as_ref().map(single),
        _ => e.remote.get(name).cloned(),
    });
    element.set_src_object(stream.as_ref());
}

fn single(track: &MediaStreamTrack) -> MediaStream {
    let stream = MediaStream::new().expect("MediaStream");
    stream.add_track(track);
    stream
}

fn send(command: &GatewayCommand) -> bool {
    live::send(command)
}

/// Joins `channel`'s call: asks for the microphone, then the server.
fn start(ui: CallUi, me_id: String, channel_id: String, channel_name: String, workspace_id: String) {
    leave_quietly();
    ui.me.set(Some(me_id));
    with(|e| {
        e.ui = Some(ui);
        e.channel = Some(channel_id.clone());
    });
    ui.target.set(Some(crate::components::call::CallTarget {
        workspace_id,
        channel_id: channel_id.clone(),
        name: channel_name,
    }));
    ui.phase.set(CallPhase::Joining);
    ui.notice.set(None);
    ui.muted.set(false);
    ui.camera.set(false);
    ui.sharing.set(false);
    subscribe_once();
    leptos::task::spawn_local(async move {
        match user_media(true, false).await {
            Ok(stream) => {
                let track = stream.get_audio_tracks().get(0).unchecked_into::<MediaStreamTrack>();
                with(|e| e.mic = Some(track));
                list_devices().await;
            }
            Err(e) => notice(format!(
                "Your microphone is not available: {}. You can listen, but the others will not hear you.",
                describe(&e)
            )),
        }
        // Still wanted (not left while the browser asked)?
        if with(|e| e.channel.as_deref() == Some(channel_id.as_str())) {
            let sent = send(&GatewayCommand::VoiceJoin { channel_id });
            with(|e| e.join_sent = sent);
        } else {
            stop_local();
        }
    });
}

/// Leaves the call.
fn hang_up() {
    if with(|e| e.channel.is_some()) {
        send(&GatewayCommand::VoiceLeave);
    }
    leave_quietly();
}

/// Ends everything of the current call on this side, telling the server nothing.
fn leave_quietly() {
    close_connection();
    stop_local();
    let ui = with(|e| {
        e.channel = None;
        e.join_sent = false;
        if let Some(timer) = e.stats_timer.take() {
            timer.clear();
        }
        e.energy.clear();
        e.ui
    });
    if let Some(ui) = ui {
        ui.target.set(None);
        ui.phase.set(CallPhase::Idle);
        ui.people.set(Vec::new());
        ui.speaking.set(Vec::new());
        ui.recording.set(None);
        ui.stats.set(CallStats::default());
        ui.sharing.set(false);
        ui.camera.set(false);
        ui.local_version.update(|v| *v += 1);
    }
}

fn stop_local() {
    with(|e| {
        for track in [e.mic.take(), e.camera.take(), e.screen.take()].into_iter().flatten() {
            track.stop();
        }
        e.screen_pending = false;
    });
}

fn close_connection() {
    let (conn, players, _media) = with(|e| {
        e.remote.clear();
        (e.conn.take(), std::mem::take(&mut e.players), e.media.take())
    });
    for player in players.into_values() {
        player.set_src_object(None);
        player.remove();
    }
    if let Some(conn) = conn {
        conn.pc.set_onicecandidate(None);
        conn.pc.set_ontrack(None);
        conn.pc.set_onconnectionstatechange(None);
        conn.pc.close();
    }
    if let Some(ui) = current_ui() {
        ui.streams.set(Vec::new());
        ui.frames.set(None);
    }
}

/// Mutes or unmutes the microphone (the others are told; the server also holds it back).
fn mute(muted: bool) {
    let Some(ui) = current_ui() else { return };
    with(|e| {
        if let Some(mic) = &e.mic {
            mic.set_enabled(!muted);
        }
    });
    ui.muted.set(muted);
    announce_self(ui);
}

fn announce_self(ui: CallUi) {
    send(&GatewayCommand::VoiceSelf { muted: ui.muted.get_untracked(), camera: ui.camera.get_untracked() });
}

/// Turns the camera on or off.
fn turn_camera(on: bool) {
    let Some(ui) = current_ui() else { return };
    leptos::task::spawn_local(async move {
        let track = if on {
            match user_media(false, true).await {
                Ok(stream) => Some(stream.get_video_tracks().get(0).unchecked_into::<MediaStreamTrack>()),
                Err(e) => {
                    notice(format!("Your camera is not available: {}.", describe(&e)));
                    return;
                }
            }
        } else {
            None
        };
        let (old, sender) = with(|e| {
            let old = std::mem::replace(&mut e.camera, track.clone());
            (old, e.conn.as_ref().and_then(|c| c.camera.as_ref()).map(|t| t.sender()))
        });
        if let Some(old) = old {
            old.stop();
        }
        if let Some(sender) = sender {
            let _ = JsFuture::from(sender.replace_track(track.as_ref())).await;
        }
        ui.camera.set(track.is_some());
        ui.local_version.update(|v| *v += 1);
        announce_self(ui);
        list_devices().await;
    });
}

/// Starts or stops sharing the screen.
fn share_screen(on: bool) {
    let Some(ui) = current_ui() else { return };
    if !on {
        stop_sharing(ui);
        return;
    }
    leptos::task::spawn_local(async move {
        let Some(devices) = media_devices() else { return };
        let constraints = web_sys::DisplayMediaStreamConstraints::new();
        constraints.set_video_bool(true);
        let got = match devices.get_display_media_with_constraints(&constraints) {
            Ok(promise) => JsFuture::from(promise).await,
            Err(e) => Err(e),
        };
        let stream: MediaStream = match got {
            Ok(s) => s.unchecked_into(),
            Err(e) => {
                notice(format!("Your screen could not be shared: {}.", describe(&e)));
                return;
            }
        };
        let track = stream.get_video_tracks().get(0).unchecked_into::<MediaStreamTrack>();
        // The browser's own "Stop sharing" ends the track.
        let ended = Closure::<dyn FnMut()>::new(move || {
            if let Some(ui) = current_ui() {
                stop_sharing(ui);
            }
        });
        track.set_onended(Some(ended.as_ref().unchecked_ref()));
        ended.forget();
        with(|e| {
            e.screen = Some(track);
            e.screen_pending = true;
        });
        ui.sharing.set(true);
        ui.local_version.update(|v| *v += 1);
        send(&GatewayCommand::VoiceScreen { sharing: true });
    });
}

fn stop_sharing(ui: CallUi) {
    let (track, sender) = with(|e| {
        e.screen_pending = false;
        let sender = e.conn.as_mut().and_then(|c| c.screen.take()).map(|t| t.sender());
        (e.screen.take(), sender)
    });
    let Some(track) = track else { return };
    track.set_onended(None);
    track.stop();
    if let Some(sender) = sender {
        let _ = sender.replace_track(None);
    }
    ui.sharing.set(false);
    ui.local_version.update(|v| *v += 1);
    send(&GatewayCommand::VoiceScreen { sharing: false });
}

/// Mutes or unmutes someone in this call for everyone (mute_members).
pub fn mute_member(user_id: String, muted: bool) {
    let Some(channel_id) = with(|e| e.channel.clone()) else { return };
    send(&GatewayCommand::VoiceMute { channel_id, user_id, muted });
}

/// Starts or stops recording this call (mute_members).
pub fn set_recording(on: bool) {
    send(&GatewayCommand::VoiceRecord { recording: on });
}

/// Switches the microphone or camera to another device.
fn switch_device(kind: &str, device_id: String) {
    let is_mic = kind == "audioinput";
    with(|e| {
        if is_mic {
            e.mic_device = Some(device_id.clone());
        } else {
            e.camera_device = Some(device_id.clone());
        }
    });
    let Some(ui) = current_ui() else { return };
    if !is_mic && !ui.camera.get_untracked() {
        return; // used when the camera is next turned on
    }
    leptos::task::spawn_local(async move {
        let stream = match user_media(is_mic, !is_mic).await {
            Ok(s) => s,
            Err(e) => {
                notice(format!("That device is not available: {}.", describe(&e)));
                return;
            }
        };
        let tracks = if is_mic { stream.get_audio_tracks() } else { stream.get_video_tracks() };
        let track = tracks.get(0).unchecked_into::<MediaStreamTrack>();
        if is_mic {
            track.set_enabled(!ui.muted.get_untracked());
        }
        let (old, sender) = with(|e| {
            let slot = if is_mic { &mut e.mic } else { &mut e.camera };
            let old = slot.replace(track.clone());
            let conn = e.conn.as_ref();
            let tx = conn.and_then(|c| if is_mic { c.mic.as_ref() } else { c.camera.as_ref() });
            (old, tx.map(|t| t.sender()))
        });
        if let Some(sender) = sender {
            let _ = JsFuture::from(sender.replace_track(Some(&track))).await;
        }
        if let Some(old) = old {
            old.stop();
        }
        ui.local_version.update(|v| *v += 1);
    });
}

fn media_devices() -> Option<web_sys::MediaDevices> {
    window().navigator().media_devices().ok()
}

/// Asks for the microphone and/or the camera (the chosen devices, if any;
/// also the safety number's scanner's camera).
pub(crate) async fn user_media(audio: bool, video: bool) -> Result<MediaStream, JsValue> {
    let devices = media_devices().ok_or_else(|| JsValue::from_str("this browser has no media devices"))?;
    let (mic, cam) = with(|e| (e.mic_device.clone(), e.camera_device.clone()));
    let constraints = MediaStreamConstraints::new();
    let wanted = |on: bool, device: Option<String>| -> JsValue {
        match (on, device) {
            (false, _) => JsValue::FALSE,
            (true, None) => JsValue::TRUE,
            (true, Some(id)) => {
                let exact = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&exact, &"exact".into(), &id.into());
                let c = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&c, &"deviceId".into(), &exact);
                c.into()
            }
        }
    };
    constraints.set_audio(&wanted(audio, mic));
    constraints.set_video(&wanted(video, cam));
    let stream = JsFuture::from(devices.get_user_media_with_constraints(&constraints)?).await?;
    Ok(stream.unchecked_into())
}

/// Fills the device lists (labels are known once a permission was given).
async fn list_devices() {
    let Some(devices) = media_devices() else { return };
    let Ok(promise) = devices.enumerate_devices() else { return };
    let Ok(list) = JsFuture::from(promise).await else { return };
    let list: js_sys::Array = list.unchecked_into();
    let options: Vec<DeviceOption> = list
        .iter()
        .filter_map(|d| {
            let d: web_sys::MediaDeviceInfo = d.unchecked_into();
            let kind = match d.kind() {
                web_sys::MediaDeviceKind::Audioinput => "audioinput",
                web_sys::MediaDeviceKind::Videoinput => "videoinput",
                _ => return None,
            };
            let label = d.label();
            Some(DeviceOption {
                kind: kind.into(),
                id: d.device_id(),
                label: if label.is_empty() { format!("{kind} {}", d.device_id()) } else { label },
            })
        })
        .collect();
    if let Some(ui) = current_ui() {
        ui.devices.set(options);
    }
}

/// Follows the gateway for the call's events (once per page, from the
/// first call joined).
fn subscribe_once() {
    if with(|e| std::mem::replace(&mut e.subscribed, true)) {
        return;
    }
    // Never cancelled: it lives as long as the page.
    let _ = live::subscribe(|event| match event {
        LiveEvent::Connected | LiveEvent::Resumed => {
            // A new gateway connection: the server ended the call with the old one.
            let Some(channel_id) = with(|e| e.channel.clone()) else { return };
            close_connection();
            if let Some(ui) = current_ui() {
                ui.phase.set(CallPhase::Joining);
            }
            let sent = send(&GatewayCommand::VoiceJoin { channel_id });
            with(|e| e.join_sent = sent);
        }
        LiveEvent::Gateway(event) => on_event(event),
    });
}

/// Starts following calls on this page (rings in direct conversations),
/// for `me_id`.
pub fn watch(ui: CallUi, me_id: String) {
    with(|e| e.ui = Some(ui));
    ui.me.set(Some(me_id));
    if with(|e| std::mem::replace(&mut e.watching, true)) {
        return;
    }
    // Never cancelled: it lives as long as the page.
    let _ = live::subscribe(|event| {
        if let (LiveEvent::Gateway(event), Some(ui)) = (event, current_ui()) {
            on_ring_event(ui, event);
        }
    });
}

/// How long a call rings before it stops by itself.
const RING_FOR: std::time::Duration = std::time::Duration::from_secs(30);

/// Accepts the ringing call: joins it.
pub fn accept(ui: CallUi) {
    let Some(ring) = ui.ringing.get_untracked() else { return };
    ui.ringing.set(None);
    let me = ui.me.get_untracked().unwrap_or_default();
    join(ui, me, ring.channel_id, ring.from_name, ring.workspace_id);
}

/// Declines the ringing call; the caller is told.
pub fn decline(ui: CallUi) {
    let Some(ring) = ui.ringing.get_untracked() else { return };
    ui.ringing.set(None);
    send(&GatewayCommand::CallDecline { channel_id: ring.channel_id });
}

/// Rings, stops ringing, or says the call was declined.
fn on_ring_event(ui: CallUi, event: &GatewayEvent) {
    let me = ui.me.get_untracked();
    let ringing_here =
        |channel: &str| ui.ringing.with_untracked(|r| r.as_ref().is_some_and(|r| r.channel_id == channel));
    match event {
        GatewayEvent::CallRing { workspace_id, channel_id, from } if Some(&from.id) != me.as_ref() => {
            if with(|e| e.channel.as_deref() == Some(channel_id.as_str())) {
                return; // already in it
            }
            ui.ringing.set(Some(crate::components::call::Ring {
                workspace_id: workspace_id.clone(),
                channel_id: channel_id.clone(),
                from_name: from.display_name.clone(),
            }));
            let channel_id = channel_id.clone();
            set_timeout(
                move || {
                    if ui.ringing.with_untracked(|r| r.as_ref().is_some_and(|r| r.channel_id == channel_id)) {
                        ui.ringing.set(None);
                    }
                },
                RING_FOR,
            );
        }
        GatewayEvent::CallDeclined { channel_id, user, .. } => {
            if Some(&user.id) == me.as_ref() {
                if ringing_here(channel_id) {
                    ui.ringing.set(None); // declined on another page
                }
            } else if with(|e| e.channel.as_deref() == Some(channel_id.as_str())) {
                notice(format!("{} declined the call.", user.display_name));
            }
        }
        // The caller gave up, or this person took the call on another page.
        GatewayEvent::VoiceState { channel_id, participants, .. }
            if ringing_here(channel_id)
                && (participants.is_empty()
                    || participants.iter().any(|p| Some(&p.user.id) == me.as_ref())) =>
        {
            ui.ringing.set(None);
        }
        _ => {}
    }
}

fn on_event(event: &GatewayEvent) {
    let Some(ui) = current_ui() else { return };
    let Some(channel) = with(|e| e.channel.clone()) else { return };
    match event {
        GatewayEvent::VoiceJoined { channel_id, can_speak, ice_servers, end_to_end }
            if *channel_id == channel =>
        {
            ui.can_speak.set(*can_speak);
            if let Err(e) = connect(ui, ice_servers, *end_to_end) {
                notice(format!("The call could not start: {}.", describe(&e)));
                hang_up();
                return;
            }
            announce_self(ui);
        }
        GatewayEvent::VoiceState { channel_id, participants, recording, .. } if *channel_id == channel => {
            ui.people.set(participants.clone());
            ui.recording.set(recording.as_ref().map(|u| u.display_name.clone()));
        }
        GatewayEvent::VoiceLeft { channel_id, reason } if *channel_id == channel => {
            leave_quietly();
            if !reason.is_empty() {
                notice(reason.clone());
            }
        }
        // The conversation's keys changed: the call's follow.
        GatewayEvent::GroupCommit { commit } if commit.channel_id == channel => renew_media_keys(),
        GatewayEvent::Welcome { welcome } if welcome.channel_id == channel => renew_media_keys(),
        GatewayEvent::RtcOffer { sdp } => queue(Signal::Offer(sdp.clone())),
        GatewayEvent::RtcCandidate(c) => queue(Signal::Candidate(c.clone())),
        GatewayEvent::CommandError { command, error, .. } if command == "VOICE_JOIN" => {
            leave_quietly();
            notice(error.message.clone());
        }
        GatewayEvent::CommandError { command, error, .. } if command.starts_with("VOICE") => {
            notice(error.message.clone());
        }
        _ => {}
    }
}

fn queue(signal: Signal) {
    with(|e| {
        if let Some(conn) = &e.conn {
            let _ = conn.signals.unbounded_send(signal);
        }
    });
}

/// A new peer connection for the call; the server's offer follows. In an
/// encrypted conversation (`end_to_end`), the offer is answered only once
/// the media's encryption has started.
fn connect(ui: CallUi, ice_servers: &[IceServerDto], end_to_end: bool) -> Result<(), JsValue> {
    close_connection();
    let config = RtcConfiguration::new();
    let servers = js_sys::Array::new();
    for s in ice_servers {
        let server = RtcIceServer::new();
        let urls: js_sys::Array = s.urls.iter().map(|u| JsValue::from_str(u)).collect();
        server.set_urls(&urls);
        if let Some(u) = &s.username {
            server.set_username(u);
        }
        if let Some(c) = &s.credential {
            server.set_credential(c);
        }
        servers.push(&server);
    }
    config.set_ice_servers(&servers);
    let pc = RtcPeerConnection::new_with_configuration(&config)?;
    let mut handlers: Vec<Closure<dyn FnMut(JsValue)>> = Vec::new();

    let on_candidate = Closure::<dyn FnMut(JsValue)>::new(|event: JsValue| {
        let event: RtcPeerConnectionIceEvent = event.unchecked_into();
        if let Some(c) = event.candidate()
            && !c.candidate().is_empty()
        {
            send(&GatewayCommand::RtcCandidate(IceCandidateDto {
                candidate: c.candidate(),
                sdp_mid: c.sdp_mid(),
                sdp_mline_index: c.sdp_m_line_index(),
            }));
        }
    });
    pc.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
    handlers.push(on_candidate);

    let on_track = Closure::<dyn FnMut(JsValue)>::new(|event: JsValue| {
        let event: RtcTrackEvent = event.unchecked_into();
        if let Ok(stream) = event.streams().get(0).dyn_into::<MediaStream>() {
            with(|e| e.remote.insert(stream.id(), stream));
            refresh_streams();
        }
    });
    pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
    handlers.push(on_track);

    let state_pc = pc.clone();
    let on_state = Closure::<dyn FnMut(JsValue)>::new(move |_| match state_pc.connection_state() {
        RtcPeerConnectionState::Connected => ui.phase.set(CallPhase::Connected),
        RtcPeerConnectionState::Disconnected => ui.phase.set(CallPhase::Reconnecting),
        RtcPeerConnectionState::Failed => {
            notice("The call's connection failed. Check your network, then join again.");
            hang_up();
        }
        _ => {}
    });
    pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
    handlers.push(on_state);

    let (signals, mut incoming) = mpsc::unbounded::<Signal>();
    let worker_pc = pc.clone();
    leptos::task::spawn_local(async move {
        if end_to_end && !start_media_encryption(ui).await {
            return;
        }
        while let Some(signal) = incoming.next().await {
            let done = match signal {
                Signal::Offer(sdp) => answer(&worker_pc, &sdp).await,
                Signal::Candidate(c) => {
                    let init = RtcIceCandidateInit::new(&c.candidate);
                    init.set_sdp_mid(c.sdp_mid.as_deref());
                    init.set_sdp_m_line_index(c.sdp_mline_index);
                    JsFuture::from(worker_pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init)))
                        .await
                        .map(drop)
                }
            };
            if let Err(e) = done {
                leptos::logging::warn!("call signalling: {}", describe(&e));
            }
        }
    });
    with(|e| {
        e.conn = Some(Connection { pc, signals, mic: None, camera: None, screen: None, _handlers: handlers });
        if e.stats_timer.is_none() {
            e.stats_timer = set_interval_with_handle(
                || leptos::task::spawn_local(poll_stats()),
                std::time::Duration::from_millis(500),
            )
            .ok();
        }
    });
    Ok(())
}

/// Starts the encryption of the call's media (the conversation is
/// encrypted); where it cannot start, says why and leaves the call.
async fn start_media_encryption(ui: CallUi) -> bool {
    use crate::e2ee::media::MediaEncryption;
    let (Some(me), Some(conversation)) = (
        ui.me.get_untracked().and_then(|m| m.parse().ok()),
        with(|e| e.channel.as_deref().and_then(|c| c.parse().ok())),
    ) else {
        return false;
    };
    let counts = move |c| {
        let _ = ui.frames.try_set(Some(c));
    };
    match MediaEncryption::start(me, conversation, counts).await {
        // Still in this call (not left while the keys were fetched)?
        Ok(media) if with(|e| e.channel.as_deref() == Some(conversation.to_string().as_str())) => {
            ui.frames.set(Some(Default::default()));
            with(|e| e.media = Some(media));
            true
        }
        Ok(_) => false,
        Err(why) => {
            notice(why);
            hang_up();
            false
        }
    }
}

/// Gives the call's encryption this device's keys of the conversation's
/// new epoch (a commit was accepted, or this device welcomed).
fn renew_media_keys() {
    let Some((me, conversation)) = with(|e| e.media.as_ref().map(|m| m.of())) else { return };
    leptos::task::spawn_local(async move {
        let keys = crate::e2ee::media::call_keys(me, conversation).await;
        let taken = with(|e| match e.media.as_ref() {
            Some(media) if media.of() == (me, conversation) => keys.and_then(|keys| media.take(keys)),
            // The call ended (or moved) while the keys were fetched.
            _ => Ok(()),
        });
        if let Err(why) = taken {
            notice(why);
        }
    });
}

/// Where the server's offer receives: each m-line's mid and kind, for
/// m-lines it only receives on, in order.
fn receiving_lines(sdp: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, Option<String>, bool)> = None;
    let finish = |line: Option<(String, Option<String>, bool)>, out: &mut Vec<(String, String)>| {
        if let Some((kind, Some(mid), true)) = line {
            out.push((mid, kind));
        }
    };
    for line in sdp.lines() {
        if let Some(rest) = line.strip_prefix("m=") {
            finish(current.take(), &mut out);
            current = Some((rest.split(' ').next().unwrap_or("").to_string(), None, false));
        } else if let Some((_, mid, recv)) = current.as_mut() {
            if let Some(m) = line.strip_prefix("a=mid:") {
                *mid = Some(m.trim().to_string());
            } else if line.trim() == "a=recvonly" {
                *recv = true;
            }
        }
    }
    finish(current.take(), &mut out);
    out
}

/// Applies the server's offer, puts this side's tracks where the server
/// receives them, and answers.
async fn answer(pc: &RtcPeerConnection, sdp: &str) -> Result<(), JsValue> {
    let offer = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
    offer.set_sdp(sdp);
    JsFuture::from(pc.set_remote_description(&offer)).await?;
    // Encrypted before any track is given to a sender.
    with(|e| e.media.as_ref().map_or(Ok(()), |m| m.protect(pc)))?;

    let lines = receiving_lines(sdp);
    let transceivers: Vec<RtcRtpTransceiver> =
        pc.get_transceivers().iter().map(|t| t.unchecked_into::<RtcRtpTransceiver>()).collect();
    let by_mid = |mid: &str| transceivers.iter().find(|t| t.mid().as_deref() == Some(mid)).cloned();
    let mic_tx = lines.iter().find(|(_, k)| k == "audio").and_then(|(m, _)| by_mid(m));
    let mut videos = lines.iter().filter(|(_, k)| k == "video").filter_map(|(m, _)| by_mid(m));
    let camera_tx = videos.next();
    let screen_tx = videos.next_back();

    let (mic, camera, screen, pending) =
        with(|e| (e.mic.clone(), e.camera.clone(), e.screen.clone(), e.screen_pending));
    for (tx, track) in [(&mic_tx, &mic), (&camera_tx, &camera)] {
        if let Some(tx) = tx {
            tx.set_direction(RtcRtpTransceiverDirection::Sendonly);
            if tx.sender().track().map(|t| t.id()) != track.as_ref().map(|t| t.id()) {
                JsFuture::from(tx.sender().replace_track(track.as_ref())).await?;
            }
        }
    }
    let mut placed_screen = None;
    if pending && let (Some(tx), Some(track)) = (&screen_tx, &screen) {
        tx.set_direction(RtcRtpTransceiverDirection::Sendonly);
        JsFuture::from(tx.sender().replace_track(Some(track))).await?;
        placed_screen = Some(tx.clone());
    }
    with(|e| {
        if let Some(conn) = e.conn.as_mut() {
            conn.mic = mic_tx;
            conn.camera = camera_tx;
            if placed_screen.is_some() {
                conn.screen = placed_screen;
                e.screen_pending = false;
            }
        }
    });

    let answer: RtcSessionDescriptionInit = JsFuture::from(pc.create_answer()).await?.unchecked_into();
    JsFuture::from(pc.set_local_description(&answer)).await?;
    if let Some(local) = pc.local_description() {
        send(&GatewayCommand::RtcAnswer { sdp: local.sdp() });
    }
    // Streams whose tracks all left with this offer are gone.
    with(|e| e.remote.retain(|_, s| s.get_tracks().length() > 0));
    refresh_streams();
    Ok(())
}

/// Tells the views which streams there are, and plays their sound.
fn refresh_streams() {
    let Some(ui) = current_ui() else { return };
    let (streams, stale) = with(|e| {
        let mut streams: Vec<RemoteStream> = e
            .remote
            .iter()
            .filter_map(|(name, s)| {
                let (session, kind) = name.split_once('-')?;
                Some(RemoteStream {
                    name: name.clone(),
                    session: session.parse().ok()?,
                    screen: kind == "screen",
                    video: s.get_video_tracks().length() > 0,
                    tracks: s.get_tracks().length(),
                })
            })
            .collect();
        streams.sort_by(|a, b| a.name.cmp(&b.name));
        let stale: Vec<String> = e.players.keys().filter(|k| !e.remote.contains_key(*k)).cloned().collect();
        for (name, stream) in &e.remote {
            if stream.get_audio_tracks().length() > 0 && !e.players.contains_key(name) {
                let Ok(player) = HtmlAudioElement::new() else { continue };
                player.set_autoplay(true);
                player.set_src_object(Some(stream));
                let _ = player.set_attribute("data-stream", name);
                if let Some(body) = document().body() {
                    let _ = body.append_child(&player);
                }
                let _ = player.play();
                e.players.insert(name.clone(), player);
            }
        }
        (streams, stale)
    });
    for name in stale {
        if let Some(player) = with(|e| e.players.remove(&name)) {
            player.set_src_object(None);
            player.remove();
        }
    }
    ui.streams.set(streams);
}

fn number(stat: &JsValue, key: &str) -> Option<f64> {
    js_sys::Reflect::get(stat, &key.into()).ok()?.as_f64()
}

fn text(stat: &JsValue, key: &str) -> Option<String> {
    js_sys::Reflect::get(stat, &key.into()).ok()?.as_string()
}

/// How loud an audio statistic was since the last poll (0–1): the root mean
/// square of its level over that time, from the energy and duration it has
/// counted. An instant's level would miss short sounds between two polls
/// (and, polled in step with a sound that repeats, miss it every time); the
/// first poll of a statistic has only that instant's level to go on.
fn loudness(
    stat: &JsValue,
    before: &HashMap<String, (f64, f64)>,
    now: &mut HashMap<String, (f64, f64)>,
) -> f64 {
    let instant = number(stat, "audioLevel").unwrap_or(0.0);
    let (Some(id), Some(energy), Some(duration)) =
        (text(stat, "id"), number(stat, "totalAudioEnergy"), number(stat, "totalSamplesDuration"))
    else {
        return instant;
    };
    let previous = before.get(&id).copied();
    now.insert(id, (energy, duration));
    match previous {
        Some((energy_then, duration_then)) if duration > duration_then => {
            ((energy - energy_then) / (duration - duration_then)).max(0.0).sqrt()
        }
        _ => instant,
    }
}

/// Reads the connection's statistics: bytes in and out by kind, and who is
/// speaking (the audio level of each incoming track and of the microphone).
async fn poll_stats() {
    let Some(ui) = current_ui() else { return };
    let Some(pc) = with(|e| e.conn.as_ref().map(|c| c.pc.clone())) else { return };
    let Ok(report) = JsFuture::from(pc.get_stats()).await else { return };
    let Ok(Some(entries)) = js_sys::try_iter(&report) else { return };
    let mut stats = CallStats::default();
    let before = with(|e| std::mem::take(&mut e.energy));
    let mut energy = HashMap::new();
    let mut speaking_sessions: Vec<u64> = Vec::new();
    let mut me_speaking = false;
    for entry in entries.flatten() {
        let stat = js_sys::Array::from(&entry).get(1);
        let kind = text(&stat, "kind").unwrap_or_default();
        match text(&stat, "type").as_deref() {
            Some("inbound-rtp") => {
                let bytes = number(&stat, "bytesReceived").unwrap_or(0.0);
                if kind == "audio" {
                    stats.audio_in += bytes;
                    let loud = loudness(&stat, &before, &mut energy) > SPEAKING_LEVEL;
                    let session = text(&stat, "trackIdentifier")
                        .and_then(|t| t.split_once('-').and_then(|(s, _)| s.parse::<u64>().ok()));
                    if let (true, Some(s)) = (loud, session) {
                        speaking_sessions.push(s);
                    }
                } else {
                    stats.video_in += bytes;
                }
            }
            Some("outbound-rtp") => {
                let bytes = number(&stat, "bytesSent").unwrap_or(0.0);
                if kind == "audio" {
                    stats.audio_out += bytes;
                } else {
                    stats.video_out += bytes;
                }
            }
            Some("media-source") if kind == "audio" => {
                me_speaking = loudness(&stat, &before, &mut energy) > SPEAKING_LEVEL;
            }
            _ => {}
        }
    }
    with(|e| e.energy = energy);
    let me = ui.me.get_untracked();
    let speaking: Vec<String> = ui.people.with_untracked(|people| {
        people
            .iter()
            .filter(|p| {
                if Some(&p.user.id) == me.as_ref() {
                    me_speaking && !ui.muted.get_untracked()
                } else {
                    speaking_sessions.contains(&p.session) && p.can_speak && !p.server_muted && !p.self_muted
                }
            })
            .map(|p| p.user.id.clone())
            .collect()
    });
    if ui.speaking.with_untracked(|s| *s != speaking) {
        ui.speaking.set(speaking);
    }
    ui.stats.set(stats);
}
