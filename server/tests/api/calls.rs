//! Calls: who is in a voice channel (limits, permissions, a connection that
//! vanishes), and media through the SFU between two peers built on the
//! `webrtc` crate, talking to the server over the gateway as browsers do.

use crate::gateway::{Ws, connect_as, next_event};
use crate::helpers::{TestApp, User, join, json_of, workspace};
use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
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

async fn send(ws: &mut Ws, command: Value) {
    ws.send(Message::Text(command.to_string().into())).await.expect("the gateway takes the command");
}

/// The next event of `kind`, skipping others, within 10 s.
async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let e = next_event(ws).await;
            if e["type"] == kind {
                return e;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("a {kind} within 10 s"))
}

/// The next VOICE_STATE for `channel` with `n` participants.
async fn state_with(ws: &mut Ws, channel: &str, n: usize) -> Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let e = next_of(ws, "VOICE_STATE").await;
            if e["channel_id"] == channel && e["participants"].as_array().unwrap().len() == n {
                return e;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{n} people in the call within 10 s"))
}

async fn voice_channel(app: &TestApp, owner: &User, ws: &str, limit: i64) -> String {
    let body = json!({"workspace_id": ws, "name": "lounge", "channel_type": "voice", "user_limit": limit});
    let res = owner.post(app, "/api/communication/channels/", body).await;
    json_of(res, StatusCode::CREATED).await["id"].as_str().unwrap().to_string()
}

