//! Connections benchmark: the server's memory per idle, authenticated
//! gateway connection (its resident memory after opening N connections,
//! less before, divided by N) and the server CPU time that opening one
//! costs (upgrade, HELLO, IDENTIFY, READY), on one node (SQLite).
//!
//! Usage: connections-bench <parley binary> [connections]   (default 10000;
//! this process and the server each hold one descriptor per connection)

use bench::client::connect;
use bench::server::Server;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::json;
use std::time::{Duration, Instant};

/// People the connections are spread over (each has several pages open).
const PEOPLE: usize = 100;
/// Connections being opened at once.
const OPENING: usize = 32;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = args.get(1).expect("usage: connections-bench <parley binary> [connections]");
    let count: usize = args.get(2).map_or(10_000, |s| s.parse().expect("a number of connections"));
    let server =
        Server::start(bin, &[("PARLEY_LIMIT_SIGNUP", "off"), ("PARLEY_LIMIT_REQUESTS", "off")]).await;
    let owner = server.signup("owner").await;
    let created = server.post(Some(&owner), "/api/workspaces", json!({"name": "Connections"})).await;
    let ws = created["workspace"]["id"].as_str().unwrap().to_string();
    let mut tokens = Vec::new();
    for i in 0..PEOPLE {
        let token = server.signup(&format!("person{i}")).await;
        server.post(Some(&token), &format!("/api/workspaces/{ws}/join"), json!({})).await;
        tokens.push(token);
    }
    // A first connection of each person, so that what is measured is the
    // connections themselves, not what a person's first one sets up.
    let mut held = Vec::new();
    for token in &tokens {
        held.push(connect(&server.base, token).await);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (rss0, cpu0, started) = (server.rss_mib(), server.cpu_seconds(), Instant::now());
    let mut opening = FuturesUnordered::new();
    let mut opened = 0;
    while opened < count || !opening.is_empty() {
        while opened < count && opening.len() < OPENING {
            let (base, token) = (server.base.clone(), tokens[opened % PEOPLE].clone());
            opening.push(async move { connect(&base, &token).await });
            opened += 1;
        }
        if let Some(ws) = opening.next().await {
            held.push(ws);
        }
    }
    let (cpu1, took) = (server.cpu_seconds(), started.elapsed());
    // Idle: let what the connections set off settle, then read the memory.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss1 = server.rss_mib();
    println!(
        "{count} idle connections: {:.1} KB of server memory each ({:.0} MiB before, {:.0} MiB after); \
         opening one: {:.2} ms of server CPU ({:.1} s to open all, {OPENING} at a time)",
        (rss1 - rss0) * 1024.0 / count as f64,
        rss0,
        rss1,
        (cpu1 - cpu0) * 1000.0 / count as f64,
        took.as_secs_f64(),
    );
    drop(held);
}
