//! One gateway connection.
//!
//! It opens with a handshake ([`handshake`]): `HELLO`, then the client's
//! `IDENTIFY` (a new session: `READY`) or `RESUME` (the events it missed,
//! read back from the event log and filtered by what its person may see
//! now, then `RESUMED`). Then the live stream: every logged event carries its
//! `seq`, and the connection remembers the last one it went through.
//!
//! Events reach the client through a bounded queue ([`Outgoing`]) that the
//! connection's own loop writes as the socket takes it. Fan-out never waits
//! on a client: when the queue is full (or the router cut this connection
//! off for not taking its events), the connection is closed with
//! `SLOW_CONSUMER` and the client reconnects and resumes.

use super::dialect::{Dialect, frame};
use super::feed::{Feed, TooSlow};
use super::outgoing::{Outgoing, QUEUE};
use super::router::{Router, Viewer};
use crate::rtc::calls::{CallCommand, Calls};
use app::wire::{ApiError, GatewayCommand, GatewayEvent, MeDto, close_code};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use domain::limits::Bucket;
use domain::model::User;
use domain::{Hub, Id};
use futures::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

const HEARTBEAT: Duration = Duration::from_secs(25);
/// A client silent for this long (no pong, no command) is gone.
const IDLE_LIMIT: Duration = Duration::from_secs(75);
/// How long a closing connection's last frames may take to be written: a
/// client that stopped reading is cut off after it.
const CLOSING_LIMIT: Duration = Duration::from_secs(30);
/// How long a client has to answer `HELLO`.
const IDENTIFY_LIMIT: Duration = Duration::from_secs(20);

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }))
}

/// Numbers the connections of this process: a call belongs to one.
static SESSIONS: AtomicU64 = AtomicU64::new(1);

/// A new session number of this process: a connection's, or that of a
/// participant from another node in a call run here.
pub(crate) fn next_session() -> u64 {
    SESSIONS.fetch_add(1, Ordering::Relaxed)
}

/// Refused commands in a row after which a flooding client is disconnected.
const FLOOD_LIMIT: u32 = 10;

/// The name of a command on the wire, for `COMMAND_ERROR`.
fn command_name(command: &GatewayCommand) -> &'static str {
    match command {
        GatewayCommand::Identify => "IDENTIFY",
        GatewayCommand::Resume { .. } => "RESUME",
        GatewayCommand::Ping => "PING",
        GatewayCommand::MessageCreate { .. } => "MESSAGE_CREATE",
        GatewayCommand::Typing { .. } => "TYPING",
        GatewayCommand::View { .. } => "VIEW",
        GatewayCommand::Activity { .. } => "ACTIVITY",
        GatewayCommand::VoiceJoin { .. } => "VOICE_JOIN",
        GatewayCommand::VoiceLeave => "VOICE_LEAVE",
        GatewayCommand::VoiceSelf { .. } => "VOICE_SELF",
        GatewayCommand::VoiceScreen { .. } => "VOICE_SCREEN",
        GatewayCommand::VoiceRecord { .. } => "VOICE_RECORD",
        GatewayCommand::CallDecline { .. } => "CALL_DECLINE",
        GatewayCommand::VoiceMute { .. } => "VOICE_MUTE",
        GatewayCommand::RtcAnswer { .. } => "RTC_ANSWER",
        GatewayCommand::RtcCandidate(_) => "RTC_CANDIDATE",
    }
}

