//! How people want to hear of things: delivery settings (quiet hours,
//! phone), type × channel switches, per chat channel levels, and web push
//! subscriptions.

use super::Store;
use crate::error::Result;
use crate::id::Id;
use crate::notify::routing::{Preferences, Settings};
use crate::notify::{DeliveryChannel, Level};
use std::collections::HashMap;

/// A stored push subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscriptionRow {
    pub id: Id,
    pub user_id: Id,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub user_agent: String,
    pub created_at: i64,
}

type SettingsRow = (String, i64, i64, i64, i64, i64, String, Option<i64>);
type SubRow = (i64, i64, String, String, String, String, i64);

fn sub(r: SubRow) -> PushSubscriptionRow {
    PushSubscriptionRow {
        id: Id(r.0),
        user_id: Id(r.1),
        endpoint: r.2,
        p256dh: r.3,
        auth: r.4,
        user_agent: r.5,
        created_at: r.6,
    }
}

const SUB_COLUMNS: &str = "id, user_id, endpoint, p256dh, auth, user_agent, created_at";

impl Store {
    /// `user`'s settings and switches (defaults where they said nothing).
    pub async fn preferences(&self, user: Id) -> Result<Preferences> {
        let row: Option<SettingsRow> = sqlx::query_as(
            "SELECT time_zone, quiet_enabled, quiet_start, quiet_end, quiet_days, urgent_breaks_through, phone, \
             dnd_until FROM notification_settings WHERE user_id = $1",
        )
        .bind(user.0)
        .fetch_optional(&self.pool)
        .await?;
        let settings = row
            .map(|r| Settings {
                time_zone: r.0,
                quiet_enabled: r.1 != 0,
                quiet_start: r.2 as u16,
                quiet_end: r.3 as u16,
                quiet_days: r.4 as u8,
                urgent_breaks_through: r.5 != 0,
                phone: r.6,
                dnd_until: r.7,
            })
            .unwrap_or_default();
        let switches: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT kind, channel, enabled FROM notification_switches WHERE user_id = $1")
                .bind(user.0)
                .fetch_all(&self.pool)
                .await?;
        let switches = switches
            .into_iter()
            .filter_map(|(k, c, on)| Some(((k, DeliveryChannel::parse(&c)?), on != 0)))
            .collect();
        Ok(Preferences { settings, switches })
    }

    /// Replaces `user`'s settings and switches (only those that differ from
    /// the defaults are kept).
    pub async fn save_preferences(&self, user: Id, p: &Preferences) -> Result<()> {
        let s = &p.settings;
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO notification_settings (user_id, time_zone, quiet_enabled, quiet_start, quiet_end, \
             quiet_days, urgent_breaks_through, phone, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (user_id) DO UPDATE SET time_zone = $2, quiet_enabled = $3, quiet_start = $4, \
             quiet_end = $5, quiet_days = $6, urgent_breaks_through = $7, phone = $8, updated_at = $9",
        )
        .bind(user.0)
        .bind(&s.time_zone)
        .bind(i64::from(s.quiet_enabled))
        .bind(i64::from(s.quiet_start))
        .bind(i64::from(s.quiet_end))
        .bind(i64::from(s.quiet_days))
        .bind(i64::from(s.urgent_breaks_through))
        .bind(&s.phone)
        .bind(crate::now_ms())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM notification_switches WHERE user_id = $1")
            .bind(user.0)
            .execute(&mut *tx)
            .await?;
        for ((kind, channel), on) in &p.switches {
            if *on == crate::notify::default_on(kind, *channel) {
                continue;
            }
            sqlx::query(
                "INSERT INTO notification_switches (user_id, kind, channel, enabled) VALUES ($1, $2, $3, $4)",
            )
            .bind(user.0)
            .bind(kind)
            .bind(channel.as_str())
            .bind(i64::from(*on))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// `user`'s levels for the channels they set one for.
    pub async fn channel_levels_of(&self, user: Id) -> Result<HashMap<Id, Level>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT channel_id, level FROM channel_notify_levels WHERE user_id = $1")
                .bind(user.0)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().filter_map(|(c, l)| Some((Id(c), Level::parse(&l)?))).collect())
    }

