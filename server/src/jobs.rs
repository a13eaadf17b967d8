//! Background workers. Each is a struct with `new(deps)` and
//! `run(shutdown)`, started and stopped by [`crate::startup::Application`].

use domain::mail::Mailer;
use domain::session_store::DbSessionStore;
use domain::store::{Delivery, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

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
                _ = tick.tick() => match self.sessions.delete_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(n, "deleted expired sessions"),
                    Err(e) => tracing::warn!(error = ?e, "could not delete expired sessions"),
                },
                _ = shutdown.changed() => break,
            }
        }
    }
}

/// Sends queued emails: each due delivery is claimed, sent, and marked sent;
/// a failure makes it due again after a wait that doubles each time, until
/// it has been tried `max_attempts` times (or the server rejected it for
/// good). Wakes when something is queued, and when the next retry is due.
pub struct Deliverer {
    store: Store,
    mailer: Mailer,
    queued: Arc<Notify>,
    retry_after: Duration,
    max_attempts: i64,
}

/// How long a claimed delivery stays with this worker before another may take it.
const LEASE: Duration = Duration::from_secs(300);

impl Deliverer {
    pub fn new(
        store: Store,
        mailer: Mailer,
        queued: Arc<Notify>,
        retry_after: Duration,
        max_attempts: i64,
    ) -> Self {
        Deliverer { store, mailer, queued, retry_after, max_attempts }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(to = %self.mailer.describe(), "emails are sent through");
        loop {
            if let Err(e) = self.deliver_due().await {
                tracing::warn!(error = ?e, "could not read the delivery queue");
            }
            let wait = match self.store.next_delivery_due().await {
                Ok(Some(at)) => Duration::from_millis((at - domain::now_ms()).clamp(0, 60_000) as u64),
                _ => Duration::from_secs(60),
            };
            tokio::select! {
                _ = self.queued.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => break,
            }
        }
    }

    async fn deliver_due(&self) -> domain::Result<()> {
        loop {
            let batch =
                self.store.claim_due_deliveries(domain::now_ms(), LEASE.as_millis() as i64, 20).await?;
            if batch.is_empty() {
                return Ok(());
            }
            for d in batch {
                self.attempt(d).await?;
            }
        }
    }

    async fn attempt(&self, d: Delivery) -> domain::Result<()> {
        let attempts = d.attempts + 1;
        match self.mailer.send(&d).await {
            Ok(()) => self.store.mark_delivery_sent(d.id, attempts, domain::now_ms()).await,
            Err(e) => {
                let now = domain::now_ms();
                let retry = (!e.is_permanent() && attempts < self.max_attempts).then(|| {
                    let wait = self
                        .retry_after
                        .saturating_mul(1 << (attempts - 1).min(16))
                        .min(Duration::from_secs(3600));
                    now + wait.as_millis() as i64
                });
                tracing::warn!(delivery = d.id, attempts, retry = retry.is_some(), error = %e, "an email was not sent");
                self.store.mark_delivery_failed(d.id, attempts, &e.to_string(), retry, now).await
            }
        }
    }
}
