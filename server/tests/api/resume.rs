//! Resumable gateway sessions: a client that reconnects with `RESUME` gets
//! exactly what it missed, in order, filtered by what its person may see now.

use crate::gateway::{Ws, next_any_event};
use crate::helpers::{TestApp, User, channel, join, json_of, say, without_rate_limits, workspace};
use app::wire::{GatewayCommand, GatewayEvent, MessagePageDto, PresenceStatus, Sequenced};
use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

/// A gateway client that remembers its session and the last position it saw.
struct Client {
    ws: Option<Ws>,
    session_id: String,
    seq: i64,
    /// Every position received, in order (to find duplicates and disorder).
    seen: Vec<i64>,
}

async fn open(app: &TestApp, user: &User) -> Ws {
    let mut req = format!("ws://127.0.0.1:{}/ws", app.port).into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", HeaderValue::from_str(&format!("Bearer {}", user.token)).unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("upgrade");
    let hello: GatewayEvent = serde_json::from_value(next_any_event(&mut ws).await).unwrap();
    assert!(matches!(hello, GatewayEvent::Hello { .. }), "HELLO first, got {hello:?}");
    ws
}

async fn send(ws: &mut Ws, command: &GatewayCommand) {
    ws.send(Message::Text(serde_json::to_string(command).unwrap().into())).await.unwrap();
}

/// One frame: its position (for logged events) and the event.
async fn next_frame(ws: &mut Ws) -> (Option<i64>, GatewayEvent) {
    let value = next_any_event(ws).await;
    let seq: Sequenced = serde_json::from_value(value.clone()).unwrap();
    (seq.seq, serde_json::from_value(value).expect("a gateway event"))
}

impl Client {
    async fn identify(app: &TestApp, user: &User) -> Client {
        let mut ws = open(app, user).await;
        send(&mut ws, &GatewayCommand::Identify).await;
        match next_frame(&mut ws).await.1 {
            GatewayEvent::Ready { session_id, seq, .. } => {
                Client { ws: Some(ws), session_id, seq, seen: Vec::new() }
            }
            other => panic!("READY after IDENTIFY, got {other:?}"),
        }
    }

    fn drop_connection(&mut self) {
        self.ws = None;
    }

    /// Reconnects with `RESUME`; returns the events replayed (until `RESUMED`).
    async fn resume(&mut self, app: &TestApp, user: &User) -> Vec<GatewayEvent> {
        let mut ws = open(app, user).await;
        send(&mut ws, &GatewayCommand::Resume { session_id: self.session_id.clone(), seq: self.seq }).await;
        let mut replayed = Vec::new();
        loop {
            match next_frame(&mut ws).await {
                (_, GatewayEvent::Resumed { seq, .. }) => {
                    self.seq = self.seq.max(seq);
                    break;
                }
                (_, GatewayEvent::InvalidSession { reason }) => panic!("resume refused: {reason}"),
                (Some(seq), event) => {
                    self.saw(seq);
                    replayed.push(event);
                }
                (None, GatewayEvent::PresenceUpdate { .. }) => {}
                (None, other) => panic!("only logged events before RESUMED, got {other:?}"),
            }
        }
        self.ws = Some(ws);
        replayed
    }

    fn saw(&mut self, seq: i64) {
        self.seen.push(seq);
        self.seq = seq;
    }

    /// The next logged event other than a presence update (those come and
    /// go as test clients connect), within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<GatewayEvent> {
        let Client { ws, seen, seq: last, .. } = self;
        let ws = ws.as_mut().expect("connected");
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, ws.next()).await.ok()?;
            let text = match frame.expect("open").expect("frame") {
                Message::Text(t) => t,
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            };
            let seq: Sequenced = serde_json::from_str(&text).unwrap();
            let event: GatewayEvent = serde_json::from_str(&text).expect("a gateway event");
            if let Some(seq) = seq.seq {
                seen.push(seq);
                *last = seq;
                if !matches!(event, GatewayEvent::PresenceUpdate { .. }) {
                    return Some(event);
                }
            }
        }
    }
}