/// Whether reading from the socket failed because the client sent a frame
/// or message over the size limit.
fn too_big(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(tungstenite::Error::Capacity(_)) = s.downcast_ref::<tungstenite::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// Whether the connection goes on after a command.
enum Flow {
    Continue,
    Close,
}

/// The side of one connection that carries out the client's commands.
struct Commands {
    hub: Hub,
    calls: Calls,
    user: Id,
    session: u64,
    rtc_tx: crate::rtc::sfu::Outbox,
    /// Says which channel this page shows.
    viewer: Viewer,
    /// Whether this page has seen its person lately (online versus away).
    active: bool,
    /// Commands refused by a rate limit since the last one let through.
    refused_in_a_row: u32,
    dialect: Dialect,
}

impl Commands {
    /// Tells the client that `command` was refused, and why.
    fn refused(&self, command: &GatewayCommand, result: Result<(), ApiError>, out: &mut Outgoing) {
        if let Err(error) = result {
            let nonce = match command {
                GatewayCommand::MessageCreate { nonce, .. } => Some(nonce.clone()),
                _ => None,
            };
            let event = GatewayEvent::CommandError { command: command_name(command).into(), error, nonce };
            if let Some(m) = self.dialect.render(&event) {
                out.push_anyway(m);
            }
        }
    }

    /// Takes the command from this connection's buckets (call signalling
    /// also from its own, larger one). Typing over its limit is dropped
    /// silently (clients send it while people type).
    fn within_limits(&self, command: &GatewayCommand, signalling: bool) -> Result<bool, domain::Error> {
        let limits = self.hub.limits();
        let session = self.session.to_string();
        limits.check_connection(Bucket::GatewayCommand, &session)?;
        if signalling {
            limits.check_connection(Bucket::Signalling, &session)?;
        }
        if let GatewayCommand::Typing { channel_id } = command {
            return Ok(limits.check_connection(Bucket::Typing, &format!("{session}:{channel_id}")).is_ok());
        }
        Ok(true)
    }

    /// Applies one command; a client that keeps sending past its limits is
    /// disconnected.
    async fn apply(&mut self, command: GatewayCommand, out: &mut Outgoing) -> Flow {
        match command {
            // Answered by `run`, where the feed is; never sent here.
            GatewayCommand::Ping => return Flow::Continue,
            GatewayCommand::Identify | GatewayCommand::Resume { .. } => {
                out.push_anyway(close(close_code::NOT_IDENTIFIED, "already identified"));
                return Flow::Close;
            }
            _ => {}
        }
        // Parsed once: whether it is signalling, and what the call is asked.
        let call = CallCommand::from_gateway(&command);
        match self.within_limits(&command, call.is_some()) {
            Ok(true) => self.refused_in_a_row = 0,
            Ok(false) => return Flow::Continue,
            Err(e) => {
                self.refused_in_a_row += 1;
                if self.refused_in_a_row >= FLOOD_LIMIT {
                    out.push_anyway(close(close_code::RATE_LIMITED, "too many commands; slow down"));
                    return Flow::Close;
                }
                self.refused(&command, Err(ApiError::from(e)), out);
                return Flow::Continue;
            }
        }
        let done = self.dispatch(&command, call, out).await;
        self.refused(&command, done, out);
        Flow::Continue
    }

    /// Carries out `command`; `call` is what [`CallCommand::from_gateway`]
    /// made of it.
    async fn dispatch(
        &mut self,
        command: &GatewayCommand,
        call: Option<Result<CallCommand, ApiError>>,
        out: &mut Outgoing,
    ) -> Result<(), ApiError> {
        use app::ssr::parse_id;
        let (hub, user) = (&self.hub, self.user);
        match command {
            GatewayCommand::Ping | GatewayCommand::Identify | GatewayCommand::Resume { .. } => Ok(()),
            GatewayCommand::MessageCreate { channel_id, body, nonce, thread_id } => {
                let (message, _) =
                    app::ssr::post_text(hub, user, channel_id, body, Some(nonce), thread_id.as_deref())
                        .await?;
                let ack = GatewayEvent::MessageAck { nonce: nonce.clone(), message: (&message).into() };
                // Sent after the commit; one for each command, so it need not wait for room.
                if let Some(m) = self.dialect.render(&ack) {
                    out.push_anyway(m);
                }
                Ok(())
            }
            GatewayCommand::Typing { channel_id } => {
                // Not allowed or unknown: nothing to tell anyone.
                if let Ok(id) = channel_id.parse() {
                    let _ = hub.typing(user, id).await;
                }
                Ok(())
            }
            GatewayCommand::View { channel_id } => {
                let shown = channel_id.as_deref().map(|c| parse_id("channel_id", c)).transpose()?;
                self.viewer.view(shown);
                Ok(())
            }
            GatewayCommand::Activity { active } => {
                if *active != self.active {
                    self.active = *active;
                    if let Err(e) = hub.activity(user, *active).await {
                        tracing::warn!(error = ?e, "could not announce presence");
                    }
                }
                Ok(())
            }
            GatewayCommand::CallDecline { channel_id } => {
                Ok(hub.decline_call(user, parse_id("channel_id", channel_id)?).await?)
            }
            GatewayCommand::VoiceJoin { .. }
            | GatewayCommand::VoiceLeave
            | GatewayCommand::VoiceSelf { .. }
            | GatewayCommand::VoiceScreen { .. }
            | GatewayCommand::VoiceRecord { .. }
            | GatewayCommand::VoiceMute { .. }
            | GatewayCommand::RtcAnswer { .. }
            | GatewayCommand::RtcCandidate(_) => match call {
                Some(call) => self.calls.apply(self.session, user, call?, &self.rtc_tx).await,
                None => Ok(()),
            },
        }
    }
}

/// A session id names its person: a session can be resumed only by them.
fn new_session_id(user: Id) -> String {
    format!("{user}.{}", Id::new())
}

fn session_is_of(session_id: &str, user: Id) -> bool {
    session_id.split_once('.').is_some_and(|(u, _)| u == user.to_string())
}

/// How the handshake ended.
enum Handshake {
    /// The live stream goes on after the feed's position.
    Streaming,
    Closed,
}

/// `HELLO`, then the client's `IDENTIFY` (the live stream goes on from
/// where the feed started) or `RESUME` (the feed replays what was missed).
/// What it says is written before it waits for the client again.
async fn handshake(
    hub: &Hub,
    user: &User,
    feed: &mut Feed,
    stream: &mut futures::stream::SplitStream<WebSocket>,
    out: &mut Outgoing,
) -> Handshake {
    let session_id = new_session_id(user.id);
    let heartbeat_interval_ms = HEARTBEAT.as_millis() as u64;
    let start = feed.position();
    out.push_anyway(frame(&GatewayEvent::Hello { session_id: session_id.clone(), heartbeat_interval_ms }));
    // A new session: what the client shows is loaded afresh (after saying
    // why, when a resume was refused).
    let ready = |reason: Option<&'static str>, out: &mut Outgoing| {
        if let Some(reason) = reason {
            out.push_anyway(frame(&GatewayEvent::InvalidSession { reason: reason.into() }));
        }
        let (user, session_id) = (MeDto::from(user), session_id.clone());
        out.push_anyway(frame(&GatewayEvent::Ready { user, heartbeat_interval_ms, session_id, seq: start }));
        Handshake::Streaming
    };
    let deadline = tokio::time::sleep(IDENTIFY_LIMIT);
    tokio::pin!(deadline);
    loop {
        if out.write().await.is_err() {
            return Handshake::Closed;
        }
        let text = tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Handshake::Closed,
                Some(Ok(_)) => continue,
            },
            _ = &mut deadline => {
                out.push_anyway(close(close_code::IDENTIFY_TIMEOUT, "send IDENTIFY or RESUME after HELLO"));
                return Handshake::Closed;
            }
        };
        return match Dialect::Gateway.parse(&text) {
            Some(GatewayCommand::Ping) => {
                out.push_anyway(frame(&GatewayEvent::Pong { seq: start }));
                continue;
            }
            Some(GatewayCommand::Identify) => ready(None, out),
            Some(GatewayCommand::Resume { session_id: resumed, seq }) if session_is_of(&resumed, user.id) => {
                match feed.replay(hub, seq, out).await {
                    Ok(Some(replayed)) => {
                        let seq = feed.position();
                        out.push_anyway(frame(&GatewayEvent::Resumed { session_id: resumed, seq, replayed }));
                        Handshake::Streaming
                    }
                    Ok(None) => ready(
                        Some("The events since then are no longer kept; load what you show afresh."),
                        out,
                    ),
                    Err(e) => {
                        tracing::error!(error = ?e, "gateway could not replay the event log");
                        ready(Some("The missed events could not be read; load what you show afresh."), out)
                    }
                }
            }
            Some(GatewayCommand::Resume { .. }) => {
                ready(Some("That session is not yours; load what you show afresh."), out)
            }
            Some(_) | None => {
                out.push_anyway(close(close_code::NOT_IDENTIFIED, "send IDENTIFY or RESUME first"));
                Handshake::Closed
            }
        };
    }
}

