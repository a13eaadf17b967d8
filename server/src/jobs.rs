//! Background workers. Each is a struct with `new(deps)` and
//! `run(shutdown)`, started and stopped by [`crate::startup::Application`].
//! The notification workers are in [`crate::notify`].

use domain::events::{Event, Listener};
use domain::session_store::DbSessionStore;
use domain::{Hub, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// Runs `work` unless the server begins to stop first: then `None`, and
/// the work is dropped (what it had begun in the database is rolled
/// back). For housekeeping that the next start does again: stopping does
/// not wait for it, nor for a database lock it waits on.
async fn unless_stopping<F: std::future::Future>(
    shutdown: &mut watch::Receiver<bool>,
    work: F,
) -> Option<F::Output> {
    if *shutdown.borrow() {
        return None;
    }
    tokio::select! {
        done = work => Some(done),
        _ = shutdown.changed() => None,
    }
}

/// Deletes expired sessions every hour.
pub struct SessionSweeper {
    sessions: DbSessionStore,
    every: Duration,
}

impl SessionSweeper {
    pub fn new(sessions: DbSessionStore) -> Self {
        SessionSweeper { sessions, every: Duration::from_secs(3600) }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.every);
        loop {
            tokio::select! {
                _ = tick.tick() => match unless_stopping(&mut shutdown, self.sessions.delete_expired()).await {
                    None => break,
                    Some(Ok(0)) => {}
                    Some(Ok(n)) => tracing::debug!(n, "deleted expired sessions"),
                    Some(Err(e)) => tracing::warn!(error = ?e, "could not delete expired sessions"),
                },
                _ = shutdown.changed() => break,
            }
        }
    }
}

/// Keeps this process's view of the event log whole and the log short: it
/// reads back, every few seconds, events the bus never got (a writer that
/// committed and was then cancelled, another node's), and every hour
/// removes events older than the window a session can resume in (and
/// slash commands' uses whose response URLs expired as long ago).
pub struct EventLogKeeper {
    store: Store,
    keep: Duration,
    catch_up_every: Duration,
    prune_every: Duration,
}

