//! The server under abuse and faults: concurrent writers, hostile sizes,
//! floods and panics.

use crate::gateway::{connect_as, next_event};
use crate::helpers::{TestApp, assert_error, join, json_of, say, workspace};
use app::wire::{ApiError, ErrorCode, GatewayCommand, GatewayEvent, MessagePageDto};
use domain::Backend;
use domain::limits::{Bucket, Rate};
use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::json;
use server::config::{Config, DEFAULT_MAX_BODY};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

/// People posting at once in one channel.
const SENDERS: usize = 10;
const MESSAGES_EACH: usize = 5;

/// Many people posting at the same moment all get their messages stored:
/// writers wait for each other, none is told "database is locked".
async fn concurrent_senders_all_succeed(app: TestApp) -> TestApp {
    let owner = app.user("owner").await;
    let (ws, general) = workspace(&app, &owner, false).await;
    let mut senders = Vec::new();
    for i in 0..SENDERS {
        let who = app.user(&format!("sender{i}")).await;
        join(&app, &who, &ws).await;
        senders.push(who);
    }
    let posts = senders.iter().enumerate().map(|(i, who)| {
        let (app, general) = (&app, &general);
        async move {
            for n in 0..MESSAGES_EACH {
                let res = who
                    .post(
                        app,
                        "/api/communication/messages/",
                        json!({"channel_id": general, "body": format!("{i}-{n}")}),
                    )
                    .await;
                json_of(res, StatusCode::CREATED).await;
            }
        }
    });
    futures::future::join_all(posts).await;
    let page: MessagePageDto = serde_json::from_value(
        json_of(
            owner.get(&app, &format!("/api/communication/messages/?channel_id={general}&limit=100")).await,
            StatusCode::OK,
        )
        .await,
    )
    .unwrap();
    assert_eq!(page.messages.len(), SENDERS * MESSAGES_EACH);
    say(&app, &owner, &general, "still writable").await;
    app
}

crate::on_both_backends! {
    concurrent_senders_all_succeed => concurrent_senders_all_succeed;
}

/// A server whose `bucket` lets `burst` through per minute.
async fn limited(backend: Backend, limits: &[(Bucket, u32)]) -> TestApp {
    let limits: Vec<(Bucket, u32)> = limits.to_vec();
    TestApp::spawn_with(
        backend,
        Arc::new(move |c: &mut Config| {
            for &(bucket, burst) in &limits {
                c.limits.rates.set(bucket, Rate::new(burst, Duration::from_secs(60)));
            }
            c.trust_proxy = true;
        }),
    )
    .await
}

/// Asserts a 429 from `bucket` with Discord's headers and the JSON error.
async fn assert_limited(res: reqwest::Response, bucket: &str, limit: u32) {
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let retry: u64 = header("retry-after").expect("Retry-After").parse().expect("whole seconds");
    assert!(retry >= 1, "a wait to honour");
    assert_eq!(header("x-ratelimit-limit").as_deref(), Some(limit.to_string().as_str()));
    assert_eq!(header("x-ratelimit-remaining").as_deref(), Some("0"));
    let reset: f64 = header("x-ratelimit-reset-after").expect("X-RateLimit-Reset-After").parse().unwrap();
    assert!(reset > 0.0);
    assert_eq!(header("x-ratelimit-bucket").as_deref(), Some(bucket));
    let error: ApiError = res.json().await.expect("the JSON error");
    assert_eq!(error.code, ErrorCode::RateLimited);
    assert!(error.message.contains("Wait"), "says what to do: {}", error.message);
    assert_eq!(error.rate_limit.expect("which limit").bucket, bucket);
}

/// Signs in as `username` from `address` (the test server trusts `X-Forwarded-For`).
async fn sign_in(app: &TestApp, username: &str, password: &str, address: &str) -> reqwest::Response {
    app.client()
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", address)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn sign_ins_are_limited_per_address(backend: Backend) {
    let app = limited(backend, &[(Bucket::Login, 3)]).await;
    app.user("ana").await;
    for _ in 0..3 {
        assert_eq!(
            sign_in(&app, "ana", "correct horse battery", "198.51.100.1").await.status(),
            StatusCode::OK
        );
    }
    assert_limited(sign_in(&app, "ana", "correct horse battery", "198.51.100.1").await, "login", 3).await;
    let elsewhere = sign_in(&app, "ana", "correct horse battery", "198.51.100.2").await;
    assert_eq!(elsewhere.status(), StatusCode::OK, "another address has its own bucket");
    app.finish().await;
}

