//! Matrix Synapse, a server teams choose instead of Parley, started beside
//! it so that the fan-out and durable-send figures are also ratios. It runs
//! from a Python environment with `matrix-synapse` (and `psycopg2-binary`
//! for PostgreSQL) installed, named by `PARLEY_BENCH_SYNAPSE` (its
//! `python`; `scripts/bench` installs one). Its rate limits are lifted, its
//! password hashing made cheap and presence turned off, as Parley's limits
//! are lifted for the same runs; otherwise it is as installed.
//!
//! The same work as Parley's gateway clients, in Matrix's client API: a
//! message is `PUT /rooms/{room}/send/m.room.message/{txn}` (answered once it
//! is persisted, the transaction id making a retry idempotent like a nonce),
//! and receivers long-poll `/sync`.

use crate::server::{cpu_seconds_of, free_port};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Synapse {
    child: Child,
    pub base: String,
    http: reqwest::Client,
    _dir: domain::testing::TempDir,
}

impl Drop for Synapse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one `/sync` brought: the bodies of new messages, and where to go on.
pub struct Synced {
    pub next_batch: String,
    pub bodies: Vec<String>,
}

#[derive(Deserialize)]
struct SyncResponse {
    next_batch: String,
    #[serde(default)]
    rooms: Option<Rooms>,
}

#[derive(Deserialize)]
struct Rooms {
    #[serde(default)]
    join: HashMap<String, JoinedRoom>,
}

#[derive(Deserialize)]
struct JoinedRoom {
    timeline: Timeline,
}

#[derive(Deserialize)]
struct Timeline {
    events: Vec<RoomEvent>,
}

#[derive(Deserialize)]
struct RoomEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    content: Value,
}

/// Sync without presence, account data or room state: the timeline only.
const SYNC_FILTER: &str = r#"{"presence":{"types":[]},"account_data":{"types":[]},"room":{"state":{"types":[]},"ephemeral":{"types":[]},"account_data":{"types":[]},"timeline":{"limit":200,"types":["m.room.message"]}}}"#;

/// Every rate limit of Synapse's configuration, lifted.
const NO_LIMIT: &str = "{per_second: 1000000, burst_count: 1000000}";

impl Synapse {
    /// The Python with Synapse installed, if the benchmark was given one.
    pub fn python() -> Option<String> {
        std::env::var("PARLEY_BENCH_SYNAPSE").ok().filter(|p| !p.is_empty())
    }