/// A channel as a client sees it from the events it received.
#[derive(Default, Debug, PartialEq)]
struct View {
    /// Message id → (body, reactions as (emoji, user id)).
    messages: BTreeMap<String, (String, BTreeSet<(String, String)>)>,
}

impl View {
    fn apply(&mut self, event: &GatewayEvent) {
        match event {
            GatewayEvent::MessageCreate { message } => {
                self.messages.insert(message.id.clone(), (message.body.clone(), BTreeSet::new()));
            }
            GatewayEvent::MessageUpdate { message } => {
                if let Some(m) = self.messages.get_mut(&message.id) {
                    m.0 = message.body.clone();
                }
            }
            GatewayEvent::MessageDelete { message_id, .. } => {
                self.messages.remove(message_id);
            }
            GatewayEvent::ReactionAdd { message_id, emoji, user, .. } => {
                if let Some(m) = self.messages.get_mut(message_id) {
                    m.1.insert((emoji.clone(), user.id.clone()));
                }
            }
            GatewayEvent::ReactionRemove { message_id, emoji, user_id, .. } => {
                if let Some(m) = self.messages.get_mut(message_id) {
                    m.1.remove(&(emoji.clone(), user_id.clone()));
                }
            }
            _ => {}
        }
    }

    /// The channel as the API lists it, every page.
    async fn of_database(app: &TestApp, who: &User, channel: &str) -> View {
        let mut view = View::default();
        let mut before = String::new();
        loop {
            let path = format!("/api/communication/messages/?channel_id={channel}&limit=100{before}");
            let page = who.get(app, &path).await;
            let page: MessagePageDto = serde_json::from_value(json_of(page, StatusCode::OK).await).unwrap();
            for m in page.messages.into_iter().filter(|m| !m.deleted) {
                let reactions = (m.reactions.iter())
                    .flat_map(|r| r.users.iter().map(|u| (r.emoji.clone(), u.id.clone())))
                    .collect();
                view.messages.insert(m.id, (m.body, reactions));
            }
            match page.next_cursor {
                Some(cursor) => before = format!("&before={cursor}"),
                None => return view,
            }
        }
    }
}

fn message_id(posted: &Value) -> String {
    posted["id"].as_str().unwrap().to_string()
}

/// Bob drops his connection; Ana posts, edits, reacts and deletes; Bob's
/// `RESUME` brings exactly those events in order, then `RESUMED`, then the
/// live stream.
async fn a_resumed_session_gets_what_it_missed_in_order(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let mut client = Client::identify(&app, &bob).await;
    say(&app, &ana, &general, "before").await;
    assert!(matches!(client.next(Duration::from_secs(5)).await, Some(GatewayEvent::MessageCreate { .. })));
    client.drop_connection();

    let first = message_id(&say(&app, &ana, &general, "one").await);
    let second = message_id(&say(&app, &ana, &general, "two").await);
    let edit =
        ana.put(&app, &format!("/api/communication/messages/{first}/"), json!({"body": "one, edited"})).await;
    assert_eq!(edit.status(), StatusCode::OK);
    let react = format!("/api/communication/messages/{first}/add_reaction/");
    assert_eq!(ana.post(&app, &react, json!({"emoji": "👍"})).await.status(), StatusCode::NO_CONTENT);
    let delete = ana.delete(&app, &format!("/api/communication/messages/{second}/")).await;
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);

    let replayed = client.resume(&app, &bob).await;
    let kinds: Vec<&str> = replayed
        .iter()
        .map(|e| match e {
            GatewayEvent::MessageCreate { .. } => "create",
            GatewayEvent::MessageUpdate { .. } => "update",
            GatewayEvent::ReactionAdd { .. } => "react",
            GatewayEvent::MessageDelete { .. } => "delete",
            _ => "other",
        })
        .filter(|k| *k != "other")
        .collect();
    assert_eq!(kinds, ["create", "create", "update", "react", "delete"]);
    assert!(client.seen.windows(2).all(|w| w[0] < w[1]), "in log order, each once: {:?}", client.seen);

    say(&app, &ana, &general, "live again").await;
    match client.next(Duration::from_secs(5)).await {
        Some(GatewayEvent::MessageCreate { message }) => assert_eq!(message.body, "live again"),
        other => panic!("the live stream after RESUMED, got {other:?}"),
    }
    app
}