async fn wrong_passwords_slow_the_account_from_any_address(backend: Backend) {
    let app = TestApp::spawn_with(backend, Arc::new(|c: &mut Config| c.trust_proxy = true)).await;
    app.user("ana").await;
    app.user("bob").await;
    for i in 0..5 {
        let res = sign_in(&app, "ana", "guess", &format!("203.0.113.{i}")).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the first wrong passwords are only wrong");
    }
    // Now each try waits, whatever the address, even with the right password.
    let res = sign_in(&app, "ana", "correct horse battery", "203.0.113.51").await;
    assert_limited(res, "login_account", 5).await;
    let bob = sign_in(&app, "bob", "correct horse battery", "203.0.113.50").await;
    assert_eq!(bob.status(), StatusCode::OK, "other accounts are not slowed");
    app.finish().await;
}

async fn signups_are_limited_per_address(backend: Backend) {
    let app = limited(backend, &[(Bucket::Signup, 2)]).await;
    let signup = |name: &'static str| {
        app.client()
            .post(app.url("/api/auth/signup"))
            .header("x-forwarded-for", "198.51.100.9")
            .json(&json!({"username": name, "email": format!("{name}@example.com"), "password": "long enough pw"}))
            .send()
    };
    assert_eq!(signup("ana").await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(signup("bob").await.unwrap().status(), StatusCode::CREATED);
    assert_limited(signup("cid").await.unwrap(), "signup", 2).await;
    app.finish().await;
}

async fn requests_are_limited_per_address(backend: Backend) {
    let app = limited(backend, &[(Bucket::Requests, 5)]).await;
    let get = || app.client().get(app.url("/healthz")).header("x-forwarded-for", "198.51.100.20").send();
    for _ in 0..5 {
        assert_eq!(get().await.unwrap().status(), StatusCode::OK);
    }
    assert_limited(get().await.unwrap(), "requests", 5).await;
    app.finish().await;
}

/// The default limit on posting lets a busy person's pace through, and
/// stops a script in one channel without stopping it elsewhere.
async fn posting_is_limited_per_person_and_channel(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    let random = crate::helpers::channel(&app, &ana, &ws, "random", false).await;
    let burst = Bucket::Post.default_rate().burst();
    for i in 0..burst {
        say(&app, &ana, &general, &format!("quick {i}")).await;
    }
    let res = ana
        .post(&app, "/api/communication/messages/", json!({"channel_id": general, "body": "one more"}))
        .await;
    assert_limited(res, "post", burst).await;
    say(&app, &ana, &random, "another channel is fine").await;
    say(&app, &bob, &general, "another person is fine").await;
    app.finish().await;
}

/// A body over the limit is answered 413 from its declared length, before
/// any of it is sent.
async fn oversized_bodies_are_refused_unread(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let big = json!({"username": "ana", "password": "x".repeat(DEFAULT_MAX_BODY)});
    let res = app.client().post(app.url("/api/auth/login")).json(&big).send().await.unwrap();
    assert_error(res, StatusCode::PAYLOAD_TOO_LARGE, "too_large", None).await;
    // Headers promising 100 MB, and no body: the answer comes without it.
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let head = "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                Content-Length: 100000000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("answered without the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    app.finish().await;
}

/// A file sent before its channel is named is refused before it is written.
async fn files_before_the_channel_are_refused_unwritten(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(vec![7u8; 4096]).file_name("early.txt"))
        .text("channel_id", general.clone());
    let res = ana
        .send(&app, "POST", ana.client.post(app.url("/api/communication/messages/")).multipart(form))
        .await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid", Some("channel_id")).await;
    let tmp = app.data.0.join("files").join("tmp");
    let left = std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "nothing was written to {}", tmp.display());
    app.finish().await;
}

/// A multipart text field over the body limit is refused with 413.
async fn long_multipart_text_fields_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let form = reqwest::multipart::Form::new()
        .text("channel_id", general.clone())
        .text("body", "x".repeat(DEFAULT_MAX_BODY + 1));
    let res = ana
        .send(&app, "POST", ana.client.post(app.url("/api/communication/messages/")).multipart(form))
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    app.finish().await;
}

