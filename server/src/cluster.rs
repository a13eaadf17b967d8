//! Between the nodes of one deployment (`PARLEY_REDIS_URL`): Redis carries
//! a doorbell, never the events themselves.
//!
//! Each node publishes the position of the last event it committed on
//! [`CHANNEL`]; every node that hears a position beyond what its bus has
//! handed out reads the events from the log ([`domain::Store::catch_up`]).
//! A ring lost on the way (Redis restarting, a subscriber reconnecting, as
//! Redis pub/sub allows) only delays an event: `jobs::EventLogKeeper` reads
//! the log every 2 s, and a node that reconnects to Redis catches up at once.

use domain::Store;
use futures::StreamExt;
use std::time::Duration;
use tokio::sync::watch;

/// The Redis channel the doorbell rings on.
pub const CHANNEL: &str = "parley:events";

/// Waits between attempts to reach Redis, doubling up to the last.
const RETRY: [Duration; 4] =
    [Duration::from_millis(250), Duration::from_millis(500), Duration::from_secs(1), Duration::from_secs(2)];

/// This node's way to Redis: one multiplexed connection, made on first use
/// and made again after a failure, shared by the doorbell, presence and
/// `/readyz` (a pub/sub subscription has a connection of its own).
#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    conn: std::sync::Arc<tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>>,
}

impl Redis {
    /// Fails only for a URL Redis's client cannot read; an unreachable
    /// Redis is tried again on each use.
    pub fn open(url: &str) -> Result<Self, redis::RedisError> {
        use redis::IntoConnectionInfo;
        // Without TCP_NODELAY a ring written while the last one is not yet
        // acknowledged waits for the peer's delayed acknowledgement (tens of
        // milliseconds): every ring goes out at once instead.
        let tcp = redis::io::tcp::TcpSettings::default().set_nodelay(true);
        let info = url.into_connection_info()?.set_tcp_settings(tcp);
        Ok(Redis { client: redis::Client::open(info)?, conn: Default::default() })
    }

    async fn conn(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let c = self.client.get_multiplexed_async_connection().await?;
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Runs `op` on the connection, forgetting it when it failed (the next
    /// use reconnects).
    pub async fn with<T, F>(
        &self,
        op: impl FnOnce(redis::aio::MultiplexedConnection) -> F,
    ) -> Result<T, String>
    where
        F: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let conn = self.conn().await.map_err(|e| e.to_string())?;
        let done = op(conn).await;
        if done.is_err() {
            *self.conn.lock().await = None;
        }
        done.map_err(|e| e.to_string())
    }

    /// The client, for a pub/sub subscription's own connection.
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// Whether Redis answers a `PING` now (for `/readyz`).
    pub async fn ping(&self) -> Result<(), String> {
        self.with(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await })
            .await
            .map(|_| ())
    }
}

/// Rings other nodes when this one commits events, and answers their rings.
pub struct Doorbell {
    redis: Redis,
    store: Store,
}

impl Doorbell {
    pub fn new(redis: Redis, store: Store) -> Self {
        Doorbell { redis, store }
    }

    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let ring = tokio::spawn(ring(self.redis.clone(), self.store.clone(), shutdown.clone()));
        let listen = tokio::spawn(listen(self.redis.client().clone(), self.store, shutdown));
        let _ = tokio::join!(ring, listen);
    }
}

/// Publishes the position of this node's last commit whenever it changes
/// (positions committed meanwhile are covered by the last one). A ring that
/// cannot be sent is not retried: the next commit rings again, and the
/// other nodes read the log every 2 s anyway.
async fn ring(redis: Redis, store: Store, mut shutdown: watch::Receiver<bool>) {
    let mut committed = store.bus().watch_committed();
    let mut failing = false;
    loop {
        tokio::select! {
            changed = committed.changed() => if changed.is_err() { return },
            _ = shutdown.changed() => return,
        }
        let seq = *committed.borrow_and_update();
        let rung = redis
            .with(|mut c| async move {
                redis::cmd("PUBLISH").arg(CHANNEL).arg(seq).query_async::<i64>(&mut c).await
            })
            .await;
        match rung {
            Ok(_) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "could not ring the other nodes; they will read the log");
            }
            Err(_) => {}
        }
    }
}

