//! Simulated-users benchmark: like Mattermost's load test, simulated people
//! each connected to the gateway do a realistic mix of what people do in a
//! chat app, one action every few seconds: switch channel (read its newest
//! page), read further back, post, react, reply in a thread, search, and
//! type. People are added in steps; each step is held and measured, and the
//! ramp stops at the first step whose p99 action latency passes 500 ms or
//! that sees an error. Reports, per step, the actions per second, p50/p99
//! latency and errors, and how many people the last good step held.
//!
//! The workspace has 20 channels (each person in 3 of them, chosen at
//! random, besides #general where nobody posts) seeded with 50 messages
//! each. Like the app, a person tells the gateway which channel is on
//! screen (`VIEW`), and is sent typing only from there.
//!
//! Usage: users-bench <parley binary> [one|three] [people per step] [most people] [seconds per step]
//! (default: one node, steps of 250 up to 5,000, 20 s each; three nodes use
//! PostgreSQL and Redis at `PARLEY_BENCH_REDIS`)

use bench::client::{Ws, connect};
use bench::server::{Cluster, Server, cpu_seconds_of};
use futures::{SinkExt, StreamExt};
use rand::Rng;
use rand::seq::SliceRandom;
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const CHANNELS: usize = 20;
const CHANNELS_EACH: usize = 3;
const SEEDED: usize = 50;
/// A person's mean time between two actions.
const THINK: Duration = Duration::from_secs(5);
/// The latency a step must keep its p99 under.
const P99_LIMIT_MS: f64 = 500.0;
const WORDS: [&str; 12] = [
    "deploy", "lunch", "review", "budget", "release", "meeting", "design", "invoice", "incident", "roadmap",
    "standup", "hiring",
];

/// What the people share: the action latencies of the current step, errors.
struct Shared {
    /// The step being measured; 0 while warming up.
    step: AtomicU32,
    latencies_us: Mutex<Vec<u32>>,
    errors: AtomicU64,
    /// Set to stop everyone.
    stop: AtomicBool,
}

#[derive(Deserialize)]
struct Page {
    messages: Vec<Posted>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct Posted {
    id: String,
}

/// One simulated person.
struct Person {
    http: reqwest::Client,
    base: String,
    token: String,
    channels: Vec<String>,
    /// The channel on screen, and what its last page showed.
    current: usize,
    seen: Vec<String>,
    cursor: Option<String>,
    sent: u64,
}

impl Person {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn check(res: reqwest::Result<reqwest::Response>) -> Result<reqwest::Response, String> {
        let res = res.map_err(|e| e.to_string())?;
        if res.status().is_success() { Ok(res) } else { Err(format!("{}", res.status())) }
    }

    /// Opens a channel: its newest page.
    async fn switch(&mut self) -> Result<(), String> {
        self.current = rand::thread_rng().gen_range(0..self.channels.len());
        let url = self.url(&format!(
            "/api/communication/messages/?channel_id={}&limit=50",
            self.channels[self.current]
        ));
        let res = Self::check(self.http.get(url).bearer_auth(&self.token).send().await).await?;
        let page: Page = res.json().await.map_err(|e| e.to_string())?;
        self.seen = page.messages.into_iter().map(|m| m.id).collect();
        self.cursor = page.next_cursor;
        Ok(())
    }

    /// Scrolls back one page in the channel on screen.
    async fn history(&mut self) -> Result<(), String> {
        let Some(before) = self.cursor.take() else { return self.switch().await };
        let url = self.url(&format!(
            "/api/communication/messages/?channel_id={}&limit=50&before={before}",
            self.channels[self.current]
        ));
        let res = Self::check(self.http.get(url).bearer_auth(&self.token).send().await).await?;
        let page: Page = res.json().await.map_err(|e| e.to_string())?;
        self.cursor = page.next_cursor;
        Ok(())
    }

    async fn post(&mut self, thread: Option<String>) -> Result<(), String> {
        self.sent += 1;
        let word = WORDS.choose(&mut rand::thread_rng()).unwrap();
        let body = json!({"channel_id": self.channels[self.current], "body": format!("about the {word}, number {}", self.sent),
            "nonce": format!("{}-{}", &self.token[..8], self.sent), "thread_id": thread});
        let res =
            self.http.post(self.url("/api/communication/messages/")).bearer_auth(&self.token).json(&body);
        Self::check(res.send().await).await.map(|_| ())
    }

