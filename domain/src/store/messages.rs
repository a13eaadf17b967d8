use super::{Backend, Store};
use crate::error::Result;
use crate::id::Id;
use crate::model::{Message, MessagePage, Reaction, UserSummary};
use crate::search::SearchQuery;
use sqlx::FromRow;
use std::collections::HashMap;

#[derive(FromRow)]
struct MessageRow {
    id: i64,
    channel_id: i64,
    author_id: i64,
    username: String,
    display_name: String,
    body: String,
    body_html: String,
    nonce: Option<String>,
    created_at: i64,
    edited_at: Option<i64>,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        Message {
            id: Id(r.id),
            channel_id: Id(r.channel_id),
            author: UserSummary { id: Id(r.author_id), username: r.username, display_name: r.display_name },
            html: if r.body_html.is_empty() { crate::markdown::render(&r.body) } else { r.body_html },
            body: r.body,
            nonce: r.nonce,
            created_at: r.created_at,
            edited_at: r.edited_at,
            reactions: Vec::new(),
        }
    }
}

/// Live (not deleted) messages with their authors.
const MSG_SELECT: &str = "SELECT m.id, m.channel_id, m.author_id, u.username, u.display_name, m.body, m.body_html, m.nonce, \
     m.created_at, m.edited_at FROM messages m JOIN users u ON u.id = m.author_id WHERE m.deleted_at IS NULL";

