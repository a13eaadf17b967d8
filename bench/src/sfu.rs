//! SFU benchmark: one publisher (Opus at 50 packets/s, VP8 at 30 packets/s)
//! and N subscribers, all `webrtc` crate peers on loopback, in one voice
//! channel of a `parley` server started as its own process. Reports, per N,
//! the server's CPU seconds per 1,000 forwarded packets (from
//! /proc/<pid>/stat) and the packet loss (what subscribers received against
//! what the publisher sent, times N).
//!
//! Usage: sfu-bench <parley binary> [seconds per run] [N...]   (defaults: 10 s; 1 10 50)

use bench::call_peer::{Peer, until};
use bench::server::Server;
use serde_json::json;
use std::time::Duration;

async fn run(bin: &str, n: usize, seconds: u64) {
    let server = Server::start(bin, &[]).await;
    let owner = server.signup("owner").await;
    let ws = server.post(Some(&owner), "/api/workspaces", json!({"name": "Bench"})).await;
    let ws = ws["workspace"]["id"].as_str().unwrap().to_string();
    let body = json!({"workspace_id": ws, "name": "stage", "channel_type": "voice"});
    let channel = server.post(Some(&owner), "/api/communication/channels/", body).await;
    let channel = channel["id"].as_str().unwrap().to_string();
    let gateway = format!("{}/ws", server.base.replace("http://", "ws://"));

    let mut subscribers = Vec::new();
    for i in 0..n {
        let token = server.signup(&format!("listener{i}")).await;
        server.post(Some(&token), &format!("/api/workspaces/{ws}/join"), json!({})).await;
        let mut peer = Peer::join(&gateway, &token, &channel, false).await;
        peer.next("VOICE_JOINED").await;
        subscribers.push(peer);
    }
    let publisher = Peer::join(&gateway, &owner, &channel, true).await;
    for s in &subscribers {
        until(|| s.received.video(), 5, "warm-up video").await;
    }

    let received =
        |subs: &[Peer]| subs.iter().map(|s| s.received.audio() + s.received.video()).sum::<usize>();
    let (cpu0, sent0, got0) =
        (server.cpu_seconds(), publisher.sent.audio() + publisher.sent.video(), received(&subscribers));
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (cpu1, sent1, got1) =
        (server.cpu_seconds(), publisher.sent.audio() + publisher.sent.video(), received(&subscribers));
    let forwarded = got1 - got0;
    let expected = (sent1 - sent0) * n;
    let loss = 100.0 * (1.0 - forwarded as f64 / expected as f64).max(0.0);
    let cpu = cpu1 - cpu0;
    println!(
        "N={n:<3} {seconds} s: sent {} packets, forwarded {forwarded} of {expected}, loss {loss:.2}%, \
         server CPU {cpu:.2} s = {:.3} s per 1,000 forwarded packets",
        sent1 - sent0,
        1000.0 * cpu / forwarded.max(1) as f64,
    );
    for s in subscribers {
        let _ = s.pc.close().await;
    }
    let _ = publisher.pc.close().await;
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let bin = args.next().expect("usage: sfu-bench <parley binary> [seconds] [N...]");
    let seconds: u64 = args.next().map(|s| s.parse().expect("seconds")).unwrap_or(10);
    let ns: Vec<usize> = args.map(|s| s.parse().expect("N")).collect();
    let ns = if ns.is_empty() { vec![1, 10, 50] } else { ns };
    for n in ns {
        run(&bin, n, seconds).await;
    }
}