/// What Bob can no longer see when he comes back is not replayed: removed
/// (with the workspace) from a private channel while away, he gets his
/// removal and none of the channel's messages, while another workspace's
/// messages still reach him.
async fn a_person_removed_from_a_private_channel_while_away_gets_none_of_its_events(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    let (other_ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    join(&app, &bob, &other_ws).await;
    let secret = channel(&app, &ana, &ws, "secret", true).await;
    let add = ana
        .post(
            &app,
            &format!("/api/communication/channels/{secret}/add_members/"),
            json!({"usernames": ["bob"]}),
        )
        .await;
    assert!(add.status().is_success());
    let mut client = Client::identify(&app, &bob).await;
    client.drop_connection();

    say(&app, &ana, &secret, "said while bob was a member").await;
    let kick = format!("/api/communication/workspaces/{ws}/members/{}/kick/", bob.id);
    assert!(ana.post(&app, &kick, json!({})).await.status().is_success());
    say(&app, &ana, &secret, "said after bob left").await;
    say(&app, &ana, &general, "for everyone").await;

    let replayed = client.resume(&app, &bob).await;
    let bodies: Vec<&str> = replayed
        .iter()
        .filter_map(|e| match e {
            GatewayEvent::MessageCreate { message } => Some(message.body.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(bodies, ["for everyone"], "nothing of the channel he may no longer see");
    assert!(
        replayed.iter().any(
            |e| matches!(e, GatewayEvent::ChannelMemberRemove { channel_id, .. } if *channel_id == secret)
        ),
        "he learns that he was removed: {replayed:?}"
    );
    app
}

/// A `RESUME` the server cannot honour is answered with `INVALID_SESSION`
/// and a fresh `READY`: another person's session, or a position the log
/// never had.
async fn a_resume_that_cannot_be_honoured_starts_a_new_session(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let anas = Client::identify(&app, &ana).await;
    for (session_id, seq) in
        [(anas.session_id.clone(), anas.seq), (format!("{}.1", bob.id), anas.seq + 1_000_000)]
    {
        let mut ws = open(&app, &bob).await;
        send(&mut ws, &GatewayCommand::Resume { session_id, seq }).await;
        assert!(matches!(next_frame(&mut ws).await.1, GatewayEvent::InvalidSession { .. }));
        assert!(
            matches!(next_frame(&mut ws).await.1, GatewayEvent::Ready { user, .. } if user.username == "bob")
        );
    }
    app
}

/// A command before `IDENTIFY` closes the connection with `NOT_IDENTIFIED`.
async fn commands_before_identify_are_refused(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let mut ws = open(&app, &ana).await;
    send(&mut ws, &GatewayCommand::Typing { channel_id: "1".into() }).await;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("closed within 5 s") {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), app::wire::close_code::NOT_IDENTIFIED);
                break;
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
    app
}

/// A small deterministic generator, so a failing run can be repeated.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// 100 disconnects at random moments during a stream of posts, edits,
/// deletes and reactions: Bob resumes each time, and in the end his view
/// equals the database's, with no position received twice or out of order.
async fn random_disconnects_lose_nothing_and_repeat_nothing(backend: domain::Backend) {
    let app = TestApp::spawn_with(backend, without_rate_limits()).await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let mut client = Client::identify(&app, &bob).await;
    let mut view = View::default();

    let writer = {
        let (app_base, ana, general) = (app.base.clone(), ana.clone(), general.clone());
        tokio::spawn(async move {
            let url = |p: &str| format!("{app_base}{p}");
            let mut dice = Dice(0x5eed_1234_abcd_0001);
            let mut live: Vec<String> = Vec::new();
            for i in 0..400 {
                let roll = dice.below(10);
                if live.is_empty() || roll < 6 {
                    let body = json!({"channel_id": general, "body": format!("message {i}")});
                    let res = ana
                        .client
                        .post(url("/api/communication/messages/"))
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), StatusCode::CREATED);
                    live.push(res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string());
                    continue;
                }
                let id = live[dice.below(live.len() as u64) as usize].clone();
                let res = match roll {
                    6 => {
                        let body = json!({"body": format!("edited {i}")});
                        ana.client.put(url(&format!("/api/communication/messages/{id}/"))).json(&body).send()
                    }
                    7 => {
                        live.retain(|m| *m != id);
                        ana.client.delete(url(&format!("/api/communication/messages/{id}/"))).send()
                    }
                    8 => {
                        let path = format!("/api/communication/messages/{id}/add_reaction/");
                        ana.client.post(url(&path)).json(&json!({"emoji": "👍"})).send()
                    }
                    _ => {
                        let path = format!("/api/communication/messages/{id}/remove_reaction/");
                        ana.client.post(url(&path)).json(&json!({"emoji": "👍"})).send()
                    }
                };
                assert!(res.await.unwrap().status().is_success());
            }
            let body = json!({"channel_id": general, "body": "the end"});
            let res = ana.client.post(url("/api/communication/messages/")).json(&body).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::CREATED);
        })
    };

    let mut dice = Dice(0xd15c_0c7e_9e37_79b9);
    let is_end =
        |e: &GatewayEvent| matches!(e, GatewayEvent::MessageCreate { message } if message.body == "the end");
    let mut disconnects = 0;
    let mut ended = false;
    while !ended || disconnects < 100 {
        // Read a few events (or wait a little), then drop the connection;
        // after 100 disconnects, read to the end; once at the end, the
        // disconnects left resume with nothing missed.
        let reads = match (ended, disconnects < 100) {
            (true, _) => 0,
            (false, true) => dice.below(6),
            (false, false) => u64::MAX,
        };
        let wait = Duration::from_millis(if disconnects < 100 { 300 } else { 10_000 });
        for _ in 0..reads {
            match client.next(wait).await {
                Some(event) => {
                    ended |= is_end(&event);
                    view.apply(&event);
                    if ended {
                        break;
                    }
                }
                None if disconnects < 100 => break,
                None => {
                    let finished = writer.is_finished();
                    panic!("the stream stopped before its end (the writer finished: {finished})");
                }
            }
        }
        if disconnects < 100 {
            client.drop_connection();
            disconnects += 1;
            for event in client.resume(&app, &bob).await {
                ended |= is_end(&event);
                view.apply(&event);
            }
        }
    }
    writer.await.expect("the writer finished");
    assert_eq!(disconnects, 100, "the stream outlasted the disconnects");
    let duplicates_or_disorder = client.seen.windows(2).filter(|w| w[0] >= w[1]).count();
    assert_eq!(duplicates_or_disorder, 0, "each position once, in order");
    let expected = View::of_database(&app, &ana, &general).await;
    assert_eq!(view, expected, "after {disconnects} resumes, the view equals the database");
    app.finish().await;
}