/// Listens for the other nodes' rings; reads the log when one names a
/// position this node has not handed out yet, and on every (re)connection.
async fn listen(client: redis::Client, store: Store, mut shutdown: watch::Receiver<bool>) {
    let mut attempt = 0;
    loop {
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(CHANNEL).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let pubsub = tokio::select! {
            p = subscribed => match p {
                Ok(p) => p,
                Err(e) => {
                    if !pause(&mut attempt, &mut shutdown, "listen", &e).await { return }
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        attempt = 0;
        // Rings missed while not subscribed.
        catch_up(&store).await;
        let mut rings = pubsub.into_on_message();
        loop {
            let ring = tokio::select! {
                r = rings.next() => r,
                _ = shutdown.changed() => return,
            };
            let Some(ring) = ring else {
                tracing::warn!("lost the connection to Redis; reconnecting");
                break;
            };
            let seq: i64 = ring.get_payload().unwrap_or(i64::MAX);
            if seq > store.bus().released() {
                catch_up(&store).await;
            }
        }
    }
}

async fn catch_up(store: &Store) {
    if let Err(e) = store.catch_up().await {
        tracing::warn!(error = ?e, "could not read the event log after a ring");
    }
}

/// Waits before the next attempt to reach Redis; `false` when shutting down.
async fn pause(
    attempt: &mut usize,
    shutdown: &mut watch::Receiver<bool>,
    what: &str,
    e: &redis::RedisError,
) -> bool {
    if *attempt == 0 {
        tracing::warn!(error = %e, what, "cannot reach Redis; retrying (events still arrive from the log)");
    }
    let wait = RETRY[(*attempt).min(RETRY.len() - 1)];
    *attempt += 1;
    tokio::select! {
        _ = tokio::time::sleep(wait) => true,
        _ = shutdown.changed() => false,
    }
}

/// Takes one from a bucket kept in Redis, by the same rule as
/// [`domain::limits::MemoryLimits`] (GCRA): the key holds the bucket's
/// "theoretical arrival time" in microseconds of Redis's clock, so every
/// node counts against one bucket whatever its own clock says. Returns 0
/// when taken, else the microseconds until one more is let through.
const TAKE_SCRIPT: &str = r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local after = tat + interval
local allowed_at = after - interval * burst
if now < allowed_at then return allowed_at - now end
redis.call('SET', KEYS[1], after, 'PX', math.ceil((after - now) / 1000) + 1)
return 0
";

/// Rate limits of people and addresses shared by every node through Redis.
/// While Redis cannot be reached each node limits on its own (in memory):
/// requests keep being served, each node allowing at most a bucket's worth.
pub struct RedisLimits {
    redis: Redis,
    script: redis::Script,
    fallback: domain::limits::MemoryLimits,
    failing: std::sync::atomic::AtomicBool,
}

impl RedisLimits {
    pub fn new(redis: Redis) -> Self {
        RedisLimits {
            redis,
            script: redis::Script::new(TAKE_SCRIPT),
            fallback: Default::default(),
            failing: Default::default(),
        }
    }
}

#[async_trait::async_trait]
impl domain::limits::LimitStore for RedisLimits {
    async fn take(
        &self,
        bucket: domain::limits::Bucket,
        rate: domain::limits::Rate,
        key: &str,
    ) -> Result<(), domain::limits::Refusal> {
        use std::sync::atomic::Ordering;
        let redis_key = format!("parley:limit:{}:{key}", bucket.name());
        let interval = (rate.per().as_micros() / u128::from(rate.burst())).max(1) as u64;
        let wait: Result<u64, String> =
            self.redis
                .with(|mut c| {
                    let script = &self.script;
                    async move {
                        script.key(&redis_key).arg(interval).arg(rate.burst()).invoke_async(&mut c).await
                    }
                })
                .await;
        match wait {
            Ok(wait) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("rate limits are shared through Redis again");
                }
                if wait == 0 {
                    Ok(())
                } else {
                    Err(domain::limits::Refusal::too_often(bucket, rate, Duration::from_micros(wait)))
                }
            }
            Err(e) => {
                self.failed(&e);
                self.fallback.take_here(bucket, rate, key)
            }
        }
    }

    async fn failed_sign_ins(&self, account: &str) -> Option<(u32, i64)> {
        let key = sign_in_key(account);
        let found: Result<(Option<u32>, Option<i64>), String> = self
            .redis
            .with(|mut c| async move {
                redis::cmd("HMGET").arg(&key).arg("n").arg("last").query_async(&mut c).await
            })
            .await;
        match found {
            Ok((Some(n), Some(last))) => Some((n, last)),
            Ok(_) => None,
            Err(e) => {
                self.failed(&e);
                self.fallback.failed_sign_ins_here(account)
            }
        }
    }

    async fn sign_in_failed(&self, account: &str, now_ms: i64, keep: Duration) {
        let key = sign_in_key(account);
        let counted = self
            .redis
            .with(|mut c| async move {
                redis::pipe()
                    .hincr(&key, "n", 1)
                    .hset(&key, "last", now_ms)
                    .pexpire(&key, keep.as_millis() as i64)
                    .query_async::<()>(&mut c)
                    .await
            })
            .await;
        if let Err(e) = counted {
            self.failed(&e);
            self.fallback.sign_in_failed_here(account, now_ms, keep);
        }
    }

    async fn sign_in_succeeded(&self, account: &str) {
        let key = sign_in_key(account);
        let forgotten = self
            .redis
            .with(|mut c| async move { redis::cmd("DEL").arg(&key).query_async::<()>(&mut c).await })
            .await;
        if let Err(e) = forgotten {
            self.failed(&e);
        }
        self.fallback.sign_in_succeeded_here(account);
    }
}

impl RedisLimits {
    /// Notes that Redis failed (said once until it works again).
    fn failed(&self, e: &str) {
        if !self.failing.swap(true, std::sync::atomic::Ordering::Relaxed) {
            tracing::warn!(error = %e, "cannot reach Redis; each node limits on its own until it is back");
        }
    }
}

fn sign_in_key(account: &str) -> String {
    format!("parley:signin:{account}")
}

/// How long a node's report of a person's presence lasts unless renewed (a
/// node that dies stops renewing; its reports lapse).
const PRESENCE_TTL_MS: i64 = 90_000;
/// How often a node renews its reports and looks for lapsed ones.
pub const PRESENCE_EVERY: Duration = Duration::from_secs(30);

fn presence_key(user: domain::Id) -> String {
    format!("parley:presence:{user}")
}

fn said_key(user: domain::Id) -> String {
    format!("parley:presence:said:{user}")
}

const PRESENCE_USERS: &str = "parley:presence:users";

fn code(status: domain::presence::Status) -> u8 {
    use domain::presence::Status::*;
    match status {
        Offline => 0,
        Away => 1,
        Online => 2,
    }
}

fn from_code(code: u8) -> domain::presence::Status {
    use domain::presence::Status::*;
    match code {
        2 => Online,
        1 => Away,
        _ => Offline,
    }
}

/// The best status among nodes' reports (`"<code>:<expires ms>"`) still in force.
fn best(reports: &std::collections::HashMap<String, String>, now: i64) -> domain::presence::Status {
    let live = reports.values().filter_map(|r| {
        let (code, until) = r.split_once(':')?;
        (until.parse::<i64>().ok()? > now).then(|| code.parse::<u8>().ok()).flatten()
    });
    from_code(live.max().unwrap_or(0))
}

/// Presence shared through Redis: each node reports its view of each
/// person under its own field (renewed, lapsing when the node dies); the
/// deployment-wide status is the best report; the last status announced is
/// kept beside it, and swapped atomically, so one node announces a change.
pub struct RedisPresence {
    redis: Redis,
    node: String,
    ttl_ms: i64,
}

impl RedisPresence {
    pub fn new(redis: Redis) -> Self {
        RedisPresence { redis, node: domain::Id::new().to_string(), ttl_ms: PRESENCE_TTL_MS }
    }

    /// Reports lasting `ttl` instead of 90 s (for tests of a node that dies).
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl_ms = ttl.as_millis() as i64;
        self
    }

    async fn report(&self, user: domain::Id, here: domain::presence::Status) -> Result<(), String> {
        let key = presence_key(user);
        let node = self.node.clone();
        let until = domain::now_ms() + self.ttl_ms;
        self.redis
            .with(|mut c| async move {
                let mut pipe = redis::pipe();
                if here == domain::presence::Status::Offline {
                    pipe.hdel(&key, &node);
                } else {
                    pipe.hset(&key, &node, format!("{}:{until}", code(here))).sadd(PRESENCE_USERS, user.0);
                }
                pipe.query_async::<()>(&mut c).await
            })
            .await
    }

    /// The deployment-wide status of `user` now, and whether it differs from
    /// the last one announced (swapping it in).
    async fn settle(&self, user: domain::Id) -> Result<Option<domain::presence::Status>, String> {
        let key = presence_key(user);
        let reports: std::collections::HashMap<String, String> = self
            .redis
            .with(|mut c| async move { redis::cmd("HGETALL").arg(&key).query_async(&mut c).await })
            .await?;
        let status = best(&reports, domain::now_ms());
        let said = said_key(user);
        let previous: Option<u8> = self
            .redis
            .with(|mut c| async move {
                redis::cmd("SET").arg(&said).arg(code(status)).arg("GET").query_async(&mut c).await
            })
            .await?;
        if status == domain::presence::Status::Offline {
            let user_id = user.0;
            self.redis
                .with(|mut c| async move {
                    redis::cmd("SREM").arg(PRESENCE_USERS).arg(user_id).query_async::<()>(&mut c).await
                })
                .await?;
        }
        Ok((from_code(previous.unwrap_or(0)) != status).then_some(status))
    }

    /// Renews this node's reports of the people connected to it.
    pub async fn renew(&self, here: &[(domain::Id, domain::presence::Status)]) -> Result<(), String> {
        for (user, status) in here {
            self.report(*user, *status).await?;
        }
        Ok(())
    }

    /// The people whose deployment-wide status changed without a node
    /// saying so (a node died and its reports lapsed), with that status, for
    /// this node to announce.
    pub async fn lapsed(&self) -> Result<Vec<(domain::Id, domain::presence::Status)>, String> {
        let users: Vec<i64> = self
            .redis
            .with(|mut c| async move { redis::cmd("SMEMBERS").arg(PRESENCE_USERS).query_async(&mut c).await })
            .await?;
        let mut changed = Vec::new();
        for user in users.into_iter().map(domain::Id) {
            if let Some(status) = self.settle(user).await? {
                changed.push((user, status));
            }
        }
        Ok(changed)
    }

    async fn keep(&self, hub: &domain::Hub) -> Result<(), String> {
        self.renew(&hub.presence_here()).await?;
        for (user, status) in self.lapsed().await? {
            if let Err(e) = hub.presence_changed(user, status).await {
                tracing::warn!(error = ?e, "could not announce presence");
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl domain::presence::SharedPresence for RedisPresence {
    async fn record(
        &self,
        user: domain::Id,
        here: domain::presence::Status,
    ) -> Result<Option<domain::presence::Status>, String> {
        self.report(user, here).await?;
        self.settle(user).await
    }

    async fn statuses(&self, users: &[domain::Id]) -> Result<Vec<domain::presence::Status>, String> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = users.iter().map(|u| presence_key(*u)).collect();
        let reports: Vec<std::collections::HashMap<String, String>> = self
            .redis
            .with(|mut c| async move {
                let mut pipe = redis::pipe();
                for k in &keys {
                    pipe.hgetall(k);
                }
                pipe.query_async(&mut c).await
            })
            .await?;
        let now = domain::now_ms();
        Ok(reports.iter().map(|r| best(r, now)).collect())
    }
}

/// Renews this node's presence reports and settles lapsed ones, every
/// [`PRESENCE_EVERY`].
pub async fn keep_presence(
    presence: std::sync::Arc<RedisPresence>,
    hub: domain::Hub,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(PRESENCE_EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => if let Err(e) = presence.keep(&hub).await {
                tracing::warn!(error = %e, "could not renew presence in Redis");
            },
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::presence::Status;

    #[test]
    fn the_best_report_in_force_wins() {
        let now = 1_000;
        let reports = |r: &[(&str, &str)]| r.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(best(&reports(&[]), now), Status::Offline);
        assert_eq!(best(&reports(&[("a", "1:2000"), ("b", "2:2000")]), now), Status::Online);
        assert_eq!(
            best(&reports(&[("a", "1:2000"), ("b", "2:999")]), now),
            Status::Away,
            "b's report lapsed"
        );
        assert_eq!(best(&reports(&[("a", "garbage")]), now), Status::Offline);
    }
}