/// One connection, from its upgrade to its close. An idle connection is
/// this one future: what only some moments need (the handshake, a command,
/// a change of memberships) is boxed, so that its state takes memory only
/// while it runs.
pub async fn run(
    socket: WebSocket,
    hub: Hub,
    router: Router,
    calls: Calls,
    user: User,
    dialect: Dialect,
    mut shutdown: watch::Receiver<bool>,
) {
    let session = next_session();
    let (rtc_tx, mut rtc_rx) = crate::rtc::sfu::Outbox::channel(QUEUE);
    let mut feed = match Box::pin(Feed::open(&hub, &router, user.id)).await {
        Ok(feed) => feed,
        Err(e) => {
            tracing::error!(error = ?e, "gateway could not load subscriptions");
            return;
        }
    };

    let (sink, mut stream) = socket.split();
    let mut out = Outgoing::new(sink);
    // The other dialects have no sessions: their stream starts now.
    if let Dialect::Gateway = dialect
        && let Handshake::Closed = Box::pin(handshake(&hub, &user, &mut feed, &mut stream, &mut out)).await
    {
        out.finish(CLOSING_LIMIT).await;
        return;
    }
    if let Err(e) = Box::pin(hub.connected(user.id)).await {
        tracing::warn!(error = ?e, "could not announce presence");
    }

    let mut commands = Commands {
        hub: hub.clone(),
        calls: calls.clone(),
        user: user.id,
        session,
        rtc_tx,
        viewer: feed.viewer(),
        active: true,
        refused_in_a_row: 0,
        dialect,
    };
    // Set when the connection is closed for being too slow to take its events.
    let mut too_slow = false;
    let idle = tokio::time::sleep(IDLE_LIMIT);
    tokio::pin!(idle);
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    loop {
        tokio::select! {
            written = out.write(), if out.pending() => {
                if written.is_err() {
                    break;
                }
            }
            Some(signal) = rtc_rx.recv() => {
                if out.push(frame(&signal)).is_err() {
                    too_slow = true;
                    break;
                }
            }
            event = feed.recv() => match event {
                Some(event) => {
                    if feed.forward(&hub, dialect, &event, &mut out).await.is_err() {
                        too_slow = true;
                        break;
                    }
                }
                None => {
                    too_slow = feed.lagged();
                    break;
                }
            },
            incoming = stream.next() => {
                idle.as_mut().reset(tokio::time::Instant::now() + IDLE_LIMIT);
                match incoming {
                    Some(Ok(Message::Text(text))) => match dialect.parse(&text) {
                        // Pong says how far this connection has gone: past
                        // every event routed here until now, and every call
                        // signal sent to it (a command's answer among them).
                        Some(GatewayCommand::Ping) => {
                            let mut caught_up = feed.catch_up(&hub, dialect, &mut out).await;
                            while caught_up.is_ok()
                                && let Ok(signal) = rtc_rx.try_recv()
                            {
                                if let Err(e) = out.push(frame(&signal)) {
                                    caught_up = Err(e);
                                }
                            }
                            match caught_up {
                                Ok(seq) => out.push_anyway(frame(&GatewayEvent::Pong { seq })),
                                Err(TooSlow) => {
                                    too_slow = true;
                                    break;
                                }
                            }
                        }
                        Some(command) => {
                            if let Flow::Close = Box::pin(commands.apply(command, &mut out)).await {
                                break;
                            }
                        }
                        None => {
                            out.push_anyway(close(close_code::BAD_COMMAND, "unknown command"));
                            break;
                        }
                    },
                    Some(Err(e)) if too_big(&e) => {
                        out.push_anyway(close(close_code::TOO_BIG, "message too big"));
                        break;
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                }
            }
            _ = heartbeat.tick() => out.push_anyway(Message::Ping(Default::default())),
            _ = &mut idle => break,
            _ = shutdown.changed() => {
                out.push_anyway(close(1001, "server shutting down"));
                break;
            }
        }
    }
    // A call ends with its connection.
    Box::pin(calls.ended(session, user.id, &commands.rtc_tx)).await;
    if let Err(e) = Box::pin(hub.disconnected(user.id, commands.active)).await {
        tracing::warn!(error = ?e, "could not announce presence");
    }
    if too_slow {
        // Ahead of the backlog it could not take: the client resumes after it.
        out.close_now(close(close_code::SLOW_CONSUMER, "too slow; reconnect"));
    }
    drop(commands);
    out.finish(CLOSING_LIMIT).await;
}
