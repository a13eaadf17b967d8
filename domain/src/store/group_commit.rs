//! Group commit of posts: messages posted at the same time share one
//! transaction, so that one commit (one flush to disk: SQLite's WAL sync,
//! PostgreSQL's WAL flush, and the one-row lock on `event_position`) serves
//! all of them instead of each waiting for its own.
//!
//! A post joins the queue; if no batch is being written, it starts a task
//! that writes batches until the queue is empty. Each post waits for the
//! commit of its batch, so what is acknowledged is what is on disk, as
//! before. In a batch each message is written inside its own savepoint: one
//! that fails (its channel deleted meanwhile, say) fails alone, and the
//! others are committed. The writing task is not the caller's future, so a
//! caller that goes away (a closed request) cannot leave the others waiting.

use super::{NewMessage, Store};
use crate::error::{Error, Result};
use crate::events::NewEvent;
use std::sync::Mutex;
use tokio::sync::oneshot;

/// Most posts written in one transaction.
const MAX_BATCH: usize = 64;

/// The posts waiting to be written, and whether a task is writing.
#[derive(Default)]
pub(super) struct Queue {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    waiting: Vec<Waiting>,
    writing: bool,
}

struct Waiting {
    post: NewMessage,
    /// `true` when stored, `false` when its nonce was used already.
    done: oneshot::Sender<Result<bool>>,
}

/// Marks the queue as not being written if the writing task ends by a
/// panic (the next post then starts another).
struct Writing<'a> {
    queue: &'a Queue,
    ended: bool,
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.queue.state.lock().expect("queue lock").writing = false;
        }
    }
}

impl Store {
    /// Writes `post` with whatever else is being posted now; returns once
    /// it is committed: `true` when it was stored, `false` when its author's
    /// nonce was used already.
    pub(super) async fn write_grouped(&self, post: NewMessage) -> Result<bool> {
        let (done, outcome) = oneshot::channel();
        let start = {
            let mut state = self.posts.state.lock().expect("queue lock");
            state.waiting.push(Waiting { post, done });
            !std::mem::replace(&mut state.writing, true)
        };
        if start {
            let store = self.clone();
            tokio::spawn(async move { store.write_queue().await });
        }
        outcome
            .await
            .map_err(|_| Error::internal("the task writing posts stopped before this one was written"))?
    }

    /// Writes batches until none is waiting.
    async fn write_queue(&self) {
        let mut writing = Writing { queue: &self.posts, ended: false };
        loop {
            let batch: Vec<Waiting> = {
                let mut state = self.posts.state.lock().expect("queue lock");
                if state.waiting.is_empty() {
                    state.writing = false;
                    writing.ended = true;
                    return;
                }
                let n = state.waiting.len().min(MAX_BATCH);
                state.waiting.drain(..n).collect()
            };
            self.write_batch(batch).await;
        }
    }

    /// Writes `batch` in one transaction and tells each post its outcome.
    async fn write_batch(&self, batch: Vec<Waiting>) {
        let (posts, done): (Vec<NewMessage>, Vec<_>) = batch.into_iter().map(|w| (w.post, w.done)).unzip();
        let outcomes = match self.write_posts(&posts).await {
            Ok(outcomes) => outcomes,
            Err(e) => {
                tracing::error!(error = ?e, posts = posts.len(), "could not commit a batch of posts");
                posts.iter().map(|_| Err(e.shared())).collect()
            }
        };
        for (done, outcome) in done.into_iter().zip(outcomes) {
            // A post whose caller went away is committed all the same.
            let _ = done.send(outcome);
        }
    }

    /// One transaction for `posts`; their events are logged in the order of
    /// `posts`. First all together; if one fails, the transaction is rolled
    /// back and written again with each post in its own savepoint, so that
    /// only that one fails (the common case pays for no savepoints).
    async fn write_posts(&self, posts: &[NewMessage]) -> Result<Vec<Result<bool>>> {
        if posts.len() > 1 {
            let mut tx = self.write_tx().await?;
            if let Ok(stored) = self.write_messages(&mut tx, posts).await {
                self.finish_posts(tx, posts, &stored).await?;
                return Ok(stored.into_iter().map(Ok).collect());
            }
            tx.rollback().await?;
        }
        let mut tx = self.write_tx().await?;
        let mut outcomes = Vec::with_capacity(posts.len());
        let alone = posts.len() == 1;
        for post in posts {
            let one = std::slice::from_ref(post);
            if alone {
                outcomes.push(Ok(self.write_messages(&mut tx, one).await?[0]));
            } else {
                sqlx::query("SAVEPOINT post").execute(&mut *tx).await?;
                let outcome = self.write_messages(&mut tx, one).await.map(|stored| stored[0]);
                if outcome.is_err() {
                    sqlx::query("ROLLBACK TO SAVEPOINT post").execute(&mut *tx).await?;
                }
                sqlx::query("RELEASE SAVEPOINT post").execute(&mut *tx).await?;
                outcomes.push(outcome);
            }
        }
        let stored: Vec<bool> = outcomes.iter().map(|o| matches!(o, Ok(true))).collect();
        self.finish_posts(tx, posts, &stored).await?;
        Ok(outcomes)
    }

    /// Adds what the `stored` posts share (their words to the search
    /// vocabulary, their events to the log) and commits.
    async fn finish_posts(&self, mut tx: super::Tx, posts: &[NewMessage], stored: &[bool]) -> Result<()> {
        let kept = || posts.iter().zip(stored).filter(|(_, s)| **s).map(|(p, _)| p);
        let bodies: Vec<&str> = kept().map(|p| p.message.body.as_str()).collect();
        self.learn_words(&mut tx, &bodies.join("\n")).await?;
        let events: Vec<NewEvent> = kept().flat_map(|p| p.events.iter().cloned()).collect();
        self.commit(tx, &events).await
    }
}