/// A gateway message over the limit closes the connection with 1009.
async fn oversized_gateway_frames_close_with_1009(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ana = app.user("ana").await;
    let mut ws = connect_as(&app, &ana).await;
    let huge = format!(r#"{{"type":"TYPING","channel_id":"{}"}}"#, "1".repeat(DEFAULT_MAX_BODY));
    ws.send(Message::text(huge)).await.unwrap();
    assert_eq!(closed_with(&mut ws).await, 1009);
    app.finish().await;
}

/// A client past its command limit is told so for each command, and
/// disconnected when it keeps going.
async fn gateway_floods_get_errors_then_disconnect(backend: Backend) {
    let app = limited(backend, &[(Bucket::GatewayCommand, 3)]).await;
    let ana = app.user("ana").await;
    let mut ws = connect_as(&app, &ana).await;
    for active in [false, true, false] {
        ws.send(Message::text(serde_json::to_string(&GatewayCommand::Activity { active }).unwrap()))
            .await
            .unwrap();
    }
    let activity = serde_json::to_string(&GatewayCommand::Activity { active: true }).unwrap();
    ws.send(Message::text(activity.clone())).await.unwrap();
    let refused = loop {
        if let GatewayEvent::CommandError { command, error, .. } =
            serde_json::from_value(next_event(&mut ws).await).expect("a gateway event")
        {
            break (command, error);
        }
    };
    assert_eq!(refused.0, "ACTIVITY");
    assert_eq!(refused.1.code, ErrorCode::RateLimited);
    for _ in 0..20 {
        if ws.send(Message::text(activity.clone())).await.is_err() {
            break;
        }
    }
    assert_eq!(closed_with(&mut ws).await, app::wire::close_code::RATE_LIMITED);
    app.finish().await;
}

/// Reads until the server closes the connection; its close code.
async fn closed_with(ws: &mut crate::gateway::Ws) -> u16 {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
                Some(Ok(_)) => continue,
                other => panic!("closed without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("closed within 10 s")
}

/// A return address with characters a `Location` header cannot hold (as a
/// hand-made form may send) still gets a redirect, percent-encoded.
async fn odd_return_addresses_still_redirect(backend: Backend) {
    use leptos::server_fn::ServerFn;
    let app = TestApp::spawn(backend).await;
    let res = app
        .client()
        .post(app.url(app::api::Signup::PATH))
        .form(&[
            ("username", "odd"),
            ("display_name", "Odd"),
            ("email", "odd@example.com"),
            ("password", "correct horse battery"),
            ("next", "/w/é\r\nSet-Cookie: x=1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND, "{}", res.text().await.unwrap());
    assert_eq!(res.headers()["location"], "/w/%C3%A9%0D%0ASet-Cookie:%20x=1");
    assert!(res.headers().get_all("set-cookie").iter().all(|c| !c.to_str().unwrap().starts_with("x=")));
    app.finish().await;
}

/// Multipart bodies built from the pieces of real ones, cut, repeated and
/// mixed with arbitrary bytes (`PARLEY_FUZZ_CASES` / 10 of them, at least
/// 50): the upload route answers each with a success or a client error,
/// never a server error, and keeps serving.
async fn malformed_multipart_bodies_never_crash(backend: Backend) {
    use proptest::strategy::{Strategy, ValueTree};
    let app = TestApp::spawn_with(backend, crate::helpers::without_rate_limits()).await;
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let piece = proptest::prop_oneof![
        proptest::strategy::Just(b"--XYZ\r\n".to_vec()),
        proptest::strategy::Just(b"--XYZ--\r\n".to_vec()),
        proptest::strategy::Just(b"\r\n".to_vec()),
        proptest::strategy::Just(format!("Content-Disposition: form-data; name=\"channel_id\"\r\n\r\n{general}\r\n").into_bytes()),
        proptest::strategy::Just(b"Content-Disposition: form-data; name=\"body\"\r\n\r\nhello\r\n".to_vec()),
        proptest::strategy::Just(b"Content-Disposition: form-data; name=\"nonce\"\r\n\r\n".to_vec()),
        proptest::strategy::Just(b"Content-Disposition: form-data; name=\"thread_id\"\r\n\r\n99999\r\n".to_vec()),
        proptest::strategy::Just(
            b"Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nabc\r\n"
                .to_vec()
        ),
        proptest::strategy::Just(b"Content-Disposition: form-data; name=\"file\"; filename=\"../../etc/passwd\"\r\n\r\n".to_vec()),
        proptest::strategy::Just(b"Content-Disposition: form-data; name=\"\xff\xfe\"\r\n\r\n".to_vec()),
        proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..64),
    ];
    let bodies = proptest::collection::vec(piece, 0..16).prop_map(|parts| parts.concat());
    let cases = std::env::var("PARLEY_FUZZ_CASES").ok().and_then(|c| c.parse::<usize>().ok()).unwrap_or(1000);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..(cases / 10).max(50) {
        let body = bodies.new_tree(&mut runner).unwrap().current();
        let res = ana
            .client
            .post(app.url("/api/communication/messages/"))
            .bearer_auth(&ana.token)
            .header("content-type", "multipart/form-data; boundary=XYZ")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = res.status();
        assert!(
            status.is_success() || status.is_client_error(),
            "{status} for {:?}",
            String::from_utf8_lossy(&body)
        );
    }
    say(&app, &ana, &general, "still here").await;
    app.finish().await;
}

/// The `parley` binary, sent SIGTERM while a gateway connection is open:
/// the connection is closed properly, the process exits successfully within
/// a bounded time, and what was stored is there at the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_server_cleanly() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let data = domain::testing::TempDir::new("parley-sigterm");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let start = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_parley"))
            .env("PARLEY_BIND", format!("127.0.0.1:{port}"))
            .env("PARLEY_DATA_DIR", &data.0)
            .env("PARLEY_LOG", "warn")
            .env("PARLEY_SITE_ROOT", &data.0)
            .spawn()
            .expect("parley starts")
    };
    let base = format!("http://127.0.0.1:{port}");
    let up = || async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while reqwest::get(format!("{base}/healthz")).await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "the server answers within 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let mut server = start();
    up().await;
    let client = reqwest::Client::new();
    let body = json!({"username": "ana", "display_name": "Ana", "email": "ana@example.com",
        "password": "correct horse battery"});
    let res = client.post(format!("{base}/api/auth/signup")).json(&body).send().await.unwrap();
    let token = json_of(res, StatusCode::CREATED).await["token"].as_str().unwrap().to_string();
    let mut request = format!("ws://127.0.0.1:{port}/ws").into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    crate::gateway::identify(&mut socket).await;

    let stopping = std::time::Instant::now();
    // SAFETY: sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(server.id() as i32, libc::SIGTERM) }, 0);
    let closed = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("the connection is closed within 15 s");
    assert!(closed.is_some(), "a close frame, not a dropped connection");
    let status = tokio::task::spawn_blocking(move || server.wait()).await.unwrap().unwrap();
    let took = stopping.elapsed();
    assert!(status.success(), "exit status {status}");
    assert!(took < Duration::from_secs(15), "stopped in {took:?}");

    let mut again = start();
    up().await;
    let login = json!({"username": "ana", "password": "correct horse battery"});
    let res = client.post(format!("{base}/api/auth/login")).json(&login).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the account outlived the stop");
    // SAFETY: as above.
    unsafe { libc::kill(again.id() as i32, libc::SIGTERM) };
    let _ = tokio::task::spawn_blocking(move || again.wait()).await;
}

/// What the router refuses by itself (a method a route does not take, a
/// path segment that is not UTF-8) is answered with the JSON error like
/// everything else, keeping its status and the `Allow` header.
async fn the_routers_own_refusals_are_the_json_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ana = app.user("ana").await;
    let res = app.client().patch(app.url("/api/workspaces")).bearer_auth(&ana.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = res.headers()["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let error: ApiError = res.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::MethodNotAllowed);
    let res = app.client().get(app.url("/api/workspaces/%FF")).bearer_auth(&ana.token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let error: ApiError = res.json().await.unwrap();
    assert_eq!(error.code, ErrorCode::Invalid, "{}", error.message);
    app.finish().await;
}

/// A node is ready while its database answers: `/readyz` says 200 and
/// `ok`; when the database goes away it says 503 and why, while `/healthz`
/// still says the process is alive.
async fn readiness_follows_the_database(backend: Backend) {
    use server::http::health::Readiness;
    let app = TestApp::spawn(backend).await;
    let res = app.client().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Readiness>().await.unwrap().database, "ok");
    if backend == Backend::Postgres {
        app.db.drop_now().await;
        let res = app.client().get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_ne!(res.json::<Readiness>().await.unwrap().database, "ok");
        let alive = app.client().get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(alive.status(), StatusCode::OK);
    }
    app.finish().await;
}

mod limits {
    crate::on_each_backend!(
        sign_ins_are_limited_per_address,
        wrong_passwords_slow_the_account_from_any_address,
        signups_are_limited_per_address,
        requests_are_limited_per_address,
        posting_is_limited_per_person_and_channel,
        oversized_bodies_are_refused_unread,
        files_before_the_channel_are_refused_unwritten,
        long_multipart_text_fields_are_refused,
        oversized_gateway_frames_close_with_1009,
        gateway_floods_get_errors_then_disconnect,
        odd_return_addresses_still_redirect,
        malformed_multipart_bodies_never_crash,
        the_routers_own_refusals_are_the_json_error,
        readiness_follows_the_database,
    );
    use super::*;
}
