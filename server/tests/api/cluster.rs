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

/// Three nodes, the log read only once a minute: events made on one node
/// reach people connected to the other two at once: messages, reactions,
/// typing, notifications and read state.
async fn events_cross_nodes_at_once() {
    let redis = Redis::start().await;
    let slow_poll = clustered(&redis, Duration::from_secs(60));
    let a = TestApp::spawn_with(Backend::Postgres, slow_poll.clone()).await;
    let b = a.another_node(slow_poll.clone()).await;
    let c = a.another_node(slow_poll).await;
    let ana = a.user("ana").await;
    let bob = a.user("bob").await;
    let cat = a.user("cat").await;
    let (ws, general) = workspace(&a, &ana, false).await;
    join(&a, &bob, &ws).await;
    join(&a, &cat, &ws).await;
    let mut bob_on_b = connect_as(&b, &bob).await;
    let mut cat_on_c = connect_as(&c, &cat).await;
    let mut ana_on_a = connect_as(&a, &ana).await;
    let fast = Duration::from_secs(3);

    let posted = say(&a, &ana, &general, "hello from node a").await;
    assert_eq!(within(&mut bob_on_b, "MESSAGE_CREATE", fast).await["message"]["body"], "hello from node a");
    assert_eq!(within(&mut cat_on_c, "MESSAGE_CREATE", fast).await["message"]["body"], "hello from node a");
    let id = posted["id"].as_str().unwrap();
    let react = format!("/api/communication/messages/{id}/add_reaction/");
    assert_eq!(ana.post(&a, &react, json!({"emoji": "👍"})).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(within(&mut bob_on_b, "REACTION_ADD", fast).await["emoji"], "👍");
    assert_eq!(within(&mut cat_on_c, "REACTION_ADD", fast).await["emoji"], "👍");
    ana_on_a.send(Message::text(json!({"type": "TYPING", "channel_id": general}).to_string())).await.unwrap();
    assert_eq!(within(&mut bob_on_b, "TYPING_START", fast).await["user"]["username"], "ana");
    assert_eq!(within(&mut cat_on_c, "TYPING_START", fast).await["user"]["username"], "ana");
    // Cat replies through node c: Ana, on node a, sees it.
    say(&c, &cat, &general, "hello from node c").await;
    let from_c =
        |e: &serde_json::Value| e["type"] == "MESSAGE_CREATE" && e["message"]["body"] == "hello from node c";
    tokio::time::timeout(fast, next_where(&mut ana_on_a, from_c))
        .await
        .expect("Cat's message reaches node a at once");
    say(&a, &ana, &general, "@bob have a look").await;
    assert_eq!(within(&mut bob_on_b, "NOTIFICATION_CREATE", fast).await["notification"]["type"], "mention");
    let read = bob.post(&a, &format!("/api/communication/channels/{general}/read/"), json!({})).await;
    assert!(read.status().is_success(), "{}", read.status());
    assert_eq!(within(&mut bob_on_b, "READ_UPDATE", fast).await["channel_id"], general.as_str());

    c.finish().await;
    b.finish().await;
    a.finish().await;
}

/// A session begun on one node resumes on another with what it missed.
async fn a_session_resumes_on_another_node() {
    use crate::gateway::next_wire;
    use app::wire::{GatewayCommand, GatewayEvent};
    // The log read once a minute: with Redis down, node b cannot have heard
    // of the missed message by the time the session resumes there.
    let mut redis = Redis::start().await;
    let a = TestApp::spawn_with(Backend::Postgres, clustered(&redis, Duration::from_secs(60))).await;
    let b = a.another_node(clustered(&redis, Duration::from_secs(60))).await;
    let ana = a.user("ana").await;
    let bob = a.user("bob").await;
    let (ws, general) = workspace(&a, &ana, false).await;
    join(&a, &bob, &ws).await;
    let mut first = crate::gateway::open_as(&a, &bob).await;
    first.send(Message::text(r#"{"type":"IDENTIFY"}"#)).await.unwrap();
    let GatewayEvent::Ready { session_id, seq, .. } = next_wire(&mut first).await else { panic!("READY") };
    drop(first);
    redis.stop();
    say(&a, &ana, &general, "while bob moved nodes").await;

    let mut again = crate::gateway::open_as(&b, &bob).await;
    let resume = GatewayCommand::Resume { session_id, seq };
    again.send(Message::text(serde_json::to_string(&resume).unwrap())).await.unwrap();
    // Everything missed (the message, and presence perhaps) before RESUMED.
    let mut before = Vec::new();
    let replayed = loop {
        let event = crate::gateway::next_any_event(&mut again).await;
        match serde_json::from_value(event).expect("a gateway event") {
            GatewayEvent::Resumed { replayed, .. } => break replayed,
            other => before.push(other),
        }
    };
    let messages: Vec<_> = before
        .iter()
        .filter_map(|e| match e {
            GatewayEvent::MessageCreate { message } => Some(message.body.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(messages, ["while bob moved nodes"]);
    assert_eq!(replayed, before.len() as u64);
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

/// A `parley` process: one node of a deployment, killable.
struct Node {
    port: u16,
    child: Child,
}

impl Node {
    fn start(db_url: &str, redis: &Redis, data: &std::path::Path) -> Node {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_parley"))
            .env("PARLEY_BIND", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", db_url)
            .env("PARLEY_REDIS_URL", redis.url())
            .env("PARLEY_DATA_DIR", data)
            .env("PARLEY_ENCRYPTION_KEY", server::config::TEST_ENCRYPTION_KEY)
            .env("PARLEY_SITE_ROOT", data)
            .env("PARLEY_LOG", "error")
            .env("PARLEY_TRUST_PROXY", "true")
            .env("PARLEY_LIMIT_REQUESTS", "off")
            .env("PARLEY_LIMIT_SIGNUP", "off")
            .env("PARLEY_LIMIT_POST", "off")
            .stdout(Stdio::null())
            .spawn()
            .expect("parley starts");
        Node { port, child }
    }

    async fn ready(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let url = format!("http://127.0.0.1:{}/readyz", self.port);
            if reqwest::get(&url).await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "the node is ready within 60 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn kill(&mut self) {
        // SAFETY: sends a signal to the child this test started.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, libc::SIGKILL) }, 0);
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// HAProxy with the shipped configuration in front of `nodes`.
struct Balancer {
    port: u16,
    child: Child,
    _config: domain::testing::TempDir,
}

impl Balancer {
    async fn start(nodes: &[&Node]) -> Balancer {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = domain::testing::TempDir::new("parley-haproxy");
        let mut config =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/haproxy.cfg"))
                .expect("the shipped HAProxy configuration");
        // Round robin: Bob's two connections, opened one after the other,
        // land on different nodes, so the node killed had one of them.
        config = config.replace("balance leastconn", "balance roundrobin");
        for (i, n) in nodes.iter().enumerate() {
            config.push_str(&format!("    server node{i} 127.0.0.1:{} check\n", n.port));
        }
        let path = dir.0.join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let child = Command::new("haproxy")
            .args(["-db", "-q", "-f"])
            .arg(&path)
            .env("PARLEY_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .spawn()
            .expect("haproxy runs (scripts/test installs it)");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(tokio::time::Instant::now() < deadline, "HAProxy serves within 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Balancer { port, child, _config: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn sign_up(http: &reqwest::Client, lb: &Balancer, name: &str) -> (String, String) {
    let body = json!({"username": name, "display_name": name, "email": format!("{name}@example.com"),
        "password": "correct horse battery"});
    let res = http.post(lb.url("/api/auth/signup")).json(&body).send().await.unwrap();
    let body = json_of(res, StatusCode::CREATED).await;
    (body["token"].as_str().unwrap().to_string(), body["user"]["id"].as_str().unwrap().to_string())
}

/// A gateway client through the balancer that reconnects and resumes
/// whenever its connection drops, recording every message it receives;
/// `identified` hears when its session has begun.
pub(crate) async fn follow(
    url: String,
    token: String,
    received: tokio::sync::mpsc::UnboundedSender<String>,
    identified: tokio::sync::oneshot::Sender<()>,
    mut done: tokio::sync::watch::Receiver<bool>,
) -> usize {
    let mut identified = Some(identified);
    use app::wire::{GatewayCommand, GatewayEvent, Sequenced};
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut session: Option<(String, i64)> = None;
    let mut reconnects = 0;
    loop {
        let mut request = url.clone().into_client_request().unwrap();
        request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(request).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let greeting = match &session {
            Some((session_id, seq)) => GatewayCommand::Resume { session_id: session_id.clone(), seq: *seq },
            None => GatewayCommand::Identify,
        };
        if ws.send(Message::text(serde_json::to_string(&greeting).unwrap())).await.is_err() {
            continue;
        }
        loop {
            let frame = tokio::select! {
                f = ws.next() => f,
                _ = done.changed() => return reconnects,
            };
            let text = match frame {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => break,
            };
            let Ok(event) = serde_json::from_str::<GatewayEvent>(&text) else { continue };
            let seq = serde_json::from_str::<Sequenced>(&text).ok().and_then(|s| s.seq);
            match (&event, &mut session) {
                (GatewayEvent::Ready { session_id, seq, .. }, _) => {
                    session = Some((session_id.clone(), *seq));
                    if let Some(identified) = identified.take() {
                        let _ = identified.send(());
                    }
                }
                (GatewayEvent::InvalidSession { reason }, _) => {
                    panic!("the session could not resume: {reason}")
                }
                (_, Some((_, last))) if seq.is_some() => *last = seq.unwrap(),
                _ => {}
            }
            if let GatewayEvent::MessageCreate { message } = event {
                let _ = received.send(message.id);
            }
        }
        reconnects += 1;
    }
}

/// Reads the message ids `follow` recorded until every one of `acked` has
/// arrived (within 30 s), and asserts that none arrived twice.
pub(crate) async fn received_each_once(
    inbox: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    acked: &std::collections::BTreeSet<String>,
    who: &str,
) {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !acked.iter().all(|id| seen.contains_key(id)) {
        let id = tokio::time::timeout_at(deadline, inbox.recv())
            .await
            .unwrap_or_else(|_| panic!("{who} got {} of {} within 30 s", seen.len(), acked.len()))
            .unwrap();
        *seen.entry(id).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "{who} got messages twice: {twice:?}");
}

/// A node killed with SIGKILL during a burst of 1,000 messages whose senders
/// retry with their nonces: every acknowledged message reaches each of the
/// recipient's connections exactly once, those on the killed node resuming
/// through HAProxy on the other.
async fn a_node_killed_mid_burst_loses_and_repeats_nothing() {
    let db = domain::testing::TestDb::new(Backend::Postgres).await;
    let redis = Redis::start().await;
    let data = domain::testing::TempDir::new("parley-shared");
    let first = Node::start(&db.url, &redis, &data.0);
    first.ready().await;
    let mut nodes = vec![first, Node::start(&db.url, &redis, &data.0)];
    nodes[1].ready().await;
    let lb = Balancer::start(&[&nodes[0], &nodes[1]]).await;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let (ana, _) = sign_up(&http, &lb, "ana").await;
    let (bob, _) = sign_up(&http, &lb, "bob").await;
    let created =
        http.post(lb.url("/api/workspaces")).bearer_auth(&ana).json(&json!({"name": "Burst"})).send();
    let created = json_of(created.await.unwrap(), StatusCode::CREATED).await;
    let (ws, general) =
        (created["workspace"]["id"].as_str().unwrap(), created["general"]["id"].as_str().unwrap());
    let joined = http.post(lb.url(&format!("/api/workspaces/{ws}/join"))).bearer_auth(&bob).json(&json!({}));
    assert!(joined.send().await.unwrap().status().is_success());

    // Two connections for Bob: the balancer puts them on different nodes.
    let (done_tx, done) = tokio::sync::watch::channel(false);
    let mut inboxes = Vec::new();
    let mut followers = Vec::new();
    for _ in 0..2 {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        inboxes.push(rx);
        let url = format!("ws://127.0.0.1:{}/ws", lb.port);
        let (identified, started) = tokio::sync::oneshot::channel();
        followers.push(tokio::spawn(follow(url, bob.clone(), tx, identified, done.clone())));
        tokio::time::timeout(Duration::from_secs(10), started)
            .await
            .expect("Bob's connection is identified within 10 s")
            .unwrap();
    }

    // Four senders, 250 messages each, retrying each with its nonce until acknowledged.
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let senders: Vec<_> = (0..4)
        .map(|s| {
            let (http, url, ana, general, acked) =
                (http.clone(), lb.url("/api/communication/messages/"), ana.clone(), general.to_string(), acked.clone());
            tokio::spawn(async move {
                for i in 0..250 {
                    let body = json!({"channel_id": general, "body": format!("burst {s}-{i}"), "nonce": format!("b-{s}-{i}")});
                    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
                    loop {
                        match http.post(&url).bearer_auth(&ana).json(&body).send().await {
                            Ok(res) if res.status().is_success() => {
                                let id = res.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_string();
                                acked.lock().unwrap().push(id);
                                break;
                            }
                            _ => {
                                assert!(tokio::time::Instant::now() < deadline, "a message is stored within 30 s of retrying");
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                }
            })
        })
        .collect();
    // Mid-burst, one node dies without a chance to say goodbye.
    while acked.lock().unwrap().len() < 300 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    nodes[0].kill();
    for s in senders {
        s.await.expect("every message was acknowledged");
    }
    let acked: std::collections::BTreeSet<String> = acked.lock().unwrap().iter().cloned().collect();
    assert_eq!(acked.len(), 1000, "1,000 distinct messages acknowledged");

    for (n, inbox) in inboxes.iter_mut().enumerate() {
        received_each_once(inbox, &acked, &format!("Bob's connection {n}")).await;
    }
    let _ = done_tx.send(true);
    let mut reconnects = 0;
    for f in followers {
        reconnects += f.await.unwrap();
    }
    assert!(reconnects >= 1, "one of Bob's connections was on the killed node and resumed");
    drop(lb);
    drop(nodes);
    db.drop_database().await;
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
        redis_stopped_and_started_during_traffic,
        a_node_killed_mid_burst_loses_and_repeats_nothing,
        presence_is_the_best_of_every_nodes_view,
        presence_crosses_nodes,
        a_call_runs_on_one_node_for_participants_on_any,
        a_call_whose_node_is_killed_ends_and_starts_again_on_a_node_that_lives,
        rate_limits_count_across_nodes,
    );
}

/// Presence across nodes, as each node's view goes into Redis: a person
/// connected to two nodes is online until both have let go, each change is
/// announced by one node only, and a node that dies without a word has its
/// reports lapse, which the survivors then announce.
async fn presence_is_the_best_of_every_nodes_view() {
    use domain::presence::{SharedPresence, Status};
    use server::cluster::RedisPresence;
    let redis = Redis::start().await;
    let client = || server::cluster::Redis::open(&redis.url()).unwrap();
    let (one, two) = (RedisPresence::new(client()), RedisPresence::new(client()));
    let ana = domain::Id(7);
    assert_eq!(one.record(ana, Status::Online).await.unwrap(), Some(Status::Online), "news");
    assert_eq!(two.record(ana, Status::Online).await.unwrap(), None, "already announced");
    assert_eq!(one.record(ana, Status::Offline).await.unwrap(), None, "still connected to the other node");
    assert_eq!(two.statuses(&[ana]).await.unwrap(), vec![Status::Online]);
    assert_eq!(two.record(ana, Status::Away).await.unwrap(), Some(Status::Away));
    assert_eq!(two.record(ana, Status::Offline).await.unwrap(), Some(Status::Offline));

    let dying = RedisPresence::new(client()).with_ttl(Duration::from_millis(300));
    assert_eq!(dying.record(ana, Status::Online).await.unwrap(), Some(Status::Online));
    assert_eq!(one.lapsed().await.unwrap(), vec![], "nothing lapsed while its node renews");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let lapsed = one.lapsed().await.unwrap();
        if !lapsed.is_empty() {
            assert_eq!(lapsed, vec![(ana, Status::Offline)]);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "a dead node's report lapses");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(two.lapsed().await.unwrap(), vec![], "announced once");
}

/// Two nodes: Ana connected to both shows online to Bob (and in the member
/// list) after one connection closes, and offline once both have.
async fn presence_crosses_nodes() {
    let redis = Redis::start().await;
    let config = clustered(&redis, Duration::from_secs(2));
    let a = TestApp::spawn_with(Backend::Postgres, config.clone()).await;
    let b = a.another_node(config).await;
    let ana = a.user("ana").await;
    let bob = a.user("bob").await;
    let (ws, _) = workspace(&a, &ana, false).await;
    join(&a, &bob, &ws).await;
    let mut bob_on_b = connect_as(&b, &bob).await;
    let ana_on_a = connect_as(&a, &ana).await;
    let ana_on_b = connect_as(&b, &ana).await;
    let ana_becomes = |status: &'static str| {
        let ana = ana.id.clone();
        move |e: &serde_json::Value| e["user_id"] == ana.as_str() && e["status"] == status
    };
    next_where(&mut bob_on_b, ana_becomes("online")).await;

    drop(ana_on_a);
    // Node a lets go of its report; Ana is still online everywhere.
    let mut redis_conn =
        redis::Client::open(redis.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let reports: i64 = redis::cmd("HLEN")
            .arg(format!("parley:presence:{}", ana.id))
            .query_async(&mut redis_conn)
            .await
            .unwrap();
        if reports == 1 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "node a lets go within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for node in [&a, &b] {
        let members =
            json_of(bob.get(node, &format!("/api/workspaces/{ws}/members")).await, StatusCode::OK).await;
        let status = members.as_array().unwrap().iter().find(|m| m["user"]["id"] == ana.id.as_str()).unwrap()
            ["status"]
            .clone();
        assert_eq!(status, "online", "still connected to node b");
    }

    drop(ana_on_b);
    next_where(&mut bob_on_b, ana_becomes("offline")).await;
    b.finish().await;
    a.finish().await;
}

/// The next event `wanted` picks, within 10 s.
async fn next_where(ws: &mut Ws, wanted: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let e = crate::gateway::next_any_event(ws).await;
            if wanted(&e) {
                return e;
            }
        }
    })
    .await
    .expect("the event within 10 s")
}

/// Who is in `channel`'s call as `app`'s channel list shows it.
async fn listed_in_call(app: &TestApp, user: &crate::helpers::User, ws: &str, channel: &str) -> Vec<String> {
    let list = json_of(
        user.get(app, &format!("/api/communication/channels/?workspace_id={ws}")).await,
        StatusCode::OK,
    )
    .await;
    let listed =
        list.as_array().unwrap().iter().find(|c| c["id"] == channel).expect("the channel is listed").clone();
    // No call: no list.
    let mut names: Vec<String> = listed["call"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| p["user"]["username"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// A call whose participants' gateways are on different nodes runs on one
/// of them: audio and video flow both ways, a moderator's mute given
/// through the other node holds the audio back, both nodes list who is in
/// it, and leaving through either node is seen by the other.
async fn a_call_runs_on_one_node_for_participants_on_any() {
    use crate::calls::{silenced, voice_channel};
    use bench::call_peer::{Peer, until};
    let redis = Redis::start().await;
    let slow_poll = clustered(&redis, Duration::from_secs(60));
    let a = TestApp::spawn_with(Backend::Postgres, slow_poll.clone()).await;
    let b = a.another_node(slow_poll).await;
    let ana = a.user("ana").await;
    let bob = a.user("bob").await;
    let (ws, _) = workspace(&a, &ana, false).await;
    join(&a, &bob, &ws).await;
    let lounge = voice_channel(&a, &ana, &ws, 0).await;

    // Ana joins through node a (which then runs the call), Bob through node b.
    let mut on_a = Peer::join(&format!("ws://127.0.0.1:{}/ws", a.port), &ana.token, &lounge, true).await;
    on_a.next("VOICE_JOINED").await;
    let mut on_b = Peer::join(&format!("ws://127.0.0.1:{}/ws", b.port), &bob.token, &lounge, true).await;
    let joined = on_b.next("VOICE_JOINED").await;
    assert_eq!(joined["channel_id"], lounge.as_str(), "the call's node answers through node b");
    let (ana_hears, bob_hears) = (on_a.received.clone(), on_b.received.clone());
    until(|| ana_hears.video(), 30, "Bob's video at Ana").await;
    until(|| ana_hears.audio(), 25, "Bob's audio at Ana").await;
    until(|| bob_hears.video(), 30, "Ana's video at Bob").await;
    until(|| bob_hears.audio(), 25, "Ana's audio at Bob").await;
    let both = vec!["ana".to_string(), "bob".to_string()];
    assert_eq!(listed_in_call(&a, &ana, &ws, &lounge).await, both, "node a lists the call");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while listed_in_call(&b, &bob, &ws, &lounge).await != both {
        assert!(tokio::time::Instant::now() < deadline, "node b lists both in the call within 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Ana (the owner) mutes Bob through node a: his audio, which the node
    // running the call forwards, stops reaching her. Bob may not mute Ana:
    // the refusal comes back to him through node b.
    on_a.commands
        .send(json!({"type": "VOICE_MUTE", "channel_id": lounge, "user_id": bob.id, "muted": true}))
        .unwrap();
    silenced(&mut on_a, "server_muted", true).await;
    on_b.commands
        .send(json!({"type": "VOICE_MUTE", "channel_id": lounge, "user_id": ana.id, "muted": true}))
        .unwrap();
    let refused = on_b.next("COMMAND_ERROR").await;
    assert_eq!(refused["command"], "VOICE_MUTE", "the refusal comes back through node b: {refused}");

    // Bob leaves through node b: Ana, on node a, sees the call with her alone.
    on_b.commands.send(json!({"type": "VOICE_LEAVE"})).unwrap();
    loop {
        let s = on_a.next("VOICE_STATE").await;
        if s["participants"].as_array().unwrap().len() == 1 {
            break;
        }
    }
    let _ = on_a.pc.close().await;
    let _ = on_b.pc.close().await;
    b.finish().await;
    a.finish().await;
}

/// Node a, a `parley` process, runs a call with Ana connected to it and
/// Bob connected through node b; then it is killed (SIGKILL). Within
/// seconds Bob is told the call ended, node b shows nobody in it, and Bob's
/// joining again starts it on node b.
async fn a_call_whose_node_is_killed_ends_and_starts_again_on_a_node_that_lives() {
    use crate::calls::voice_channel;
    use crate::gateway::identify;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let redis = Redis::start().await;
    let b = TestApp::spawn_with(Backend::Postgres, clustered(&redis, Duration::from_secs(2))).await;
    let data = domain::testing::TempDir::new("parley-node-a");
    let mut a = Node::start(&b.db.url, &redis, &data.0);
    a.ready().await;
    let ana = b.user("ana").await;
    let bob = b.user("bob").await;
    let (ws, _) = workspace(&b, &ana, false).await;
    join(&b, &bob, &ws).await;
    let lounge = voice_channel(&b, &ana, &ws, 0).await;
    let join_call = Message::text(json!({"type": "VOICE_JOIN", "channel_id": lounge}).to_string());

    let mut request = format!("ws://127.0.0.1:{}/ws", a.port).into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {}", ana.token).parse().unwrap());
    let (mut ana_on_a, _) = tokio_tungstenite::connect_async(request).await.expect("node a upgrades");
    identify(&mut ana_on_a).await;
    ana_on_a.send(join_call.clone()).await.unwrap();
    next_of(&mut ana_on_a, "VOICE_JOINED").await;
    let mut bob_on_b = connect_as(&b, &bob).await;
    bob_on_b.send(join_call.clone()).await.unwrap();
    next_of(&mut bob_on_b, "VOICE_JOINED").await;
    let both = vec!["ana".to_string(), "bob".to_string()];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while listed_in_call(&b, &bob, &ws, &lounge).await != both {
        assert!(tokio::time::Instant::now() < deadline, "node b lists both in the call within 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    a.kill();
    let left = next_of(&mut bob_on_b, "VOICE_LEFT").await;
    assert_eq!(left["channel_id"], lounge.as_str(), "Bob is told the call ended: {left}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !listed_in_call(&b, &bob, &ws, &lounge).await.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "node b shows nobody in the call within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    bob_on_b.send(join_call).await.unwrap();
    let joined = next_of(&mut bob_on_b, "VOICE_JOINED").await;
    assert_eq!(joined["channel_id"], lounge.as_str());
    assert_eq!(listed_in_call(&b, &bob, &ws, &lounge).await, ["bob"], "the call runs on node b");
    drop(ana_on_a);
    b.finish().await;
}

/// A person's and an address's buckets are one across the nodes: what one
/// node let through counts on the other, wrong passwords too.
async fn rate_limits_count_across_nodes() {
    use domain::limits::{Bucket, Rate};
    let redis = Redis::start().await;
    let url = redis.url();
    let limited: Configure = Arc::new(move |c: &mut server::config::Config| {
        c.redis_url = Some(url.clone());
        c.trust_proxy = true;
        c.limits.rates.set(Bucket::Post, Rate::new(4, Duration::from_secs(60)));
    });
    let a = TestApp::spawn_with(Backend::Postgres, limited.clone()).await;
    let b = a.another_node(limited).await;
    let ana = a.user("ana").await;
    let (_, general) = workspace(&a, &ana, false).await;
    for (i, node) in [&a, &b, &a, &b].into_iter().enumerate() {
        say(node, &ana, &general, &format!("message {i}")).await;
    }
    for node in [&a, &b] {
        let res = ana
            .post(node, "/api/communication/messages/", json!({"channel_id": general, "body": "one more"}))
            .await;
        assert_eq!(
            res.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "four posts in all, whichever node took them"
        );
        assert_eq!(res.headers()["x-ratelimit-bucket"], "post");
    }

    // Five wrong passwords, spread over both nodes, slow the account on each.
    a.user("bob").await;
    let sign_in = |node: &TestApp, password: &str| {
        node.client()
            .post(node.url("/api/auth/login"))
            .header("x-forwarded-for", "203.0.113.7")
            .json(&json!({"username": "bob", "password": password}))
            .send()
    };
    for node in [&a, &b, &a, &b, &a] {
        assert_eq!(sign_in(node, "guess").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    for node in [&b, &a] {
        let res = sign_in(node, "correct horse battery").await.unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()["x-ratelimit-bucket"], "login_account");
    }
    b.finish().await;
    a.finish().await;
}
