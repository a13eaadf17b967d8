//! Analytics: the roll-up of messages into daily counts (by channel, and
//! the people who posted), and the figures read from it.

use super::Store;
use crate::error::Result;
use crate::id::Id;
use sqlx::FromRow;

/// A day's first millisecond, from a message's `created_at` (UTC days).
/// (Sums are cast back to BIGINT: PostgreSQL sums BIGINTs as NUMERIC.)
const DAY_OF: &str = "(m.created_at / 86400000) * 86400000";

/// A channel's messages over a period, for a ranking.
#[derive(Debug, Clone, FromRow)]
pub struct ChannelCount {
    pub channel_id: i64,
    pub name: String,
    pub workspace_name: String,
    pub messages: i64,
}

impl Store {
    /// Adds up to `limit` messages written after the last roll-up and
    /// before `before` to the daily counts, and moves the roll-up's mark
    /// past them, in one transaction: two nodes rolling up at once cannot
    /// count a message twice (the second finds the mark moved and undoes
    /// its work). Returns how many messages it added.
    pub async fn roll_up_activity(&self, before: Id, limit: i64) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        let mark: Option<String> =
            sqlx::query_scalar("SELECT value FROM deployment_settings WHERE name = 'analytics_rolled_to'")
                .fetch_optional(&mut *tx)
                .await?;
        let after = mark.as_deref().and_then(|m| m.parse::<i64>().ok()).unwrap_or(0);
        let (upto, count): (Option<i64>, i64) = sqlx::query_as(
            "SELECT MAX(id), COUNT(*) FROM \
               (SELECT id FROM messages WHERE id > $1 AND id < $2 ORDER BY id LIMIT $3) batch",
        )
        .bind(after)
        .bind(before.0)
        .bind(limit)
        .fetch_one(&mut *tx)
        .await?;
        let Some(upto) = upto else {
            tx.rollback().await?;
            return Ok(0);
        };
        sqlx::query(&format!(
            "INSERT INTO activity_daily (channel_id, day, workspace_id, messages, replies) \
             SELECT m.channel_id, {DAY_OF}, c.workspace_id, COUNT(*), \
                    SUM(CASE WHEN m.thread_id IS NULL THEN 0 ELSE 1 END) \
             FROM messages m JOIN channels c ON c.id = m.channel_id \
             WHERE m.id > $1 AND m.id <= $2 \
             GROUP BY m.channel_id, {DAY_OF}, c.workspace_id \
             ON CONFLICT (channel_id, day) DO UPDATE \
             SET messages = activity_daily.messages + excluded.messages, \
                 replies = activity_daily.replies + excluded.replies"
        ))
        .bind(after)
        .bind(upto)
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "INSERT INTO activity_people (workspace_id, day, user_id) \
             SELECT DISTINCT c.workspace_id, {DAY_OF}, m.author_id \
             FROM messages m JOIN channels c ON c.id = m.channel_id JOIN users u ON u.id = m.author_id \
             WHERE m.id > $1 AND m.id <= $2 AND u.is_bot = 0 AND u.id <> $3 \
             ON CONFLICT DO NOTHING"
        ))
        .bind(after)
        .bind(upto)
        .bind(crate::model::SYSTEM_USER.0)
        .execute(&mut *tx)
        .await?;
        let moved = match mark {
            None => sqlx::query(
                "INSERT INTO deployment_settings (name, value) VALUES ('analytics_rolled_to', $1) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(upto.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Some(mark) => sqlx::query(
                "UPDATE deployment_settings SET value = $1 WHERE name = 'analytics_rolled_to' AND value = $2",
            )
            .bind(upto.to_string())
            .bind(mark)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if moved != 1 {
            // Another node rolled these up meanwhile.
            tx.rollback().await?;
            return Ok(0);
        }
        self.commit(tx, &[]).await?;
        Ok(count)
    }

    /// Messages and thread replies per day from `from` to `to` (first
    /// milliseconds of days, both included), in `ws` or everywhere; days
    /// without any are left out.
    pub async fn daily_messages(&self, ws: Option<Id>, from: i64, to: i64) -> Result<Vec<(i64, i64, i64)>> {
        let (filter, id) = scope(ws);
        let sql = format!(
            "SELECT day, CAST(SUM(messages) AS BIGINT), CAST(SUM(replies) AS BIGINT) FROM activity_daily \
             WHERE day >= $1 AND day <= $2 {filter} GROUP BY day ORDER BY day"
        );
        let rows: Vec<(i64, i64, i64)> =
            sqlx::query_as(&sql).bind(from).bind(to).bind(id).fetch_all(&self.pool).await?;
        Ok(rows)
    }

    /// How many people posted on each day from `from` to `to`, in `ws` or
    /// anywhere (each person once a day).
    pub async fn daily_active_people(&self, ws: Option<Id>, from: i64, to: i64) -> Result<Vec<(i64, i64)>> {
        let (filter, id) = scope(ws);
        let sql = format!(
            "SELECT day, COUNT(DISTINCT user_id) FROM activity_people \
             WHERE day >= $1 AND day <= $2 {filter} GROUP BY day ORDER BY day"
        );
        Ok(sqlx::query_as(&sql).bind(from).bind(to).bind(id).fetch_all(&self.pool).await?)
    }

    /// The channels (not direct conversations) with the most messages from
    /// `from` to `to`, in `ws` or everywhere, most first: up to `limit`.
    pub async fn busiest_channels(
        &self,
        ws: Option<Id>,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<ChannelCount>> {
        let filter = match ws {
            Some(_) => "AND a.workspace_id = $3",
            None => "AND $3 = $3",
        };
        let sql = format!(
            "SELECT a.channel_id, c.name, w.name AS workspace_name, CAST(SUM(a.messages) AS BIGINT) AS messages \
             FROM activity_daily a JOIN channels c ON c.id = a.channel_id \
             JOIN workspaces w ON w.id = a.workspace_id \
             WHERE a.day >= $1 AND a.day <= $2 {filter} AND c.kind <> 'direct' \
             GROUP BY a.channel_id, c.name, w.name ORDER BY messages DESC, a.channel_id LIMIT $4"
        );
        Ok(sqlx::query_as(&sql)
            .bind(from)
            .bind(to)
            .bind(ws.map_or(0, |w| w.0))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }
}

/// The condition limiting a figure to a workspace (`$3`), or none (`$3`
/// then bound and unused in a condition that always holds).
fn scope(ws: Option<Id>) -> (&'static str, i64) {
    match ws {
        Some(ws) => ("AND workspace_id = $3", ws.0),
        None => ("AND $3 = $3", 0),
    }
}
