//! SFU benchmark: one publisher (Opus at 50 packets/s, VP8 at 30 packets/s)
//! and N subscribers, all `webrtc` crate peers on loopback, in one voice
//! channel of a `parley` server started as its own process. Reports, per N,
//! the server's CPU seconds per 1,000 forwarded packets (from
//! /proc/<pid>/stat) and the packet loss (what subscribers received against
//! what the publisher sent, times N).
//!
//! Usage: sfu-bench <parley binary> [seconds per run] [N...]   (defaults: 10 s; 1 10 50)

use bench::call_peer::{Peer, until};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    base: String,
    _data: domain::testing::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(bin: &str) -> Server {
        let data = domain::testing::TempDir::new("parley-sfu-bench");
        let port = free_port();
        let child = Command::new(bin)
            .env("PARLEY_BIND", format!("127.0.0.1:{port}"))
            .env("PARLEY_DATA_DIR", &data.0)
            .env("PARLEY_RTC_ANNOUNCED_IPS", "127.0.0.1")
            .env("PARLEY_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("the parley binary starts");
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while reqwest::get(format!("{base}/healthz")).await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "the server answers within 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Server { child, base, _data: data }
    }

    /// The server process's CPU time so far (user + system), in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).expect("/proc stat");
        // Fields after the command name (which may hold spaces) in parentheses.
        let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
        ticks / clock_ticks()
    }

    async fn post(&self, token: Option<&str>, path: &str, body: Value) -> Value {
        let mut req = reqwest::Client::new().post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.expect("JSON")
    }

    async fn signup(&self, name: &str) -> String {
        let body = json!({"username": name, "display_name": name, "email": format!("{name}@example.com"),
            "password": "correct horse battery"});
        self.post(None, "/api/auth/signup", body).await["token"].as_str().unwrap().to_string()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn clock_ticks() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output().expect("getconf");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(100.0)
}

async fn run(bin: &str, n: usize, seconds: u64) {
    let server = Server::start(bin).await;
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
