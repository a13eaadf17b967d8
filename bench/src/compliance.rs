//! Compliance and analytics at scale: N messages (default 1,000,000) spread
//! over the last 90 days in a fresh database, then
//! - the analytics roll-up of all of them (messages/s),
//! - the analytics dashboard (every figure, a workspace's over 30 days and
//!   the deployment's over 90), p50/p95 (the target: p95 at most 50 ms),
//! - a JSON compliance export of all of them (time, size, and the process's
//!   resident memory before and at most during it),
//! - retention removing all but the last day's (messages/s).
//!
//! `compliance-bench [sqlite|postgres] [messages]` (PostgreSQL at
//! `PARLEY_TEST_POSTGRES`, a fresh database dropped afterwards).

use domain::Id;
use domain::export::ExportFormat;
use domain::hub::{AnalyticsScope, ExportOutcome, ExportRequest, NewWorkspace, ROLL_UP_LAG_MS, Signup};
use domain::model::{Message, RetentionPolicy, UserSummary};
use domain::testing::TestDb;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CHANNELS: usize = 20;
const PEOPLE: usize = 50;
const DAYS: i64 = 90;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const DASHBOARD_RUNS: usize = 50;

/// This process's resident memory now, in MiB (Linux).
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (backend, total) = bench::backend_and_count(1_000_000);
    let db = TestDb::new(backend).await;
    let hub = db.hub().await;
    let signup = |i: usize| Signup {
        username: format!("p{i}"),
        display_name: format!("Person {i}"),
        email: format!("p{i}@example.com"),
        password: "benchmark password".into(),
    };
    let admin = hub.signup(signup(0), None).await.unwrap();
    let (ws, general) = hub
        .create_workspace(admin.id, NewWorkspace { name: "Bench".into(), ..Default::default() })
        .await
        .unwrap();
    let mut people = vec![UserSummary::from(&admin)];
    for i in 1..PEOPLE {
        let p = hub.signup(signup(i), None).await.unwrap();
        hub.join_workspace(p.id, ws.id).await.unwrap();
        people.push(UserSummary::from(&p));
    }
    let mut channels = vec![general.id];
    for i in 1..CHANNELS {
        channels.push(hub.create_channel(admin.id, ws.id, &format!("c{i}"), "", false).await.unwrap().id);
    }

    let now = domain::now_ms();
    let start = (now.div_euclid(DAY_MS) - DAYS + 1) * DAY_MS;
    let span = now - start;
    let started = Instant::now();
    let mut batch = Vec::with_capacity(10_000);
    for n in 0..total {
        let at = start + (span as i128 * n as i128 / total as i128) as i64;
        batch.push(Message::imported(
            Id(Id::first_at(at).0 + (n as i64 & 0x3f_ffff)),
            channels[n % CHANNELS],
            people[n % PEOPLE].clone(),
            format!("message {n}: the quarterly figures are in, see the thread for the details"),
            at,
        ));
        if batch.len() == 10_000 || n + 1 == total {
            hub.store().import_messages(&batch).await.unwrap();
            batch.clear();
        }
    }
    hub.store().refresh_statistics().await.unwrap();
    println!(
        "backend {backend:?}: {total} messages over {DAYS} days loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let rolled = hub.roll_up_activity(now + ROLL_UP_LAG_MS + 1_000).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "backend {backend:?}: analytics roll-up of {rolled} messages in {secs:.1} s ({:.0} messages/s)",
        rolled as f64 / secs
    );

    for (scope, days, what) in [
        (AnalyticsScope::Workspace(ws.id), 30, "a workspace, 30 days"),
        (AnalyticsScope::Deployment, 90, "the deployment, 90 days"),
    ] {
        let mut times = Vec::with_capacity(DASHBOARD_RUNS);
        for _ in 0..DASHBOARD_RUNS {
            let t = Instant::now();
            let figures = hub.analytics(admin.id, scope, days, now).await.unwrap();
            times.push(t.elapsed());
            assert_eq!(figures.len(), 3);
        }
        times.sort();
        println!(
            "backend {backend:?}: dashboard ({what}, every figure) p50 {:.2} ms  p95 {:.2} ms  ({DASHBOARD_RUNS} runs)",
            bench::percentile(&times, 0.5).as_secs_f64() * 1e3,
            bench::percentile(&times, 0.95).as_secs_f64() * 1e3,
        );
    }

    let before = rss_mib();
    let peak = Arc::new(AtomicU64::new(before.to_bits()));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                let now = rss_mib();
                if now > f64::from_bits(peak.load(Ordering::Relaxed)) {
                    peak.store(now.to_bits(), Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let request = ExportRequest {
        format: ExportFormat::Json,
        from: domain::export::day_of(start),
        to: domain::export::day_of(now),
        workspaces: Vec::new(),
        channels: Vec::new(),
        users: Vec::new(),
        usernames: Vec::new(),
        channel_names: Vec::new(),
    };
    let t = Instant::now();
    let export = hub.request_export(admin.id, request).await.unwrap();
    let outcome = hub.run_exports(domain::now_ms(), None).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    sampler.await.unwrap();
    assert_eq!(outcome, ExportOutcome::Finished { id: export.id, failed: false });
    let done = hub.compliance_export(admin.id, export.id).await.unwrap();
    println!(
        "backend {backend:?}: JSON export of {} messages in {secs:.1} s ({:.0} messages/s), {:.1} MiB; \
         resident memory {before:.0} MiB before, at most {:.0} MiB during",
        done.messages,
        done.messages as f64 / secs,
        done.bytes as f64 / 1048576.0,
        f64::from_bits(peak.load(Ordering::Relaxed)),
    );

    let policy = RetentionPolicy { messages_days: Some(1), files_days: None };
    hub.set_workspace_retention(admin.id, ws.id, policy).await.unwrap();
    let t = Instant::now();
    let purged = hub.run_retention(now, None).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    if let domain::hub::RetentionOutcome::Finished { messages, .. } = purged {
        println!(
            "backend {backend:?}: retention removed {messages} messages in {secs:.1} s ({:.0} messages/s)",
            messages as f64 / secs
        );
    }
    hub.store().close().await;
    db.drop_database().await;
}
