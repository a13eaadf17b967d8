//! Compliance: deployment settings and administrators, the deployment's
//! audit log, retention policies and the purges that apply them, legal
//! holds, and the earlier versions of messages kept for them.

use super::messages::bind_ids;
use super::{NewAudit, Store, Tx, placeholders};
use crate::error::Result;
use crate::events::{Audience, EventKind, NewEvent};
use crate::id::Id;
use crate::model::{DeploymentAuditEntry, LegalHold, RetentionPolicy, UserSummary};
use sqlx::FromRow;

/// Whether a message `m` is under a legal hold that is not released: one
/// naming its author or its channel, begun before it was posted.
const HELD: &str = "EXISTS (SELECT 1 FROM legal_hold_targets t JOIN legal_holds h ON h.id = t.hold_id \
     WHERE h.released_at IS NULL AND {m}.created_at >= h.starts_at \
       AND ((t.kind = 'user' AND t.target_id = {m}.author_id) \
         OR (t.kind = 'channel' AND t.target_id = {m}.channel_id)))";

/// [`HELD`] for the message table alias `m`.
fn held(m: &str) -> String {
    HELD.replace("{m}", m)
}

/// A channel whose messages or files some policy limits (the policy of the
/// channel, else of its workspace; `None`: the deployment's).
#[derive(Debug, Clone)]
pub struct ChannelRetention {
    pub channel_id: Id,
    pub workspace_id: Id,
    pub channel_name: String,
    pub policy: RetentionPolicy,
}

/// What one purge batch removed.
#[derive(Debug, Default)]
pub struct Purged {
    pub messages: Vec<Id>,
    /// Attachments removed (their files are to be deleted from disk).
    pub attachments: Vec<Id>,
}

/// A finished run's counts in one channel.
#[derive(Debug, Clone, FromRow)]
pub struct RetentionCount {
    pub workspace_id: i64,
    pub channel_id: i64,
    pub channel_name: String,
    pub messages: i64,
    pub files: i64,
}

