//! Calls across nodes: each call runs on one node, and the others carry
//! their connections' signalling to it through Redis (as LiveKit pins a
//! room to one node).
//!
//! - The node running a channel's call is named by `parley:call:<channel>`.
//!   The first node asked to join a call with none claims it (`SET NX`),
//!   renews the claim every [`RENEW_EVERY`] while the call lasts, and
//!   releases it after the call has been empty that long. A node that dies
//!   stops renewing: its claims lapse after [`CLAIM_TTL`].
//! - Every node watches the nodes running the calls it shows
//!   ([`Relay::watch_calls`]): a node that no longer listens on Redis has
//!   died, and its calls end everywhere at once rather than when the claim
//!   lapses.
//! - Each node listens on `parley:node:<node>`. A connection's call command
//!   goes to the call's node as [`Relayed::Command`], where it is applied to
//!   that node's SFU in the order sent, as a participant of its own
//!   (a session number of that node). What the SFU says to the participant
//!   (offers, candidates, errors) comes back as [`Relayed::Event`] and goes
//!   out on the connection as if it were local.
//! - Media never passes through Redis or the connection's node: the call
//!   node's ICE candidates carry its own announced address, so each browser
//!   sends its media straight to the node running its call.
//!
//! Who is in which call is announced through the event log as ever, so
//! every node shows it ([`domain::Hub::call_seen`]).
//!
//! Without Redis (unreachable, or a command it lost), a join runs the call
//! here: one node's behaviour, never a call that cannot start.

use super::calls::CallCommand;
use super::sfu::{Outbox, Sfu};
use crate::cluster::Redis;
use app::wire::{ApiError, GatewayEvent};
use domain::Id;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// How long a claim on a call lasts unless renewed.
const CLAIM_TTL: Duration = Duration::from_secs(30);
/// How often claims are renewed (and those of ended calls released).
pub const RENEW_EVERY: Duration = Duration::from_secs(10);
/// How often the nodes running the calls shown here are checked for life.
const WATCH_EVERY: Duration = Duration::from_secs(2);

/// Releases a claim only if it is still this node's.
const RELEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// What nodes send each other about calls.
#[derive(Debug, Serialize, Deserialize)]
enum Relayed {
    /// To the call's node: a command of connection `session` on node `from`.
    Command { from: String, session: u64, user: Id, command: CallCommand },
    /// Back to a connection's node: signalling for connection `session`.
    Event { session: u64, event: Box<GatewayEvent> },
}

fn call_key(channel: Id) -> String {
    format!("parley:call:{channel}")
}

fn node_channel(node: &str) -> String {
    format!("parley:node:{node}")
}

/// A participant from another node, as this node runs them.
type Visitor = mpsc::UnboundedSender<(Id, CallCommand)>;

/// Where the call of a connection here runs.
struct Away {
    node: String,
    channel: Id,
}

pub struct Relay {
    redis: Redis,
    node: String,
    sfu: Sfu,
    /// Connections here whose call runs on another node: session → node.
    away: Mutex<HashMap<u64, Away>>,
    /// Where to send what other nodes send back, by connection here.
    outboxes: Mutex<HashMap<u64, Outbox>>,
    /// Connections elsewhere in calls run here, by (node, session there).
    visitors: Mutex<HashMap<(String, u64), Visitor>>,
    /// Calls this node claimed, and when it last saw each with someone in it.
    claimed: Mutex<HashMap<Id, Instant>>,
    release: redis::Script,
}

impl Relay {
    pub fn new(redis: Redis, sfu: Sfu) -> Self {
        Relay {
            redis,
            node: Id::new().to_string(),
            sfu,
            away: Default::default(),
            outboxes: Default::default(),
            visitors: Default::default(),
            claimed: Default::default(),
            release: redis::Script::new(RELEASE_SCRIPT),
        }
    }