/// Bob's client stops reading while Ana posts long messages: the server
/// closes it as a slow consumer (4008, ahead of the backlog) rather than
/// hold the backlog; resuming brings every message it had not received,
/// each once.
async fn a_slow_consumer_is_closed_and_resumes_with_nothing_missed(backend: domain::Backend) {
    use app::wire::close_code;
    let app = TestApp::spawn_with(backend, without_rate_limits()).await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;

    // A small receive window, so the backlog stays on the server.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(([127, 0, 0, 1], app.port).into()).await.unwrap();
    let mut req = format!("ws://127.0.0.1:{}/ws", app.port).into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", HeaderValue::from_str(&format!("Bearer {}", bob.token)).unwrap());
    let (mut slow, _) =
        tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(stream)).await.unwrap();
    let hello: GatewayEvent = serde_json::from_value(next_any_event(&mut slow).await).unwrap();
    assert!(matches!(hello, GatewayEvent::Hello { .. }));
    send(&mut slow, &GatewayCommand::Identify).await;
    let (session_id, mut seq) = match next_frame(&mut slow).await.1 {
        GatewayEvent::Ready { session_id, seq, .. } => (session_id, seq),
        other => panic!("READY after IDENTIFY, got {other:?}"),
    };

    // Ana watches Bob's presence: he goes offline when the server lets go
    // of his connection.
    let mut watcher = open(&app, &ana).await;
    send(&mut watcher, &GatewayCommand::Identify).await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watching = {
        let (stop, bob_id) = (stop.clone(), bob.id.clone());
        tokio::spawn(async move {
            loop {
                if let (_, GatewayEvent::PresenceUpdate { user_id, status: PresenceStatus::Offline, .. }) =
                    next_frame(&mut watcher).await
                    && user_id == bob_id
                {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    return;
                }
            }
        })
    };

    // Messages of 4,000 two-byte characters (16 KB a frame, with their
    // HTML) until the server gives up on Bob: at most 3,000, 48 MB.
    let posters: Vec<_> = (0..4)
        .map(|p| {
            let (app_url, token, general) =
                (app.url("/api/communication/messages/"), ana.token.clone(), general.clone());
            let stop = stop.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut ids = Vec::new();
                for i in 0..750 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let body = format!("{p}-{i} {}", "é".repeat(3990));
                    let res = http
                        .post(&app_url)
                        .bearer_auth(&token)
                        .json(&json!({"channel_id": general, "body": body}));
                    ids.push(message_id(&json_of(res.send().await.unwrap(), StatusCode::CREATED).await));
                }
                ids
            })
        })
        .collect();
    let mut posted = BTreeSet::new();
    for p in posters {
        posted.extend(p.await.unwrap());
    }
    assert!(stop.load(std::sync::atomic::Ordering::Relaxed), "the server let go of Bob's connection");
    watching.await.unwrap();

    // Now Bob reads: what the server had sent, then its close.
    let mut received = BTreeMap::<String, usize>::new();
    let closed = loop {
        let frame =
            tokio::time::timeout(Duration::from_secs(30), slow.next()).await.expect("frames within 30 s");
        match frame {
            Some(Ok(Message::Text(text))) => {
                if let (Ok(Sequenced { seq: Some(s) }), Ok(GatewayEvent::MessageCreate { message })) =
                    (serde_json::from_str(&text), serde_json::from_str::<GatewayEvent>(&text))
                {
                    seq = s;
                    *received.entry(message.id).or_default() += 1;
                }
            }
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("the connection failed instead of closing: {e}"),
            None => break None,
        }
    };
    assert_eq!(closed, Some(close_code::SLOW_CONSUMER), "closed as a slow consumer");
    assert!(received.len() < posted.len(), "the backlog was not all sent before closing");

    let mut client = Client { ws: None, session_id, seq, seen: Vec::new() };
    for event in client.resume(&app, &bob).await {
        if let GatewayEvent::MessageCreate { message } = event {
            *received.entry(message.id).or_default() += 1;
        }
    }
    let ids: BTreeSet<String> = received.keys().cloned().collect();
    assert_eq!(ids, posted, "every message, before the close or in the replay");
    assert!(received.values().all(|n| *n == 1), "none twice");
    app.finish().await;
}

crate::on_both_backends! {
    a_resumed_session_gets_what_it_missed_in_order => a_resumed_session_gets_what_it_missed_in_order;
    a_person_removed_from_a_private_channel_while_away_gets_none_of_its_events => a_person_removed_from_a_private_channel_while_away_gets_none_of_its_events;
    a_resume_that_cannot_be_honoured_starts_a_new_session => a_resume_that_cannot_be_honoured_starts_a_new_session;
    commands_before_identify_are_refused => commands_before_identify_are_refused;
}

mod disconnects {
    crate::on_each_backend!(random_disconnects_lose_nothing_and_repeat_nothing);
    use super::random_disconnects_lose_nothing_and_repeat_nothing;
}

mod slow_consumer {
    crate::on_each_backend!(a_slow_consumer_is_closed_and_resumes_with_nothing_missed);
    use super::a_slow_consumer_is_closed_and_resumes_with_nothing_missed;
}