impl Store {
    /// Whether `user` was made a deployment administrator (the first account).
    pub async fn is_deployment_admin(&self, user: Id) -> Result<bool> {
        let flag: Option<i64> = sqlx::query_scalar("SELECT deployment_admin FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(flag == Some(1))
    }

    /// A deployment setting, if set.
    pub async fn deployment_setting(&self, name: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM deployment_settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Sets (or with `None` clears) deployment settings, with an entry in the
    /// deployment's audit log, at once.
    pub async fn set_deployment_settings(
        &self,
        settings: &[(&str, Option<String>)],
        actor: Id,
        action: &str,
        summary: &str,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for (name, value) in settings {
            match value {
                Some(value) => {
                    sqlx::query(
                        "INSERT INTO deployment_settings (name, value) VALUES ($1, $2) \
                         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    )
                    .bind(*name)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM deployment_settings WHERE name = $1")
                        .bind(*name)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        Self::deployment_audit_in(&mut tx, actor, action, None, summary).await?;
        self.commit(tx, &[]).await
    }

    pub(super) async fn deployment_audit_in(
        tx: &mut Tx,
        actor: Id,
        action: &str,
        target: Option<Id>,
        summary: &str,
    ) -> Result<()> {
        let id = Id::new();
        sqlx::query(
            "INSERT INTO deployment_audit (id, actor_id, action, target_id, summary, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.0)
        .bind(actor.0)
        .bind(action)
        .bind(target.map(|t| t.0))
        .bind(summary)
        .bind(id.timestamp_ms())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The deployment's audit log, newest first.
    pub async fn deployment_audit(&self, limit: i64) -> Result<Vec<DeploymentAuditEntry>> {
        #[derive(FromRow)]
        struct Row {
            id: i64,
            actor_id: i64,
            username: String,
            display_name: String,
            is_bot: i64,
            action: String,
            target_id: Option<i64>,
            summary: String,
            created_at: i64,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT a.id, a.actor_id, u.username, u.display_name, u.is_bot, a.action, a.target_id, \
                    a.summary, a.created_at \
             FROM deployment_audit a JOIN users u ON u.id = a.actor_id ORDER BY a.id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DeploymentAuditEntry {
                id: Id(r.id),
                actor: UserSummary {
                    id: Id(r.actor_id),
                    username: r.username,
                    display_name: r.display_name,
                    is_bot: r.is_bot == 1,
                },
                action: r.action,
                target_id: r.target_id.map(Id),
                summary: r.summary,
                created_at: r.created_at,
            })
            .collect())
    }

    /// A workspace's own retention policy.
    pub async fn workspace_retention(&self, ws: Id) -> Result<Option<RetentionPolicy>> {
        let row: Option<(Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT retention_days, file_retention_days FROM workspaces WHERE id = $1")
                .bind(ws.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(messages_days, files_days)| RetentionPolicy { messages_days, files_days }))
    }

    /// A channel's own retention policy.
    pub async fn channel_retention(&self, channel: Id) -> Result<Option<RetentionPolicy>> {
        let row: Option<(Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT retention_days, file_retention_days FROM channels WHERE id = $1")
                .bind(channel.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(messages_days, files_days)| RetentionPolicy { messages_days, files_days }))
    }

    /// The channels of `ws` that set their own retention, by id: their policy.
    pub async fn channel_policies(&self, ws: Id) -> Result<Vec<(Id, RetentionPolicy)>> {
        let rows: Vec<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT id, retention_days, file_retention_days FROM channels WHERE workspace_id = $1 \
               AND (retention_days IS NOT NULL OR file_retention_days IS NOT NULL) ORDER BY id",
        )
        .bind(ws.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, messages_days, files_days)| (Id(id), RetentionPolicy { messages_days, files_days }))
            .collect())
    }

    /// Sets the retention policy of a workspace (`channel` `None`) or of one
    /// of its channels, with its audit entry.
    pub async fn set_retention(
        &self,
        channel: Option<Id>,
        policy: RetentionPolicy,
        audit: NewAudit<'_>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let (table, id) = match channel {
            Some(c) => ("channels", c),
            None => ("workspaces", audit.ws),
        };
        sqlx::query(&format!(
            "UPDATE {table} SET retention_days = $1, file_retention_days = $2 WHERE id = $3"
        ))
        .bind(policy.messages_days)
        .bind(policy.files_days)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        Self::add_audit_in(&mut tx, audit).await?;
        self.commit(tx, &[]).await
    }

    /// Every channel with its policy (the channel's own, or else its
    /// workspace's), in id order: the retention worker's round.
    pub async fn channel_retentions(&self) -> Result<Vec<ChannelRetention>> {
        #[derive(FromRow)]
        struct Row {
            id: i64,
            workspace_id: i64,
            name: String,
            messages_days: Option<i64>,
            files_days: Option<i64>,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT c.id, c.workspace_id, c.name, \
                    COALESCE(c.retention_days, w.retention_days) AS messages_days, \
                    COALESCE(c.file_retention_days, w.file_retention_days) AS files_days \
             FROM channels c JOIN workspaces w ON w.id = c.workspace_id ORDER BY c.id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ChannelRetention {
                channel_id: Id(r.id),
                workspace_id: Id(r.workspace_id),
                channel_name: r.name,
                policy: RetentionPolicy { messages_days: r.messages_days, files_days: r.files_days },
            })
            .collect())
    }

    /// Claims the open retention run for `node` until `until` (a run stopped
    /// on another node is taken over once its claim lapses), opening one if
    /// none is open and `open` allows. `None`: another node holds it, or
    /// there is none to run.
    pub async fn claim_retention_run(
        &self,
        node: Id,
        now: i64,
        until: i64,
        open: bool,
    ) -> Result<Option<Id>> {
        let mut tx = self.write_tx().await?;
        if open {
            // `one_open` is unique: only one run is open at a time, whichever node opens it.
            sqlx::query(
                "INSERT INTO retention_runs (id, started_at, one_open, claimed_by, claimed_until) \
                 VALUES ($1, $2, 1, $3, 0) ON CONFLICT (one_open) DO NOTHING",
            )
            .bind(Id::new().0)
            .bind(now)
            .bind(node.0)
            .execute(&mut *tx)
            .await?;
        }
        let claimed: Option<i64> = sqlx::query_scalar(
            "UPDATE retention_runs SET claimed_by = $1, claimed_until = $2 \
             WHERE one_open = 1 AND (claimed_until < $3 OR claimed_by = $1) RETURNING id",
        )
        .bind(node.0)
        .bind(until)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        self.commit(tx, &[]).await?;
        Ok(claimed.map(Id))
    }

    /// When the last retention run started, finished or not.
    pub async fn last_retention_start(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MAX(started_at) FROM retention_runs").fetch_one(&self.pool).await?)
    }

    /// Removes up to `limit` messages of `ch` posted before `cutoff` (not
    /// held, nor the first message of a thread with a held reply), with
    /// their thread replies (but held ones) and what points at them:
    /// reactions, pins, mentions, attachments, link previews, versions (by
    /// the database's cascades) and notifications. Counted in `run`; open
    /// clients are told. The attachments' files are the caller's to delete.
    pub async fn purge_messages(
        &self,
        run: Id,
        ch: &ChannelRetention,
        cutoff: i64,
        limit: i64,
    ) -> Result<Purged> {
        let mut tx = self.write_tx().await?;
        let sql = format!(
            "SELECT m.id FROM messages m WHERE {OLD} AND NOT {} \
               AND NOT EXISTS (SELECT 1 FROM messages r WHERE r.thread_id = m.id AND {}) \
             ORDER BY m.id LIMIT $4",
            held("m"),
            held("r")
        );
        let mut ids = old_ids(&mut tx, &sql, ch, cutoff, limit).await?;
        if ids.is_empty() {
            tx.rollback().await?;
            return Ok(Purged::default());
        }
        let sql = format!(
            "SELECT r.id FROM messages r WHERE r.thread_id IN ({}) AND NOT {}",
            placeholders(ids.len()),
            held("r")
        );
        let replies: Vec<i64> =
            ids.iter().fold(sqlx::query_scalar(&sql), |q, id| q.bind(*id)).fetch_all(&mut *tx).await?;
        ids.extend(replies);
        ids.sort_unstable();
        ids.dedup();
        let mut attachments = Vec::new();
        for chunk in ids.chunks(500) {
            let list = placeholders(chunk.len());
            let sql = format!("SELECT id FROM attachments WHERE message_id IN ({list})");
            let found: Vec<i64> =
                chunk.iter().fold(sqlx::query_scalar(&sql), |q, id| q.bind(*id)).fetch_all(&mut *tx).await?;
            attachments.extend(found);
            for sql in [
                format!("DELETE FROM notifications WHERE message_id IN ({list})"),
                format!("DELETE FROM messages WHERE id IN ({list})"),
            ] {
                bind_ids(&sql, chunk).execute(&mut *tx).await?;
            }
        }
        Self::count_purge(&mut tx, run, ch, ids.len() as i64, 0).await?;
        let purged = Purged {
            messages: ids.into_iter().map(Id).collect(),
            attachments: attachments.into_iter().map(Id).collect(),
        };
        let event = purged_event(ch.channel_id, &purged);
        self.commit(tx, &[event]).await?;
        Ok(purged)
    }

    /// Removes up to `limit` attachments of messages of `ch` posted before
    /// `cutoff` (not held); the messages stay. Counted in `run`; open
    /// clients are told. The files are the caller's to delete.
    pub async fn purge_files(
        &self,
        run: Id,
        ch: &ChannelRetention,
        cutoff: i64,
        limit: i64,
    ) -> Result<Purged> {
        let mut tx = self.write_tx().await?;
        let sql = format!(
            "SELECT a.id FROM attachments a JOIN messages m ON m.id = a.message_id \
             WHERE {OLD} AND NOT {} \
             ORDER BY a.id LIMIT $4",
            held("m")
        );
        let ids = old_ids(&mut tx, &sql, ch, cutoff, limit).await?;
        if ids.is_empty() {
            tx.rollback().await?;
            return Ok(Purged::default());
        }
        let sql = format!("DELETE FROM attachments WHERE id IN ({})", placeholders(ids.len()));
        bind_ids(&sql, &ids).execute(&mut *tx).await?;
        Self::count_purge(&mut tx, run, ch, 0, ids.len() as i64).await?;
        let purged = Purged { messages: Vec::new(), attachments: ids.into_iter().map(Id).collect() };
        let event = purged_event(ch.channel_id, &purged);
        self.commit(tx, &[event]).await?;
        Ok(purged)
    }

    async fn count_purge(
        tx: &mut Tx,
        run: Id,
        ch: &ChannelRetention,
        messages: i64,
        files: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO retention_counts (run_id, workspace_id, channel_id, channel_name, messages, files) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id, channel_id) DO UPDATE \
             SET messages = retention_counts.messages + excluded.messages, \
                 files = retention_counts.files + excluded.files",
        )
        .bind(run.0)
        .bind(ch.workspace_id.0)
        .bind(ch.channel_id.0)
        .bind(&ch.channel_name)
        .bind(messages)
        .bind(files)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// What `run` removed so far, by channel.
    pub async fn retention_counts(&self, run: Id) -> Result<Vec<RetentionCount>> {
        Ok(sqlx::query_as(
            "SELECT workspace_id, channel_id, channel_name, messages, files FROM retention_counts \
             WHERE run_id = $1 ORDER BY workspace_id, channel_id",
        )
        .bind(run.0)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Closes `run` with its audit entries (`workspaces`' own, and the
    /// deployment's `summary` if any), once: `false` if it was closed already.
    pub async fn finish_retention_run(
        &self,
        run: Id,
        now: i64,
        workspaces: Vec<NewAudit<'_>>,
        summary: Option<&str>,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE retention_runs SET finished_at = $1, one_open = NULL WHERE id = $2 AND finished_at IS NULL",
        )
        .bind(now)
        .bind(run.0)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        for entry in workspaces {
            Self::add_audit_in(&mut tx, entry).await?;
        }
        if let Some(summary) = summary {
            Self::deployment_audit_in(
                &mut tx,
                crate::model::SYSTEM_USER,
                "retention.run",
                Some(run),
                summary,
            )
            .await?;
        }
        self.commit(tx, &[]).await?;
        Ok(true)
    }

    /// Puts `targets` (people and channels) on a new legal hold.
    pub async fn create_hold(&self, hold: &LegalHold) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO legal_holds (id, name, reason, starts_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(hold.id.0)
        .bind(&hold.name)
        .bind(&hold.reason)
        .bind(hold.starts_at)
        .bind(hold.created_by.id.0)
        .bind(hold.created_at)
        .execute(&mut *tx)
        .await?;
        let targets =
            hold.users.iter().map(|u| ("user", u.id)).chain(hold.channels.iter().map(|c| ("channel", c.id)));
        for (kind, id) in targets {
            sqlx::query(
                "INSERT INTO legal_hold_targets (hold_id, kind, target_id) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(hold.id.0)
            .bind(kind)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        }
        let summary = format!("Put “{}” on legal hold: {}", hold.name, hold.reason);
        Self::deployment_audit_in(&mut tx, hold.created_by.id, "hold.create", Some(hold.id), &summary)
            .await?;
        self.commit(tx, &[]).await
    }

    /// Legal holds, newest first, released ones included; their targets by id
    /// (the caller names them).
    pub async fn holds(&self) -> Result<Vec<(HoldRow, Vec<(String, i64)>)>> {
        let rows: Vec<HoldRow> = sqlx::query_as(
            "SELECT id, name, reason, starts_at, created_by, created_at, released_at, released_by \
             FROM legal_holds ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        let targets: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT hold_id, kind, target_id FROM legal_hold_targets ORDER BY hold_id, kind, target_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|h| {
                let of: Vec<(String, i64)> =
                    targets.iter().filter(|t| t.0 == h.id).map(|(_, k, t)| (k.clone(), *t)).collect();
                (h, of)
            })
            .collect())
    }

    /// Releases hold `id`: `false` if there is none, or it was released already.
    pub async fn release_hold(&self, id: Id, by: Id, at: i64, name: &str) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE legal_holds SET released_at = $1, released_by = $2 WHERE id = $3 AND released_at IS NULL",
        )
        .bind(at)
        .bind(by.0)
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let summary = format!("Released the legal hold “{name}”");
        Self::deployment_audit_in(&mut tx, by, "hold.release", Some(id), &summary).await?;
        self.commit(tx, &[]).await?;
        Ok(true)
    }

