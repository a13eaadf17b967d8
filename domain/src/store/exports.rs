//! Compliance exports: the export jobs with their checkpoints, and what an
//! export reads (channels, messages with their kept versions and
//! attachments, their authors).

use super::{Store, Tx};
use crate::crypto::{KeyId, Purpose};
use crate::error::Result;
use crate::export::zip::Checkpoint;
use crate::export::{ExportChannel, ExportMessage, KeptVersion};
use crate::id::Id;
use crate::model::{Attachment, ScanStatus, UserSummary};
use sqlx::FromRow;
use std::collections::HashMap;

/// A compliance export as stored.
#[derive(Debug, Clone, FromRow)]
pub struct ExportRow {
    pub id: i64,
    pub requested_by: i64,
    pub format: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub workspace_ids: String,
    pub channel_ids: String,
    pub user_ids: String,
    pub scheduled_day: Option<i64>,
    pub state: String,
    pub error: String,
    pub file_name: String,
    pub next_channel: i64,
    pub next_at: i64,
    pub archive_len: i64,
    pub directory_len: i64,
    pub entries: i64,
    pub messages: i64,
    pub files: i64,
    pub claimed_by: i64,
    pub claimed_until: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// How far an export has got: where to go on from, the archive's
/// checkpoint there, and what it holds so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportProgress {
    pub next_channel: Id,
    pub next_at: i64,
    pub checkpoint: Checkpoint,
    pub messages: i64,
    pub files: i64,
}

impl ExportRow {
    pub fn progress(&self) -> ExportProgress {
        ExportProgress {
            next_channel: Id(self.next_channel),
            next_at: self.next_at,
            checkpoint: Checkpoint {
                archive_len: self.archive_len as u64,
                directory_len: self.directory_len as u64,
                entries: self.entries as u64,
            },
            messages: self.messages,
            files: self.files,
        }
    }
}

const EXPORT_COLUMNS: &str = "id, requested_by, format, starts_at, ends_at, workspace_ids, channel_ids, \
     user_ids, scheduled_day, state, error, file_name, next_channel, next_at, archive_len, directory_len, \
     entries, messages, files, claimed_by, claimed_until, created_at, finished_at";

/// `$from, $from+1, ...`: `n` placeholders numbered from `from`.
fn numbered(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Messages of channel `$1` posted from `$3` (`$2` the first id made then)
/// to before `$4`, by the authors listed from `$6` if any (`$5` is the
/// caller's: messages after an id).
fn in_range(authors: &[i64]) -> String {
    let mut sql =
        String::from("m.channel_id = $1 AND m.id >= $2 AND m.created_at >= $3 AND m.created_at < $4");
    if !authors.is_empty() {
        sql.push_str(&format!(" AND m.author_id IN ({})", numbered(6, authors.len())));
    }
    sql
}

/// A one-column query of messages [`in_range`] (its `$5` a message id
/// they come after: here any), with its parameters bound.
fn in_range_scalar<'q, T>(
    sql: &'q str,
    channel: Id,
    from: i64,
    to: i64,
    authors: &[i64],
) -> sqlx::query::QueryScalar<'q, sqlx::Any, T, sqlx::any::AnyArguments<'q>>
where
    (T,): for<'r> FromRow<'r, sqlx::any::AnyRow>,
{
    let q = sqlx::query_scalar(sql).bind(channel.0).bind(Id::first_at(from).0).bind(from).bind(to).bind(0i64);
    authors.iter().fold(q, |q, a| q.bind(*a))
}