impl Store {
    /// Inserts a message. When the author already sent one with the same
    /// nonce, nothing is inserted and that first message is returned with
    /// `false`.
    pub async fn insert_message(&self, msg: &Message) -> Result<(Message, bool)> {
        let done = sqlx::query(
            "INSERT INTO messages (id, channel_id, author_id, body, body_html, nonce, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (author_id, nonce) DO NOTHING",
        )
        .bind(msg.id.0)
        .bind(msg.channel_id.0)
        .bind(msg.author.id.0)
        .bind(&msg.body)
        .bind(&msg.html)
        .bind(&msg.nonce)
        .bind(msg.created_at)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok((msg.clone(), true));
        }
        // The first message with this nonce (even if deleted since: a retry must not resurrect it).
        let sql = "SELECT m.id, m.channel_id, m.author_id, u.username, u.display_name, m.body, m.body_html, m.nonce, \
                   m.created_at, m.edited_at FROM messages m JOIN users u ON u.id = m.author_id \
                   WHERE m.author_id = $1 AND m.nonce = $2";
        let first = sqlx::query_as::<_, MessageRow>(sql)
            .bind(msg.author.id.0)
            .bind(&msg.nonce)
            .fetch_one(&self.pool)
            .await?;
        let mut found = self.with_reactions(vec![first]).await?;
        Ok((found.remove(0), false))
    }

    /// Inserts many messages in one transaction (imports, benchmarks).
    /// Nonces are not checked: these are not client posts.
    pub async fn import_messages(&self, messages: &[Message]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for chunk in messages.chunks(500) {
            let mut sql = String::from(
                "INSERT INTO messages (id, channel_id, author_id, body, body_html, nonce, created_at) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 6;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql += &format!(
                    "(${}, ${}, ${}, ${}, ${}, NULL, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6
                );
            }
            let mut q = sqlx::query(&sql);
            for m in chunk {
                q = q
                    .bind(m.id.0)
                    .bind(m.channel_id.0)
                    .bind(m.author.id.0)
                    .bind(&m.body)
                    .bind(&m.html)
                    .bind(m.created_at);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A message that has not been deleted.
    pub async fn message(&self, id: Id) -> Result<Option<Message>> {
        let sql = format!("{MSG_SELECT} AND m.id = $1");
        let row = sqlx::query_as::<_, MessageRow>(&sql).bind(id.0).fetch_optional(&self.pool).await?;
        Ok(match row {
            Some(r) => self.with_reactions(vec![r]).await?.pop(),
            None => None,
        })
    }

    /// Up to `limit` messages of a channel older than `before`, newest first.
    pub async fn messages(&self, channel: Id, before: Option<Id>, limit: i64) -> Result<MessagePage> {
        let sql = format!("{MSG_SELECT} AND m.channel_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3");
        let mut rows = sqlx::query_as::<_, MessageRow>(&sql)
            .bind(channel.0)
            .bind(before.map_or(i64::MAX, |b| b.0))
            .bind(limit + 1)
            .fetch_all(&self.pool)
            .await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let messages = self.with_reactions(rows).await?;
        let next_before = if more { messages.last().map(|m| m.id) } else { None };
        Ok(MessagePage { messages, next_before })
    }

    /// Replaces a live message's body; returns the message as it is now.
    pub async fn edit_message(&self, id: Id, body: &str, html: &str, now: i64) -> Result<Option<Message>> {
        sqlx::query(
            "UPDATE messages SET body = $1, body_html = $2, edited_at = $3 WHERE id = $4 AND deleted_at IS NULL",
        )
        .bind(body)
        .bind(html)
        .bind(now)
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        self.message(id).await
    }

    /// Deletes a message: its body is erased and it leaves every listing.
    /// Returns whether it was live.
    pub async fn delete_message(&self, id: Id, now: i64) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE messages SET body = '', body_html = '', deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL")
            .bind(now)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM reactions WHERE message_id = $1").bind(id.0).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Adds `user`'s reaction; returns whether it is new.
    pub async fn add_reaction(&self, message: Id, user: Id, emoji: &str, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (message_id, user_id, emoji) DO NOTHING",
        )
        .bind(message.0)
        .bind(user.0)
        .bind(emoji)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes `user`'s reaction; returns whether there was one.
    pub async fn remove_reaction(&self, message: Id, user: Id, emoji: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3")
            .bind(message.0)
            .bind(user.0)
            .bind(emoji)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Messages matching `q` that `user` may see: in their workspaces (or
    /// just `workspace`), in public channels or private ones they belong
    /// to; newest first, with the channel's name and workspace.
    pub async fn search_messages(
        &self,
        user: Id,
        workspace: Option<Id>,
        q: &SearchQuery,
        limit: i64,
    ) -> Result<Vec<(Message, String, Id)>> {
        enum P {
            I(i64),
            S(String),
        }
        let mut params: Vec<P> = Vec::new();
        let mut arg = |p: P| {
            params.push(p);
            format!("${}", params.len())
        };
        let mut sql = format!(
            "SELECT m.id, m.channel_id, m.author_id, u.username, u.display_name, m.body, m.body_html, m.nonce, \
             m.created_at, m.edited_at, c.name AS channel_name, c.workspace_id FROM messages m JOIN users u ON u.id = m.author_id \
             JOIN channels c ON c.id = m.channel_id WHERE m.deleted_at IS NULL \
             AND c.workspace_id IN (SELECT workspace_id FROM workspace_members WHERE user_id = {}) \
             AND (c.is_private = 0 OR EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = {}))",
            arg(P::I(user.0)),
            arg(P::I(user.0)),
        );
        if let Some(ws) = workspace {
            sql += &format!(" AND c.workspace_id = {}", arg(P::I(ws.0)));
        }
        if let Some(name) = &q.in_channel {
            sql += &format!(" AND c.name = {}", arg(P::S(name.clone())));
        }
        if let Some(name) = &q.from_user {
            sql += &format!(" AND u.username = {}", arg(P::S(name.clone())));
        }
        if let Some(t) = q.before {
            sql += &format!(" AND m.created_at < {}", arg(P::I(t)));
        }
        if let Some(t) = q.after {
            sql += &format!(" AND m.created_at >= {}", arg(P::I(t)));
        }
        for term in &q.terms {
            let pattern = format!("%{}%", term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            sql += &match self.backend {
                // The trigram index answers substrings of three characters or more.
                Backend::Sqlite if term.chars().count() >= 3 => format!(
                    " AND m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH {})",
                    arg(P::S(format!("\"{}\"", term.replace('"', "\"\""))))
                ),
                Backend::Sqlite => format!(" AND m.body LIKE {} ESCAPE '\\'", arg(P::S(pattern))),
                Backend::Postgres => format!(" AND m.body ILIKE {} ESCAPE '\\'", arg(P::S(pattern))),
            };
        }
        sql += &format!(" ORDER BY m.id DESC LIMIT {}", arg(P::I(limit)));

        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            message: MessageRow,
            channel_name: String,
            workspace_id: i64,
        }
        let mut query = sqlx::query_as::<_, Row>(&sql);
        for p in params {
            query = match p {
                P::I(i) => query.bind(i),
                P::S(s) => query.bind(s),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        let places: Vec<(String, Id)> =
            rows.iter().map(|r| (r.channel_name.clone(), Id(r.workspace_id))).collect();
        let messages = self.with_reactions(rows.into_iter().map(|r| r.message).collect()).await?;
        Ok(messages.into_iter().zip(places).map(|(m, (name, ws))| (m, name, ws)).collect())
    }

    /// Turns rows into messages with their reactions (one query for all).
    async fn with_reactions(&self, rows: Vec<MessageRow>) -> Result<Vec<Message>> {
        let mut messages: Vec<Message> = rows.into_iter().map(Into::into).collect();
        if messages.is_empty() {
            return Ok(messages);
        }
        let placeholders: Vec<String> = (1..=messages.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT r.message_id, r.emoji, u.id, u.username, u.display_name FROM reactions r \
             JOIN users u ON u.id = r.user_id WHERE r.message_id IN ({}) ORDER BY r.created_at, u.id",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as::<_, (i64, String, i64, String, String)>(&sql);
        for m in &messages {
            query = query.bind(m.id.0);
        }
        let mut by_message: HashMap<i64, Vec<Reaction>> = HashMap::new();
        for (message_id, emoji, id, username, display_name) in query.fetch_all(&self.pool).await? {
            let list = by_message.entry(message_id).or_default();
            let user = UserSummary { id: Id(id), username, display_name };
            match list.iter_mut().find(|r| r.emoji == emoji) {
                Some(r) => r.users.push(user),
                None => list.push(Reaction { emoji, users: vec![user] }),
            }
        }
        for m in &mut messages {
            if let Some(r) = by_message.remove(&m.id.0) {
                m.reactions = r;
            }
        }
        Ok(messages)
    }
}
