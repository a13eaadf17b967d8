//! Meetings, their participants, and the private calendar feeds.

use super::{Store, placeholders};
use crate::error::Result;
use crate::id::Id;
use crate::model::{Meeting, UserSummary};
use std::collections::HashMap;

type MeetingRow = (i64, i64, i64, i64, String, String, String, String, i64, i64, i64, i64, Option<i64>, i64);

/// Meetings with their organizer, for a `WHERE` on `m` to follow.
const SELECT: &str = "SELECT m.id, m.workspace_id, m.channel_id, o.id, o.username, o.display_name, m.title, \
     m.description, m.starts_at, m.ends_at, m.enable_recording, m.instant, m.ended_at, m.created_at \
     FROM meetings m JOIN users o ON o.id = m.organizer_id";

impl Store {
    /// Stores a meeting with its participants.
    pub async fn insert_meeting(&self, m: &Meeting) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO meetings (id, workspace_id, channel_id, organizer_id, title, description, starts_at, \
             ends_at, enable_recording, instant, ended_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(m.id.0)
        .bind(m.workspace_id.0)
        .bind(m.channel_id.0)
        .bind(m.organizer.id.0)
        .bind(&m.title)
        .bind(&m.description)
        .bind(m.starts_at)
        .bind(m.ends_at)
        .bind(i64::from(m.enable_recording))
        .bind(i64::from(m.instant))
        .bind(m.ended_at)
        .bind(m.created_at)
        .execute(&mut *tx)
        .await?;
        for p in &m.participants {
            sqlx::query("INSERT INTO meeting_participants (meeting_id, user_id) VALUES ($1, $2)")
                .bind(m.id.0)
                .bind(p.id.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn meeting(&self, id: Id) -> Result<Option<Meeting>> {
        let sql = format!("{SELECT} WHERE m.id = $1");
        let rows = sqlx::query_as::<_, MeetingRow>(&sql).bind(id.0).fetch_all(&self.pool).await?;
        Ok(self.complete(rows).await?.pop())
    }

    /// The meeting whose call happens in `channel`.
    pub async fn meeting_of_channel(&self, channel: Id) -> Result<Option<Meeting>> {
        let sql = format!("{SELECT} WHERE m.channel_id = $1");
        let rows = sqlx::query_as::<_, MeetingRow>(&sql).bind(channel.0).fetch_all(&self.pool).await?;
        Ok(self.complete(rows).await?.pop())
    }

    /// Meetings `user` organises or is invited to, in `ws` (or everywhere),
    /// ending after `since`, earliest first.
    pub async fn meetings_of(&self, user: Id, ws: Option<Id>, since: i64) -> Result<Vec<Meeting>> {
        let sql = format!(
            "{SELECT} WHERE m.ends_at >= $2 AND ($3 = 0 OR m.workspace_id = $3) \
             AND (m.organizer_id = $1 OR EXISTS (SELECT 1 FROM meeting_participants p \
             WHERE p.meeting_id = m.id AND p.user_id = $1)) ORDER BY m.starts_at, m.id LIMIT 500"
        );
        let rows = sqlx::query_as::<_, MeetingRow>(&sql)
            .bind(user.0)
            .bind(since)
            .bind(ws.map_or(0, |w| w.0))
            .fetch_all(&self.pool)
            .await?;
        self.complete(rows).await
    }

    /// Marks a meeting ended (once).
    pub async fn end_meeting(&self, id: Id, at: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE meetings SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL")
            .bind(id.0)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Sets `user`'s calendar feed secret (its digest), replacing the old one.
    pub async fn set_calendar_feed(&self, user: Id, digest: &str, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO calendar_feeds (user_id, token_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
        )
        .bind(user.0)
        .bind(digest)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whose calendar feed has this secret digest.
    pub async fn calendar_feed_user(&self, digest: &str) -> Result<Option<Id>> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT user_id FROM calendar_feeds WHERE token_hash = $1")
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(id,)| Id(id)))
    }

    /// Rows made into meetings: participants filled in.
    async fn complete(&self, rows: Vec<MeetingRow>) -> Result<Vec<Meeting>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let sql = format!(
            "SELECT p.meeting_id, u.id, u.username, u.display_name FROM meeting_participants p \
             JOIN users u ON u.id = p.user_id WHERE p.meeting_id IN ({}) ORDER BY u.display_name, u.id",
            placeholders(ids.len())
        );
        let mut q = sqlx::query_as::<_, (i64, i64, String, String)>(&sql);
        for id in &ids {
            q = q.bind(id);
        }
        let mut people: HashMap<i64, Vec<UserSummary>> = HashMap::new();
        for (m, id, username, display_name) in q.fetch_all(&self.pool).await? {
            people.entry(m).or_default().push(UserSummary::person(Id(id), username, display_name));
        }
        Ok(rows
            .into_iter()
            .map(|r| Meeting {
                id: Id(r.0),
                workspace_id: Id(r.1),
                channel_id: Id(r.2),
                organizer: UserSummary::person(Id(r.3), r.4, r.5),
                title: r.6,
                description: r.7,
                starts_at: r.8,
                ends_at: r.9,
                enable_recording: r.10 != 0,
                instant: r.11 != 0,
                ended_at: r.12,
                created_at: r.13,
                participants: people.remove(&r.0).unwrap_or_default(),
            })
            .collect())
    }
}