    /// Whether message `id` is under a legal hold now.
    pub async fn message_held(&self, id: Id) -> Result<bool> {
        let sql = format!("SELECT COUNT(*) FROM messages m WHERE m.id = $1 AND {}", held("m"));
        let n: i64 = sqlx::query_scalar(&sql).bind(id.0).fetch_one(&self.pool).await?;
        Ok(n > 0)
    }

    /// Whether `channel` holds messages under a legal hold: one naming the
    /// channel, or one naming a person who posted in it since it began.
    pub async fn channel_held(&self, channel: Id) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM legal_hold_targets t JOIN legal_holds h ON h.id = t.hold_id \
             WHERE h.released_at IS NULL AND ((t.kind = 'channel' AND t.target_id = $1) \
               OR (t.kind = 'user' AND EXISTS (SELECT 1 FROM messages m WHERE m.channel_id = $1 \
                     AND m.author_id = t.target_id AND m.created_at >= h.starts_at)))",
        )
        .bind(channel.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Keeps `message`'s body as it is now as an earlier version, in `tx`
    /// (before it is edited or deleted).
    pub(super) async fn keep_version(tx: &mut Tx, message: Id, change: &str, by: Id, at: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO message_versions (id, message_id, body, sealed_with, change, changed_by, changed_at) \
             SELECT $1, id, body, sealed_with, $2, $3, $4 FROM messages WHERE id = $5 AND deleted_at IS NULL",
        )
        .bind(Id::new().0)
        .bind(change)
        .bind(by.0)
        .bind(at)
        .bind(message.0)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The kept versions of `message`, oldest first: (body, change, when).
    pub async fn message_versions(&self, message: Id) -> Result<Vec<(String, String, i64)>> {
        let rows: Vec<(String, i64, String, i64)> = sqlx::query_as(
            "SELECT body, sealed_with, change, changed_at FROM message_versions WHERE message_id = $1 ORDER BY id",
        )
        .bind(message.0)
        .fetch_all(&self.pool)
        .await?;
        let keys = self.keys();
        let place = super::sealing::body_place(message.0);
        rows.into_iter()
            .map(|(body, with, change, at)| {
                Ok((
                    keys.open(crate::crypto::Purpose::Text, &place, crate::crypto::KeyId(with), body)?,
                    change,
                    at,
                ))
            })
            .collect()
    }
}

