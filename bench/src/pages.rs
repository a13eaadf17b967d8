//! Server-rendered pages benchmark: how long the server takes to answer a
//! signed-in person's channel page holding 50 messages (request sent to
//! last byte received, one request at a time over one kept-alive
//! connection), p50 and p99, with the server's CPU time per page: sent
//! brotli-compressed as a browser asks for it, and uncompressed; then the
//! same page revalidated with its `ETag` (answered 304 without a body).
//! On SQLite and on PostgreSQL (a fresh database on the machine's server).
//!
//! Before that, what a first visit to the page transfers (the page and the
//! app's files it loads, brotli-compressed as a browser asks for them, and
//! the WebAssembly's size raw, gzip and brotli) and what a repeat visit
//! transfers (the page revalidated; the app's files are kept for good).
//!
//! Usage: pages-bench <parley binary> [requests]   (default 500)

use bench::server::Server;
use serde_json::json;
use std::time::{Duration, Instant};

const MESSAGES: usize = 50;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let bin = args.next().expect("usage: pages-bench <parley binary> [requests]");
    let requests: usize = args.next().map(|n| n.parse().expect("a number of requests")).unwrap_or(500);
    run(&bin, "SQLite", None, requests).await;
    let db = domain::testing::TestDb::new(domain::Backend::Postgres).await;
    run(&bin, "PostgreSQL", Some(&db.url), requests).await;
    db.drop_database().await;
}

async fn run(bin: &str, backend: &str, database: Option<&str>, requests: usize) {
    let mut env =
        vec![("PARLEY_LIMIT_SIGNUP", "off"), ("PARLEY_LIMIT_REQUESTS", "off"), ("PARLEY_LIMIT_POST", "off")];
    if let Some(url) = database {
        env.push(("DATABASE_URL", url));
    }
    let server = Server::start(bin, &env).await;
    let token = server.signup("reader").await;
    let created = server.post(Some(&token), "/api/workspaces", json!({"name": "Pages"})).await;
    let (ws, channel) = (
        created["workspace"]["id"].as_str().unwrap().to_string(),
        created["general"]["id"].as_str().unwrap().to_string(),
    );
    for n in 0..MESSAGES {
        let body =
            format!("message {n}: a line of the **kind** people write, with a link https://example.com/{n}");
        server
            .post(Some(&token), "/api/communication/messages/", json!({"channel_id": channel, "body": body}))
            .await;
    }
    let browser = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let signed_in = browser
        .post(format!("{}/api/auth/login", server.base))
        .json(&json!({"username": "reader", "password": "correct horse battery"}))
        .send()
        .await
        .expect("sign in");
    assert!(signed_in.status().is_success(), "sign in: {}", signed_in.status());
    let page = format!("{}/w/{ws}/c/{channel}", server.base);

    let first = browser.get(&page).send().await.expect("page");
    assert_eq!(first.status(), reqwest::StatusCode::OK);
    let etag = first.headers().get("etag").expect("a page carries an ETag").to_str().unwrap().to_string();
    let size = first.bytes().await.expect("page body").len();
    let label = format!("Parley {backend}");
    if database.is_none() {
        transfers(&browser, &server.base, &page).await;
    }
    let (sent, _) = body_bytes(&browser, &page, "br, gzip").await;
    let (times, cpu) = measure(
        &server,
        requests,
        || browser.get(&page).header("accept-encoding", "br, gzip"),
        reqwest::StatusCode::OK,
    )
    .await;
    report(
        &label,
        &format!(
            "channel page ({MESSAGES} messages, {:.1} KB sent brotli-compressed as a browser asks)",
            sent as f64 / 1000.0
        ),
        &times,
        cpu,
    );
    let (times, cpu) = measure(&server, requests, || browser.get(&page), reqwest::StatusCode::OK).await;
    report(&label, &format!("the same page uncompressed ({:.1} KB)", size as f64 / 1000.0), &times, cpu);
    let (times, cpu) = measure(
        &server,
        requests,
        || browser.get(&page).header("if-none-match", &etag),
        reqwest::StatusCode::NOT_MODIFIED,
    )
    .await;
    report(&label, "the same page revalidated (304)", &times, cpu);
}

