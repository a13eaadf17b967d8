//! Faults the server lives through: its PostgreSQL server stopping and
//! starting again under traffic (a PostgreSQL server of the test's own, so
//! the machine's shared one is never touched).

use crate::helpers::{TestApp, join, json_of, without_rate_limits, workspace};
use app::wire::{ApiError, ErrorCode, MessagePageDto};
use domain::testing::{TempDir, TestDb};
use reqwest::StatusCode;
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// A PostgreSQL server of one test's own, on a free port, its data in a
/// temporary directory.
struct PrivatePostgres {
    dir: TempDir,
    port: u16,
}

impl PrivatePostgres {
    /// Where the machine's PostgreSQL programs are.
    fn program(name: &str) -> PathBuf {
        let bindir = Command::new("pg_config").arg("--bindir").output().ok().filter(|o| o.status.success());
        if let Some(out) = bindir {
            return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join(name);
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's programs are installed (/usr/lib/postgresql)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
            .filter(|p| p.exists())
            .collect();
        found.sort();
        found.pop().unwrap_or_else(|| panic!("{name} is installed"))
    }

    /// `program`, run as the `postgres` user when the tests run as root
    /// (PostgreSQL refuses to run as root).
    fn command(program: &str) -> Command {
        let path = Self::program(program);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        }
    }

    fn run(program: &str, args: &[&str]) {
        let out =
            Self::command(program).args(args).output().unwrap_or_else(|e| panic!("{program} runs: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    async fn start() -> PrivatePostgres {
        let dir = TempDir::new("parley-postgres");
        if is_root() {
            let status = Command::new("chown").args(["postgres:", &dir.0.display().to_string()]).status();
            assert!(
                status.is_ok_and(|s| s.success()),
                "the test's PostgreSQL directory is given to postgres"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let pg = PrivatePostgres { dir, port };
        Self::run("initdb", &["-D", &pg.data(), "-A", "trust", "-U", "postgres", "--no-sync"]);
        pg.start_again();
        pg
    }

    fn data(&self) -> String {
        self.dir.0.join("data").display().to_string()
    }

    fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server (again), and waits until it takes connections.
    fn start_again(&self) {
        let options = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.0.display());
        let log = self.dir.0.join("log").display().to_string();
        Self::run("pg_ctl", &["-D", &self.data(), "-o", &options, "-l", &log, "-w", "start"]);
    }

    /// Stops the server at once, as a crash would: no checkpoint, clients cut off.
    fn stop_now(&self) {
        Self::run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = Self::command("pg_ctl").args(["-D", &self.data(), "-m", "immediate", "stop"]).output();
    }
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

/// Waits until `done()`, at most 60 s.
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "{what} within 60 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// PostgreSQL stops in the middle of a stream of messages and starts again:
/// while it is down, requests fail at once with 503 and a message saying
/// nothing was saved, `/readyz` says the node is not ready, and nothing
/// hangs; senders repeating with their nonces afterwards get every message
/// stored exactly once, and a connected member receives each exactly once.
async fn postgres_restarting_loses_nothing_acknowledged() {
    let pg = PrivatePostgres::start().await;
    let app = TestApp::spawn_on(TestDb::postgres_on(&pg.admin_url()).await, without_rate_limits()).await;
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;

    let (inbox_tx, mut inbox) = tokio::sync::mpsc::unbounded_channel();
    let (done_tx, done) = tokio::sync::watch::channel(false);
    let (identified, started) = tokio::sync::oneshot::channel();
    let follower = tokio::spawn(crate::cluster::follow(
        format!("ws://127.0.0.1:{}/ws", app.port),
        bob.token.clone(),
        inbox_tx,
        identified,
        done,
    ));
    tokio::time::timeout(Duration::from_secs(10), started)
        .await
        .expect("Bob's connection is identified within 10 s")
        .unwrap();

    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let refused = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(StatusCode, Option<ErrorCode>)>::new()));
    let senders: Vec<_> = (0..2)
        .map(|s| {
            let (http, url, token, general) =
                (http.clone(), app.url("/api/communication/messages/"), ana.token.clone(), general.clone());
            let (acked, refused) = (acked.clone(), refused.clone());
            tokio::spawn(async move {
                for i in 0..150 {
                    let body =
                        json!({"channel_id": general, "body": format!("m {s}-{i}"), "nonce": format!("n-{s}-{i}")});
                    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
                    loop {
                        let res = http.post(&url).bearer_auth(&token).json(&body).send().await;
                        let res = res.expect("the server answers every request, within 20 s");
                        if res.status().is_success() {
                            let id = res.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_string();
                            acked.lock().unwrap().push(id);
                            break;
                        }
                        let status = res.status();
                        let code = res.json::<ApiError>().await.ok().map(|e| e.code);
                        refused.lock().unwrap().push((status, code));
                        assert!(tokio::time::Instant::now() < deadline, "a message is stored within 90 s");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            })
        })
        .collect();

    until("60 messages acknowledged", || acked.lock().unwrap().len() >= 60).await;
    pg.stop_now();
    until("a refusal while PostgreSQL is down", || !refused.lock().unwrap().is_empty()).await;
    let ready = http.get(app.url("/readyz")).send().await.expect("/readyz answers");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE, "not ready without its database");
    pg.start_again();
    for s in senders {
        s.await.expect("every message was acknowledged");
    }
    let ready = http.get(app.url("/readyz")).send().await.expect("/readyz answers");
    assert_eq!(ready.status(), StatusCode::OK, "ready again");

    let refusals = refused.lock().unwrap().clone();
    assert!(
        refusals.iter().all(|r| *r == (StatusCode::SERVICE_UNAVAILABLE, Some(ErrorCode::Unavailable))),
        "every refusal says the database is unavailable: {refusals:?}"
    );
    let acked: std::collections::BTreeSet<String> = acked.lock().unwrap().iter().cloned().collect();
    assert_eq!(acked.len(), 300, "300 distinct messages acknowledged");
    // The channel as the API lists it, every page.
    let mut stored = Vec::new();
    let mut before = String::new();
    loop {
        let path = format!("/api/communication/messages/?channel_id={general}&limit=100{before}");
        let page: MessagePageDto =
            serde_json::from_value(json_of(ana.get(&app, &path).await, StatusCode::OK).await).unwrap();
        stored.extend(page.messages.into_iter().filter(|m| m.body.starts_with("m ")).map(|m| m.id));
        match page.next_cursor {
            Some(cursor) => before = format!("&before={cursor}"),
            None => break,
        }
    }
    assert_eq!(stored.len(), 300, "each message stored once");
    let stored: std::collections::BTreeSet<String> = stored.into_iter().collect();
    assert_eq!(stored, acked, "what was acknowledged is what is stored");

    crate::cluster::received_each_once(&mut inbox, &acked, "Bob's connection").await;
    let _ = done_tx.send(true);
    follower.await.unwrap();
    app.finish().await;
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_restarting_loses_nothing_acknowledged() {
        super::postgres_restarting_loses_nothing_acknowledged().await;
    }
}
