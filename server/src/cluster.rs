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

/// Rings other nodes when this one commits events, and answers their rings.
pub struct Doorbell {
    client: redis::Client,
    store: Store,
}

impl Doorbell {
    /// Fails only for a URL Redis's client cannot read; an unreachable
    /// Redis is retried while running.
    pub fn new(url: &str, store: Store) -> Result<Self, redis::RedisError> {
        Ok(Doorbell { client: redis::Client::open(url)?, store })
    }

    /// Whether Redis answers a `PING` now (for `/readyz`).
    pub async fn ping(client: &redis::Client) -> redis::RedisResult<()> {
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await.map(|_| ())
    }

    pub fn client(&self) -> redis::Client {
        self.client.clone()
    }

    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let ring = tokio::spawn(ring(self.client.clone(), self.store.clone(), shutdown.clone()));
        let listen = tokio::spawn(listen(self.client, self.store, shutdown));
        let _ = tokio::join!(ring, listen);
    }
}

/// Publishes the position of this node's last commit whenever it changes
/// (positions committed meanwhile are covered by the last one).
async fn ring(client: redis::Client, store: Store, mut shutdown: watch::Receiver<bool>) {
    let mut committed = store.bus().watch_committed();
    let mut attempt = 0;
    loop {
        let mut conn = tokio::select! {
            c = client.get_multiplexed_async_connection() => match c {
                Ok(c) => c,
                Err(e) => {
                    if !pause(&mut attempt, &mut shutdown, "ring", &e).await { return }
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        attempt = 0;
        loop {
            tokio::select! {
                changed = committed.changed() => if changed.is_err() { return },
                _ = shutdown.changed() => return,
            }
            let seq = *committed.borrow_and_update();
            if let Err(e) = redis::cmd("PUBLISH").arg(CHANNEL).arg(seq).query_async::<i64>(&mut conn).await {
                tracing::warn!(error = %e, "could not ring the other nodes; they will read the log");
                break;
            }
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