    /// Applies `command` of connection `session` on the node running its call.
    pub async fn apply(
        self: &std::sync::Arc<Self>,
        session: u64,
        user: Id,
        command: CallCommand,
        out: &Outbox,
    ) -> Result<(), ApiError> {
        let away = self.away.lock().expect("relay lock").get(&session).map(|a| a.node.clone());
        let node = match &command {
            CallCommand::Join { channel } => {
                let node = self.claim(*channel).await;
                // Moving from a call on another node: leave it first.
                if let Some(previous) = away.as_ref().filter(|p| Some(*p) != node.as_ref()) {
                    self.send(previous, session, user, CallCommand::Leave).await;
                    self.forget(session);
                }
                node
            }
            CallCommand::Mute { channel, .. } => self.runner(*channel).await,
            _ => away,
        };
        match node {
            Some(node) if node != self.node => {
                if matches!(command, CallCommand::Join { .. })
                    && self.sfu.hub().voice_channel_of(session).is_some()
                {
                    // Moving from a call run here.
                    self.sfu.leave(session).await;
                }
                self.remote(node, session, user, command, out).await
            }
            _ => {
                if matches!(command, CallCommand::Join { .. } | CallCommand::Leave) {
                    self.forget(session);
                }
                self.sfu.apply(session, user, command, out).await
            }
        }
    }

    /// Sends `command` to `node`; a node that no longer listens is gone, and
    /// so is its call (a join then starts it again, here if need be).
    async fn remote(
        self: &std::sync::Arc<Self>,
        node: String,
        session: u64,
        user: Id,
        command: CallCommand,
        out: &Outbox,
    ) -> Result<(), ApiError> {
        let leaving = command == CallCommand::Leave;
        if !leaving {
            // Only a join puts the connection's call there; a mute in a call
            // run elsewhere needs only a way back for its refusal.
            if let CallCommand::Join { channel } = command {
                self.away.lock().expect("relay lock").insert(session, Away { node: node.clone(), channel });
            }
            self.outboxes.lock().expect("relay lock").insert(session, out.clone());
        }
        let delivered = self.send(&node, session, user, command.clone()).await;
        if leaving {
            self.forget(session);
        }
        if delivered {
            return Ok(());
        }
        self.forget(session);
        if let CallCommand::Join { channel } = command {
            tracing::warn!(%channel, node, "the node running a call is gone; starting the call again");
            self.release(channel, &node).await;
            return Box::pin(self.apply(session, user, command, out)).await;
        }
        if leaving {
            return Ok(());
        }
        Err(ApiError::from(domain::Error::invalid(
            "call",
            "The server running this call has stopped. Join the call again.",
        )))
    }

    fn forget(&self, session: u64) {
        self.away.lock().expect("relay lock").remove(&session);
        self.outboxes.lock().expect("relay lock").remove(&session);
    }

