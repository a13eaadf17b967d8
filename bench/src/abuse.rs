//! Abuse benchmark: a normal person's page loads and message posts, quiet
//! and while two kinds of flood run against the same `parley` process (one
//! guessing a victim's password from ever-new addresses, one posting as fast
//! as it can), with the server's resident memory through it all; then its
//! memory after 100 sign-ups and sign-ins against its idle figure.
//!
//! Addresses: the server trusts `X-Forwarded-For` here, so each client can
//! be a different address on one machine (as behind a reverse proxy).
//!
//! Usage: abuse-bench <parley binary> [flood tasks per kind]   (default 16)

use bench::server::Server;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Requests of one kind a normal person makes per phase.
const SAMPLES: usize = 100;
/// Between a normal person's requests (a brisk person, under every limit).
const PAUSE: Duration = Duration::from_millis(100);

struct Person {
    token: String,
    cookie: String,
    address: String,
}

/// Milliseconds at the given percentile.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    (percentile(&ms, 0.5), percentile(&ms, 0.99))
}

/// A normal person's traffic: a channel page load and a post, alternating
/// over `channels`; returns the milliseconds of each kind.
async fn normal_traffic(
    server: &Server,
    who: &Person,
    ws: &str,
    channels: &[String],
) -> (Vec<f64>, Vec<f64>) {
    let client = reqwest::Client::new();
    let (mut pages, mut posts) = (Vec::new(), Vec::new());
    for i in 0..SAMPLES {
        let channel = &channels[i % channels.len()];
        let started = Instant::now();
        let page = client
            .get(format!("{}/w/{ws}/c/{channel}", server.base))
            .header("cookie", &who.cookie)
            .header("accept", "text/html")
            .header("x-forwarded-for", &who.address)
            .send()
            .await
            .expect("page");
        assert_eq!(page.status(), 200, "the page loads");
        let _ = page.bytes().await;
        pages.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        let post = client
            .post(format!("{}/api/communication/messages/", server.base))
            .bearer_auth(&who.token)
            .header("x-forwarded-for", &who.address)
            .json(&json!({"channel_id": channel, "body": format!("normal message {i}")}))
            .send()
            .await
            .expect("post");
        assert_eq!(post.status(), 201, "the post is taken: {}", post.text().await.unwrap_or_default());
        posts.push(started.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(PAUSE).await;
    }
    (pages, posts)
}

/// A different address for each request of a flood.
fn address(n: usize) -> String {
    format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255)
}

async fn sign_in(server: &Server, name: &str, address: &str) -> (String, String) {
    let res = reqwest::Client::new()
        .post(format!("{}/api/auth/login", server.base))
        .header("x-forwarded-for", address)
        .json(&json!({"username": name, "password": "correct horse battery"}))
        .send()
        .await
        .expect("sign-in");
    assert!(res.status().is_success(), "{name} signs in: {}", res.status());
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect::<Vec<_>>()
        .join("; ");
    let token = res.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_string();
    (token, cookie)
}