    /// `user`'s level for `channel`, if they set one.
    pub async fn channel_level(&self, user: Id, channel: Id) -> Result<Option<Level>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT level FROM channel_notify_levels WHERE user_id = $1 AND channel_id = $2")
                .bind(user.0)
                .bind(channel.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(l,)| Level::parse(&l)))
    }

    /// The levels set for `channel`, by person.
    pub async fn channel_levels(&self, channel: Id) -> Result<HashMap<Id, Level>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT user_id, level FROM channel_notify_levels WHERE channel_id = $1")
                .bind(channel.0)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().filter_map(|(u, l)| Some((Id(u), Level::parse(&l)?))).collect())
    }

    /// Sets `user`'s level for `channel`; `None` returns to the default.
    pub async fn set_channel_level(
        &self,
        user: Id,
        channel: Id,
        level: Option<Level>,
        events: &[crate::events::NewEvent],
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        match level {
            Some(level) => {
                sqlx::query(
                    "INSERT INTO channel_notify_levels (user_id, channel_id, level) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id, channel_id) DO UPDATE SET level = $3",
                )
                .bind(user.0)
                .bind(channel.0)
                .bind(level.as_str())
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM channel_notify_levels WHERE user_id = $1 AND channel_id = $2")
                    .bind(user.0)
                    .bind(channel.0)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        self.commit(tx, events).await
    }

    /// Adds a push subscription, or gives an endpoint already known to
    /// `user` its new keys; an endpoint moves to whoever subscribes with it
    /// last (a browser signed in as someone else).
    pub async fn save_push_subscription(&self, s: &PushSubscriptionRow) -> Result<PushSubscriptionRow> {
        sqlx::query(&format!(
            "INSERT INTO push_subscriptions ({SUB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (endpoint) DO UPDATE SET user_id = $2, p256dh = $4, auth = $5, user_agent = $6"
        ))
        .bind(s.id.0)
        .bind(s.user_id.0)
        .bind(&s.endpoint)
        .bind(&s.p256dh)
        .bind(&s.auth)
        .bind(&s.user_agent)
        .bind(s.created_at)
        .execute(&self.pool)
        .await?;
        let row: SubRow =
            sqlx::query_as(&format!("SELECT {SUB_COLUMNS} FROM push_subscriptions WHERE endpoint = $1"))
                .bind(&s.endpoint)
                .fetch_one(&self.pool)
                .await?;
        Ok(sub(row))
    }

    pub async fn push_subscriptions_of(&self, user: Id) -> Result<Vec<PushSubscriptionRow>> {
        let rows: Vec<SubRow> = sqlx::query_as(&format!(
            "SELECT {SUB_COLUMNS} FROM push_subscriptions WHERE user_id = $1 ORDER BY id"
        ))
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(sub).collect())
    }

    pub async fn push_subscription(&self, id: Id) -> Result<Option<PushSubscriptionRow>> {
        let row: Option<SubRow> =
            sqlx::query_as(&format!("SELECT {SUB_COLUMNS} FROM push_subscriptions WHERE id = $1"))
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(sub))
    }

    /// Records the browser session a subscription was made in: it ends with
    /// that session's sign-out.
    pub async fn tie_push_subscription(&self, endpoint: &str, session: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE push_subscriptions SET session_id = $2 WHERE endpoint = $1")
            .bind(endpoint)
            .bind(session)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes the subscriptions made in a session; returns how many.
    pub async fn delete_push_subscriptions_of_session(&self, session: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM push_subscriptions WHERE session_id = $1")
            .bind(session)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Removes every subscription of `user` but those made in the session
    /// `keep`; returns how many.
    pub async fn delete_push_subscriptions_of(&self, user: Id, keep: Option<&str>) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM push_subscriptions WHERE user_id = $1 \
             AND ($2 IS NULL OR session_id IS NULL OR session_id <> $2)",
        )
        .bind(user.0)
        .bind(keep)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Removes a subscription: `user`'s own (`Some`), or any (the push
    /// service said it is gone). Whether there was one.
    pub async fn delete_push_subscription(&self, endpoint: &str, user: Option<Id>) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1 AND ($2 = 0 OR user_id = $2)")
                .bind(endpoint)
                .bind(user.map_or(0, |u| u.0))
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }
}
