//! One gateway connection.
//!
//! Events reach the client through a bounded queue drained by a writer
//! task. Fan-out never waits on a client: when the queue is full (or the bus
//! reports that this subscriber lagged), the connection is closed with
//! `SLOW_CONSUMER` and the client reconnects and reloads.

use crate::rtc::sfu::Sfu;
use app::wire::{ApiError, GatewayCommand, GatewayEvent, MeDto, close_code};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use domain::events::{Audience, Event, EventKind};
use domain::model::User;
use domain::{Hub, Id};
use futures::{SinkExt, StreamExt};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use webrtc::ice_transport::ice_candidate::RTCIceCandidateInit;

/// Frames waiting for a client before it counts as too slow.
const QUEUE: usize = 256;
const HEARTBEAT: Duration = Duration::from_secs(25);
/// A client silent for this long (no pong, no command) is gone.
const IDLE_LIMIT: Duration = Duration::from_secs(75);

/// What one user's connection forwards: events of the channels they
/// belong to and may see, workspace-wide events of the workspaces where they
/// are not a guest, and `WORKSPACE_UPDATE` of every workspace they are in.
struct Subscriptions {
    user: Id,
    channels: HashSet<Id>,
    workspaces: HashSet<Id>,
    member_of: HashSet<Id>,
}

impl Subscriptions {
    /// Follows membership changes of this user.
    fn update(&mut self, kind: &EventKind) {
        match kind {
            EventKind::ChannelMemberAdded { channel, user_id } if *user_id == self.user => {
                self.channels.insert(channel.id);
            }
            EventKind::ChannelMemberRemoved { channel_id, user_id } if *user_id == self.user => {
                self.channels.remove(channel_id);
            }
            EventKind::WorkspaceMemberAdded { workspace_id, member } if member.user.id == self.user => {
                if !member.is_guest {
                    self.workspaces.insert(*workspace_id);
                }
                self.member_of.insert(*workspace_id);
            }
            EventKind::WorkspaceMemberRemoved { workspace_id, user_id } if *user_id == self.user => {
                self.workspaces.remove(workspace_id);
                self.member_of.remove(workspace_id);
            }
            _ => {}
        }
    }

    /// Reads again what the user may see (after roles or permissions changed).
    async fn reload(&mut self, hub: &Hub) -> domain::Result<()> {
        let (channels, workspaces, member_of) = hub.subscriptions(self.user).await?;
        self.channels = channels.into_iter().collect();
        self.workspaces = workspaces.into_iter().collect();
        self.member_of = member_of.into_iter().collect();
        Ok(())
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

fn frame(event: &GatewayEvent) -> Message {
    Message::Text(Utf8Bytes::from(serde_json::to_string(event).expect("gateway events serialise")))
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }))
}

/// Numbers the connections of this process: a call belongs to one.
static SESSIONS: AtomicU64 = AtomicU64::new(1);

/// Tells the client that `command` was refused, and why.
fn refused(tx: &mpsc::Sender<Message>, command: &str, result: Result<(), ApiError>) {
    if let Err(error) = result {
        let _ = tx.try_send(frame(&GatewayEvent::CommandError { command: command.into(), error }));
    }
}