/// A legal hold as stored.
#[derive(Debug, Clone, FromRow)]
pub struct HoldRow {
    pub id: i64,
    pub name: String,
    pub reason: String,
    pub starts_at: i64,
    pub created_by: i64,
    pub created_at: i64,
    pub released_at: Option<i64>,
    pub released_by: Option<i64>,
}

/// Messages `m` of a channel (`$1`) posted before a time (`$3`; `$2` the
/// first id made then, so the channel's id index finds them), as
/// [`old_ids`] binds them.
const OLD: &str = "m.channel_id = $1 AND m.id < $2 AND m.created_at < $3";

/// The ids `sql` (a query with [`OLD`] and `LIMIT $4`) finds in `ch` before `cutoff`.
async fn old_ids(tx: &mut Tx, sql: &str, ch: &ChannelRetention, cutoff: i64, limit: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(sql)
        .bind(ch.channel_id.0)
        .bind(Id::first_at(cutoff).0)
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&mut **tx)
        .await?)
}

/// What tells open clients of a purge in `channel`.
fn purged_event(channel: Id, purged: &Purged) -> NewEvent {
    let kind = EventKind::MessagesPurged {
        channel_id: channel,
        message_ids: purged.messages.clone(),
        attachment_ids: purged.attachments.clone(),
    };
    NewEvent::new(Audience::Channel(channel), kind)
}
