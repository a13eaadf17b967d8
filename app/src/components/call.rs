//! Calls as people see them: the stage of a voice channel (join, the tiles
//! of the people in the call with their video and a speaking ring, the
//! screen shown large, the controls) and the bar that follows a call
//! across pages. The state lives in [`CallUi`], given by the app to every
//! page; in the browser, `crate::call` keeps it up to date.

use crate::wire::{ChannelDto, VoiceParticipantDto};
use leptos::prelude::*;

/// The names of the local previews, beside the received streams' names.
pub const LOCAL_CAMERA: &str = "local-camera";
pub const LOCAL_SCREEN: &str = "local-screen";

/// The call this page is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTarget {
    pub workspace_id: String,
    pub channel_id: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallPhase {
    Idle,
    Joining,
    Connected,
    Reconnecting,
}

impl CallPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            CallPhase::Idle => "idle",
            CallPhase::Joining => "joining",
            CallPhase::Connected => "connected",
            CallPhase::Reconnecting => "reconnecting",
        }
    }
}

/// In a call of an encrypted conversation: the frames this browser
/// encrypted, decrypted, and dropped because they did not decrypt (sent
/// with keys it does not have, or changed on the way), and the epoch of
/// the conversation's keys it sends with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FrameCounts {
    pub encrypted: u64,
    pub decrypted: u64,
    pub unreadable: u64,
    pub epoch: u64,
}

/// Bytes through the call's connection so far.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallStats {
    pub audio_in: f64,
    pub video_in: f64,
    pub audio_out: f64,
    pub video_out: f64,
}

/// A stream received from someone: `{session}-av` or `{session}-screen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteStream {
    pub name: String,
    pub session: u64,
    pub screen: bool,
    pub video: bool,
    /// How many tracks it has (a change redraws its view).
    pub tracks: u32,
}

/// A call ringing on this page (someone started one in a direct conversation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ring {
    pub workspace_id: String,
    pub channel_id: String,
    pub from_name: String,
}

/// A microphone or camera to choose from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceOption {
    /// `audioinput` or `videoinput`.
    pub kind: String,
    pub id: String,
    pub label: String,
}

/// What views show of this page's call.
#[derive(Clone, Copy)]
pub struct CallUi {
    pub target: RwSignal<Option<CallTarget>>,
    pub phase: RwSignal<CallPhase>,
    pub me: RwSignal<Option<String>>,
    pub muted: RwSignal<bool>,
    pub camera: RwSignal<bool>,
    pub sharing: RwSignal<bool>,
    pub can_speak: RwSignal<bool>,
    pub people: RwSignal<Vec<VoiceParticipantDto>>,
    pub streams: RwSignal<Vec<RemoteStream>>,
    /// Users speaking now.
    pub speaking: RwSignal<Vec<String>>,
    /// Who is recording the call, if anyone (their display name).
    pub recording: RwSignal<Option<String>>,
    pub ringing: RwSignal<Option<Ring>>,
    pub stats: RwSignal<CallStats>,
    /// The frames through the call's encryption, where the call is encrypted.
    pub frames: RwSignal<Option<FrameCounts>>,
    pub devices: RwSignal<Vec<DeviceOption>>,
    /// Something the person should know (a refused join, a missing device).
    pub notice: RwSignal<Option<String>>,
    /// Bumped when the local camera or screen changes (previews redraw).
    pub local_version: RwSignal<u32>,
}

impl CallUi {
    pub fn new() -> Self {
        CallUi {
            target: RwSignal::new(None),
            phase: RwSignal::new(CallPhase::Idle),
            me: RwSignal::new(None),
            muted: RwSignal::new(false),
            camera: RwSignal::new(false),
            sharing: RwSignal::new(false),
            can_speak: RwSignal::new(true),
            people: RwSignal::new(Vec::new()),
            streams: RwSignal::new(Vec::new()),
            speaking: RwSignal::new(Vec::new()),
            recording: RwSignal::new(None),
            ringing: RwSignal::new(None),
            stats: RwSignal::new(CallStats::default()),
            frames: RwSignal::new(None),
            devices: RwSignal::new(Vec::new()),
            notice: RwSignal::new(None),
            local_version: RwSignal::new(0),
        }
    }

    /// Whether this page is in (or joining) `channel_id`'s call.
    pub fn in_channel(&self, channel_id: &str) -> bool {
        self.target.with(|t| t.as_ref().is_some_and(|t| t.channel_id == channel_id))
    }
}

