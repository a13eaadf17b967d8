//! Fan-out benchmark: a channel of 100 members, each connected to the
//! gateway; ten of them send messages over it at a fixed total rate, and
//! every member's connection receives every message. Reports deliveries per
//! second, the servers' CPU time per delivery, and the p50/p99 time from a
//! message's sending to its arrival at each member, on one node (SQLite)
//! and on three (PostgreSQL and Redis between them, members spread over the
//! nodes), with the load client's own CPU time so that a client that is the
//! bottleneck shows.
//!
//! `synapse`: the same room on Matrix Synapse (see [`bench::synapse`]),
//! members long-polling `/sync`, for the ratio.
//!
//! Usage: fanout-bench <parley binary> [one|three|synapse] [seconds per rate] [messages/s …]
//! (default: one node, 5 s at 50, 100, 200 and 400 messages/s; Redis at
//! `PARLEY_BENCH_REDIS`, by default the machine's on port 6379)

use bench::client::{Frame, Ws, connect};
use bench::server::{Cluster, Server, cpu_seconds_of};
use bench::synapse::Synapse;
use futures::{SinkExt, StreamExt};
use serde_json::json;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const MEMBERS: usize = 100;
const SENDERS: usize = 10;

/// What the driver tells the members' tasks, and what they measure.
struct Shared {
    /// Messages carry the phase they were sent in; only the current phase's count.
    phase: AtomicU32,
    /// Each sender's time between two messages, in µs (0: not sending).
    period_us: AtomicU64,
    /// Delivery latencies of the current phase, in µs.
    latencies: Mutex<Vec<u32>>,
    /// When the benchmark began: message bodies carry their sending time from it.
    epoch: Instant,
}

/// One member's connection: it receives every message and, for a sender,
/// sends at the shared rate (without waiting for acknowledgements).
async fn member(ws: Ws, who: usize, sends: bool, shared: Arc<Shared>) {
    let (mut tx, mut rx) = ws.split();
    if sends {
        // Paced into a queue, written by a task of its own.
        let (queue, mut queued) = tokio::sync::mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(command) = queued.recv().await {
                if tx.send(Message::text(command)).await.is_err() {
                    return;
                }
            }
        });
        tokio::spawn(pace(shared.clone(), move |n, body| {
            let command = json!({"type": "MESSAGE_CREATE", "channel_id": CHANNEL.get().unwrap(),
                "body": body, "nonce": format!("{who}-{n}")});
            queue.send(command.to_string()).is_ok()
        }));
    }
    while let Some(Ok(frame)) = rx.next().await {
        let Message::Text(text) = frame else { continue };
        let Ok(frame) = serde_json::from_str::<Frame>(&text) else { continue };
        match frame.kind {
            "MESSAGE_CREATE" => {
                if let Some(m) = frame.message {
                    received(&shared, m.body);
                }
            }
            "COMMAND_ERROR" => panic!("refused: {text}"),
            _ => {}
        }
    }
}

/// Records a received body `phase:µs` of the current phase.
fn received(shared: &Shared, body: &str) {
    let now = shared.epoch.elapsed().as_micros() as u64;
    let Some((phase, sent)) = body.split_once(':') else { return };
    let (Ok(phase), Ok(sent)) = (phase.parse::<u32>(), sent.parse::<u64>()) else { return };
    if phase == shared.phase.load(Ordering::Relaxed) {
        shared.latencies.lock().unwrap().push(now.saturating_sub(sent) as u32);
    }
}

/// What a message's body says: its phase and when it was sent.
fn stamp(shared: &Shared) -> String {
    format!("{}:{}", shared.phase.load(Ordering::Relaxed), shared.epoch.elapsed().as_micros())
}

/// Sends at the shared rate with `send`, which must not wait for the server.
async fn pace(shared: Arc<Shared>, mut send: impl FnMut(u64, String) -> bool) {
    let mut n = 0u64;
    let mut next = tokio::time::Instant::now();
    loop {
        let period = shared.period_us.load(Ordering::Relaxed);
        if period == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            next = tokio::time::Instant::now();
            continue;
        }
        next += Duration::from_micros(period);
        tokio::time::sleep_until(next).await;
        if !send(n, stamp(&shared)) {
            return;
        }
        n += 1;
    }
}

/// A Synapse member: long-polls `/sync` for every message and, for a
/// sender, sends at the shared rate (each send its own request, not waited for).
async fn synapse_member(
    synapse: Arc<Synapse>,
    token: String,
    room: String,
    who: usize,
    sends: bool,
    shared: Arc<Shared>,
) {
    if sends {
        let (synapse, token, room) = (synapse.clone(), token.clone(), room.clone());
        tokio::spawn(pace(shared.clone(), move |n, body| {
            let (synapse, token, room) = (synapse.clone(), token.clone(), room.clone());
            tokio::spawn(async move { synapse.send(&token, &room, &format!("{who}-{n}"), &body).await });
            true
        }));
    }
    let mut since = synapse.sync(&token, None, Duration::ZERO).await.next_batch;
    loop {
        let synced = synapse.sync(&token, Some(&since), Duration::from_secs(30)).await;
        for body in &synced.bodies {
            received(&shared, body);
        }
        since = synced.next_batch;
    }
}

static CHANNEL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize] as f64 / 1000.0
}