    /// The node running `channel`'s call, claiming it for this one when it
    /// has none; `None` when Redis cannot say (the call runs here).
    async fn claim(&self, channel: Id) -> Option<String> {
        let (key, node) = (call_key(channel), self.node.clone());
        let ttl = CLAIM_TTL.as_millis() as u64;
        let found: Result<Option<String>, String> = self
            .redis
            .with(|mut c| async move {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(&node)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl)
                    .arg("GET")
                    .query_async(&mut c)
                    .await
            })
            .await;
        match found {
            Ok(Some(runner)) => Some(runner),
            Ok(None) => {
                self.claimed.lock().expect("relay lock").insert(channel, Instant::now());
                Some(self.node.clone())
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot reach Redis; the call runs on this node");
                None
            }
        }
    }

    /// The node running `channel`'s call, if any.
    async fn runner(&self, channel: Id) -> Option<String> {
        self.claimant(channel).await.ok().flatten()
    }

    /// The node whose claim on `channel`'s call stands, if any.
    async fn claimant(&self, channel: Id) -> Result<Option<String>, String> {
        let key = call_key(channel);
        self.redis.with(|mut c| async move { redis::cmd("GET").arg(&key).query_async(&mut c).await }).await
    }

    /// Whether `node` listens for call signalling: a node that died (even
    /// killed outright) stops at once, its connection to Redis closed.
    async fn listening(&self, node: &str) -> Result<bool, String> {
        let channel = node_channel(node);
        let counts: Vec<(String, i64)> = self
            .redis
            .with(|mut c| async move {
                redis::cmd("PUBSUB").arg("NUMSUB").arg(&channel).query_async(&mut c).await
            })
            .await?;
        Ok(counts.first().is_some_and(|(_, n)| *n > 0))
    }

    /// Releases `node`'s claim on `channel`'s call (if it still holds it).
    async fn release(&self, channel: Id, node: &str) {
        let (key, node) = (call_key(channel), node.to_string());
        let released = self
            .redis
            .with(|mut c| {
                let script = &self.release;
                async move { script.key(&key).arg(&node).invoke_async::<i64>(&mut c).await }
            })
            .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, %channel, "could not release a call's claim");
        }
    }

    /// Publishes a command to `node`; whether a node heard it.
    async fn send(&self, node: &str, session: u64, user: Id, command: CallCommand) -> bool {
        let relayed = Relayed::Command { from: self.node.clone(), session, user, command };
        self.publish(node, &relayed).await
    }

    async fn publish(&self, node: &str, relayed: &Relayed) -> bool {
        let Ok(body) = serde_json::to_string(relayed) else { return false };
        let channel = node_channel(node);
        let heard = self
            .redis
            .with(|mut c| async move {
                redis::cmd("PUBLISH").arg(&channel).arg(&body).query_async::<i64>(&mut c).await
            })
            .await;
        match heard {
            Ok(n) => n > 0,
            Err(e) => {
                tracing::warn!(error = %e, node, "could not relay call signalling");
                false
            }
        }
    }

    /// Answers other nodes (their connections' commands, what calls here
    /// say back) and keeps this node's claims, until shutdown.
    pub async fn run(self: std::sync::Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let keeper = tokio::spawn(self.clone().keep_claims(shutdown.clone()));
        let watcher = tokio::spawn(self.clone().watch_calls(shutdown.clone()));
        let mut attempt = 0;
        loop {
            let subscribed = async {
                let mut pubsub = self.redis.client().get_async_pubsub().await?;
                pubsub.subscribe(node_channel(&self.node)).await?;
                Ok::<_, redis::RedisError>(pubsub)
            };
            let pubsub = tokio::select! {
                p = subscribed => p,
                _ = shutdown.changed() => break,
            };
            let pubsub = match pubsub {
                Ok(p) => p,
                Err(e) => {
                    if attempt == 0 {
                        tracing::warn!(error = %e, "cannot listen for call signalling from other nodes; retrying");
                    }
                    attempt += 1;
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(250 * attempt.min(8))) => continue,
                        _ = shutdown.changed() => break,
                    }
                }
            };
            attempt = 0;
            let mut messages = pubsub.into_on_message();
            loop {
                let message = tokio::select! {
                    m = messages.next() => m,
                    _ = shutdown.changed() => { let _ = tokio::join!(keeper, watcher); return },
                };
                let Some(message) = message else { break };
                let Ok(body) = message.get_payload::<String>() else { continue };
                match serde_json::from_str::<Relayed>(&body) {
                    Ok(relayed) => self.received(relayed),
                    Err(e) => tracing::warn!(error = %e, "unreadable call signalling from another node"),
                }
            }
        }
        let _ = tokio::join!(keeper, watcher);
    }

    fn received(self: &std::sync::Arc<Self>, relayed: Relayed) {
        match relayed {
            Relayed::Event { session, event } => {
                let out = self.outboxes.lock().expect("relay lock").get(&session).cloned();
                if let Some(out) = out {
                    out.try_send(event);
                }
            }
            Relayed::Command { from, session, user, command } => {
                let key = (from, session);
                let mut visitors = self.visitors.lock().expect("relay lock");
                let visitor = visitors.entry(key.clone()).or_insert_with(|| {
                    let (tx, rx) = mpsc::unbounded_channel();
                    tokio::spawn(self.clone().host(key, rx));
                    tx
                });
                let _ = visitor.send((user, command));
            }
        }
    }

    /// Runs the call of a connection on another node: its commands, in
    /// order, as a participant of this node's, until it leaves.
    async fn host(
        self: std::sync::Arc<Self>,
        key: (String, u64),
        mut commands: mpsc::UnboundedReceiver<(Id, CallCommand)>,
    ) {
        let (node, their_session) = key.clone();
        let session = crate::gateway::connection::next_session();
        let (out, mut signalling) = Outbox::channel(crate::gateway::QUEUE);
        let back = {
            let relay = self.clone();
            tokio::spawn(async move {
                while let Some(event) = signalling.recv().await {
                    relay.publish(&node, &Relayed::Event { session: their_session, event }).await;
                }
            })
        };
        loop {
            let Some((user, command)) = commands.recv().await else { break };
            let leaving = command == CallCommand::Leave;
            let name = command.wire_name();
            if let Err(error) = self.sfu.apply(session, user, command, &out).await {
                out.try_send(GatewayEvent::CommandError { command: name.into(), error, nonce: None });
            }
            if leaving {
                let mut visitors = self.visitors.lock().expect("relay lock");
                if commands.is_empty() {
                    visitors.remove(&key);
                    break;
                }
            }
        }
        drop(out);
        let _ = back.await;
    }

    /// Checks, every [`WATCH_EVERY`], that the nodes running the calls this
    /// node shows (and those of its connections' calls) still live. A call
    /// whose node is gone ends: its participants here are told so
    /// (`VOICE_LEFT`, and they may join again, which starts the call on a
    /// node that lives), its claim is released, and everyone hears that
    /// nobody is in it. A node is gone when it no longer listens for
    /// signalling, or when its claim has been missing for [`CLAIM_TTL`]
    /// (a claim lost with a restarted Redis comes back within
    /// [`RENEW_EVERY`]).
    async fn watch_calls(self: std::sync::Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(WATCH_EVERY);
        // Calls shown with no claim standing, since when.
        let mut unclaimed: HashMap<Id, Instant> = HashMap::new();
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => break,
            }
            let mut channels: Vec<Id> = self.sfu.hub().calls_seen_elsewhere();
            channels.extend(self.away.lock().expect("relay lock").values().map(|a| a.channel));
            channels.sort_unstable();
            channels.dedup();
            unclaimed.retain(|c, _| channels.contains(c));
            for channel in channels {
                if self.sfu.runs(channel) {
                    continue;
                }
                let gone = match self.claimant(channel).await {
                    Ok(Some(node)) => {
                        unclaimed.remove(&channel);
                        match self.listening(&node).await {
                            Ok(listening) => (!listening).then_some(Some(node)),
                            Err(_) => None,
                        }
                    }
                    Ok(None) => {
                        let since = *unclaimed.entry(channel).or_insert_with(Instant::now);
                        (since.elapsed() >= CLAIM_TTL).then_some(None)
                    }
                    // Redis cannot say: nothing is judged.
                    Err(_) => None,
                };
                if let Some(node) = gone {
                    unclaimed.remove(&channel);
                    self.call_gone(channel, node).await;
                }
            }
        }
    }

    /// `channel`'s call ended with its node (`node`, when its claim still
    /// names it).
    async fn call_gone(&self, channel: Id, node: Option<String>) {
        tracing::warn!(%channel, node, "the node running a call is gone; the call ends");
        let here: Vec<u64> = self
            .away
            .lock()
            .expect("relay lock")
            .iter()
            .filter(|(_, a)| a.channel == channel)
            .map(|(s, _)| *s)
            .collect();
        for session in here {
            let out = self.outboxes.lock().expect("relay lock").get(&session).cloned();
            self.forget(session);
            if let Some(out) = out {
                out.try_send(GatewayEvent::VoiceLeft {
                    channel_id: channel.to_string(),
                    reason: "The server running this call stopped. Join the call again.".into(),
                });
            }
        }
        if let Some(node) = node {
            self.release(channel, &node).await;
        }
        if let Err(e) = self.sfu.hub().call_gone(channel).await {
            tracing::warn!(error = ?e, %channel, "could not announce the end of a call");
        }
    }

    /// Renews this node's claims while their calls last; releases those of
    /// calls that have been empty for [`RENEW_EVERY`]; claims calls that
    /// started here while Redis was away.
    async fn keep_claims(self: std::sync::Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(RENEW_EVERY);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => break,
            }
            for channel in self.sfu.channels() {
                self.claimed.lock().expect("relay lock").insert(channel, Instant::now());
                let (key, node, ttl) = (call_key(channel), self.node.clone(), CLAIM_TTL.as_millis() as u64);
                let renewed = self
                    .redis
                    .with(|mut c| async move {
                        redis::cmd("SET")
                            .arg(&key)
                            .arg(&node)
                            .arg("PX")
                            .arg(ttl)
                            .query_async::<()>(&mut c)
                            .await
                    })
                    .await;
                if let Err(e) = renewed {
                    tracing::warn!(error = %e, %channel, "could not renew a call's claim");
                }
            }
            let ended: Vec<Id> = {
                let mut claimed = self.claimed.lock().expect("relay lock");
                let ended: Vec<Id> = claimed
                    .iter()
                    .filter(|(c, seen)| !self.sfu.runs(**c) && seen.elapsed() >= RENEW_EVERY)
                    .map(|(c, _)| *c)
                    .collect();
                for c in &ended {
                    claimed.remove(c);
                }
                ended
            };
            for channel in ended {
                self.release(channel, &self.node).await;
            }
        }
        // Stopping: the calls here end, so do their claims.
        let claimed: Vec<Id> = self.claimed.lock().expect("relay lock").keys().copied().collect();
        for channel in claimed {
            self.release(channel, &self.node).await;
        }
    }
}
