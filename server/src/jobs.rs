//! Background workers. Each is a struct with `new(deps)` and
//! `run(shutdown)`, started and stopped by [`crate::startup::Application`].
//! The notification workers are in [`crate::notify`].

use domain::session_store::DbSessionStore;
use std::time::Duration;
use tokio::sync::watch;

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
