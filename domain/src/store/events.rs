//! The event log (`events`, numbered by `event_position`): see
//! [`crate::events`] for what it is for.
//!
//! A write that announces something logs its events in its own transaction
//! through [`Store::commit`], as its last statement: taking the next numbers
//! locks `event_position`'s one row until the commit, so on both backends
//! events are numbered in commit order, without gaps (a rolled-back
//! transaction gives its numbers back). A reader that sees event `n`
//! therefore also sees every event before it.

use super::sealing::event_place;
use super::{Store, Tx};
use crate::crypto::{KeyId, Purpose};
use crate::error::Result;
use crate::events::{Audience, Event, EventKind, NewEvent};
use sqlx::Row;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How long the bus waits for a writer to hand over an event that a later
/// one overtook, before reading it back from the log.
const GAP_GRACE: Duration = Duration::from_millis(20);

/// Events read from the log at a time.
pub const LOG_PAGE: i64 = 500;

impl Store {
    /// Logs `events` in `tx`, commits, then hands the events to this
    /// process's bus. Every announced change ends with this.
    pub(super) async fn commit(&self, mut tx: Tx, events: &[NewEvent]) -> Result<()> {
        let logged = self.log(&mut tx, events).await?;
        tx.commit().await?;
        if let Some(last) = logged.last() {
            self.bus.committed_here(last.seq);
        }
        self.release(logged);
        Ok(())
    }

    /// Commits `tx` with `events` when it `changed` something; otherwise
    /// rolls it back (nothing to keep, nothing to announce): ended, not
    /// dropped, so that the next writer finds SQLite's lock free. Returns
    /// `changed`.
    pub(super) async fn commit_if(&self, tx: Tx, changed: bool, events: &[NewEvent]) -> Result<bool> {
        if changed {
            self.commit(tx, events).await?;
        } else {
            tx.rollback().await?;
        }
        Ok(changed)
    }

    /// Logs and announces events that change nothing stored (typing,
    /// presence, who is in a call, a ringing call), in the same transaction
    /// as whatever is being posted at the time (see [`super::group_commit`]).
    pub async fn announce(&self, events: &[NewEvent]) -> Result<()> {
        self.write_grouped(super::group_commit::Write::Announce(events.to_vec())).await.map(|_| ())
    }

    async fn log(&self, tx: &mut Tx, events: &[NewEvent]) -> Result<Vec<Event>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let n = events.len() as i64;
        let last: i64 =
            sqlx::query_scalar("UPDATE event_position SET seq = seq + $1 WHERE id = 1 RETURNING seq")
                .bind(n)
                .fetch_one(&mut **tx)
                .await?;
        let at = crate::now_ms();
        let mut logged = Vec::with_capacity(events.len());
        let mut bodies = Vec::with_capacity(events.len());
        let keys = self.keys();
        for (seq, e) in (last - n + 1..).zip(events) {
            let body =
                serde_json::to_string(&e.kind).map_err(|e| crate::error::Error::Internal(Box::new(e)))?;
            bodies.push(keys.seal(Purpose::Events, &event_place(seq), &body));
            logged.push(Event::new(seq, at, e.audience, e.kind.clone()));
        }
        // One statement for each hundred events.
        for (chunk, texts) in logged.chunks(100).zip(bodies.chunks(100)) {
            let sql = format!(
                "INSERT INTO events (seq, audience, body, sealed_with, created_at) VALUES {}",
                super::value_rows(chunk.len(), 5)
            );
            let mut q = sqlx::query(&sql);
            for (e, (body, with)) in chunk.iter().zip(texts) {
                q = q.bind(e.seq).bind(e.audience.to_key()).bind(body.as_str()).bind(with.0).bind(at);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(logged)
    }

    /// Hands logged events to the bus; when one before them has not arrived
    /// yet, it is read back from the log shortly.
    fn release(&self, logged: Vec<Event>) {
        if !logged.is_empty() && self.bus.release(logged).is_some() {
            self.fill_gaps();
        }
    }

    fn fill_gaps(&self) {
        if self.filling.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(GAP_GRACE).await;
                if !store.bus.has_gap() {
                    break;
                }
                if let Err(e) = store.catch_up().await {
                    tracing::warn!(error = ?e, "could not read the event log; trying again");
                }
            }
            store.filling.store(false, Ordering::Release);
            // A gap that opened between the last look and now.
            if store.bus.has_gap() {
                store.fill_gaps();
            }
        });
    }

    /// Hands the bus every logged event it has not had (those committed by
    /// another node, or by a writer that never handed them over). Returns how
    /// many were read.
    pub async fn catch_up(&self) -> Result<usize> {
        let mut read = 0;
        loop {
            let from = self.bus.released();
            let page = self.logged_after(from, LOG_PAGE).await?;
            if page.is_empty() {
                return Ok(read);
            }
            read += page.len();
            for (seq, event) in page {
                match event {
                    Some(e) => self.bus.release([e]),
                    None => self.bus.pass_over(seq),
                };
            }
        }
    }

    /// Logged events after `seq`, oldest first, at most `limit`; an entry
    /// this version cannot read is `None` (it is skipped, with an error logged).
    pub(crate) async fn logged_after(&self, seq: i64, limit: i64) -> Result<Vec<(i64, Option<Event>)>> {
        let rows = sqlx::query(
            "SELECT seq, audience, body, sealed_with, created_at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        let keys = self.keys();
        for row in rows {
            let seq: i64 = row.try_get("seq")?;
            let audience: String = row.try_get("audience")?;
            let body: String = row.try_get("body")?;
            let with = KeyId(row.try_get("sealed_with")?);
            let body = match keys.open(Purpose::Events, &event_place(seq), with, body) {
                Ok(body) => body,
                Err(error) => {
                    tracing::error!(seq, ?error, "an event in the log cannot be opened; skipped");
                    out.push((seq, None));
                    continue;
                }
            };
            let kind = serde_json::from_str::<EventKind>(&body);
            match (Audience::from_key(&audience), kind) {
                (Some(audience), Ok(kind)) => {
                    out.push((seq, Some(Event::new(seq, row.try_get("created_at")?, audience, kind))))
                }
                (_, kind) => {
                    tracing::error!(seq, audience, error = ?kind.err(), "an event in the log cannot be read; skipped");
                    out.push((seq, None));
                }
            }
        }
        Ok(out)
    }

    /// Logged events after `seq`, oldest first, at most `limit` (a resuming
    /// client's replay). Entries this version cannot read are left out.
    pub async fn events_after(&self, seq: i64, limit: i64) -> Result<Vec<Event>> {
        Ok(self.logged_after(seq, limit).await?.into_iter().filter_map(|(_, e)| e).collect())
    }

    /// The oldest event still in the log, if any: a client that saw less
    /// than the one before it missed events that are gone.
    pub async fn oldest_event(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT MIN(seq) FROM events").fetch_one(&self.pool).await?)
    }

    /// The number of the last event logged (0 before the first).
    pub async fn event_position(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT seq FROM event_position WHERE id = 1").fetch_one(&self.pool).await?)
    }

    /// Removes events logged before `before` (Unix ms); returns how many.
    pub async fn prune_events(&self, before: i64) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM events WHERE created_at < $1").bind(before).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}