pub async fn run(socket: WebSocket, hub: Hub, sfu: Sfu, user: User, mut shutdown: watch::Receiver<bool>) {
    let session = SESSIONS.fetch_add(1, Ordering::Relaxed);
    let (rtc_tx, mut rtc_rx) = mpsc::unbounded_channel::<GatewayEvent>();
    // Subscribe before reading memberships, so nothing falls between the two.
    let mut events = hub.bus().subscribe();
    let mut subs = Subscriptions {
        user: user.id,
        channels: HashSet::new(),
        workspaces: HashSet::new(),
        member_of: HashSet::new(),
    };
    if let Err(e) = subs.reload(&hub).await {
        tracing::error!(error = ?e, "gateway could not load subscriptions");
        return;
    }

    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::channel::<Message>(QUEUE);
    let writer = tokio::spawn(async move {
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.tick().await;
        loop {
            let msg = tokio::select! {
                m = rx.recv() => match m { Some(m) => m, None => break },
                _ = heartbeat.tick() => Message::Ping(Default::default()),
            };
            let closing = matches!(msg, Message::Close(_));
            if sink.send(msg).await.is_err() || closing {
                break;
            }
        }
        let _ = sink.close().await;
    });

    let ready =
        GatewayEvent::Ready { user: MeDto::from(&user), heartbeat_interval_ms: HEARTBEAT.as_millis() as u64 };
    let _ = tx.try_send(frame(&ready));
    if let Err(e) = hub.connected(user.id).await {
        tracing::warn!(error = ?e, "could not announce presence");
    }

    // Whether this page has seen its person lately (online versus away).
    let mut active = true;
    let idle = tokio::time::sleep(IDLE_LIMIT);
    tokio::pin!(idle);
    loop {
        tokio::select! {
            Some(signal) = rtc_rx.recv() => {
                if tx.try_send(frame(&signal)).is_err() {
                    let _ = tx.try_send(close(close_code::SLOW_CONSUMER, "too slow; reconnect"));
                    break;
                }
            }
            event = events.recv() => match event {
                Ok(event) => {
                    subs.update(&event.kind);
                    if let EventKind::WorkspaceUpdated { workspace_id } = &event.kind
                        && subs.member_of.contains(workspace_id)
                        && let Err(e) = subs.reload(&hub).await
                    {
                        tracing::warn!(error = ?e, "gateway could not reload subscriptions");
                    }
                    if subs.wants(&event) && tx.try_send(frame(&GatewayEvent::from(&event.kind))).is_err() {
                        let _ = tx.try_send(close(close_code::SLOW_CONSUMER, "too slow; reconnect"));
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let _ = tx.try_send(close(close_code::SLOW_CONSUMER, "too slow; reconnect"));
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            incoming = stream.next() => {
                idle.as_mut().reset(tokio::time::Instant::now() + IDLE_LIMIT);
                match incoming {
                    Some(Ok(Message::Text(text))) => match serde_json::from_str::<GatewayCommand>(&text) {
                        Ok(GatewayCommand::Ping) => {
                            let _ = tx.try_send(frame(&GatewayEvent::Pong));
                        }
                        Ok(GatewayCommand::Typing { channel_id }) => {
                            // Not allowed or unknown: nothing to tell anyone.
                            if let Ok(id) = channel_id.parse() {
                                let _ = hub.typing(user.id, id).await;
                            }
                        }
                        Ok(GatewayCommand::Activity { active: now }) => {
                            if now != active {
                                active = now;
                                if let Err(e) = hub.activity(user.id, now).await {
                                    tracing::warn!(error = ?e, "could not announce presence");
                                }
                            }
                        }
                        Ok(GatewayCommand::VoiceJoin { channel_id }) => {
                            let joined = match app::ssr::parse_id("channel_id", &channel_id) {
                                Ok(id) => sfu.join(session, user.id, id, rtc_tx.clone()).await,
                                Err(e) => Err(e),
                            };
                            refused(&tx, "VOICE_JOIN", joined);
                        }
                        Ok(GatewayCommand::VoiceLeave) => sfu.leave(session).await,
                        Ok(GatewayCommand::VoiceScreen { sharing }) => {
                            let done = if sharing { sfu.add_screen(session).await } else { sfu.stop_screen(session).await };
                            refused(&tx, "VOICE_SCREEN", done);
                        }
                        Ok(GatewayCommand::CallDecline { channel_id }) => {
                            let done = match app::ssr::parse_id("channel_id", &channel_id) {
                                Ok(c) => hub.decline_call(user.id, c).await.map_err(ApiError::from),
                                Err(e) => Err(e),
                            };
                            refused(&tx, "CALL_DECLINE", done);
                        }
                        Ok(GatewayCommand::VoiceRecord { recording }) => {
                            let done = if recording { sfu.start_recording(user.id, session).await } else { sfu.stop_recording(user.id, session).await };
                            refused(&tx, "VOICE_RECORD", done);
                        }
                        Ok(GatewayCommand::VoiceSelf { muted, camera }) => {
                            refused(&tx, "VOICE_SELF", hub.set_call_self(session, muted, camera).await.map_err(ApiError::from));
                        }
                        Ok(GatewayCommand::VoiceMute { channel_id, user_id, muted }) => {
                            use app::ssr::parse_id;
                            let done = match (parse_id("channel_id", &channel_id), parse_id("user_id", &user_id)) {
                                (Ok(c), Ok(u)) => hub.mute_in_call(user.id, c, u, muted).await.map(drop).map_err(ApiError::from),
                                (Err(e), _) | (_, Err(e)) => Err(e),
                            };
                            refused(&tx, "VOICE_MUTE", done);
                        }
                        Ok(GatewayCommand::RtcAnswer { sdp }) => {
                            refused(&tx, "RTC_ANSWER", sfu.answer(session, sdp).await);
                        }
                        Ok(GatewayCommand::RtcCandidate(c)) => {
                            let init = RTCIceCandidateInit {
                                candidate: c.candidate,
                                sdp_mid: c.sdp_mid,
                                sdp_mline_index: c.sdp_mline_index,
                                username_fragment: None,
                            };
                            refused(&tx, "RTC_CANDIDATE", sfu.candidate(session, init).await);
                        }
                        Err(_) => {
                            let _ = tx.try_send(close(close_code::BAD_COMMAND, "unknown command"));
                            break;
                        }
                    },
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                }
            }
            _ = &mut idle => break,
            _ = shutdown.changed() => {
                let _ = tx.try_send(close(1001, "server shutting down"));
                break;
            }
        }
    }
    // A call ends with its connection.
    sfu.leave(session).await;
    if let Err(e) = hub.disconnected(user.id, active).await {
        tracing::warn!(error = ?e, "could not announce presence");
    }
    drop(tx);
    let _ = writer.await;
}