    /// Starts Synapse from `python` on a free port, on SQLite in its own
    /// directory or on the PostgreSQL database `postgres` (a URL), and
    /// waits until it answers.
    pub async fn start(python: &str, postgres: Option<&str>) -> Synapse {
        let dir = domain::testing::TempDir::new("synapse-bench");
        let port = free_port();
        let d = dir.0.display();
        let database = match postgres {
            None => format!("database:\n  name: sqlite3\n  args:\n    database: {d}/homeserver.db\n"),
            Some(url) => {
                let url = reqwest::Url::parse(url).expect("a PostgreSQL URL");
                format!(
                    "database:\n  name: psycopg2\n  allow_unsafe_locale: true\n  args:\n    user: {}\n    password: \"{}\"\n    \
                     database: {}\n    host: {}\n    port: {}\n    cp_min: 5\n    cp_max: 10\n",
                    url.username(),
                    url.password().unwrap_or(""),
                    url.path().trim_start_matches('/'),
                    url.host_str().unwrap_or("127.0.0.1"),
                    url.port().unwrap_or(5432),
                )
            }
        };
        let limits = [
            "rc_message",
            "rc_registration",
            "rc_room_creation",
            "rc_joins_per_room",
            "rc_3pid_validation",
            "rc_admin_redaction",
        ]
        .iter()
        .map(|k| format!("{k}: {NO_LIMIT}\n"))
        .collect::<String>();
        let config = format!(
            "server_name: bench.localhost\n\
             pid_file: {d}/homeserver.pid\n\
             listeners:\n  - port: {port}\n    bind_addresses: ['127.0.0.1']\n    type: http\n    tls: false\n    \
             x_forwarded: false\n    resources:\n      - names: [client]\n        compress: false\n\
             {database}\
             media_store_path: {d}/media\n\
             signing_key_path: {d}/signing.key\n\
             report_stats: false\n\
             enable_registration: true\n\
             enable_registration_without_verification: true\n\
             bcrypt_rounds: 4\n\
             trusted_key_servers: []\n\
             suppress_key_server_warning: true\n\
             presence:\n  enabled: false\n\
             {limits}\
             rc_login:\n  address: {NO_LIMIT}\n  account: {NO_LIMIT}\n  failed_attempts: {NO_LIMIT}\n\
             rc_joins:\n  local: {NO_LIMIT}\n  remote: {NO_LIMIT}\n\
             rc_invites:\n  per_room: {NO_LIMIT}\n  per_user: {NO_LIMIT}\n  per_issuer: {NO_LIMIT}\n"
        );
        let path = dir.0.join("homeserver.yaml");
        std::fs::write(&path, config).expect("Synapse's configuration is written");
        let generated = Command::new(python)
            .args(["-m", "synapse.app.homeserver", "--generate-keys", "-c"])
            .arg(&path)
            .stdout(Stdio::null())
            .status()
            .expect("Synapse's Python runs");
        assert!(generated.success(), "Synapse generates its signing key");
        let log = std::fs::File::create(dir.0.join("synapse.log")).expect("log file");
        let child = Command::new(python)
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("Synapse starts");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let started = Instant::now();
        while http.get(format!("{base}/health")).send().await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(120), "Synapse answers within 120 s");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Synapse { child, base, http, _dir: dir }
    }

    /// Synapse's CPU time so far (user + system), in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds_of(self.child.id())
    }

    async fn call(&self, method: reqwest::Method, token: Option<&str>, path: &str, body: Value) -> Value {
        let mut req = self.http.request(method, format!("{}/_matrix/client/v3{path}", self.base)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("Synapse answers");
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// Registers `name`; returns their access token.
    pub async fn register(&self, name: &str) -> String {
        let body = json!({"username": name, "password": "correct horse battery",
            "auth": {"type": "m.login.dummy"}, "inhibit_login": false});
        let out = self.call(reqwest::Method::POST, None, "/register", body).await;
        out["access_token"].as_str().expect("an access token").to_string()
    }

    /// A public room made by `token`'s person; returns its id.
    pub async fn create_room(&self, token: &str) -> String {
        let body = json!({"preset": "public_chat", "name": "bench"});
        let out = self.call(reqwest::Method::POST, Some(token), "/createRoom", body).await;
        out["room_id"].as_str().expect("a room id").to_string()
    }

    pub async fn join(&self, token: &str, room: &str) {
        self.call(reqwest::Method::POST, Some(token), &format!("/join/{}", encode(room)), json!({})).await;
    }

    /// Sends a text message; returns once Synapse has persisted it.
    pub async fn send(&self, token: &str, room: &str, txn: &str, body: &str) {
        let path = format!("/rooms/{}/send/m.room.message/{txn}", encode(room));
        self.call(reqwest::Method::PUT, Some(token), &path, json!({"msgtype": "m.text", "body": body})).await;
    }

    /// One `/sync` of the timeline: from `since` (waiting up to `timeout`
    /// for something new), or a first one that only finds where now is.
    pub async fn sync(&self, token: &str, since: Option<&str>, timeout: Duration) -> Synced {
        let mut req = self
            .http
            .get(format!("{}/_matrix/client/v3/sync", self.base))
            .bearer_auth(token)
            .query(&[("filter", SYNC_FILTER), ("timeout", &timeout.as_millis().to_string())]);
        if let Some(s) = since {
            req = req.query(&[("since", s)]);
        }
        let res = req.send().await.expect("Synapse answers /sync");
        assert!(res.status().is_success(), "/sync: {}", res.status());
        let sync: SyncResponse = res.json().await.expect("a sync response");
        let bodies = sync
            .rooms
            .into_iter()
            .flat_map(|r| r.join.into_values())
            .flat_map(|room| room.timeline.events)
            .filter(|e| e.kind == "m.room.message")
            .filter_map(|e| e.content.get("body").and_then(Value::as_str).map(str::to_string))
            .collect();
        Synced { next_batch: sync.next_batch, bodies }
    }
}

/// A room id in a URL path (`!` and `:` escaped).
fn encode(room: &str) -> String {
    room.replace('!', "%21").replace(':', "%3A")
}
