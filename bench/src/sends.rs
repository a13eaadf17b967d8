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
use bench::server::{Server, cpu_seconds_of, postgres_cpu_seconds};
use bench::synapse::Synapse;
use futures::{SinkExt, StreamExt};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const SENDERS: usize = 10;
/// The gateway's close code for a connection too slow to take its events.
const SLOW_CONSUMER: u16 = 4008;

/// What the senders count.
#[derive(Default)]
struct Counts {
    acked: AtomicUsize,
    /// Connections closed as slow consumers (the client fell behind its
    /// events); the sender reconnects and sends its message again.
    slow_closes: AtomicUsize,
}

/// Sends one message after another until `stop`, counting acknowledgements.
/// Closed as a slow consumer, it reconnects and sends the same message
/// with the same nonce: one already stored is acknowledged, not stored twice.
async fn sender(
    base: String,
    token: String,
    channel: String,
    who: usize,
    stop: Arc<AtomicBool>,
    counts: Arc<Counts>,
) {
    let mut ws = connect(&base, &token).await;
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        if send_one(&mut ws, &channel, &format!("s{who}-{n}"), n).await {
            counts.acked.fetch_add(1, Ordering::Relaxed);
            n += 1;
        } else {
            counts.slow_closes.fetch_add(1, Ordering::Relaxed);
            ws = connect(&base, &token).await;
        }
    }
}

/// Sends message `n` and waits for its acknowledgement: `false` when the
/// connection was closed as a slow consumer first.
async fn send_one(ws: &mut Ws, channel: &str, nonce: &str, n: u64) -> bool {
    let send = json!({"type": "MESSAGE_CREATE", "channel_id": channel, "body": format!("message {n}"), "nonce": nonce});
    ws.send(Message::text(send.to_string())).await.unwrap();
    loop {
        let text = match ws.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(Some(close)))) if u16::from(close.code) == SLOW_CONSUMER => {
                return false;
            }
            other => panic!("the gateway closed: {other:?}"),
        };
        let frame: Frame = serde_json::from_str(&text).unwrap();
        match frame.kind {
            "MESSAGE_ACK" if frame.nonce == Some(nonce) => return true,
            "COMMAND_ERROR" => panic!("refused: {text}"),
            _ => {}
        }
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
    let counts = Arc::new(Counts::default());
    let mut tasks = Vec::new();
    for i in 0..SENDERS {
        let token = server.signup(&format!("sender{i}")).await;
        server.post(Some(&token), &format!("/api/workspaces/{ws}/join"), json!({})).await;
        let (base, channel, stop, counts) =
            (server.base.clone(), channel.clone(), stop.clone(), counts.clone());
        tasks.push(tokio::spawn(sender(base, token, channel, i, stop, counts)));
    }
    let label = format!("Parley {backend}");
    measure(&label, || server.cpu_seconds(), &stop, &counts.acked, tasks, seconds).await;
    let closes = counts.slow_closes.load(Ordering::Relaxed);
    if closes > 0 {
        println!(
            "{:<18} {closes} connections closed as slow consumers (reconnected)",
            format!("Parley {backend}")
        );
    }
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
    let label = format!("Synapse {backend}");
    measure(&label, || synapse.cpu_seconds(), &stop, &acked, tasks, seconds).await;
}

/// With the senders running: a second's warm-up, then `seconds` measured
/// (acknowledgements, and `cpu`, the server's CPU time so far, with the
/// client's and, on PostgreSQL, the database's beside it); then stops them.
async fn measure(
    label: &str,
    cpu: impl Fn() -> f64,
    stop: &AtomicBool,
    acked: &AtomicUsize,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    seconds: u64,
) {
    let postgres = label.ends_with("PostgreSQL");
    let others = || (cpu_seconds_of(std::process::id()), if postgres { postgres_cpu_seconds() } else { 0.0 });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (start_acked, start_cpu, start_others, started) =
        (acked.load(Ordering::Relaxed), cpu(), others(), Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (n, cpu, (client, database), elapsed) = (
        acked.load(Ordering::Relaxed) - start_acked,
        cpu() - start_cpu,
        others(),
        started.elapsed().as_secs_f64(),
    );
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let per = |seconds: f64| seconds * 1000.0 / n as f64;
    let database = match postgres {
        true => format!(", database {:.2}", per(database - start_others.1)),
        false => String::new(),
    };
    println!(
        "{label:<18} {SENDERS} senders: {:>6.0} acknowledged messages/s, {:.2} server CPU-ms per message ({n} in {elapsed:.1} s; client {:.2}{database})",
        n as f64 / elapsed,
        per(cpu),
        per(client - start_others.0),
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = args.get(1).expect("usage: sends-bench <parley binary> [seconds]");
    let seconds = args.get(2).map_or(10, |s| s.parse().expect("seconds"));
    if std::env::var_os("SENDS_PG_ONLY").is_none() {
        run(bin, "SQLite", None, seconds).await;
    }
    let synapse = Synapse::python();
    if let Some(python) = &synapse {
        run_synapse(python, "SQLite", None, seconds).await;
    }
    let db = domain::testing::TestDb::new(domain::Backend::Postgres).await;
    run(bin, "PostgreSQL", Some(&db.url), seconds).await;
    if std::env::var_os("SENDS_KEEP_DB").is_none() {
        db.drop_database().await;
    }
    if let Some(python) = &synapse {
        let db = domain::testing::TestDb::new(domain::Backend::Postgres).await;
        run_synapse(python, "PostgreSQL", Some(&db.url), seconds).await;
        db.drop_database().await;
    }
}