impl Store {
    /// Records a new export, with its entry in the deployment's audit log
    /// when someone asked for it; a daily export's day is noted as the last
    /// one exported. `false`: a daily export of that day exists already.
    pub async fn insert_export(&self, row: &ExportRow, audit: Option<&str>) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "INSERT INTO compliance_exports (id, requested_by, format, starts_at, ends_at, workspace_ids, \
               channel_ids, user_ids, scheduled_day, state, file_name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11) \
             ON CONFLICT (scheduled_day) DO NOTHING",
        )
        .bind(row.id)
        .bind(row.requested_by)
        .bind(&row.format)
        .bind(row.starts_at)
        .bind(row.ends_at)
        .bind(&row.workspace_ids)
        .bind(&row.channel_ids)
        .bind(&row.user_ids)
        .bind(row.scheduled_day)
        .bind(&row.file_name)
        .bind(row.created_at)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(day) = row.scheduled_day {
            sqlx::query(
                "INSERT INTO deployment_settings (name, value) VALUES ('daily_export_day', $1) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .bind(day.to_string())
            .execute(&mut *tx)
            .await?;
        }
        if let Some(summary) = audit {
            Self::deployment_audit_in(
                &mut tx,
                Id(row.requested_by),
                "export.create",
                Some(Id(row.id)),
                summary,
            )
            .await?;
        }
        self.commit(tx, &[]).await?;
        Ok(true)
    }

    /// Exports, newest first.
    pub async fn exports(&self, limit: i64) -> Result<Vec<ExportRow>> {
        let sql = format!("SELECT {EXPORT_COLUMNS} FROM compliance_exports ORDER BY id DESC LIMIT $1");
        Ok(sqlx::query_as(&sql).bind(limit).fetch_all(&self.pool).await?)
    }

    pub async fn export(&self, id: Id) -> Result<Option<ExportRow>> {
        let sql = format!("SELECT {EXPORT_COLUMNS} FROM compliance_exports WHERE id = $1");
        Ok(sqlx::query_as(&sql).bind(id.0).fetch_optional(&self.pool).await?)
    }

    /// Claims the oldest unfinished export for `node` until `until`: one
    /// waiting, this node's own, or one whose node stopped (its claim lapsed).
    pub async fn claim_export(&self, node: Id, now: i64, until: i64) -> Result<Option<ExportRow>> {
        let mut tx = self.write_tx().await?;
        let free = "state IN ('pending', 'running') AND (claimed_until < $3 OR claimed_by = $1)";
        let sql = format!(
            "UPDATE compliance_exports SET state = 'running', claimed_by = $1, claimed_until = $2 \
             WHERE {free} AND id = (SELECT id FROM compliance_exports WHERE {free} ORDER BY id LIMIT 1) \
             RETURNING {EXPORT_COLUMNS}"
        );
        let row: Option<ExportRow> =
            sqlx::query_as(&sql).bind(node.0).bind(until).bind(now).fetch_optional(&mut *tx).await?;
        self.commit(tx, &[]).await?;
        Ok(row)
    }

    /// Records how far `node`'s export has got and renews its claim:
    /// `false` if it is no longer that node's (taken over, or removed).
    pub async fn save_export_progress(
        &self,
        id: Id,
        node: Id,
        until: i64,
        p: &ExportProgress,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let ours = Self::progress_in(&mut tx, id, node, p, "running", "").await?;
        sqlx::query("UPDATE compliance_exports SET claimed_until = $1 WHERE id = $2 AND claimed_by = $3")
            .bind(until)
            .bind(id.0)
            .bind(node.0)
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await?;
        Ok(ours)
    }

    async fn progress_in(
        tx: &mut Tx,
        id: Id,
        node: Id,
        p: &ExportProgress,
        state: &str,
        error: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE compliance_exports SET next_channel = $1, next_at = $2, archive_len = $3, \
               directory_len = $4, entries = $5, messages = $6, files = $7, state = $8, error = $9 \
             WHERE id = $10 AND claimed_by = $11 AND state = 'running'",
        )
        .bind(p.next_channel.0)
        .bind(p.next_at)
        .bind(p.checkpoint.archive_len as i64)
        .bind(p.checkpoint.directory_len as i64)
        .bind(p.checkpoint.entries as i64)
        .bind(p.messages)
        .bind(p.files)
        .bind(state)
        .bind(error)
        .bind(id.0)
        .bind(node.0)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Closes `node`'s export as `done` or `failed` (with `error`), with
    /// its entry in the deployment's audit log. `false` if it was not that
    /// node's to close.
    pub async fn finish_export(
        &self,
        id: Id,
        node: Id,
        p: &ExportProgress,
        failed: Option<&str>,
        at: i64,
        summary: &str,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let state = if failed.is_some() { "failed" } else { "done" };
        if !Self::progress_in(&mut tx, id, node, p, state, failed.unwrap_or("")).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("UPDATE compliance_exports SET finished_at = $1, claimed_until = 0 WHERE id = $2")
            .bind(at)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        let action = if failed.is_some() { "export.fail" } else { "export.finish" };
        Self::deployment_audit_in(&mut tx, crate::model::SYSTEM_USER, action, Some(id), summary).await?;
        self.commit(tx, &[]).await?;
        Ok(true)
    }

    /// Removes export `id`, audited; returns its file's name (the caller
    /// deletes the file), or `None` if there is none.
    pub async fn remove_export(&self, id: Id, actor: Id, summary: &str) -> Result<Option<String>> {
        let mut tx = self.write_tx().await?;
        let file: Option<String> =
            sqlx::query_scalar("DELETE FROM compliance_exports WHERE id = $1 RETURNING file_name")
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
        if file.is_none() {
            tx.rollback().await?;
            return Ok(None);
        }
        Self::deployment_audit_in(&mut tx, actor, "export.delete", Some(id), summary).await?;
        self.commit(tx, &[]).await?;
        Ok(file)
    }

    /// Notes in the deployment's audit log that `actor` downloaded export `id`.
    pub async fn audit_export_download(&self, id: Id, actor: Id, summary: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        Self::deployment_audit_in(&mut tx, actor, "export.download", Some(id), summary).await?;
        self.commit(tx, &[]).await
    }

    /// The channels an export covers, in id order: those of `workspaces`
    /// (all if empty), only `channels` if any are named. Direct
    /// conversations come with their people.
    pub async fn export_channels(&self, workspaces: &[Id], channels: &[Id]) -> Result<Vec<ExportChannel>> {
        #[derive(FromRow)]
        struct Row {
            id: i64,
            workspace_id: i64,
            workspace_name: String,
            name: String,
            kind: String,
            is_private: i64,
            topic: String,
            created_at: i64,
            end_to_end: i64,
        }
        let mut sql = String::from(
            "SELECT c.id, c.workspace_id, w.name AS workspace_name, c.name, c.kind, c.is_private, c.topic, \
                    c.created_at, c.end_to_end \
             FROM channels c JOIN workspaces w ON w.id = c.workspace_id WHERE 1 = 1",
        );
        if !workspaces.is_empty() {
            sql.push_str(&format!(" AND c.workspace_id IN ({})", numbered(1, workspaces.len())));
        }
        if !channels.is_empty() {
            sql.push_str(&format!(" AND c.id IN ({})", numbered(workspaces.len() + 1, channels.len())));
        }
        sql.push_str(" ORDER BY c.id");
        let q = workspaces.iter().chain(channels).fold(sqlx::query_as::<_, Row>(&sql), |q, id| q.bind(id.0));
        let rows = q.fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let kind = match (r.kind.as_str(), r.is_private) {
                ("direct", _) => "direct",
                (_, 1) => "private",
                _ => "public",
            };
            let members = match kind {
                "direct" => self.export_members(Id(r.id)).await?,
                _ => Vec::new(),
            };
            out.push(ExportChannel {
                id: Id(r.id),
                workspace_id: Id(r.workspace_id),
                workspace_name: r.workspace_name,
                name: r.name,
                kind: kind.to_string(),
                topic: r.topic,
                created_at: r.created_at,
                members,
                end_to_end: r.end_to_end != 0,
            });
        }
        Ok(out)
    }

    async fn export_members(&self, channel: Id) -> Result<Vec<UserSummary>> {
        let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT u.id, u.username, u.display_name, u.is_bot FROM channel_members cm \
             JOIN users u ON u.id = cm.user_id WHERE cm.channel_id = $1 ORDER BY u.id",
        )
        .bind(channel.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, username, display_name, is_bot)| UserSummary {
                id: Id(id),
                username,
                display_name,
                is_bot: is_bot != 0,
            })
            .collect())
    }

    /// When the first message of `channel` from `from` to before `to` (by
    /// `authors` if any) was posted: the next day an export has to write.
    /// The first by id is the first posted (a message's time is its id's),
    /// so the channel's id index finds it without reading the rest.
    pub async fn next_export_message(
        &self,
        channel: Id,
        from: i64,
        to: i64,
        authors: &[i64],
    ) -> Result<Option<i64>> {
        let sql = format!(
            "SELECT m.created_at FROM messages m WHERE {} AND m.id > $5 ORDER BY m.id LIMIT 1",
            in_range(authors)
        );
        Ok(in_range_scalar(&sql, channel, from, to, authors).fetch_optional(&self.pool).await?)
    }

    /// Up to `limit` messages of `channel` posted from `from` to before
    /// `to`, after message `after`, in id order, by `authors` if any;
    /// deleted ones too, each with its attachments and kept versions.
    pub async fn export_messages(
        &self,
        channel: Id,
        from: i64,
        to: i64,
        after: Id,
        authors: &[i64],
        limit: i64,
    ) -> Result<Vec<ExportMessage>> {
        #[derive(FromRow)]
        struct Row {
            id: i64,
            author_id: i64,
            username: String,
            display_name: String,
            is_bot: i64,
            email: String,
            body: String,
            sealed_with: i64,
            created_at: i64,
            edited_at: Option<i64>,
            deleted_at: Option<i64>,
            thread_id: Option<i64>,
            shown_name: String,
            sent_from: Option<i64>,
        }
        let sql = format!(
            "SELECT m.id, m.author_id, u.username, u.display_name, u.is_bot, u.email, m.body, m.sealed_with, m.created_at, \
                    m.edited_at, m.deleted_at, m.thread_id, m.shown_name, m.sent_from \
             FROM messages m JOIN users u ON u.id = m.author_id \
             WHERE {} AND m.id > $5 ORDER BY m.id LIMIT {limit}",
            in_range(authors)
        );
        let q = sqlx::query_as::<_, Row>(&sql)
            .bind(channel.0)
            .bind(Id::first_at(from).0)
            .bind(from)
            .bind(to)
            .bind(after.0);
        let rows = authors.iter().fold(q, |q, a| q.bind(*a)).fetch_all(&self.pool).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let list = numbered(1, ids.len());
        let sql = format!(
            "SELECT id, message_id, file_name, content_type, size, created_at FROM attachments \
             WHERE message_id IN ({list}) ORDER BY id"
        );
        let files: Vec<(i64, i64, String, String, i64, i64)> =
            ids.iter().fold(sqlx::query_as(&sql), |q, id| q.bind(*id)).fetch_all(&self.pool).await?;
        let mut attachments: HashMap<i64, Vec<Attachment>> = HashMap::new();
        for (id, message_id, file_name, content_type, size, created_at) in files {
            attachments.entry(message_id).or_default().push(Attachment {
                id: Id(id),
                message_id: Id(message_id),
                file_name,
                content_type,
                size,
                created_at,
                scan: ScanStatus::default(),
            });
        }
        // An end-to-end encrypted message's text is ciphertext the server
        // cannot read: it is exported as such, never as its bytes.
        let encrypted: std::collections::HashSet<i64> =
            rows.iter().filter(|r| r.sent_from.is_some()).map(|r| r.id).collect();
        let sql = format!(
            "SELECT message_id, body, sealed_with, change, changed_by, changed_at FROM message_versions \
             WHERE message_id IN ({list}) ORDER BY id"
        );
        let kept: Vec<(i64, String, i64, String, i64, i64)> =
            ids.iter().fold(sqlx::query_as(&sql), |q, id| q.bind(*id)).fetch_all(&self.pool).await?;
        let keys = self.keys();
        let open = |id: i64, body: String, with: i64| {
            keys.open(Purpose::Text, &super::sealing::body_place(id), KeyId(with), body)
        };
        let mut versions: HashMap<i64, Vec<KeptVersion>> = HashMap::new();
        for (message_id, body, with, change, changed_by, changed_at) in kept {
            let body = match encrypted.contains(&message_id) {
                true => crate::export::ENCRYPTED_TEXT.to_string(),
                false => open(message_id, body, with)?,
            };
            versions.entry(message_id).or_default().push(KeptVersion {
                body,
                change,
                changed_by: Id(changed_by),
                changed_at,
            });
        }
        rows.into_iter()
            .map(|r| {
                Ok(ExportMessage {
                    id: Id(r.id),
                    channel_id: channel,
                    author: UserSummary {
                        id: Id(r.author_id),
                        username: r.username,
                        display_name: r.display_name,
                        is_bot: r.is_bot != 0,
                    },
                    author_email: r.email,
                    body: match r.sent_from {
                        Some(_) if r.deleted_at.is_none() => crate::export::ENCRYPTED_TEXT.to_string(),
                        Some(_) => String::new(),
                        None => open(r.id, r.body, r.sealed_with)?,
                    },
                    created_at: r.created_at,
                    edited_at: r.edited_at,
                    deleted_at: r.deleted_at,
                    thread_id: r.thread_id.map(Id),
                    shown_name: r.shown_name,
                    attachments: attachments.remove(&r.id).unwrap_or_default(),
                    versions: versions.remove(&r.id).unwrap_or_default(),
                    encrypted: r.sent_from.is_some(),
                })
            })
            .collect()
    }

    /// Who wrote messages in `channel` from `from` to before `to` (by
    /// `authors` if any): ids, for an export's `users.json`.
    pub async fn export_authors(&self, channel: Id, from: i64, to: i64, authors: &[i64]) -> Result<Vec<i64>> {
        let sql =
            format!("SELECT DISTINCT m.author_id FROM messages m WHERE {} AND m.id > $5", in_range(authors));
        Ok(in_range_scalar(&sql, channel, from, to, authors).fetch_all(&self.pool).await?)
    }

    /// People by id, with their email addresses, for an export's `users.json`.
    pub async fn export_people(&self, ids: &[i64]) -> Result<Vec<(UserSummary, String)>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, username, display_name, is_bot, email FROM users WHERE id IN ({}) ORDER BY id",
                numbered(1, chunk.len())
            );
            let rows: Vec<(i64, String, String, i64, String)> =
                chunk.iter().fold(sqlx::query_as(&sql), |q, id| q.bind(*id)).fetch_all(&self.pool).await?;
            out.extend(rows.into_iter().map(|(id, username, display_name, is_bot, email)| {
                (UserSummary { id: Id(id), username, display_name, is_bot: is_bot != 0 }, email)
            }));
        }
        Ok(out)
    }
}