/// Sends what `request` makes, one after another, until `stop`; counts
/// them and those refused with 429.
async fn flood(
    server: Arc<Server>,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
    request: impl Fn(&reqwest::Client, &str, usize) -> reqwest::RequestBuilder,
) {
    let client = reqwest::Client::new();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let res = request(&client, &server.base, i).send().await;
        sent.fetch_add(1, Ordering::Relaxed);
        if res.is_ok_and(|r| r.status() == 429) {
            refused.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let bin = args.next().expect("usage: abuse-bench <parley binary> [flood tasks per kind]");
    let tasks: usize = args.next().map(|s| s.parse().expect("tasks")).unwrap_or(16);
    let server = Arc::new(Server::start(&bin, &[("PARLEY_TRUST_PROXY", "1")]).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = server.rss_mib();

    // A workspace with 20 channels for the quiet phase and 20 for the flood
    // (posting is limited per person and channel; a brisk person spreads out).
    let owner = server.signup("owner").await;
    let ws = server.post(Some(&owner), "/api/workspaces", json!({"name": "Bench"})).await;
    let ws = ws["workspace"]["id"].as_str().unwrap().to_string();
    let mut channels = Vec::new();
    for i in 0..41 {
        let body = json!({"workspace_id": ws, "name": format!("room-{i}")});
        channels.push(
            server.post(Some(&owner), "/api/communication/channels/", body).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let spam_channel = channels.pop().unwrap();
    let (token, cookie) = sign_in(&server, "owner", "10.200.0.1").await;
    let normal = Person { token, cookie, address: "10.200.0.1".into() };
    let spammer = server.signup("spammer").await;
    server.post(Some(&spammer), &format!("/api/workspaces/{ws}/join"), json!({})).await;
    server.signup("victim").await;

    let (quiet_pages, quiet_posts) = normal_traffic(&server, &normal, &ws, &channels[..20]).await;

    // The floods.
    let stop = Arc::new(AtomicBool::new(false));
    let (guesses, refused_guesses, spam, refused_spam) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let mut floods = Vec::new();
    for t in 0..tasks {
        floods.push(tokio::spawn(flood(
            server.clone(),
            stop.clone(),
            guesses.clone(),
            refused_guesses.clone(),
            {
                let n = t * 1_000_000;
                move |client: &reqwest::Client, base: &str, i: usize| {
                    client
                        .post(format!("{base}/api/auth/login"))
                        .header("x-forwarded-for", address(n + i))
                        .json(&json!({"username": "victim", "password": format!("guess {}", n + i)}))
                }
            },
        )));
        let (token, channel) = (spammer.clone(), spam_channel.clone());
        floods.push(tokio::spawn(flood(server.clone(), stop.clone(), spam.clone(), refused_spam.clone(), {
            let n = 5_000_000 + t * 1_000_000;
            move |client: &reqwest::Client, base: &str, i: usize| {
                client
                    .post(format!("{base}/api/communication/messages/"))
                    .bearer_auth(&token)
                    .header("x-forwarded-for", address(n + i))
                    .json(&json!({"channel_id": channel, "body": "spam spam spam"}))
            }
        })));
    }
    let peak = Arc::new(std::sync::Mutex::new(0.0f64));
    let sampler = {
        let (server, stop, peak) = (server.clone(), stop.clone(), peak.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let rss = server.rss_mib();
                {
                    let mut p = peak.lock().unwrap();
                    *p = p.max(rss);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let flood_started = Instant::now();
    let (flood_pages, flood_posts) = normal_traffic(&server, &normal, &ws, &channels[20..]).await;
    let flood_seconds = flood_started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for f in floods {
        let _ = f.await;
    }
    let _ = sampler.await;
    let peak = *peak.lock().unwrap();

    // 100 sign-ups and sign-ins, ten at a time, each from its own address.
    let mut people = Vec::new();
    for batch in 0..10 {
        let mut joins = Vec::new();
        for i in 0..10 {
            let server = server.clone();
            let n = batch * 10 + i;
            joins.push(tokio::spawn(async move {
                let name = format!("person{n}");
                let res = reqwest::Client::new()
                    .post(format!("{}/api/auth/signup", server.base))
                    .header("x-forwarded-for", address(9_000_000 + n))
                    .json(&json!({"username": name, "display_name": name, "email": format!("{name}@example.com"),
                        "password": "correct horse battery"}))
                    .send()
                    .await
                    .expect("sign-up");
                assert!(res.status().is_success(), "sign-up: {}", res.status());
                sign_in(&server, &name, &address(9_500_000 + n)).await
            }));
        }
        for j in joins {
            people.push(j.await.unwrap());
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_signups = server.rss_mib();

    let (qp50, qp99) = summary(quiet_pages);
    let (qs50, qs99) = summary(quiet_posts);
    let (fp50, fp99) = summary(flood_pages);
    let (fs50, fs99) = summary(flood_posts);
    let guesses = guesses.load(Ordering::Relaxed);
    let spam = spam.load(Ordering::Relaxed);
    println!("normal person, {SAMPLES} of each, quiet → under flood ({tasks} tasks per flood):");
    println!(
        "  channel page  p50 {qp50:6.1} ms → {fp50:6.1} ms   p99 {qp99:6.1} ms → {fp99:6.1} ms ({:.2}×)",
        fp99 / qp99
    );
    println!(
        "  post message  p50 {qs50:6.1} ms → {fs50:6.1} ms   p99 {qs99:6.1} ms → {fs99:6.1} ms ({:.2}×)",
        fs99 / qs99
    );
    println!(
        "floods over {flood_seconds:.1} s: {guesses} wrong-password sign-ins ({:.0}/s, {} refused with 429), \
         {spam} spam posts ({:.0}/s, {} refused with 429)",
        guesses as f64 / flood_seconds,
        refused_guesses.load(Ordering::Relaxed),
        spam as f64 / flood_seconds,
        refused_spam.load(Ordering::Relaxed),
    );
    println!(
        "resident memory: idle {idle:.1} MiB, peak under flood {peak:.1} MiB, after 100 sign-ups and sign-ins \
         {after_signups:.1} MiB (+{:.1} MiB over idle)",
        after_signups - idle
    );
}
