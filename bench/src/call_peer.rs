//! A call participant as a program: a peer connection on the `webrtc`
//! crate that joins a voice channel over Parley's gateway as a browser
//! does (it answers the server's offers and trickles candidates), counts the
//! RTP packets it receives by kind, and, as a publisher, sends synthetic
//! Opus and VP8 packets (50 and 30 a second). The integration tests and the
//! SFU benchmark both use it.

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use webrtc::api::APIBuilder;
use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8, MediaEngine};
use webrtc::ice_transport::ice_candidate::RTCIceCandidateInit;
use webrtc::interceptor::registry::Registry;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::rtp::header::Header;
use webrtc::rtp::packet::Packet;
use webrtc::rtp_transceiver::rtp_codec::{RTCRtpCodecCapability, RTPCodecType};
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;
use webrtc::track::track_local::{TrackLocal, TrackLocalWriter};

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Packets counted by kind, and how many video tracks arrived (of them,
/// how many the server marked as screens).
#[derive(Default)]
pub struct Counts {
    pub audio: AtomicUsize,
    pub video: AtomicUsize,
    pub video_tracks: AtomicUsize,
    pub screens: AtomicUsize,
    /// Screen tracks that ended (their sender left this connection).
    pub screens_ended: AtomicUsize,
}

impl Counts {
    pub fn audio(&self) -> usize {
        self.audio.load(Ordering::Relaxed)
    }

    pub fn video(&self) -> usize {
        self.video.load(Ordering::Relaxed)
    }

    pub fn video_tracks(&self) -> usize {
        self.video_tracks.load(Ordering::Relaxed)
    }

    pub fn screens(&self) -> usize {
        self.screens.load(Ordering::Relaxed)
    }

    pub fn screens_ended(&self) -> usize {
        self.screens_ended.load(Ordering::Relaxed)
    }

    fn add(&self, kind: RTPCodecType) {
        let counter = if kind == RTPCodecType::Audio { &self.audio } else { &self.video };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

pub struct Peer {
    pub pc: Arc<RTCPeerConnection>,
    /// Gateway commands to send (JSON).
    pub commands: mpsc::UnboundedSender<Value>,
    /// Gateway events other than signalling.
    pub events: mpsc::UnboundedReceiver<Value>,
    /// What arrived from the others.
    pub received: Arc<Counts>,
    /// What this peer sent (a publisher).
    pub sent: Arc<Counts>,
}

impl Peer {
    /// Connects to the gateway at `ws_url` with `token` and joins `channel`'s
    /// call, publishing a microphone and a camera when `publish`.
    pub async fn join(ws_url: &str, token: &str, channel: &str, publish: bool) -> Peer {
        let mut media = MediaEngine::default();
        media.register_default_codecs().expect("codecs");
        let registry = register_default_interceptors(Registry::new(), &mut media).expect("interceptors");
        let api = APIBuilder::new().with_media_engine(media).with_interceptor_registry(registry).build();
        let pc =
            Arc::new(api.new_peer_connection(RTCConfiguration::default()).await.expect("peer connection"));
        let sent = Arc::new(Counts::default());
        if publish {
            for (kind, mime, clock, channels, id) in [
                (RTPCodecType::Audio, MIME_TYPE_OPUS, 48_000, 2, "mic"),
                (RTPCodecType::Video, MIME_TYPE_VP8, 90_000, 0, "camera"),
            ] {
                let cap = RTCRtpCodecCapability {
                    mime_type: mime.into(),
                    clock_rate: clock,
                    channels,
                    ..Default::default()
                };
                let track = Arc::new(TrackLocalStaticRTP::new(cap, id.into(), "me".into()));
                pc.add_track(track.clone() as Arc<dyn TrackLocal + Send + Sync>).await.expect("track");
                tokio::spawn(pump(track, kind, sent.clone()));
            }
        }
        let received = Arc::new(Counts::default());
        let counts = received.clone();
        pc.on_track(Box::new(move |track, _, _| {
            let counts = counts.clone();
            if track.kind() == RTPCodecType::Video {
                // Screens first: whoever sees the track count has seen this too.
                if track.stream_id().ends_with("-screen") {
                    counts.screens.fetch_add(1, Ordering::Relaxed);
                }
                counts.video_tracks.fetch_add(1, Ordering::Relaxed);
            }
            // The handler must return: tracks are announced one after another.
            tokio::spawn(async move {
                while track.read_rtp().await.is_ok() {
                    counts.add(track.kind());
                }
                if track.stream_id().ends_with("-screen") {
                    counts.screens_ended.fetch_add(1, Ordering::Relaxed);
                }
            });
            Box::pin(async {})
        }));
        let mut request = ws_url.into_client_request().expect("gateway URL");
        request.headers_mut().insert("authorization", format!("Bearer {token}").parse().expect("token"));
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
            .await
            .expect("gateway connection");
        // HELLO comes first; a new session starts with IDENTIFY.
        send(&mut ws, json!({"type": "IDENTIFY"})).await;
        send(&mut ws, json!({"type": "VOICE_JOIN", "channel_id": channel})).await;
        let (commands, outgoing) = mpsc::unbounded_channel::<Value>();
        let (seen, events) = mpsc::unbounded_channel::<Value>();
        tokio::spawn(signal(ws, pc.clone(), outgoing, seen));
        Peer { pc, commands, events, received, sent }
    }

    /// Stops sharing the screen.
    pub fn stop_screen(&self) {
        let _ = self.commands.send(json!({"type": "VOICE_SCREEN", "sharing": false}));
    }

    /// Shares a (synthetic) screen: one more VP8 track, offered by the server
    /// on request and attached when answering.
    pub async fn share_screen(&self) {
        let cap = RTCRtpCodecCapability {
            mime_type: MIME_TYPE_VP8.into(),
            clock_rate: 90_000,
            ..Default::default()
        };
        let track = Arc::new(TrackLocalStaticRTP::new(cap, "screen".into(), "me-screen".into()));
        self.pc.add_track(track.clone() as Arc<dyn TrackLocal + Send + Sync>).await.expect("screen track");
        tokio::spawn(pump(track, RTPCodecType::Video, self.sent.clone()));
        let _ = self.commands.send(json!({"type": "VOICE_SCREEN", "sharing": true}));
    }

    /// The next event of `kind` this peer's connection received, within 10 s.
    pub async fn next(&mut self, kind: &str) -> Value {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let e = self.events.recv().await.expect("connection open");
                if e["type"] == kind {
                    return e;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("a {kind} within 10 s"))
    }
}

/// Waits until `count()` reaches `at_least`, at most 15 s.
pub async fn until(count: impl Fn() -> usize, at_least: usize, what: &str) {
    let reached = tokio::time::timeout(Duration::from_secs(15), async {
        while count() < at_least {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(reached.is_ok(), "{what}: {} of {at_least} packets in 15 s", count());
}

async fn send(ws: &mut Ws, command: Value) {
    ws.send(Message::Text(command.to_string().into())).await.expect("the gateway takes the command");
}

/// Answers the server's offers, adds its candidates, sends `outgoing`
/// commands, and passes every other event on to `seen`.
async fn signal(
    mut ws: Ws,
    pc: Arc<RTCPeerConnection>,
    mut outgoing: mpsc::UnboundedReceiver<Value>,
    seen: mpsc::UnboundedSender<Value>,
) {
    loop {
        tokio::select! {
            Some(c) = outgoing.recv() => send(&mut ws, c).await,
            frame = ws.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                    _ => break,
                };
                let Ok(e) = serde_json::from_str::<Value>(&text) else { continue };
                match e["type"].as_str() {
                    Some("RTC_OFFER") => {
                        let Some(sdp) = answer(&pc, e["sdp"].as_str().unwrap_or_default()).await else { continue };
                        send(&mut ws, json!({"type": "RTC_ANSWER", "sdp": sdp})).await;
                    }
                    Some("RTC_CANDIDATE") => {
                        let init = RTCIceCandidateInit {
                            candidate: e["candidate"].as_str().unwrap_or_default().into(),
                            sdp_mid: e["sdp_mid"].as_str().map(Into::into),
                            sdp_mline_index: e["sdp_mline_index"].as_u64().map(|i| i as u16),
                            username_fragment: None,
                        };
                        let _ = pc.add_ice_candidate(init).await;
                    }
                    _ => {
                        let _ = seen.send(e);
                    }
                }
            }
        }
    }
}

/// The answer to `offer`, with all local candidates in it.
async fn answer(pc: &RTCPeerConnection, offer: &str) -> Option<String> {
    pc.set_remote_description(RTCSessionDescription::offer(offer.into()).ok()?).await.ok()?;
    let answer = pc.create_answer(None).await.ok()?;
    let mut gathered = pc.gathering_complete_promise().await;
    pc.set_local_description(answer).await.ok()?;
    let _ = gathered.recv().await;
    Some(pc.local_description().await?.sdp)
}

/// Writes a synthetic packet every 20 ms (audio) or 33 ms (video) until the track is gone.
async fn pump(track: Arc<TrackLocalStaticRTP>, kind: RTPCodecType, sent: Arc<Counts>) {
    let audio = kind == RTPCodecType::Audio;
    let (every, step, payload): (u64, u32, Vec<u8>) = if audio {
        (20, 960, vec![0xfc, 0xff, 0xfe])
    } else {
        (33, 3000, vec![0x10, 0x00, 0x9d, 0x01, 0x2a])
    };
    let mut tick = tokio::time::interval(Duration::from_millis(every));
    for n in 0u32.. {
        tick.tick().await;
        let packet = Packet {
            header: Header {
                version: 2,
                marker: true,
                sequence_number: n as u16,
                timestamp: n.wrapping_mul(step),
                ..Default::default()
            },
            payload: payload.clone().into(),
        };
        if track.write_rtp(&packet).await.is_err() {
            break;
        }
        sent.add(kind);
    }
}
