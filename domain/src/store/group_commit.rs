//! Group commit of posts: messages posted at the same time share one
//! transaction, so that one commit (one flush to disk: SQLite's WAL sync,
//! PostgreSQL's WAL flush, and the one-row lock on `event_position`) serves
//! all of them instead of each waiting for its own. Events that change
//! nothing stored (typing, a ringing call: [`Store::announce`]) join the
//! same transactions: they are logged like any other, and a busy channel's
//! typing then costs no commit of its own.
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

/// What waits to be written.
pub(super) enum Write {
    Post(Box<NewMessage>),
    /// Events to log that come with no change.
    Announce(Vec<NewEvent>),
}

struct Waiting {
    write: Write,
    /// `true` when stored (an announcement always is), `false` when a
    /// post's nonce was used already.
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
    /// Writes `write` with whatever else is being posted now; returns once
    /// it is committed: `true` when it was stored, `false` when a post's
    /// nonce was used already by its author.
    pub(super) async fn write_grouped(&self, write: Write) -> Result<bool> {
        let (done, outcome) = oneshot::channel();
        let start = {
            let mut state = self.grouped.state.lock().expect("queue lock");
            state.waiting.push(Waiting { write, done });
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
        let mut writing = Writing { queue: &self.grouped, ended: false };
        loop {
            let batch: Vec<Waiting> = {
                let mut state = self.grouped.state.lock().expect("queue lock");
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
        let (writes, done): (Vec<Write>, Vec<_>) = batch.into_iter().map(|w| (w.write, w.done)).unzip();
        let outcomes = match self.write_posts(&writes).await {
            Ok(outcomes) => outcomes,
            Err(e) => {
                tracing::error!(error = ?e, writes = writes.len(), "could not commit a batch of posts");
                writes.iter().map(|_| Err(e.shared())).collect()
            }
        };
        for (done, outcome) in done.into_iter().zip(outcomes) {
            // A post whose caller went away is committed all the same.
            let _ = done.send(outcome);
        }
    }

    /// One transaction for `writes`; their events are logged in the order
    /// of `writes`. First all together; if a post fails, the transaction is
    /// rolled back and written again with each post in its own savepoint, so
    /// that only that one fails (the common case pays for no savepoints).
    async fn write_posts(&self, writes: &[Write]) -> Result<Vec<Result<bool>>> {
        let posts: Vec<&NewMessage> = writes.iter().filter_map(Write::post).collect();
        if writes.len() > 1 || posts.is_empty() {
            let mut tx = self.write_tx().await?;
            if let Ok(written) = self.write_messages(&mut tx, &posts).await {
                let mut stored = written.stored.into_iter();
                let outcomes: Vec<bool> =
                    writes.iter().map(|w| w.post().is_none() || stored.next() == Some(true)).collect();
                self.finish_posts(tx, writes, &outcomes, &written.words).await?;
                return Ok(outcomes.into_iter().map(Ok).collect());
            }
            tx.rollback().await?;
        }
        let mut tx = self.write_tx().await?;
        let mut outcomes = Vec::with_capacity(writes.len());
        let mut words = String::new();
        let alone = writes.len() == 1;
        for write in writes {
            let Write::Post(post) = write else {
                outcomes.push(Ok(true));
                continue;
            };
            let one = [&**post];
            let written = if alone {
                Ok(self.write_messages(&mut tx, &one).await?)
            } else {
                sqlx::query("SAVEPOINT post").execute(&mut *tx).await?;
                let written = self.write_messages(&mut tx, &one).await;
                if written.is_err() {
                    sqlx::query("ROLLBACK TO SAVEPOINT post").execute(&mut *tx).await?;
                }
                sqlx::query("RELEASE SAVEPOINT post").execute(&mut *tx).await?;
                written
            };
            outcomes.push(written.map(|w| {
                words.push_str(&w.words);
                w.stored[0]
            }));
        }
        let stored: Vec<bool> = outcomes.iter().map(|o| matches!(o, Ok(true))).collect();
        self.finish_posts(tx, writes, &stored, &words).await?;
        Ok(outcomes)
    }

    /// Adds what the `stored` writes share (their posts' `words` to the
    /// search vocabulary, their events to the log) and commits.
    async fn finish_posts(
        &self,
        mut tx: super::Tx,
        writes: &[Write],
        stored: &[bool],
        words: &str,
    ) -> Result<()> {
        let kept = || writes.iter().zip(stored).filter(|(_, s)| **s).map(|(w, _)| w);
        self.learn_words(&mut tx, words).await?;
        let events: Vec<NewEvent> = kept().flat_map(|w| w.events().iter().cloned()).collect();
        self.commit(tx, &events).await
    }
}

impl Write {
    fn post(&self) -> Option<&NewMessage> {
        match self {
            Write::Post(p) => Some(p),
            Write::Announce(_) => None,
        }
    }

    fn events(&self) -> &[NewEvent] {
        match self {
            Write::Post(p) => &p.events,
            Write::Announce(events) => events,
        }
    }
}
