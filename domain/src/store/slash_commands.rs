//! A workspace's own slash commands, each use of one, and the manual
//! statuses that built-in commands set (`/away`, `/dnd`).

use super::Store;
use crate::error::Result;
use crate::id::Id;
use crate::model::{SlashCommand, User, UserSummary};
use sqlx::FromRow;

/// What calling a command needs beyond what its managers see.
#[derive(Debug, Clone)]
pub struct CommandKey {
    pub command: SlashCommand,
    pub token: String,
    pub signing_secret: String,
}

/// One use of a command, as its `response_url` finds it.
#[derive(Debug, Clone)]
pub struct CommandUse {
    pub id: Id,
    pub command_id: Id,
    pub user_id: Id,
    pub channel_id: Id,
    pub thread_id: Option<Id>,
    pub expires_at: i64,
    /// Delayed answers taken so far.
    pub answers: i64,
}

/// A use being recorded (before its call is made): who typed the command
/// where, and its response URL.
#[derive(Debug, Clone)]
pub struct NewCommandUse {
    pub id: Id,
    pub command_id: Id,
    pub user_id: Id,
    pub channel_id: Id,
    pub thread_id: Option<Id>,
    pub response_digest: String,
    /// What followed the command's name.
    pub text: String,
    pub at: i64,
    pub expires_at: i64,
}

/// A use as [`Store::command_uses`] reads it.
#[derive(FromRow)]
struct UseRecordRow {
    at: i64,
    text: String,
    status_code: Option<i64>,
    latency_ms: i64,
    excerpt: String,
    answers: i64,
    user_id: i64,
    username: String,
    display_name: String,
    is_bot: i64,
}

#[derive(FromRow)]
struct Row {
    id: i64,
    workspace_id: i64,
    name: String,
    url: String,
    description: String,
    usage_hint: String,
    token: String,
    signing_secret: String,
    bot_id: i64,
    bot_username: String,
    bot_name: String,
    creator_id: i64,
    creator_username: String,
    creator_name: String,
    created_at: i64,
}

impl Row {
    fn key(self) -> CommandKey {
        CommandKey {
            command: SlashCommand {
                id: Id(self.id),
                workspace_id: Id(self.workspace_id),
                name: self.name,
                url: self.url,
                description: self.description,
                usage_hint: self.usage_hint,
                bot: UserSummary::bot(Id(self.bot_id), self.bot_username, self.bot_name),
                created_by: UserSummary::person(
                    Id(self.creator_id),
                    self.creator_username,
                    self.creator_name,
                ),
                created_at: self.created_at,
            },
            token: self.token,
            signing_secret: self.signing_secret,
        }
    }
}

/// A use as `take_command_answer` reads it back: id, command, person,
/// channel, thread, expiry, answers taken.
type UseRow = (i64, i64, i64, i64, Option<i64>, i64, i64);

const SELECT: &str = "SELECT s.id, s.workspace_id, s.name, s.url, s.description, s.usage_hint, s.token, \
     s.signing_secret, b.id AS bot_id, b.username AS bot_username, b.display_name AS bot_name, \
     p.id AS creator_id, p.username AS creator_username, p.display_name AS creator_name, s.created_at \
     FROM slash_commands s JOIN users b ON b.id = s.bot_id JOIN users p ON p.id = s.created_by";

impl Store {
    /// Stores a new command and the bot account it answers as, in one
    /// transaction. `false` when the workspace already has one of that name.
    pub async fn create_slash_command(
        &self,
        c: &SlashCommand,
        bot: &User,
        token: &str,
        signing_secret: &str,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM slash_commands WHERE workspace_id = $1 AND name = $2")
                .bind(c.workspace_id.0)
                .bind(&c.name)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Ok(false);
        }
        Self::insert_bot_account(&mut tx, bot).await?;
        sqlx::query(
            "INSERT INTO slash_commands (id, workspace_id, bot_id, name, url, description, usage_hint, \
             token, signing_secret, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(c.id.0)
        .bind(c.workspace_id.0)
        .bind(bot.id.0)
        .bind(&c.name)
        .bind(&c.url)
        .bind(&c.description)
        .bind(&c.usage_hint)
        .bind(token)
        .bind(signing_secret)
        .bind(c.created_by.id.0)
        .bind(c.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The commands of workspace `ws`, by name.
    pub async fn slash_commands_in(&self, ws: Id) -> Result<Vec<SlashCommand>> {
        let sql = format!("{SELECT} WHERE s.workspace_id = $1 ORDER BY s.name");
        let rows = sqlx::query_as::<_, Row>(&sql).bind(ws.0).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|r| r.key().command).collect())
    }

    /// Command `name` of workspace `ws`, with what calling it needs.
    pub async fn slash_command_named(&self, ws: Id, name: &str) -> Result<Option<CommandKey>> {
        let sql = format!("{SELECT} WHERE s.workspace_id = $1 AND s.name = $2");
        let row = sqlx::query_as::<_, Row>(&sql).bind(ws.0).bind(name).fetch_optional(&self.pool).await?;
        Ok(row.map(Row::key))
    }

    pub async fn slash_command(&self, id: Id) -> Result<Option<CommandKey>> {
        let sql = format!("{SELECT} WHERE s.id = $1");
        let row = sqlx::query_as::<_, Row>(&sql).bind(id.0).fetch_optional(&self.pool).await?;
        Ok(row.map(Row::key))
    }

