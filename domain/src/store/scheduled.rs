//! Notifications to make later (a custom one with `send_at`, a meeting
//! reminder), durable across restarts. A worker claims due ones with a
//! lease; firing marks one done in the same transaction that stores what it
//! makes ([`Store::insert_notifications`]), so each fires once.

use super::Store;
use crate::error::Result;
use crate::id::Id;

/// A scheduled notification: what to make, as JSON (see `hub::notifications`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    pub id: Id,
    pub due_at: i64,
    pub payload: String,
    pub meeting_id: Option<Id>,
}

impl Store {
    pub async fn schedule_notification(&self, s: &Scheduled) -> Result<()> {
        Self::insert_schedule(&self.pool, s).await
    }

    /// Inserts a schedule on `on` (the pool, or a transaction it belongs to).
    pub(super) async fn insert_schedule<'e, E>(on: E, s: &Scheduled) -> Result<()>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        sqlx::query(
            "INSERT INTO scheduled_notifications (id, due_at, payload, meeting_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(s.id.0)
        .bind(s.due_at)
        .bind(&s.payload)
        .bind(s.meeting_id.map(|m| m.0))
        .bind(crate::now_ms())
        .execute(on)
        .await?;
        Ok(())
    }

    /// Claims up to `limit` due schedules for `lease_ms`.
    pub async fn claim_due_schedules(&self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<Scheduled>> {
        let due: Vec<(i64, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, due_at, payload, meeting_id FROM scheduled_notifications WHERE done_at IS NULL \
             AND due_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY due_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::with_capacity(due.len());
        for (id, due_at, payload, meeting_id) in due {
            let took = sqlx::query(
                "UPDATE scheduled_notifications SET claimed_until = $1 WHERE id = $2 AND done_at IS NULL \
                 AND (claimed_until IS NULL OR claimed_until < $3)",
            )
            .bind(now + lease_ms)
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
            if took.rows_affected() == 1 {
                claimed.push(Scheduled { id: Id(id), due_at, payload, meeting_id: meeting_id.map(Id) });
            }
        }
        Ok(claimed)
    }

    /// When the next schedule is due, if any.
    pub async fn next_schedule_due(&self) -> Result<Option<i64>> {
        let (due,): (Option<i64>,) = sqlx::query_as(
            "SELECT MIN(CASE WHEN claimed_until IS NOT NULL AND claimed_until > due_at \
             THEN claimed_until ELSE due_at END) FROM scheduled_notifications WHERE done_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(due)
    }

    /// Marks a schedule done without making anything (its meeting ended).
    pub async fn drop_schedule(&self, id: Id) -> Result<()> {
        sqlx::query("UPDATE scheduled_notifications SET done_at = $2, claimed_until = NULL WHERE id = $1")
            .bind(id.0)
            .bind(crate::now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Pending schedules, soonest first (for tests and the admin's view).
    pub async fn pending_schedules(&self) -> Result<Vec<Scheduled>> {
        let rows: Vec<(i64, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT id, due_at, payload, meeting_id FROM scheduled_notifications WHERE done_at IS NULL \
             ORDER BY due_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, due_at, payload, m)| Scheduled { id: Id(id), due_at, payload, meeting_id: m.map(Id) })
            .collect())
    }
}
