//! Several nodes of one deployment: PostgreSQL for the data, Redis (a
//! private `redis-server` per test) ringing between them.

use crate::gateway::{Ws, connect_as, next_of};
use crate::helpers::{Configure, TestApp, join, json_of, say, workspace};
use domain::Backend;
use futures::SinkExt;
use reqwest::StatusCode;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// A Redis server of this test's own, on a free port.
struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    async fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = Redis { port, child: None };
        redis.resume().await;
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts it (again) on its port, and waits until it answers.
    async fn resume(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server runs (the machine has Redis)");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "redis-server listens within 10 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Nodes that hear each other through `redis`; with `poll`, how often each
/// reads the log for events no ring announced.
fn clustered(redis: &Redis, poll: Duration) -> Configure {
    let url = redis.url();
    Arc::new(move |c: &mut server::config::Config| {
        c.redis_url = Some(url.clone());
        c.event_log_poll = poll;
    })
}

/// The next `kind` within `within`: a ring, not the log's slow poll, brought it.
async fn within(ws: &mut Ws, kind: &str, within: Duration) -> serde_json::Value {
    tokio::time::timeout(within, next_of(ws, kind))
        .await
        .unwrap_or_else(|_| panic!("{kind} within {within:?}"))
}

/// With the log read only once a minute, events made on one node reach a
/// person connected to the other at once: messages, reactions, typing,
/// notifications and read state.
async fn events_cross_nodes_at_once() {
    let redis = Redis::start().await;
    let slow_poll = clustered(&redis, Duration::from_secs(60));
    let a = TestApp::spawn_with(Backend::Postgres, slow_poll.clone()).await;
    let b = a.another_node(slow_poll).await;
    let ana = a.user("ana").await;
    let bob = a.user("bob").await;
    let (ws, general) = workspace(&a, &ana, false).await;
    join(&a, &bob, &ws).await;
    let mut bob_on_b = connect_as(&b, &bob).await;
    let mut ana_on_a = connect_as(&a, &ana).await;
    let fast = Duration::from_secs(3);

    let posted = say(&a, &ana, &general, "hello from node a").await;
    assert_eq!(within(&mut bob_on_b, "MESSAGE_CREATE", fast).await["message"]["body"], "hello from node a");
    let id = posted["id"].as_str().unwrap();
    let react = format!("/api/communication/messages/{id}/add_reaction/");
    assert_eq!(ana.post(&a, &react, json!({"emoji": "👍"})).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(within(&mut bob_on_b, "REACTION_ADD", fast).await["emoji"], "👍");
    ana_on_a.send(Message::text(json!({"type": "TYPING", "channel_id": general}).to_string())).await.unwrap();
    assert_eq!(within(&mut bob_on_b, "TYPING_START", fast).await["user"]["username"], "ana");
    say(&a, &ana, &general, "@bob have a look").await;
    assert_eq!(within(&mut bob_on_b, "NOTIFICATION_CREATE", fast).await["notification"]["type"], "mention");
    let read = bob.post(&a, &format!("/api/communication/channels/{general}/read/"), json!({})).await;
    assert!(read.status().is_success(), "{}", read.status());
    assert_eq!(within(&mut bob_on_b, "READ_UPDATE", fast).await["channel_id"], general.as_str());

    b.finish().await;
    a.finish().await;
}

/// A session begun on one node resumes on another with what it missed.
async fn a_session_resumes_on_another_node() {
    use app::wire::{GatewayCommand, GatewayEvent};
    let redis = Redis::start().await;
    let a = TestApp::spawn_with(Backend::Postgres, clustered(&redis, Duration::from_secs(2))).await;
    let b = a.another_node(clustered(&redis, Duration::from_secs(2))).await;
    let ana = a.user("ana").await;
    let bob = a.user("bob").await;
    let (ws, general) = workspace(&a, &ana, false).await;
    join(&a, &bob, &ws).await;
    let mut first = crate::gateway::open_as(&a, &bob).await;
    first.send(Message::text(r#"{"type":"IDENTIFY"}"#)).await.unwrap();
    let GatewayEvent::Ready { session_id, seq, .. } = crate::gateway::next_wire(&mut first).await else {
        panic!("READY")
    };
    drop(first);
    say(&a, &ana, &general, "while bob moved nodes").await;

    let mut again = crate::gateway::open_as(&b, &bob).await;
    let resume = GatewayCommand::Resume { session_id, seq };
    again.send(Message::text(serde_json::to_string(&resume).unwrap())).await.unwrap();
    let replayed = next_of(&mut again, "MESSAGE_CREATE").await;
    assert_eq!(replayed["message"]["body"], "while bob moved nodes");
    next_of(&mut again, "RESUMED").await;
    b.finish().await;
    a.finish().await;
}

/// Redis stopped: each node goes on serving, and the other node's events
/// still arrive (from the log); Redis back: they arrive at once again.
async fn redis_stopped_and_started_during_traffic() {
    let mut redis = Redis::start().await;
    let config = clustered(&redis, Duration::from_secs(2));
    let a = TestApp::spawn_with(Backend::Postgres, config.clone()).await;
    let b = a.another_node(config).await;
    let ana = a.user("ana").await;
    let bob = a.user("bob").await;
    let (ws, general) = workspace(&a, &ana, false).await;
    join(&a, &bob, &ws).await;
    let mut bob_on_b = connect_as(&b, &bob).await;

    redis.stop();
    say(&a, &ana, &general, "while redis is down").await;
    let got = within(&mut bob_on_b, "MESSAGE_CREATE", Duration::from_secs(5)).await;
    assert_eq!(got["message"]["body"], "while redis is down");
    let ready = json_of(reqwest::get(b.url("/readyz")).await.unwrap(), StatusCode::OK).await;
    let ready: server::http::health::Readiness = serde_json::from_value(ready).unwrap();
    assert_ne!(ready.redis, "ok", "readiness says Redis is down, and the node stays ready");

    redis.resume().await;
    // Once the nodes are back on Redis, a ring brings events within a second.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let res = reqwest::get(a.url("/readyz")).await.unwrap();
        let ready: server::http::health::Readiness = res.json().await.unwrap();
        let res = reqwest::get(b.url("/readyz")).await.unwrap();
        let ready_b: server::http::health::Readiness = res.json().await.unwrap();
        if ready.redis == "ok" && ready_b.redis == "ok" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "both nodes reach Redis within 5 s of its return");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    say(&a, &ana, &general, "redis is back").await;
    let got = within(&mut bob_on_b, "MESSAGE_CREATE", Duration::from_secs(5)).await;
    assert_eq!(got["message"]["body"], "redis is back");
    b.finish().await;
    a.finish().await;
}

macro_rules! cluster_tests {
    ($($name:ident),* $(,)?) => {
        $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name().await; })*
    };
}

mod postgres {
    cluster_tests!(
        events_cross_nodes_at_once,
        a_session_resumes_on_another_node,
        redis_stopped_and_started_during_traffic
    );
}