async fn run(label: &str, servers: &[Server], seconds: u64, rates: &[u64]) {
    let first = &servers[0];
    let owner = first.signup("owner").await;
    let created = first.post(Some(&owner), "/api/workspaces", json!({"name": "Fan-out"})).await;
    let ws = created["workspace"]["id"].as_str().unwrap().to_string();
    let channel = created["general"]["id"].as_str().unwrap().to_string();
    CHANNEL.get_or_init(|| channel.clone());
    assert_eq!(CHANNEL.get(), Some(&channel), "one channel id per process: run one deployment per process");
    let shared = new_shared();
    for i in 0..MEMBERS {
        let server = &servers[i % servers.len()];
        let token = server.signup(&format!("member{i}")).await;
        server.post(Some(&token), &format!("/api/workspaces/{ws}/join"), json!({})).await;
        let socket = connect(&server.base, &token).await;
        tokio::spawn(member(socket, i, i < SENDERS, shared.clone()));
    }
    let cpu = || servers.iter().map(Server::cpu_seconds).sum::<f64>();
    measure(label, &shared, cpu, seconds, rates).await;
}

/// The same room of 100 on Synapse (SQLite, as one Parley node).
async fn run_synapse(synapse: Arc<Synapse>, seconds: u64, rates: &[u64]) {
    let owner = synapse.register("owner").await;
    let room = synapse.create_room(&owner).await;
    let shared = new_shared();
    for i in 0..MEMBERS {
        let token = synapse.register(&format!("member{i}")).await;
        synapse.join(&token, &room).await;
        tokio::spawn(synapse_member(synapse.clone(), token, room.clone(), i, i < SENDERS, shared.clone()));
    }
    let cpu = || synapse.cpu_seconds();
    measure("Synapse (SQLite)", &shared, cpu, seconds, rates).await;
}

fn new_shared() -> Arc<Shared> {
    Arc::new(Shared {
        phase: AtomicU32::new(0),
        period_us: AtomicU64::new(0),
        latencies: Mutex::new(Vec::new()),
        epoch: Instant::now(),
    })
}

/// Runs each rate in turn on members already connected, and prints what
/// they measured, with `cpu`, the servers' CPU time so far.
async fn measure(label: &str, shared: &Shared, cpu: impl Fn() -> f64, seconds: u64, rates: &[u64]) {
    for &rate in rates {
        let phase = shared.phase.load(Ordering::Relaxed) + 1;
        shared.phase.store(phase, Ordering::Relaxed);
        shared.period_us.store(1_000_000 * SENDERS as u64 / rate, Ordering::Relaxed);
        // Warm up at this rate, then measure.
        tokio::time::sleep(Duration::from_secs(1)).await;
        shared.latencies.lock().unwrap().clear();
        let (cpu0, client0, started) = (cpu(), cpu_seconds_of(std::process::id()), Instant::now());
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        let mut latencies = std::mem::take(&mut *shared.latencies.lock().unwrap());
        let (server_cpu, client_cpu, elapsed) =
            (cpu() - cpu0, cpu_seconds_of(std::process::id()) - client0, started.elapsed().as_secs_f64());
        shared.period_us.store(0, Ordering::Relaxed);
        latencies.sort_unstable();
        let deliveries = latencies.len() as f64;
        println!(
            "{label:<22} {rate:>4} messages/s: {:>7.0} deliveries/s, {:>7.0} deliveries per server CPU-second, \
             p50 {:>6.1} ms, p99 {:>6.1} ms (server CPU {:.0}%, load client CPU {:.0}%)",
            deliveries / elapsed,
            deliveries / server_cpu,
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            server_cpu / elapsed * 100.0,
            client_cpu / elapsed * 100.0,
        );
        // Let what is in flight arrive before the next rate.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

const LIMITS_OFF: [(&str, &str); 4] = [
    ("PARLEY_LIMIT_SIGNUP", "off"),
    ("PARLEY_LIMIT_REQUESTS", "off"),
    ("PARLEY_LIMIT_POST", "off"),
    ("PARLEY_LIMIT_GATEWAY_COMMAND", "off"),
];

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = args.get(1).expect("usage: fanout-bench <parley binary> [one|three] [seconds] [rates…]");
    let shape = args.get(2).map_or("one", String::as_str);
    let seconds = args.get(3).map_or(5, |s| s.parse().expect("seconds"));
    let mut rates: Vec<u64> = args.iter().skip(4).map(|r| r.parse().expect("messages per second")).collect();
    if rates.is_empty() {
        rates = vec![50, 100, 200, 400];
    }
    match shape {
        "one" => {
            let server = Server::start(bin, &LIMITS_OFF).await;
            run("one node (SQLite)", &[server], seconds, &rates).await;
        }
        "three" => {
            let cluster = Cluster::start(bin, &LIMITS_OFF, 3).await;
            run("three nodes (PG+Redis)", &cluster.servers, seconds, &rates).await;
            cluster.stop().await;
        }
        "synapse" => {
            let python = Synapse::python().expect("PARLEY_BENCH_SYNAPSE names the Python that runs Synapse");
            let synapse = Arc::new(Synapse::start(&python, None).await);
            run_synapse(synapse, seconds, &rates).await;
        }
        other => panic!("unknown shape {other}: use one, three or synapse"),
    }
}
