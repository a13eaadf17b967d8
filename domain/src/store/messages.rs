use super::Store;
use crate::error::Result;
use crate::id::Id;
use crate::model::{Message, MessagePage, UserSummary};
use sqlx::FromRow;

#[derive(FromRow)]
struct MessageRow {
    id: i64,
    channel_id: i64,
    author_id: i64,
    username: String,
    display_name: String,
    body: String,
    nonce: Option<String>,
    created_at: i64,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        Message {
            id: Id(r.id),
            channel_id: Id(r.channel_id),
            author: UserSummary { id: Id(r.author_id), username: r.username, display_name: r.display_name },
            body: r.body,
            nonce: r.nonce,
            created_at: r.created_at,
        }
    }
}

const MSG_SELECT: &str = "SELECT m.id, m.channel_id, m.author_id, u.username, u.display_name, m.body, m.nonce, m.created_at \
     FROM messages m JOIN users u ON u.id = m.author_id";

impl Store {
    /// Inserts a message. When the author already sent one with the same
    /// nonce, nothing is inserted and that first message is returned with
    /// `false`.
    pub async fn insert_message(&self, msg: &Message) -> Result<(Message, bool)> {
        let done = sqlx::query(
            "INSERT INTO messages (id, channel_id, author_id, body, nonce, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (author_id, nonce) DO NOTHING",
        )
        .bind(msg.id.0)
        .bind(msg.channel_id.0)
        .bind(msg.author.id.0)
        .bind(&msg.body)
        .bind(&msg.nonce)
        .bind(msg.created_at)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok((msg.clone(), true));
        }
        let sql = format!("{MSG_SELECT} WHERE m.author_id = $1 AND m.nonce = $2");
        let first = sqlx::query_as::<_, MessageRow>(&sql)
            .bind(msg.author.id.0)
            .bind(&msg.nonce)
            .fetch_one(&self.pool)
            .await?;
        Ok((first.into(), false))
    }

    pub async fn message(&self, id: Id) -> Result<Option<Message>> {
        let sql = format!("{MSG_SELECT} WHERE m.id = $1");
        Ok(sqlx::query_as::<_, MessageRow>(&sql).bind(id.0).fetch_optional(&self.pool).await?.map(Into::into))
    }

    /// Up to `limit` messages of a channel older than `before`, newest first.
    pub async fn messages(&self, channel: Id, before: Option<Id>, limit: i64) -> Result<MessagePage> {
        let sql = format!("{MSG_SELECT} WHERE m.channel_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3");
        let mut rows = sqlx::query_as::<_, MessageRow>(&sql)
            .bind(channel.0)
            .bind(before.map_or(i64::MAX, |b| b.0))
            .bind(limit + 1)
            .fetch_all(&self.pool)
            .await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let messages: Vec<Message> = rows.into_iter().map(Into::into).collect();
        let next_before = if more { messages.last().map(|m| m.id) } else { None };
        Ok(MessagePage { messages, next_before })
    }
}