    async fn react(&mut self) -> Result<(), String> {
        let Some(id) = self.seen.choose(&mut rand::thread_rng()).cloned() else { return self.switch().await };
        let url = self.url(&format!("/api/communication/messages/{id}/add_reaction/"));
        let res = self.http.post(url).bearer_auth(&self.token).json(&json!({"emoji": "👍"}));
        Self::check(res.send().await).await.map(|_| ())
    }

    async fn reply(&mut self) -> Result<(), String> {
        let Some(id) = self.seen.choose(&mut rand::thread_rng()).cloned() else { return self.switch().await };
        self.post(Some(id)).await
    }

    async fn search(&mut self) -> Result<(), String> {
        let word = WORDS.choose(&mut rand::thread_rng()).unwrap();
        let res = self
            .http
            .post(self.url("/api/communication/messages/search/"))
            .bearer_auth(&self.token)
            .json(&json!({"query": word}));
        Self::check(res.send().await).await.map(|_| ())
    }
}

/// One person's life: reading their gateway stream, and acting every few
/// seconds (typing is sent over the gateway and not timed: nothing answers it).
async fn live(mut person: Person, ws: Ws, shared: Arc<Shared>) {
    let (mut tx, mut rx) = ws.split();
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = rx.next().await {} });
    if person.switch().await.is_err() {
        shared.errors.fetch_add(1, Ordering::Relaxed);
    }
    // The channel on screen, as the app tells the gateway (`VIEW`).
    let mut shown = None;
    while !shared.stop.load(Ordering::Relaxed) {
        if shown != Some(person.current) {
            shown = Some(person.current);
            let view = json!({"type": "VIEW", "channel_id": person.channels[person.current]});
            if tx.send(Message::text(view.to_string())).await.is_err() {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
        let think = rand::thread_rng().gen_range(0.0..2.0) * THINK.as_secs_f64();
        tokio::time::sleep(Duration::from_secs_f64(think)).await;
        let roll = rand::thread_rng().gen_range(0..100);
        if roll < 15 {
            let typing = json!({"type": "TYPING", "channel_id": person.channels[person.current]});
            if tx.send(Message::text(typing.to_string())).await.is_err() {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                break;
            }
            continue;
        }
        let step = shared.step.load(Ordering::Relaxed);
        let started = Instant::now();
        let done = match roll {
            15..50 => person.switch().await,
            50..60 => person.history().await,
            60..75 => person.post(None).await,
            75..85 => person.react().await,
            85..95 => person.reply().await,
            _ => person.search().await,
        };
        let took = started.elapsed().as_micros() as u32;
        if step != 0 && step == shared.step.load(Ordering::Relaxed) {
            match done {
                Ok(()) => shared.latencies_us.lock().unwrap().push(took),
                Err(e) => {
                    if shared.errors.fetch_add(1, Ordering::Relaxed) < 5 {
                        eprintln!("an action failed: {e}");
                    }
                }
            }
        }
    }
    reader.abort();
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize] as f64 / 1000.0
}

/// Everyone comes from one address here: the limits per address are lifted,
/// and the posting limit so that the seeding can post quickly (a person here
/// posts far below it); the others (reactions, searches, ...) stay as configured.
const LIMITS_OFF: [(&str, &str); 3] =
    [("PARLEY_LIMIT_SIGNUP", "off"), ("PARLEY_LIMIT_REQUESTS", "off"), ("PARLEY_LIMIT_POST", "off")];