async fn call_rooms(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let cat = app.user("cat").await;
    let dan = app.user("dan").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    for u in [&bob, &cat, &dan] {
        join(&app, u, &ws).await;
    }
    let lounge = voice_channel(&app, &ana, &ws, 1).await;

    // Ana joins: she may speak, gets the server's offer, and is in the call.
    let mut ana_ws = connect_as(&app, &ana).await;
    let mut bob_ws = connect_as(&app, &bob).await;
    send(&mut ana_ws, json!({"type": "VOICE_JOIN", "channel_id": lounge})).await;
    let joined = next_of(&mut ana_ws, "VOICE_JOINED").await;
    assert_eq!(
        (joined["channel_id"].as_str(), joined["can_speak"].as_bool()),
        (Some(lounge.as_str()), Some(true))
    );
    assert!(next_of(&mut ana_ws, "RTC_OFFER").await["sdp"].as_str().unwrap().starts_with("v=0"));
    let state = state_with(&mut bob_ws, &lounge, 1).await;
    assert_eq!(state["participants"][0]["user"]["username"], "ana");

    // The limit is one: Bob is told the call is full.
    send(&mut bob_ws, json!({"type": "VOICE_JOIN", "channel_id": lounge})).await;
    let refused = next_of(&mut bob_ws, "COMMAND_ERROR").await;
    assert_eq!(refused["command"], "VOICE_JOIN");
    assert_eq!(refused["error"]["code"], "forbidden");
    assert!(refused["error"]["message"].as_str().unwrap().contains("full (1 of 1 people)"), "{refused}");

    // Ana's connection vanishes: the call is empty again, and Bob gets in.
    drop(ana_ws);
    state_with(&mut bob_ws, &lounge, 0).await;
    send(&mut bob_ws, json!({"type": "VOICE_JOIN", "channel_id": lounge})).await;
    // Joined (on the connection) and in the call (for everyone) come in either order.
    tokio::time::timeout(Duration::from_secs(10), async {
        let (mut joined, mut listed) = (false, false);
        while !(joined && listed) {
            let e = next_event(&mut bob_ws).await;
            joined |= e["type"] == "VOICE_JOINED";
            listed |= e["type"] == "VOICE_STATE" && e["participants"].as_array().unwrap().len() == 1;
        }
    })
    .await
    .expect("Bob is in the call within 10 s");
    // The channel list (and so the sidebar) shows who is in the call.
    let list = json_of(
        dan.get(&app, &format!("/api/communication/channels/?workspace_id={ws}")).await,
        StatusCode::OK,
    )
    .await;
    let listed = list.as_array().unwrap().iter().find(|c| c["id"] == lounge.as_str()).unwrap();
    assert_eq!(listed["call"][0]["user"]["username"], "bob", "{listed}");

    // Without speak, Cat joins but is not heard; without join_voice, Dan stays out.
    let path = format!("/api/communication/channels/{lounge}/");
    json_of(ana.put(&app, &path, json!({"user_limit": 0})).await, StatusCode::OK).await;
    let perms = format!("/api/communication/channels/{lounge}/permissions/");
    for (who, deny) in [(&cat, "speak"), (&dan, "join_voice")] {
        let body = json!({"target_kind": "member", "target_id": who.id, "allow": [], "deny": [deny]});
        assert_eq!(ana.put(&app, &perms, body).await.status(), StatusCode::NO_CONTENT);
    }
    let mut cat_ws = connect_as(&app, &cat).await;
    send(&mut cat_ws, json!({"type": "VOICE_JOIN", "channel_id": lounge})).await;
    assert_eq!(next_of(&mut cat_ws, "VOICE_JOINED").await["can_speak"], false);
    let mut dan_ws = connect_as(&app, &dan).await;
    send(&mut dan_ws, json!({"type": "VOICE_JOIN", "channel_id": lounge})).await;
    let refused = next_of(&mut dan_ws, "COMMAND_ERROR").await;
    assert_eq!(refused["error"]["code"], "forbidden", "{refused}");

    // Muting others needs mute_members: Cat may not; Ana (the owner) may, from outside the call.
    send(&mut cat_ws, json!({"type": "VOICE_MUTE", "channel_id": lounge, "user_id": bob.id, "muted": true}))
        .await;
    assert_eq!(next_of(&mut cat_ws, "COMMAND_ERROR").await["error"]["code"], "forbidden");
    let mut ana_ws = connect_as(&app, &ana).await;
    send(&mut ana_ws, json!({"type": "VOICE_MUTE", "channel_id": lounge, "user_id": bob.id, "muted": true}))
        .await;
    let muted = loop {
        let s = state_with(&mut dan_ws, &lounge, 2).await;
        if let Some(b) =
            s["participants"].as_array().unwrap().iter().find(|p| p["user"]["id"] == bob.id.as_str())
            && b["server_muted"] == true
        {
            break b.clone();
        }
    };
    assert_eq!(muted["can_speak"], true);
    let log = json_of(
        ana.get(&app, &format!("/api/communication/workspaces/{ws}/audit_log/?action=voice")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(log[0]["action"], "voice.mute", "{log}");

    // Leaving by command.
    send(&mut cat_ws, json!({"type": "VOICE_LEAVE"})).await;
    state_with(&mut dan_ws, &lounge, 1).await;
    app
}

/// A call participant built on the `webrtc` crate: it answers the server's
/// offers, counts the RTP packets it receives by kind, and, as a publisher,
/// sends synthetic Opus and VP8 packets.
struct Peer {
    pc: Arc<RTCPeerConnection>,
    commands: mpsc::UnboundedSender<Value>,
    events: mpsc::UnboundedReceiver<Value>,
    audio: Arc<AtomicUsize>,
    video: Arc<AtomicUsize>,
}

impl Peer {
    async fn join(app: &TestApp, user: &User, channel: &str, publish: bool) -> Peer {
        let mut media = MediaEngine::default();
        media.register_default_codecs().unwrap();
        let registry = register_default_interceptors(Registry::new(), &mut media).unwrap();
        let api = APIBuilder::new().with_media_engine(media).with_interceptor_registry(registry).build();
        let pc = Arc::new(api.new_peer_connection(RTCConfiguration::default()).await.unwrap());
        if publish {
            for (mime, clock, channels, id) in
                [(MIME_TYPE_OPUS, 48_000, 2, "mic"), (MIME_TYPE_VP8, 90_000, 0, "camera")]
            {
                let cap = RTCRtpCodecCapability {
                    mime_type: mime.into(),
                    clock_rate: clock,
                    channels,
                    ..Default::default()
                };
                let track = Arc::new(TrackLocalStaticRTP::new(cap, id.into(), "me".into()));
                pc.add_track(track.clone() as Arc<dyn TrackLocal + Send + Sync>).await.unwrap();
                tokio::spawn(pump(track, mime == MIME_TYPE_OPUS));
            }
        }
        let (audio, video) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (a, v) = (audio.clone(), video.clone());
        pc.on_track(Box::new(move |track, _, _| {
            let counter = if track.kind() == RTPCodecType::Audio { a.clone() } else { v.clone() };
            tokio::spawn(async move {
                while track.read_rtp().await.is_ok() {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });
            Box::pin(async {})
        }));
        let mut ws = connect_as(app, user).await;
        send(&mut ws, json!({"type": "VOICE_JOIN", "channel_id": channel})).await;
        let (commands, mut outgoing) = mpsc::unbounded_channel::<Value>();
        let (seen, events) = mpsc::unbounded_channel::<Value>();
        let signalling = pc.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    Some(c) = outgoing.recv() => send(&mut ws, c).await,
                    frame = ws.next() => {
                        let Some(Ok(Message::Text(text))) = frame else {
                            if matches!(frame, Some(Ok(_))) { continue } else { break }
                        };
                        let e: Value = serde_json::from_str(&text).unwrap();
                        match e["type"].as_str() {
                            Some("RTC_OFFER") => {
                                let offer = RTCSessionDescription::offer(e["sdp"].as_str().unwrap().into()).unwrap();
                                signalling.set_remote_description(offer).await.unwrap();
                                let answer = signalling.create_answer(None).await.unwrap();
                                let mut gathered = signalling.gathering_complete_promise().await;
                                signalling.set_local_description(answer).await.unwrap();
                                let _ = gathered.recv().await;
                                let sdp = signalling.local_description().await.unwrap().sdp;
                                send(&mut ws, json!({"type": "RTC_ANSWER", "sdp": sdp})).await;
                            }
                            Some("RTC_CANDIDATE") => {
                                let init = RTCIceCandidateInit {
                                    candidate: e["candidate"].as_str().unwrap().into(),
                                    sdp_mid: e["sdp_mid"].as_str().map(Into::into),
                                    sdp_mline_index: e["sdp_mline_index"].as_u64().map(|i| i as u16),
                                    username_fragment: None,
                                };
                                let _ = signalling.add_ice_candidate(init).await;
                            }
                            _ => { let _ = seen.send(e); }
                        }
                    }
                }
            }
        });
        Peer { pc, commands, events, audio, video }
    }

    /// Waits until `count` passes `at_least`.
    async fn until(count: &AtomicUsize, at_least: usize, what: &str) {
        tokio::time::timeout(Duration::from_secs(15), async {
            while count.load(Ordering::Relaxed) < at_least {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .unwrap_or_else(|_| {
            panic!("{what}: {} of {at_least} packets in 15 s", count.load(Ordering::Relaxed))
        });
    }

    /// The next event of `kind` this peer's connection received.
    async fn next(&mut self, kind: &str) -> Value {
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

/// Writes a synthetic packet every 20 ms (audio) or 33 ms (video) until the track is gone.
async fn pump(track: Arc<TrackLocalStaticRTP>, audio: bool) {
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
    }
}

async fn media_flows_through_the_sfu(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let lounge = voice_channel(&app, &ana, &ws, 0).await;

    // Ana listens; Bob publishes a microphone and a camera.
    let mut listener = Peer::join(&app, &ana, &lounge, false).await;
    listener.next("VOICE_JOINED").await;
    let speaker = Peer::join(&app, &bob, &lounge, true).await;
    Peer::until(&listener.audio, 25, "audio from Bob").await;
    Peer::until(&listener.video, 15, "video from Bob").await;

    // Ana (the owner) mutes Bob for everyone: his audio stops reaching her, his video does not.
    listener
        .commands
        .send(json!({"type": "VOICE_MUTE", "channel_id": lounge, "user_id": bob.id, "muted": true}))
        .unwrap();
    loop {
        let s = listener.next("VOICE_STATE").await;
        if s["participants"].as_array().unwrap().iter().any(|p| p["server_muted"] == true) {
            break;
        }
    }
    let audio_then = listener.audio.load(Ordering::Relaxed);
    let video_then = listener.video.load(Ordering::Relaxed);
    Peer::until(&listener.video, video_then + 45, "video while Bob is muted").await;
    let leaked = listener.audio.load(Ordering::Relaxed) - audio_then;
    assert!(leaked <= 5, "{leaked} audio packets reached Ana while Bob was muted (only those in flight may)");
    listener
        .commands
        .send(json!({"type": "VOICE_MUTE", "channel_id": lounge, "user_id": bob.id, "muted": false}))
        .unwrap();
    Peer::until(&listener.audio, audio_then + leaked + 25, "audio after unmuting").await;

    // Bob's connection closes: he leaves the call, and the server lets go of his peer.
    speaker.commands.send(json!({"type": "VOICE_LEAVE"})).unwrap();
    loop {
        let s = listener.next("VOICE_STATE").await;
        if s["participants"].as_array().unwrap().len() == 1 {
            break;
        }
    }
    let _ = speaker.pc.close().await;
    let _ = listener.pc.close().await;
    app
}

crate::on_both_backends! {
    call_rooms => call_rooms;
    media_flows_through_the_sfu => media_flows_through_the_sfu;
}
