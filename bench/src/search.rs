//! Search benchmark: generates N messages (default 1,000,000) in a fresh
//! database and measures the latency of single-term, multi-term and
//! partial-word searches, as a member of the workspace would run them.
//!
//! `search-bench [sqlite|postgres] [messages]` (PostgreSQL at
//! `PARLEY_TEST_POSTGRES`, a fresh database that is dropped afterwards).

use domain::Id;
use domain::hub::{NewWorkspace, Signup};
use domain::model::{Message, UserSummary};
use domain::testing::TestDb;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

const CHANNELS: usize = 20;
const QUERIES: usize = 40;

fn vocabulary(rng: &mut StdRng) -> Vec<String> {
    const SYLLABLES: &[&str] = &[
        "ka", "lo", "mi", "ne", "ra", "to", "su", "vi", "de", "pa", "zu", "mo", "ri", "te", "fa", "qu",
        "bel", "dor", "ver", "lin", "gar", "sol", "mar", "ten",
    ];
    let mut words: Vec<String> = (0..5000)
        .map(|_| (0..rng.gen_range(2..5)).map(|_| SYLLABLES[rng.gen_range(0..SYLLABLES.len())]).collect())
        .collect();
    words.extend(["会議", "进度", "東京", "项目", "報告書", "明日"].map(String::from));
    words.sort();
    words.dedup();
    words
}

/// Makes one query of a kind from the random source.
type QueryMaker<'a> = Box<dyn Fn(&mut StdRng) -> String + 'a>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (backend, total) = bench::backend_and_count(1_000_000);
    let db = TestDb::new(backend).await;
    let hub = db.hub().await;
    let mut rng = StdRng::seed_from_u64(7);
    let words = vocabulary(&mut rng);

    let me = hub
        .signup(
            Signup {
                username: "bench".into(),
                email: "bench@example.com".into(),
                password: "benchmark password".into(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let (ws, general) = hub
        .create_workspace(me.id, NewWorkspace { name: "Bench".into(), ..Default::default() })
        .await
        .unwrap();
    let mut channels = vec![general.id];
    for i in 1..CHANNELS {
        channels.push(hub.create_channel(me.id, ws.id, &format!("c{i}"), "", i % 5 == 0).await.unwrap().id);
    }
    let author = UserSummary::from(&me);

    let started = Instant::now();
    let mut batch = Vec::with_capacity(10_000);
    for n in 0..total {
        let len = rng.gen_range(4..24);
        let body: Vec<&str> = (0..len).map(|_| words[rng.gen_range(0..words.len())].as_str()).collect();
        let body = body.join(" ");
        let id = Id::new();
        batch.push(Message::imported(id, channels[n % CHANNELS], author.clone(), body, id.timestamp_ms()));
        if batch.len() == 10_000 || n + 1 == total {
            hub.store().import_messages(&batch).await.unwrap();
            batch.clear();
        }
    }
    // As the database would have on its own a while after such an import.
    hub.store().refresh_statistics().await.unwrap();
    println!("backend {backend:?}: {total} messages loaded in {:.1} s", started.elapsed().as_secs_f64());

    let kinds: [(&str, QueryMaker); 3] = [
        ("single term", Box::new(|r: &mut StdRng| words[r.gen_range(0..words.len())].clone())),
        (
            "two terms",
            Box::new(|r: &mut StdRng| {
                format!("{} {}", words[r.gen_range(0..words.len())], words[r.gen_range(0..words.len())])
            }),
        ),
        (
            "partial word",
            Box::new(|r: &mut StdRng| {
                let w: Vec<char> = words[r.gen_range(0..words.len())].chars().collect();
                let start = if w.len() > 4 { r.gen_range(0..w.len() - 3) } else { 0 };
                w[start..(start + 3).min(w.len())].iter().collect()
            }),
        ),
    ];
    for (name, make) in &kinds {
        let mut times = Vec::with_capacity(QUERIES);
        let mut found = 0;
        for _ in 0..QUERIES {
            let q = make(&mut rng);
            let t = Instant::now();
            found += hub.search(me.id, &q, Some(ws.id)).await.unwrap().len();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "backend {backend:?}: {name:<13} p50 {:>8.2} ms  p95 {:>8.2} ms  ({QUERIES} queries, {:.1} hits each on average, at most 50)",
            bench::percentile(&times, 0.5).as_secs_f64() * 1e3,
            bench::percentile(&times, 0.95).as_secs_f64() * 1e3,
            found as f64 / QUERIES as f64,
        );
    }
    hub.store().close().await;
    db.drop_database().await;
}