async fn ramp(label: &str, servers: &[Server], step_size: usize, most: usize, seconds: u64) {
    let http = reqwest::Client::new();
    let first = &servers[0];
    let owner = first.signup("owner").await;
    let created = first.post(Some(&owner), "/api/workspaces", json!({"name": "Load"})).await;
    let ws = created["workspace"]["id"].as_str().unwrap().to_string();
    let mut channels = Vec::new();
    for c in 0..CHANNELS {
        let made = first
            .post(
                Some(&owner),
                "/api/communication/channels/",
                json!({"workspace_id": ws, "name": format!("room-{c}")}),
            )
            .await;
        let id = made["id"].as_str().unwrap().to_string();
        for m in 0..SEEDED {
            let word = WORDS[m % WORDS.len()];
            let body = json!({"channel_id": id, "body": format!("seeded note on the {word}, {m}")});
            first.post(Some(&owner), "/api/communication/messages/", body).await;
        }
        channels.push(id);
    }
    let shared = Arc::new(Shared {
        step: AtomicU32::new(0),
        latencies_us: Mutex::new(Vec::new()),
        errors: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let cpu = || servers.iter().map(Server::cpu_seconds).sum::<f64>();
    let mut people = 0;
    let mut held = 0;
    let mut step = 0;
    while people < most {
        // Warm-up: this step's people sign up, join and connect.
        shared.step.store(0, Ordering::Relaxed);
        // Sixteen at a time, as people arriving at once would.
        let joining: Vec<usize> = (people..people + step_size).collect();
        for batch in joining.chunks(16) {
            let arrivals = batch.iter().map(|&i| {
                let (server, http, ws, channels) = (&servers[i % servers.len()], &http, &ws, &channels);
                async move {
                    let token = server.signup(&format!("person{i}")).await;
                    server.post(Some(&token), &format!("/api/workspaces/{ws}/join"), json!({})).await;
                    let mine: Vec<String> =
                        channels.choose_multiple(&mut rand::thread_rng(), CHANNELS_EACH).cloned().collect();
                    for c in &mine {
                        server
                            .post(Some(&token), &format!("/api/communication/channels/{c}/join/"), json!({}))
                            .await;
                    }
                    let socket = connect(&server.base, &token).await;
                    let person = Person {
                        http: http.clone(),
                        base: server.base.clone(),
                        token,
                        channels: mine,
                        current: 0,
                        seen: Vec::new(),
                        cursor: None,
                        sent: 0,
                    };
                    (person, socket)
                }
            });
            for (person, socket) in futures::future::join_all(arrivals).await {
                tokio::spawn(live(person, socket, shared.clone()));
            }
        }
        people += step_size;
        step += 1;
        // Let the new people settle into their rhythm, then measure.
        tokio::time::sleep(THINK).await;
        shared.latencies_us.lock().unwrap().clear();
        shared.errors.store(0, Ordering::Relaxed);
        shared.step.store(step, Ordering::Relaxed);
        let (cpu0, client0, started) = (cpu(), cpu_seconds_of(std::process::id()), Instant::now());
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        shared.step.store(0, Ordering::Relaxed);
        let mut latencies = std::mem::take(&mut *shared.latencies_us.lock().unwrap());
        let errors = shared.errors.load(Ordering::Relaxed);
        let (server_cpu, client_cpu, elapsed) =
            (cpu() - cpu0, cpu_seconds_of(std::process::id()) - client0, started.elapsed().as_secs_f64());
        latencies.sort_unstable();
        let p99 = percentile(&latencies, 0.99);
        println!(
            "{label:<22} {people:>5} people: {:>6.0} actions/s, p50 {:>6.1} ms, p99 {:>6.1} ms, {errors} errors \
             (server CPU {:.0}%, load client CPU {:.0}%)",
            latencies.len() as f64 / elapsed,
            percentile(&latencies, 0.5),
            p99,
            server_cpu / elapsed * 100.0,
            client_cpu / elapsed * 100.0,
        );
        if errors > 0 || p99 > P99_LIMIT_MS || latencies.is_empty() {
            break;
        }
        held = people;
    }
    shared.stop.store(true, Ordering::Relaxed);
    println!("{label}: held {held} people with p99 under {P99_LIMIT_MS} ms and no errors");
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = args.get(1).expect("usage: users-bench <parley binary> [one|three] [step] [most] [seconds]");
    let shape = args.get(2).map_or("one", String::as_str);
    let step = args.get(3).map_or(250, |s| s.parse().expect("people per step"));
    let most = args.get(4).map_or(5000, |s| s.parse().expect("most people"));
    let seconds = args.get(5).map_or(20, |s| s.parse().expect("seconds per step"));
    match shape {
        "one" => {
            let server = Server::start(bin, &LIMITS_OFF).await;
            ramp("one node (SQLite)", &[server], step, most, seconds).await;
        }
        "three" => {
            let cluster = Cluster::start(bin, &LIMITS_OFF, 3).await;
            ramp("three nodes (PG+Redis)", &cluster.servers, step, most, seconds).await;
            cluster.stop().await;
        }
        other => panic!("unknown shape {other}: use one or three"),
    }
}
