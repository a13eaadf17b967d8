//! A `parley` server started as its own process for a benchmark, on a free
//! port with a fresh data directory, and what can be read of it from
//! outside: its CPU time and resident memory.

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub base: String,
    _data: Option<domain::testing::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `bin` with `env` added to the usual settings, in a data
    /// directory of its own, and waits until it answers.
    pub async fn start(bin: &str, env: &[(&str, &str)]) -> Server {
        let data = domain::testing::TempDir::new("parley-bench");
        let mut server = Server::start_in(bin, env, &data.0).await;
        server._data = Some(data);
        server
    }

    /// Starts `bin` as one node of a deployment whose nodes share the data
    /// directory `data` (and the database and Redis that `env` names).
    pub async fn start_in(bin: &str, env: &[(&str, &str)], data: &std::path::Path) -> Server {
        let port = free_port();
        let mut command = Command::new(bin);
        command
            .env("PARLEY_BIND", format!("127.0.0.1:{port}"))
            .env("PARLEY_DATA_DIR", data)
            .env("PARLEY_RTC_ANNOUNCED_IPS", "127.0.0.1")
            .env("PARLEY_LOG", "warn")
            .stdout(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("the parley binary starts");
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while reqwest::get(format!("{base}/healthz")).await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "the server answers within 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Server { child, base, _data: None }
    }

    /// The server process's CPU time so far (user + system), in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds_of(self.child.id())
    }

    /// The server process's resident memory now, in MiB.
    pub fn rss_mib(&self) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc status");
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS");
        kib / 1024.0
    }

    pub async fn post(&self, token: Option<&str>, path: &str, body: Value) -> Value {
        let mut req = reqwest::Client::new().post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.expect("JSON")
    }

    /// Signs `name` up; returns their API token.
    pub async fn signup(&self, name: &str) -> String {
        let body = json!({"username": name, "display_name": name, "email": format!("{name}@example.com"),
            "password": "correct horse battery"});
        self.post(None, "/api/auth/signup", body).await["token"].as_str().unwrap().to_string()
    }
}

/// `n` nodes of one deployment: a fresh PostgreSQL database, the Redis at
/// `PARLEY_BENCH_REDIS` (by default the machine's on port 6379) between
/// them, and one data directory.
pub struct Cluster {
    pub servers: Vec<Server>,
    db: domain::testing::TestDb,
    _data: domain::testing::TempDir,
}

impl Cluster {
    pub async fn start(bin: &str, env: &[(&str, &str)], n: usize) -> Cluster {
        let db = domain::testing::TestDb::new(domain::Backend::Postgres).await;
        let redis = std::env::var("PARLEY_BENCH_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let data = domain::testing::TempDir::new("parley-cluster");
        let mut env = env.to_vec();
        env.extend([("DATABASE_URL", db.url.as_str()), ("PARLEY_REDIS_URL", redis.as_str())]);
        let mut servers = Vec::new();
        for _ in 0..n {
            servers.push(Server::start_in(bin, &env, &data.0).await);
        }
        Cluster { servers, db, _data: data }
    }

    /// Stops the nodes, then drops their database.
    pub async fn stop(self) {
        drop(self.servers);
        self.db.drop_database().await;
    }
}

/// The CPU time (user + system) process `pid` has used so far, in seconds;
/// of the benchmark itself with `std::process::id()`.
pub fn cpu_seconds_of(pid: u32) -> f64 {
    cpu_seconds_if(pid).expect("/proc stat of a running process")
}

/// [`cpu_seconds_of`], or `None` when `pid` has gone.
fn cpu_seconds_if(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks())
}

/// The CPU time (user + system) all PostgreSQL processes of this machine
/// have used so far, in seconds (its backends, WAL writer and the rest;
/// those that ended meanwhile are not counted, so read it around a run
/// whose connections stay open).
pub fn postgres_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else { return 0.0 };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres")
        })
        .filter_map(cpu_seconds_if)
        .sum()
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        let out = Command::new("getconf").arg("CLK_TCK").output().expect("getconf");
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(100.0)
    })
}