impl Default for CallUi {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_call() -> CallUi {
    use_context::<CallUi>().unwrap_or_default()
}

#[cfg(feature = "hydrate")]
use crate::call as engine;

/// Stand-ins on the server, where nothing is ever clicked.
#[cfg(not(feature = "hydrate"))]
mod engine {
    pub fn join(_: super::CallUi, _: String, _: String, _: String, _: String) {}
    pub fn leave() {}
    pub fn set_muted(_: bool) {}
    pub fn set_camera(_: bool) {}
    pub fn set_sharing(_: bool) {}
    pub fn choose_device(_: &str, _: String) {}
    pub fn mute_member(_: String, _: bool) {}
    pub fn set_recording(_: bool) {}
    pub fn accept(_: super::CallUi) {}
    pub fn decline(_: super::CallUi) {}
}

/// A `<video>` showing the stream `name` (redrawn when `version` changes).
#[component]
fn Video(name: String, #[prop(optional)] mirrored: bool) -> impl IntoView {
    let node = NodeRef::<leptos::html::Video>::new();
    #[cfg(feature = "hydrate")]
    {
        let name = name.clone();
        Effect::new(move |_| {
            if let Some(video) = node.get() {
                crate::call::attach(&video, &name);
            }
        });
    }
    view! {
        <video node_ref=node autoplay=true playsinline=true prop:muted=true class:mirrored=mirrored data-stream=name></video>
    }
}

/// "1.2 MB" for a byte count.
fn bytes(n: f64) -> String {
    if n >= 1e6 { format!("{:.1} MB", n / 1e6) } else { format!("{:.0} kB", n / 1e3) }
}

/// The call in a voice channel: who is there, join, and once in, the tiles and controls.
///
/// `call` is who is in it, kept live by the page.
#[component]
pub fn CallStage(
    channel: ChannelDto,
    workspace_id: String,
    me_id: String,
    call: Signal<Vec<VoiceParticipantDto>>,
) -> impl IntoView {
    let ui = use_call();
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let is_hydrated = move || hydrated.is_some_and(|h| h.get());
    let channel_id = channel.id.clone();
    let here = {
        let id = channel_id.clone();
        move || ui.in_channel(&id)
    };
    let can_mute_others = channel.can("mute_members");
    // The server relays an encrypted call's media without reading it: it
    // cannot record it.
    let can_record = can_mute_others && !channel.end_to_end;
    let end_to_end = channel.end_to_end;
    let can_join = channel.can("join_voice");
    let join = {
        let (me_id, channel_id, name, ws) =
            (me_id.clone(), channel_id.clone(), channel.label(&me_id), workspace_id.clone());
        move |_| engine::join(ui, me_id.clone(), channel_id.clone(), name.clone(), ws.clone())
    };
    let is_direct = channel.kind == crate::wire::ChannelKind::Direct;
    let limit = channel.user_limit;
    let me_for_tiles = me_id.clone();
    let here_for_tiles = here.clone();
    let tiles = move || {
        let here = here_for_tiles();
        // `call` belongs to the page; while a reloaded page replaces this one,
        // the call's own signals may still change and run this: then it is gone.
        let people = call.try_get().unwrap_or_default();
        let streams = ui.streams.get();
        let speaking = ui.speaking.get();
        let _ = ui.local_version.get();
        let me_id = me_for_tiles.clone();
        let screens: Vec<_> = if here {
            let mut list: Vec<(String, String)> = streams
                .iter()
                .filter(|s| s.screen && s.video)
                .filter_map(|s| {
                    let who = people.iter().find(|p| p.session == s.session)?;
                    Some((s.name.clone(), who.user.display_name.clone()))
                })
                .collect();
            if ui.sharing.get() {
                list.insert(0, (LOCAL_SCREEN.to_string(), "You".to_string()));
            }
            list
        } else {
            Vec::new()
        };
        let screen_view = (!screens.is_empty()).then(|| {
            view! {
                <div class="screens">
                    {screens.into_iter().map(|(name, who)| view! {
                        <figure class="screen" aria-label=format!("{who}'s screen")>
                            <Video name />
                            <figcaption>{format!("{who}'s screen")}</figcaption>
                        </figure>
                    }).collect_view()}
                </div>
            }
        });
        let tile_views = people
            .into_iter()
            .map(|p| {
                let mine = p.user.id == me_id;
                let stream = if mine {
                    (here && ui.camera.get()).then(|| LOCAL_CAMERA.to_string())
                } else {
                    streams
                        .iter()
                        .find(|s| here && p.camera && !s.screen && s.video && s.session == p.session)
                        .map(|s| s.name.clone())
                };
                let silent = p.self_muted || p.server_muted || !p.can_speak;
                let state = match (p.server_muted, p.self_muted, p.can_speak) {
                    (_, _, false) => "cannot speak here",
                    (true, _, _) => "muted by a moderator",
                    (_, true, _) => "muted",
                    _ => "",
                };
                let is_speaking = speaking.contains(&p.user.id);
                let initial = p.user.display_name.chars().next().unwrap_or('?').to_uppercase().to_string();
                let (user_id, server_muted) = (p.user.id.clone(), p.server_muted);
                let moderate = (here && can_mute_others && !mine).then(|| {
                    view! {
                        <button type="button" class="link tile-mute"
                            on:click=move |_| engine::mute_member(user_id.clone(), !server_muted)>
                            {if server_muted { "Unmute for everyone" } else { "Mute for everyone" }}
                        </button>
                    }
                });
                view! {
                    <li class="tile" class:speaking=is_speaking class:silent=silent data-user=p.user.username.clone()
                        data-speaking=is_speaking.to_string()>
                        {match stream {
                            Some(name) => view! { <Video name mirrored=mine /> }.into_any(),
                            None => view! { <span class="avatar" aria-hidden="true">{initial}</span> }.into_any(),
                        }}
                        <span class="tile-name">{if mine { format!("{} (you)", p.user.display_name) } else { p.user.display_name.clone() }}</span>
                        {(!state.is_empty()).then(|| view! { <span class="tile-state">"🔇 " {state}</span> })}
                        {moderate}
                    </li>
                }
            })
            .collect_view();
        view! {
            {screen_view}
            <ul class="tiles" aria-label="In the call">{tile_views}</ul>
        }
    };
    let here_for_controls = here.clone();
    let controls = move || {
        if !here_for_controls() {
            let count = call.try_with(Vec::len).unwrap_or(0);
            let full = limit > 0 && count >= limit as usize;
            return view! {
                <div class="call-join">
                    {can_join.then(|| view! {
                        <button type="button" class="join-call" on:click=join.clone()
                            disabled=move || !is_hydrated()>
                            {if is_direct && count == 0 { "Start call" } else { "Join call" }}
                        </button>
                    })}
                    {(!can_join).then(|| view! { <p class="help">"You may not join this call."</p> })}
                    {(limit > 0).then(|| view! { <p class="help">{format!("Up to {limit} people.")}{full.then_some(" It is full.")}</p> })}
                    <noscript><p class="help">"Calls need JavaScript."</p></noscript>
                </div>
            }
            .into_any();
        }
        let devices = ui.devices.get();
        let select = |kind: &'static str, label: &'static str| {
            let options: Vec<_> = devices.iter().filter(|d| d.kind == kind).cloned().collect();
            (options.len() > 1).then(|| {
                view! {
                    <label class="device">
                        {label}
                        <select on:change=move |ev| engine::choose_device(kind, event_target_value(&ev))>
                            {options.into_iter().map(|d| view! { <option value=d.id>{d.label}</option> }).collect_view()}
                        </select>
                    </label>
                }
            })
        };
        let (mics, cams) = (select("audioinput", "Microphone"), select("videoinput", "Camera"));
        view! {
            <div class="call-controls" role="toolbar" aria-label="Call controls">
                <button type="button" aria-pressed=move || ui.muted.get().to_string()
                    on:click=move |_| engine::set_muted(!ui.muted.get_untracked())>
                    {move || if ui.muted.get() { "Unmute" } else { "Mute" }}
                </button>
                <button type="button" aria-pressed=move || ui.camera.get().to_string()
                    on:click=move |_| engine::set_camera(!ui.camera.get_untracked())>
                    {move || if ui.camera.get() { "Turn camera off" } else { "Turn camera on" }}
                </button>
                <button type="button" aria-pressed=move || ui.sharing.get().to_string()
                    on:click=move |_| engine::set_sharing(!ui.sharing.get_untracked())>
                    {move || if ui.sharing.get() { "Stop sharing" } else { "Share screen" }}
                </button>
                {can_record.then(|| view! {
                    <button type="button" aria-pressed=move || ui.recording.get().is_some().to_string()
                        on:click=move |_| engine::set_recording(ui.recording.get_untracked().is_none())>
                        {move || if ui.recording.get().is_some() { "Stop recording" } else { "Start recording" }}
                    </button>
                })}
                {mics}
                {cams}
                <button type="button" class="leave-call" on:click=move |_| engine::leave()>"Leave call"</button>
            </div>
            {move || (!ui.can_speak.get()).then(|| view! { <p class="help">"You may listen here, but not speak."</p> })}
            <details class="call-stats">
                <summary>"Connection"</summary>
                {move || {
                    let s = ui.stats.get();
                    view! {
                        <dl>
                            <dt>"Audio received"</dt><dd data-stat="audio-in" data-bytes=s.audio_in.to_string()>{bytes(s.audio_in)}</dd>
                            <dt>"Video received"</dt><dd data-stat="video-in" data-bytes=s.video_in.to_string()>{bytes(s.video_in)}</dd>
                            <dt>"Audio sent"</dt><dd data-stat="audio-out" data-bytes=s.audio_out.to_string()>{bytes(s.audio_out)}</dd>
                            <dt>"Video sent"</dt><dd data-stat="video-out" data-bytes=s.video_out.to_string()>{bytes(s.video_out)}</dd>
                        </dl>
                    }
                }}
                {move || ui.frames.get().map(|f| view! {
                    <dl class="call-frames" aria-label="End-to-end encryption">
                        <dt>"Frames encrypted here"</dt><dd data-frames="encrypted">{f.encrypted}</dd>
                        <dt>"Frames decrypted here"</dt><dd data-frames="decrypted">{f.decrypted}</dd>
                        <dt>"Frames that did not decrypt"</dt><dd data-frames="unreadable">{f.unreadable}</dd>
                        <dt>"Sent with the keys of"</dt><dd data-frames="epoch" data-epoch=f.epoch>{format!("epoch {}", f.epoch)}</dd>
                    </dl>
                })}
            </details>
        }
        .into_any()
    };
    let here_for_phase = here.clone();
    let here_for_recording = here.clone();
    view! {
        <section class="call-stage" aria-label="Call"
            data-phase=move || if here_for_phase() { ui.phase.get().as_str() } else { "idle" }>
            {move || ui.notice.get().map(|n| view! { <p class="call-notice" role="alert">{n}</p> })}
            {end_to_end.then(|| view! {
                <p class="call-encrypted" role="note"><span aria-hidden="true">"🔒 "</span>
                    "End-to-end encrypted: each browser encrypts its sound and pictures, so the server relays \
                     them without hearing or seeing them. It cannot record this call; it still sees who is in \
                     it and when each speaks."</p>
            })}
            {move || ui.recording.get().filter(|_| here_for_recording()).map(|who| view! {
                <p class="recording" role="status"><span aria-hidden="true">"● "</span>"Recording (" {who} ")"</p>
            })}
            {tiles}
            {controls}
        </section>
    }
}

/// A call ringing: who calls, accept (join it and open the conversation) or decline.
#[component]
pub fn IncomingCall() -> impl IntoView {
    let ui = use_call();
    let navigate = leptos_router::hooks::use_navigate();
    move || {
        ui.ringing.get().map(|r| {
            let navigate = navigate.clone();
            let to = crate::paths::channel(&r.workspace_id, &r.channel_id);
            view! {
                <div class="incoming-call" role="alertdialog" aria-label="Incoming call" aria-live="assertive">
                    <p><span aria-hidden="true">"📞 "</span>{format!("{} is calling you", r.from_name)}</p>
                    <div class="incoming-actions">
                        <button type="button" class="accept-call" on:click=move |_| {
                            engine::accept(ui);
                            navigate(&to, Default::default());
                        }>"Accept"</button>
                        <button type="button" class="leave-call" on:click=move |_| engine::decline(ui)>"Decline"</button>
                    </div>
                </div>
            }
        })
    }
}

/// The call this page is in, on every page of its workspace: where, and
/// mute and leave without going back to it.
#[component]
pub fn CallBar() -> impl IntoView {
    let ui = use_call();
    move || {
        ui.target.get().map(|t| {
            view! {
                <div class="call-bar" role="region" aria-label="Your call" data-phase=move || ui.phase.get().as_str()>
                    <a href=crate::paths::channel(&t.workspace_id, &t.channel_id)>
                        {move || match ui.phase.get() {
                            CallPhase::Connected => "🔊 In the call",
                            CallPhase::Reconnecting => "Reconnecting…",
                            _ => "Joining…",
                        }}
                        " · " {t.name.clone()}
                    </a>
                    <span class="call-bar-actions">
                        <button type="button" class="link" on:click=move |_| engine::set_muted(!ui.muted.get_untracked())>
                            {move || if ui.muted.get() { "Unmute" } else { "Mute" }}
                        </button>
                        <button type="button" class="link" on:click=move |_| engine::leave()>"Leave"</button>
                    </span>
                </div>
            }
        })
    }
}