    /// Deletes a command and its uses (their response URLs stop working).
    /// Its bot account stays, as the author of what it posted.
    pub async fn delete_slash_command(&self, id: Id) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done =
            sqlx::query("DELETE FROM slash_commands WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn record_command_use(&self, u: &NewCommandUse) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO slash_command_uses (id, command_id, user_id, channel_id, thread_id, response_digest, \
             at, expires_at, latency_ms, excerpt, text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, '', $9)",
        )
        .bind(u.id.0)
        .bind(u.command_id.0)
        .bind(u.user_id.0)
        .bind(u.channel_id.0)
        .bind(u.thread_id.map(|t| t.0))
        .bind(&u.response_digest)
        .bind(u.at)
        .bind(u.expires_at)
        .bind(&u.text)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The latest `limit` uses of `command`, newest first, with who typed it.
    pub async fn command_uses(&self, command: Id, limit: i64) -> Result<Vec<crate::model::CommandUseRecord>> {
        let rows: Vec<UseRecordRow> = sqlx::query_as(
            "SELECT u.at, u.text, u.status_code, u.latency_ms, u.excerpt, u.answers, \
             p.id AS user_id, p.username, p.display_name, p.is_bot \
             FROM slash_command_uses u JOIN users p ON p.id = u.user_id \
             WHERE u.command_id = $1 ORDER BY u.at DESC, u.id DESC LIMIT $2",
        )
        .bind(command.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| crate::model::CommandUseRecord {
                at: r.at,
                user: crate::model::UserSummary {
                    id: Id(r.user_id),
                    username: r.username,
                    display_name: r.display_name,
                    is_bot: r.is_bot != 0,
                },
                text: r.text,
                status_code: r.status_code,
                latency_ms: r.latency_ms,
                excerpt: r.excerpt,
                answers: r.answers,
            })
            .collect())
    }

    /// What the call of use `id` came back with: its status (none without
    /// an answer), how long it took, the start of the answer or the error.
    pub async fn command_use_answered(
        &self,
        id: Id,
        status: Option<u16>,
        latency_ms: i64,
        excerpt: &str,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE slash_command_uses SET status_code = $2, latency_ms = $3, excerpt = $4 WHERE id = $1",
        )
        .bind(id.0)
        .bind(status.map(i64::from))
        .bind(latency_ms)
        .bind(excerpt)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes one delayed answer for the use whose response URL has `digest`:
    /// the use, when it has not expired at `now` and has taken fewer than
    /// `most` answers (counted in the same statement, so that answers sent
    /// at once cannot pass the limit together).
    pub async fn take_command_answer(&self, digest: &str, now: i64, most: i64) -> Result<Option<CommandUse>> {
        let mut tx = self.write_tx().await?;
        let row: Option<UseRow> = sqlx::query_as(
            "UPDATE slash_command_uses SET answers = answers + 1 \
             WHERE response_digest = $1 AND expires_at > $2 AND answers < $3 \
             RETURNING id, command_id, user_id, channel_id, thread_id, expires_at, answers",
        )
        .bind(digest)
        .bind(now)
        .bind(most)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.map(|r| CommandUse {
            id: Id(r.0),
            command_id: Id(r.1),
            user_id: Id(r.2),
            channel_id: Id(r.3),
            thread_id: r.4.map(Id),
            expires_at: r.5,
            answers: r.6,
        }))
    }

    /// Removes uses whose response URLs expired before `before`.
    pub async fn prune_command_uses(&self, before: i64) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM slash_command_uses WHERE expires_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// Shows `user` as away whatever their connections say, or not.
    pub async fn set_away(&self, user: Id, away: bool) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE users SET away = $2 WHERE id = $1")
            .bind(user.0)
            .bind(i64::from(away))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Which of `users` said they are away.
    pub async fn away_among(&self, users: &[Id]) -> Result<Vec<Id>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let sql =
            format!("SELECT id FROM users WHERE away = 1 AND id IN ({})", super::placeholders(users.len()));
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for u in users {
            q = q.bind(u.0);
        }
        Ok(q.fetch_all(&self.pool).await?.into_iter().map(Id).collect())
    }

    /// Pauses `user`'s notifications until `until` (ms), or resumes them.
    ///
    /// With `release` `(held_until, due)`, the person's deliveries waiting
    /// for the pause that ended at `held_until` are due at `due` instead.
    pub async fn set_dnd(&self, user: Id, until: Option<i64>, release: Option<(i64, i64)>) -> Result<()> {
        let d = crate::notify::routing::Settings::default();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO notification_settings (user_id, time_zone, quiet_enabled, quiet_start, quiet_end, \
             quiet_days, urgent_breaks_through, phone, updated_at, dnd_until) \
             VALUES ($1, $2, 0, $3, $4, $5, 1, '', $6, $7) \
             ON CONFLICT (user_id) DO UPDATE SET dnd_until = $7, updated_at = $6",
        )
        .bind(user.0)
        .bind(&d.time_zone)
        .bind(i64::from(d.quiet_start))
        .bind(i64::from(d.quiet_end))
        .bind(i64::from(d.quiet_days))
        .bind(crate::now_ms())
        .bind(until)
        .execute(&mut *tx)
        .await?;
        if let Some((held_until, due)) = release {
            sqlx::query(
                "UPDATE deliveries SET due_at = $1 WHERE user_id = $2 AND due_at = $3 \
                 AND sent_at IS NULL AND failed_at IS NULL",
            )
            .bind(due)
            .bind(user.0)
            .bind(held_until)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