/// Body bytes of `url` as sent for `accept-encoding` (the client decodes
/// nothing, so this is what crossed the network), and the answer's status.
async fn body_bytes(client: &reqwest::Client, url: &str, encoding: &str) -> (usize, reqwest::StatusCode) {
    let res = client.get(url).header("accept-encoding", encoding).send().await.expect("request");
    let status = res.status();
    (res.bytes().await.expect("body").len(), status)
}

/// Prints what a first and a repeat visit of `page` transfer.
async fn transfers(browser: &reqwest::Client, base: &str, page: &str) {
    let first = browser.get(page).header("accept-encoding", "br, gzip").send().await.expect("page");
    let etag = first.headers().get("etag").expect("a page carries an ETag").to_str().unwrap().to_string();
    let html_bytes = first.bytes().await.expect("page body").len();
    let html = browser.get(page).send().await.expect("page").text().await.expect("page text");
    // The app's files the page names: its JavaScript, WebAssembly and style sheet.
    let mut files: Vec<String> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with("/pkg/parley.") && !s.contains(' '))
        .map(str::to_string)
        .collect();
    // And what the app's JavaScript imports: the loader of its lazily loaded parts.
    for js in files.clone().iter().filter(|f| f.ends_with(".js")) {
        let text = browser
            .get(format!("{base}{js}"))
            .send()
            .await
            .expect("script")
            .text()
            .await
            .expect("script text");
        files.extend(
            text.split(['"', '\''])
                .filter_map(|s| s.strip_prefix("./"))
                // The hashed name it is imported by (the WebAssembly's own import
                // name, `__wasm_split.js`, names no file).
                .filter(|s| {
                    s.strip_prefix("__wasm_split.")
                        .and_then(|s| s.strip_suffix(".js"))
                        .is_some_and(|h| !h.is_empty())
                })
                .map(|s| format!("/pkg/{s}")),
        );
    }
    files.sort();
    files.dedup();
    let mut total = html_bytes;
    for f in &files {
        let url = format!("{base}{f}");
        let (bytes, status) = body_bytes(browser, &url, "br, gzip").await;
        assert!(status.is_success(), "{f}: {status}");
        total += bytes;
        if f.ends_with(".wasm") {
            let (raw, _) = body_bytes(browser, &url, "identity").await;
            let (gzip, _) = body_bytes(browser, &url, "gzip").await;
            println!(
                "WebAssembly the first page loads ({f}): {:.0} KB raw, {:.0} KB gzip, {:.0} KB brotli",
                raw as f64 / 1000.0,
                gzip as f64 / 1000.0,
                bytes as f64 / 1000.0
            );
        }
    }
    println!(
        "first visit of the channel page: {:.0} KB transferred (the page {:.1} KB and {} files of the app)",
        total as f64 / 1000.0,
        html_bytes as f64 / 1000.0,
        files.len()
    );
    let again = browser
        .get(page)
        .header("accept-encoding", "br, gzip")
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("page again");
    let status = again.status();
    let bytes = again.bytes().await.expect("body").len();
    println!(
        "repeat visit: the page answered {status} with {bytes} bytes of body; the app's files are kept by the browser (immutable), 0 bytes"
    );
}

/// Sends `requests` requests one after another (after a tenth as many to
/// warm up), each expected to answer `status`; their times and the
/// server's CPU seconds per request.
async fn measure(
    server: &Server,
    requests: usize,
    request: impl Fn() -> reqwest::RequestBuilder,
    status: reqwest::StatusCode,
) -> (Vec<Duration>, f64) {
    for _ in 0..requests / 10 {
        request().send().await.expect("request").bytes().await.expect("body");
    }
    let cpu = server.cpu_seconds();
    let mut times = Vec::with_capacity(requests);
    for _ in 0..requests {
        let started = Instant::now();
        let res = request().send().await.expect("request");
        assert_eq!(res.status(), status);
        res.bytes().await.expect("body");
        times.push(started.elapsed());
    }
    (times, (server.cpu_seconds() - cpu) / requests as f64)
}

fn report(label: &str, what: &str, times: &[Duration], cpu: f64) {
    let mut sorted = times.to_vec();
    sorted.sort();
    let at =
        |q: f64| sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "{label:<18} {what}: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, server CPU {:.2} ms per request ({} requests)",
        at(0.5),
        at(0.95),
        at(0.99),
        cpu * 1000.0,
        times.len()
    );
}
