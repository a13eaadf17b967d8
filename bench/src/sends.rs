//! Durable-sends benchmark: acknowledged messages per second with ten
//! concurrent senders over the gateway (`MESSAGE_CREATE`, each waiting for
//! its `MESSAGE_ACK`, sent only after the commit), on SQLite and on
//! PostgreSQL, with the server's CPU time per message.
//!
//! The same work against Matrix Synapse when `PARLEY_BENCH_SYNAPSE` names
//! its Python (see [`bench::synapse`]): ten senders, each waiting for its
//! message to be persisted before sending the next.
//!
//! Usage: sends-bench <parley binary> [seconds]   (default 10)

use bench::client::{Frame, Ws, connect};
use bench::server::Server;
use bench::synapse::Synapse;
use futures::{SinkExt, StreamExt};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const SENDERS: usize = 10;

/// Sends one message after another until `stop`, counting acknowledgements.
async fn sender(mut ws: Ws, channel: String, who: usize, stop: Arc<AtomicBool>, acked: Arc<AtomicUsize>) {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let nonce = format!("s{who}-{n}");
        let send = json!({"type": "MESSAGE_CREATE", "channel_id": channel, "body": format!("message {n}"), "nonce": nonce});
        ws.send(Message::text(send.to_string())).await.unwrap();
        loop {
            let text = match ws.next().await {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("the gateway closed: {other:?}"),
            };
            let frame: Frame = serde_json::from_str(&text).unwrap();
            match frame.kind {
                "MESSAGE_ACK" if frame.nonce == Some(nonce.as_str()) => break,
                "COMMAND_ERROR" => panic!("refused: {text}"),
                _ => {}
            }
        }
        acked.fetch_add(1, Ordering::Relaxed);
        n += 1;
    }
}

async fn run(bin: &str, backend: &str, database: Option<&str>, seconds: u64) {
    let mut env = vec![
        ("PARLEY_LIMIT_SIGNUP", "off"),
        ("PARLEY_LIMIT_REQUESTS", "off"),
        ("PARLEY_LIMIT_POST", "off"),
        ("PARLEY_LIMIT_GATEWAY_COMMAND", "off"),
    ];
    if let Some(url) = database {
        env.push(("DATABASE_URL", url));
    }
    let server = Server::start(bin, &env).await;
    let owner = server.signup("owner").await;
    let created = server.post(Some(&owner), "/api/workspaces", json!({"name": "Sends"})).await;
    let (ws, channel) = (
        created["workspace"]["id"].as_str().unwrap().to_string(),
        created["general"]["id"].as_str().unwrap().to_string(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..SENDERS {
        let token = server.signup(&format!("sender{i}")).await;
        server.post(Some(&token), &format!("/api/workspaces/{ws}/join"), json!({})).await;
        let socket = connect(&server.base, &token).await;
        tasks.push(tokio::spawn(sender(socket, channel.clone(), i, stop.clone(), acked.clone())));
    }
    measure(&format!("Parley {backend}"), || server.cpu_seconds(), &stop, &acked, tasks, seconds).await;
}

/// Ten senders against Synapse, each sending its next message once the last
/// one is persisted.
async fn run_synapse(python: &str, backend: &str, database: Option<&str>, seconds: u64) {
    let synapse = Arc::new(Synapse::start(python, database).await);
    let owner = synapse.register("owner").await;
    let room = synapse.create_room(&owner).await;
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..SENDERS {
        let token = synapse.register(&format!("sender{i}")).await;
        synapse.join(&token, &room).await;
        let (synapse, room, stop, acked) = (synapse.clone(), room.clone(), stop.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                synapse.send(&token, &room, &format!("s{i}-{n}"), &format!("message {n}")).await;
                acked.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        }));
    }
    measure(&format!("Synapse {backend}"), || synapse.cpu_seconds(), &stop, &acked, tasks, seconds).await;
}

/// With the senders running: a second's warm-up, then `seconds` measured
/// (acknowledgements, and `cpu`, the server's CPU time so far); then stops them.
async fn measure(
    label: &str,
    cpu: impl Fn() -> f64,
    stop: &AtomicBool,
    acked: &AtomicUsize,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    seconds: u64,
) {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (start_acked, start_cpu, started) = (acked.load(Ordering::Relaxed), cpu(), Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (n, cpu, elapsed) =
        (acked.load(Ordering::Relaxed) - start_acked, cpu() - start_cpu, started.elapsed().as_secs_f64());
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    println!(
        "{label:<18} {SENDERS} senders: {:>6.0} acknowledged messages/s, {:.2} server CPU-ms per message ({n} in {elapsed:.1} s)",
        n as f64 / elapsed,
        cpu * 1000.0 / n as f64
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = args.get(1).expect("usage: sends-bench <parley binary> [seconds]");
    let seconds = args.get(2).map_or(10, |s| s.parse().expect("seconds"));
    run(bin, "SQLite", None, seconds).await;
    let synapse = Synapse::python();
    if let Some(python) = &synapse {
        run_synapse(python, "SQLite", None, seconds).await;
    }
    let db = domain::testing::TestDb::new(domain::Backend::Postgres).await;
    run(bin, "PostgreSQL", Some(&db.url), seconds).await;
    db.drop_database().await;
    if let Some(python) = &synapse {
        let db = domain::testing::TestDb::new(domain::Backend::Postgres).await;
        run_synapse(python, "PostgreSQL", Some(&db.url), seconds).await;
        db.drop_database().await;
    }
}
