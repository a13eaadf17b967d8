//! Durable-sends benchmark: acknowledged messages per second with ten
//! concurrent senders over the gateway (`MESSAGE_CREATE`, each waiting for
//! its `MESSAGE_ACK`, sent only after the commit), on SQLite and on
//! PostgreSQL, with the server's CPU time per message.
//!
//! Usage: sends-bench <parley binary> [seconds]   (default 10)

use bench::client::{Frame, Ws, connect};
use bench::server::Server;
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
            let Some(Ok(Message::Text(text))) = ws.next().await else { panic!("the gateway closed") };
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
    // Warm up, then measure.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (start_acked, start_cpu, started) =
        (acked.load(Ordering::Relaxed), server.cpu_seconds(), Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (n, cpu, elapsed) = (
        acked.load(Ordering::Relaxed) - start_acked,
        server.cpu_seconds() - start_cpu,
        started.elapsed().as_secs_f64(),
    );
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    println!(
        "{backend:<10} {SENDERS} senders: {:>6.0} acknowledged messages/s, {:.2} server CPU-ms per message ({n} in {elapsed:.1} s)",
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
    let db = domain::testing::TestDb::new(domain::Backend::Postgres).await;
    run(bin, "PostgreSQL", Some(&db.url), seconds).await;
    db.drop_database().await;
}