impl EventLogKeeper {
    /// Removes the events older than the window (and slash commands' uses).
    async fn prune(&self) {
        let before = domain::now_ms() - self.keep.as_millis() as i64;
        match self.store.prune_events(before).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(n, "pruned the event log"),
            Err(e) => tracing::warn!(error = ?e, "could not prune the event log"),
        }
        // Slash commands' uses go once their response URLs have
        // been dead as long (what they answered is kept elsewhere).
        if let Err(e) = self.store.prune_command_uses(before).await {
            tracing::warn!(error = ?e, "could not prune slash commands' uses");
        }
    }

    /// Keeps events for `keep`, reading the log every `poll`.
    pub fn new(store: Store, keep: Duration, poll: Duration) -> Self {
        EventLogKeeper { store, keep, catch_up_every: poll, prune_every: Duration::from_secs(3600) }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut catch_up = tokio::time::interval(self.catch_up_every);
        let mut prune = tokio::time::interval(self.prune_every);
        loop {
            tokio::select! {
                _ = catch_up.tick() => match unless_stopping(&mut shutdown, self.store.catch_up()).await {
                    None => break,
                    Some(Ok(0)) => {}
                    Some(Ok(n)) => tracing::debug!(n, "read events back from the log"),
                    Some(Err(e)) => tracing::warn!(error = ?e, "could not read the event log"),
                },
                _ = prune.tick() => {
                    if unless_stopping(&mut shutdown, self.prune()).await.is_none() {
                        break;
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    }
}

/// Turns logged events into calls to outgoing webhooks
/// ([`Hub::dispatch_outgoing_webhooks`]): woken by each event that could
/// concern one (this node's, and those read back from other nodes), at most
/// every tenth of a second so that a burst is read as one page, and once a
/// minute whatever happens.
pub struct WebhookDispatcher {
    hub: Hub,
    gap: Duration,
    every: Duration,
}

/// Rings when the bus hands out an event an outgoing webhook could hear.
struct Doorbell(Arc<Notify>);

impl Listener for Doorbell {
    fn hear(&self, event: &Arc<Event>) {
        if domain::hub::heard_by_webhooks(&event.kind).is_some() {
            self.0.notify_one();
        }
    }
}

impl WebhookDispatcher {
    pub fn new(hub: Hub) -> Self {
        WebhookDispatcher { hub, gap: Duration::from_millis(100), every: Duration::from_secs(60) }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let rung = Arc::new(Notify::new());
        self.hub.bus().listen(Arc::new(Doorbell(rung.clone())));
        loop {
            match unless_stopping(&mut shutdown, self.hub.dispatch_outgoing_webhooks()).await {
                None => break,
                Some(Ok(0)) => {}
                Some(Ok(n)) => tracing::debug!(n, "queued outgoing webhook calls"),
                Some(Err(e)) => {
                    tracing::warn!(error = ?e, "could not turn events into outgoing webhook calls")
                }
            }
            tokio::select! {
                _ = rung.notified() => {}
                _ = tokio::time::sleep(self.every) => {}
                _ = shutdown.changed() => break,
            }
            // Events that arrive meanwhile are read with this one.
            tokio::select! {
                _ = tokio::time::sleep(self.gap) => {}
                _ = shutdown.changed() => break,
            }
        }
    }
}

/// Fetches link previews ([`Hub::fetch_link_previews`]): woken when the
/// bus hands out a message that may hold links (posted or edited on this
/// node or another), and every half minute whatever happens (a claim left by a
/// node that stopped is taken up once its lease ends). Every hour it
/// deletes the kept images no preview shows any more.
pub struct LinkPreviewer {
    hub: Hub,
    every: Duration,
    prune_every: Duration,
}

/// Rings when the bus hands out a message that may hold links.
struct LinksPosted(Arc<Notify>);

impl Listener for LinksPosted {
    fn hear(&self, event: &Arc<Event>) {
        use domain::events::EventKind;
        if let EventKind::MessageCreated(m) | EventKind::MessageUpdated(m) = &event.kind
            && m.body.contains("http")
        {
            self.0.notify_one();
        }
    }
}

impl LinkPreviewer {
    pub fn new(hub: Hub) -> Self {
        LinkPreviewer { hub, every: Duration::from_secs(30), prune_every: Duration::from_secs(3600) }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let rung = Arc::new(Notify::new());
        self.hub.bus().listen(Arc::new(LinksPosted(rung.clone())));
        let mut prune = tokio::time::interval(self.prune_every);
        loop {
            tokio::select! {
                settled = self.hub.fetch_link_previews() => match settled {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(n, "settled link previews"),
                    Err(e) => tracing::warn!(error = ?e, "could not fetch link previews"),
                },
                _ = shutdown.changed() => break,
            }
            tokio::select! {
                _ = rung.notified() => {}
                _ = tokio::time::sleep(self.every) => {}
                _ = prune.tick() => match self.hub.prune_link_preview_images(self.prune_every).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(n, "deleted link preview images no longer shown"),
                    Err(e) => tracing::warn!(error = ?e, "could not prune link preview images"),
                },
                _ = shutdown.changed() => break,
            }
        }
    }
}

/// Applies the retention policies: every ten minutes (and at start) it
/// goes on with an open run or opens one when an hour has passed since the
/// last (see [`Hub::run_retention`]: batches, resumable, one node at a time).
pub struct RetentionWorker {
    hub: Hub,
    every: Duration,
}

impl RetentionWorker {
    pub fn new(hub: Hub) -> Self {
        RetentionWorker { hub, every: Duration::from_secs(600) }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.every);
        loop {
            tokio::select! {
                // A run stopped here goes on from its last batch at the next start.
                _ = tick.tick() => match unless_stopping(&mut shutdown, self.hub.run_retention(domain::now_ms(), None)).await {
                    None => break,
                    Some(Ok(_)) => {}
                    Some(Err(e)) => tracing::warn!(error = ?e, "could not apply the retention policies"),
                },
                _ = shutdown.changed() => break,
            }
        }
    }
}

/// Writes compliance exports ([`Hub::run_exports`]): woken when one is
/// asked for on this node, and every half minute whatever happens (one
/// asked for on another node, one whose node stopped, the daily export).
/// Stopping the server mid-export leaves its checkpoint: it goes on from
/// there at the next start, here or on another node.
pub struct ExportWorker {
    hub: Hub,
    every: Duration,
}

impl ExportWorker {
    pub fn new(hub: Hub) -> Self {
        ExportWorker { hub, every: Duration::from_secs(30) }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let wanted = self.hub.exports_wanted();
        loop {
            // One export after another while any is waiting.
            loop {
                tokio::select! {
                    outcome = self.hub.run_exports(domain::now_ms(), None) => match outcome {
                        Ok(domain::hub::ExportOutcome::Idle) => break,
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = ?e, "could not work the compliance exports");
                            break;
                        }
                    },
                    _ = shutdown.changed() => return,
                }
            }
            tokio::select! {
                _ = wanted.notified() => {}
                _ = tokio::time::sleep(self.every) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// Keeps the analytics' daily counts ([`Hub::roll_up_activity`]): every
/// fifteen seconds it adds the messages written since, a few seconds behind.
pub struct ActivityRollUp {
    hub: Hub,
    every: Duration,
}

impl ActivityRollUp {
    pub fn new(hub: Hub) -> Self {
        ActivityRollUp { hub, every: Duration::from_secs(15) }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.every);
        loop {
            tokio::select! {
                _ = tick.tick() => match unless_stopping(&mut shutdown, self.hub.roll_up_activity(domain::now_ms())).await {
                    None => break,
                    Some(Ok(_)) => {}
                    Some(Err(e)) => tracing::warn!(error = ?e, "could not count the latest messages for analytics"),
                },
                _ = shutdown.changed() => break,
            }
        }
    }
}

/// Keeps what is stored encrypted with the current key
/// ([`Hub::reseal`]): every ten seconds it takes up a key that `parley
/// rotate-key` added ([`Hub::follow_key_rotation`]) and re-encrypts, in
/// batches, what older keys encrypted or what was stored before
/// encryption; with nothing to do, one read.
pub struct Resealer {
    hub: Hub,
    every: Duration,
}

impl Resealer {
    pub fn new(hub: Hub) -> Self {
        Resealer { hub, every: Duration::from_secs(10) }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.every);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    // A long pass stops with the server (its batch is rolled back).
                    tokio::select! {
                        _ = self.once() => {}
                        _ = shutdown.changed() => break,
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    }

    async fn once(&self) {
        match self.hub.follow_key_rotation().await {
            Ok(Some(key)) => tracing::info!(%key, "took up the new encryption key"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = ?e, "could not read the encryption keys again"),
        }
        match self.hub.reseal().await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(rows = n, key = %self.hub.store().keys().current(), "re-encrypted with the current key")
            }
            Err(e) => tracing::warn!(error = ?e, "could not re-encrypt with the current key"),
        }
    }
}
