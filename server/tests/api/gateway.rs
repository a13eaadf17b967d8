use crate::helpers::{TestApp, User, channel, join, json_of, say, workspace};
use app::wire::GatewayEvent;
use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(
    app: &TestApp,
    headers: &[(&'static str, String)],
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("ws://127.0.0.1:{}/ws", app.port).into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(*k, HeaderValue::from_str(v).unwrap());
    }
    tokio_tungstenite::connect_async(req).await.map(|(ws, _)| ws)
}

pub async fn connect_as(app: &TestApp, user: &User) -> Ws {
    let mut ws = connect(app, &[("authorization", format!("Bearer {}", user.token))]).await.expect("upgrade");
    identify(&mut ws).await;
    ws
}

/// A connection as `user` that has had its `HELLO` and not answered it.
pub async fn open_as(app: &TestApp, user: &User) -> Ws {
    let mut ws = connect(app, &[("authorization", format!("Bearer {}", user.token))]).await.expect("upgrade");
    let hello = next_wire(&mut ws).await;
    assert!(matches!(hello, GatewayEvent::Hello { .. }), "HELLO first, got {hello:?}");
    ws
}

/// Answers `HELLO` with `IDENTIFY`; returns `READY`.
pub async fn identify(ws: &mut Ws) -> GatewayEvent {
    let hello = next_wire(ws).await;
    assert!(matches!(hello, GatewayEvent::Hello { .. }), "HELLO first, got {hello:?}");
    ws.send(Message::text(r#"{"type":"IDENTIFY"}"#)).await.unwrap();
    let ready = next_wire(ws).await;
    assert!(matches!(ready, GatewayEvent::Ready { .. }), "READY after IDENTIFY, got {ready:?}");
    ready
}

/// The next event that is not a presence update, as the wire type.
pub async fn next_wire(ws: &mut Ws) -> GatewayEvent {
    serde_json::from_value(next_event(ws).await).expect("a gateway event")
}

/// The next event of any kind, waiting at most 5 s.
pub async fn next_any_event(ws: &mut Ws) -> Value {
    loop {
        let frame =
            tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("an event within 5 s");
        match frame.expect("open").expect("frame") {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// The next event that is not a presence update (those come and go as
/// test clients connect).
/// The next event of `kind`, skipping others, within 10 s.
pub async fn next_of(ws: &mut Ws, kind: &str) -> Value {
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

pub async fn next_event(ws: &mut Ws) -> Value {
    loop {
        let e = next_any_event(ws).await;
        if e["type"] != "PRESENCE_UPDATE" {
            return e;
        }
    }
}

/// The next MESSAGE_CREATE, skipping membership events.
async fn next_message(ws: &mut Ws) -> Value {
    loop {
        let e = next_event(ws).await;
        if e["type"] == "MESSAGE_CREATE" {
            return e["message"].clone();
        }
    }
}

async fn members_get_messages_others_do_not(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let secret = channel(&app, &ana, &ws, "secret", true).await;

    let mut bob_ws = connect_as(&app, &bob).await;
    let mut eve_ws = connect_as(&app, &eve).await;

    // A private message Bob must not get, then a public one he must.
    say(&app, &ana, &secret, "for ana only").await;
    say(&app, &ana, &general, "hello all").await;
    let got = next_message(&mut bob_ws).await;
    assert_eq!(got["body"], "hello all", "the private message never reached bob");
    assert_eq!(got["channel_id"], general.as_str());

    // Once added to the private channel, Bob gets its messages live.
    ana.post(
        &app,
        &format!("/api/communication/channels/{secret}/add_members/"),
        json!({"usernames": ["bob"]}),
    )
    .await;
    say(&app, &ana, &secret, "welcome bob").await;
    assert_eq!(next_message(&mut bob_ws).await["body"], "welcome bob");

    // Eve, in no workspace, got nothing: her next event is the answer to a ping.
    eve_ws.send(Message::text(r#"{"type":"PING"}"#)).await.unwrap();
    assert_eq!(next_event(&mut eve_ws).await["type"], "PONG");
    app
}

async fn session_cookie_authenticates_the_gateway(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let res = ana.client.get(app.url("/api/auth/me")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Sign in again with a plain client to read the cookie it gets.
    let login = reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "ana", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let mut ws = connect(&app, &[("cookie", cookie), ("origin", app.base.clone())])
        .await
        .expect("upgrade with cookie");
    let ready = identify(&mut ws).await;
    assert!(matches!(ready, GatewayEvent::Ready { user, .. } if user.username == "ana"));
    app
}

async fn refuses_anonymous_and_foreign_origin(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let status = |e: tokio_tungstenite::tungstenite::Error| match e {
        tokio_tungstenite::tungstenite::Error::Http(res) => res.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    };
    assert_eq!(status(connect(&app, &[]).await.unwrap_err()), 401);
    assert_eq!(status(connect(&app, &[("authorization", "Bearer pt_bad".into())]).await.unwrap_err()), 401);
    let headers =
        [("authorization", format!("Bearer {}", ana.token)), ("origin", "https://evil.example".to_string())];
    let foreign = connect(&app, &headers);
    assert_eq!(status(foreign.await.unwrap_err()), 403);
    app
}

async fn typing_reaches_the_channel_only_from_members(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let mut ana_ws = connect_as(&app, &ana).await;
    let mut bob_ws = connect_as(&app, &bob).await;
    let mut eve_ws = connect_as(&app, &eve).await;
    let typing = json!({"type": "TYPING", "channel_id": general}).to_string();
    // Eve is not a member: her notice goes nowhere. Then Ana's arrives.
    eve_ws.send(Message::text(typing.clone())).await.unwrap();
    eve_ws.send(Message::text(r#"{"type":"PING"}"#)).await.unwrap();
    assert_eq!(next_event(&mut eve_ws).await["type"], "PONG");
    ana_ws.send(Message::text(typing)).await.unwrap();
    let e = next_event(&mut bob_ws).await;
    assert_eq!(e["type"], "TYPING_START");
    assert_eq!(e["channel_id"], general.as_str());
    assert_eq!(e["user"]["username"], "ana");
    // Unknown commands close the connection with a clear code.
    ana_ws.send(Message::text(r#"{"type":"SHOUT"}"#)).await.unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ana_ws.next()).await.expect("closed within 5 s") {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), app::wire::close_code::BAD_COMMAND);
                break;
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
    app
}

async fn presence_follows_connections(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, _) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let status = |members: &Value, id: &str| {
        members.as_array().unwrap().iter().find(|m| m["user"]["id"] == id).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let members =
        json_of(ana.get(&app, &format!("/api/workspaces/{ws}/members")).await, StatusCode::OK).await;
    assert_eq!(status(&members, &bob.id), "offline");

    let mut ana_ws = connect_as(&app, &ana).await;
    let own = next_any_event(&mut ana_ws).await;
    assert_eq!(
        (own["type"].as_str(), own["user_id"].as_str()),
        (Some("PRESENCE_UPDATE"), Some(ana.id.as_str()))
    );
    let bob_first = connect_as(&app, &bob).await;
    let e = next_any_event(&mut ana_ws).await;
    assert_eq!(
        (e["type"].as_str(), e["user_id"].as_str(), e["status"].as_str()),
        (Some("PRESENCE_UPDATE"), Some(bob.id.as_str()), Some("online"))
    );
    let members =
        json_of(ana.get(&app, &format!("/api/workspaces/{ws}/members")).await, StatusCode::OK).await;
    assert_eq!(status(&members, &bob.id), "online");

    // A second tab is no news; closing one of two keeps Bob online.
    let mut bob_second = connect_as(&app, &bob).await;
    drop(bob_first);
    bob_second.send(Message::text(r#"{"type":"PING"}"#)).await.unwrap();
    assert_eq!(next_any_event(&mut bob_second).await["type"], "PONG");
    ana_ws.send(Message::text(r#"{"type":"PING"}"#)).await.unwrap();
    assert_eq!(
        next_any_event(&mut ana_ws).await["type"],
        "PONG",
        "no presence change while a tab stays open"
    );
    // An idle page makes Bob away; activity brings him back.
    bob_second.send(Message::text(r#"{"type":"ACTIVITY","active":false}"#)).await.unwrap();
    let e = next_any_event(&mut ana_ws).await;
    assert_eq!((e["type"].as_str(), e["status"].as_str()), (Some("PRESENCE_UPDATE"), Some("away")));
    let members =
        json_of(ana.get(&app, &format!("/api/workspaces/{ws}/members")).await, StatusCode::OK).await;
    assert_eq!(status(&members, &bob.id), "away");
    bob_second.send(Message::text(r#"{"type":"ACTIVITY","active":false}"#)).await.unwrap();
    bob_second.send(Message::text(r#"{"type":"ACTIVITY","active":true}"#)).await.unwrap();
    let e = next_any_event(&mut ana_ws).await;
    assert_eq!(e["status"], "online", "a repeated idle notice changes nothing; activity does");
    bob_second.close(None).await.unwrap();
    let e = next_any_event(&mut ana_ws).await;
    assert_eq!((e["type"].as_str(), e["status"].as_str()), (Some("PRESENCE_UPDATE"), Some("offline")));
    app
}

/// The next event of `kind` as the typed wire event.
async fn next_typed(ws: &mut Ws, kind: &str) -> app::wire::GatewayEvent {
    serde_json::from_value(next_of(ws, kind).await).expect("a gateway event")
}

async fn send_command(ws: &mut Ws, command: &app::wire::GatewayCommand) {
    ws.send(Message::Text(serde_json::to_string(command).unwrap().into())).await.unwrap();
}

/// A message sent over the socket is stored with the same checks as one
/// sent through the API: the sender is acknowledged with the stored message
/// (`MESSAGE_ACK`, by nonce), the channel's members get it, sending again
/// with the same nonce stores it once, and a refused one is answered with
/// `COMMAND_ERROR` naming the nonce.
async fn messages_sent_over_the_socket_are_acknowledged_once_stored(app: TestApp) -> TestApp {
    use app::wire::{ErrorCode, GatewayCommand, GatewayEvent, MessagePageDto};
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let mut ana_ws = connect_as(&app, &ana).await;
    let mut bob_ws = connect_as(&app, &bob).await;
    let send = GatewayCommand::MessageCreate {
        channel_id: general.clone(),
        body: "sent over the socket".into(),
        nonce: "n-1".into(),
        thread_id: None,
    };
    send_command(&mut ana_ws, &send).await;
    let GatewayEvent::MessageAck { nonce, message } = next_typed(&mut ana_ws, "MESSAGE_ACK").await else {
        unreachable!()
    };
    assert_eq!((nonce.as_str(), message.body.as_str()), ("n-1", "sent over the socket"));
    let GatewayEvent::MessageCreate { message: seen } = next_typed(&mut bob_ws, "MESSAGE_CREATE").await
    else {
        unreachable!()
    };
    assert_eq!(seen.id, message.id, "the channel's members get it");

    send_command(&mut ana_ws, &send).await;
    let GatewayEvent::MessageAck { message: again, .. } = next_typed(&mut ana_ws, "MESSAGE_ACK").await else {
        unreachable!()
    };
    assert_eq!(again.id, message.id, "the same nonce is the same message");
    let page = ana.get(&app, &format!("/api/communication/messages/?channel_id={general}")).await;
    let page: MessagePageDto = serde_json::from_value(json_of(page, StatusCode::OK).await).unwrap();
    assert_eq!(page.messages.iter().filter(|m| m.body == "sent over the socket").count(), 1, "stored once");

    let empty = GatewayCommand::MessageCreate {
        channel_id: general.clone(),
        body: "   ".into(),
        nonce: "n-2".into(),
        thread_id: None,
    };
    send_command(&mut ana_ws, &empty).await;
    let GatewayEvent::CommandError { command, error, nonce } = next_typed(&mut ana_ws, "COMMAND_ERROR").await
    else {
        unreachable!()
    };
    assert_eq!((command.as_str(), nonce.as_deref()), ("MESSAGE_CREATE", Some("n-2")));
    assert_eq!(error.code, ErrorCode::Invalid);
    app
}

/// A WebSocket to `path` as `user` (no frame read yet).
async fn socket_at(
    app: &TestApp,
    path: &str,
    user: &User,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("ws://127.0.0.1:{}{path}", app.port).into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", HeaderValue::from_str(&format!("Bearer {}", user.token)).unwrap());
    tokio_tungstenite::connect_async(req).await.map(|(ws, _)| ws)
}

/// The next frame of the seeds' formats whose `type` is `kind`, within 5 s.
async fn next_seed_frame(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let e = next_any_event(ws).await;
        if e["type"] == kind {
            return e;
        }
    }
}

/// The communication API's WebSocket format: `{"type": "message",
/// channel_id, content}` is stored as a message (the sender is told
/// `message_sent`, members of the channel get it), and one to a channel the
/// sender is not in is refused with `{"type": "error"}`.
async fn the_communication_websocket_format_sends_and_receives(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let mut ana_seed = socket_at(&app, "/ws/communication/messages/", &ana).await.expect("upgrade");
    let mut bob_seed = socket_at(&app, "/ws/communication/messages/", &bob).await.expect("upgrade");
    let mut bob_ws = connect_as(&app, &bob).await;
    let hello = json!({"type": "message", "channel_id": general, "content": "hello in the old format"});
    ana_seed.send(Message::Text(hello.to_string().into())).await.unwrap();
    let sent = next_seed_frame(&mut ana_seed, "message_sent").await;
    assert_eq!(sent["message"]["body"], "hello in the old format");
    let got = next_seed_frame(&mut bob_seed, "message").await;
    assert_eq!(got["message"]["id"], sent["message"]["id"]);
    assert_eq!(next_message(&mut bob_ws).await["id"], sent["message"]["id"], "the gateway sees it too");

    let mut eve_seed = socket_at(&app, "/ws/communication/messages/", &eve).await.expect("upgrade");
    let intrude = json!({"type": "message", "channel_id": general, "content": "let me in"});
    eve_seed.send(Message::Text(intrude.to_string().into())).await.unwrap();
    let refused = next_seed_frame(&mut eve_seed, "error").await;
    assert_eq!(refused["error"]["code"], "not_found", "{refused}");
    app
}

/// The text-channel WebSocket format: `{"action": "chat_message", message}`
/// on `/ws/text/<channel>/` reaches everyone connected there as
/// `{"type": "chat.message", message, username}`; someone who may not see
/// the channel cannot connect to it.
async fn the_text_channel_websocket_format_sends_and_receives(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let path = format!("/ws/text/{general}/");
    let mut ana_chat = socket_at(&app, &path, &ana).await.expect("upgrade");
    let mut bob_chat = socket_at(&app, &path, &bob).await.expect("upgrade");
    let hello = json!({"action": "chat_message", "message": "Hello everyone!"});
    ana_chat.send(Message::Text(hello.to_string().into())).await.unwrap();
    for socket in [&mut bob_chat, &mut ana_chat] {
        let chat = next_seed_frame(socket, "chat.message").await;
        assert_eq!(
            (chat["message"].as_str(), chat["username"].as_str()),
            (Some("Hello everyone!"), Some("ana"))
        );
    }
    match socket_at(&app, &path, &eve).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 404),
        other => panic!("someone outside the workspace connects to its channel: {:?}", other.is_ok()),
    }
    app
}

/// Sends `command` and waits for the answer to a `PING` after it: the
/// gateway has carried the command out.
async fn command(ws: &mut Ws, command: Value) {
    ws.send(Message::text(command.to_string())).await.unwrap();
    ws.send(Message::text(r#"{"type":"PING"}"#)).await.unwrap();
    loop {
        if let GatewayEvent::Pong { .. } = next_wire(ws).await {
            return;
        }
    }
}

/// The next `TYPING_START` or `MESSAGE_CREATE`, skipping other events.
async fn next_typing_or_message(ws: &mut Ws) -> GatewayEvent {
    loop {
        let e = next_wire(ws).await;
        if matches!(e, GatewayEvent::TypingStart { .. } | GatewayEvent::MessageCreate { .. }) {
            return e;
        }
    }
}

async fn typing_reaches_a_page_only_from_the_channel_it_shows(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let other = channel(&app, &ana, &ws, "other", true).await;
    let add = json!({"usernames": ["bob"]});
    ana.post(&app, &format!("/api/communication/channels/{other}/add_members/"), add).await;
    let typing = |channel: &str| Message::text(json!({"type": "TYPING", "channel_id": channel}).to_string());

    let mut bob_ws = connect_as(&app, &bob).await;
    command(&mut bob_ws, json!({"type": "VIEW", "channel_id": general})).await;
    let mut ana_ws = connect_as(&app, &ana).await;
    ana_ws.send(typing(&other)).await.unwrap();
    ana_ws.send(typing(&general)).await.unwrap();
    match next_typing_or_message(&mut bob_ws).await {
        GatewayEvent::TypingStart { channel_id, user } => {
            assert_eq!((channel_id, user.username), (general.clone(), "ana".to_string()));
        }
        other => panic!("expected ana typing in the channel bob shows, got {other:?}"),
    }

    // Showing no channel: no typing at all, while messages still arrive.
    command(&mut bob_ws, json!({"type": "VIEW", "channel_id": null})).await;
    let mut ana_again = connect_as(&app, &ana).await;
    for channel in [&other, &general] {
        command(&mut ana_again, json!({"type": "TYPING", "channel_id": channel})).await;
    }
    say(&app, &ana, &general, "no one is typing").await;
    match next_typing_or_message(&mut bob_ws).await {
        GatewayEvent::MessageCreate { message } => assert_eq!(message.body, "no one is typing"),
        other => panic!("expected the message and no typing, got {other:?}"),
    }
    app
}

crate::on_both_backends! {
    the_communication_websocket_format_sends_and_receives => the_communication_websocket_format_sends_and_receives;
    the_text_channel_websocket_format_sends_and_receives => the_text_channel_websocket_format_sends_and_receives;
    messages_sent_over_the_socket_are_acknowledged_once_stored => messages_sent_over_the_socket_are_acknowledged_once_stored;
    presence_follows_connections => presence_follows_connections;
    typing_reaches_the_channel_only_from_members => typing_reaches_the_channel_only_from_members;
    typing_reaches_a_page_only_from_the_channel_it_shows => typing_reaches_a_page_only_from_the_channel_it_shows;
    members_get_messages_others_do_not => members_get_messages_others_do_not;
    session_cookie_authenticates_the_gateway => session_cookie_authenticates_the_gateway;
    refuses_anonymous_and_foreign_origin => refuses_anonymous_and_foreign_origin;
}
