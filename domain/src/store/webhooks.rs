//! Incoming webhooks and the bot accounts they post as.

use super::Store;
use crate::error::Result;
use crate::id::Id;
use crate::model::{User, UserSummary, Webhook};
use sqlx::FromRow;

/// A webhook as a call to its address needs it: where it posts, as whom,
/// on whose authority, and the secret calls are signed with (if any).
#[derive(Debug, Clone)]
pub struct WebhookKey {
    pub id: Id,
    pub channel_id: Id,
    pub bot: UserSummary,
    pub created_by: Id,
    /// Empty: calls need no signature.
    pub signing_secret: String,
}

#[derive(FromRow)]
struct Row {
    id: i64,
    workspace_id: i64,
    channel_id: i64,
    channel_name: String,
    bot_id: i64,
    bot_username: String,
    bot_name: String,
    creator_id: i64,
    creator_username: String,
    creator_name: String,
    created_at: i64,
    signing_secret: String,
    last_used_at: Option<i64>,
}

impl From<Row> for Webhook {
    fn from(r: Row) -> Self {
        Webhook {
            id: Id(r.id),
            workspace_id: Id(r.workspace_id),
            channel_id: Id(r.channel_id),
            channel_label: format!("#{}", r.channel_name),
            bot: UserSummary::bot(Id(r.bot_id), r.bot_username, r.bot_name),
            created_by: UserSummary::person(Id(r.creator_id), r.creator_username, r.creator_name),
            created_at: r.created_at,
            signed: !r.signing_secret.is_empty(),
            last_used_at: r.last_used_at,
        }
    }
}

const SELECT: &str = "SELECT h.id, h.workspace_id, h.channel_id, c.name AS channel_name, b.id AS bot_id, \
     b.username AS bot_username, b.display_name AS bot_name, p.id AS creator_id, p.username AS creator_username, \
     p.display_name AS creator_name, h.created_at, h.signing_secret, h.last_used_at \
     FROM webhooks h JOIN channels c ON c.id = h.channel_id JOIN users b ON b.id = h.bot_id \
     JOIN users p ON p.id = h.created_by";

impl Store {
    /// Stores a new webhook with the bot account it posts as (`bot`, which
    /// gets no password), in one transaction.
    pub async fn create_webhook(
        &self,
        hook: &Webhook,
        bot: &User,
        token_digest: &str,
        signing_secret: &str,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        Self::insert_bot_account(&mut tx, bot).await?;
        sqlx::query(
            "INSERT INTO webhooks (id, workspace_id, channel_id, bot_id, name, token_digest, signing_secret, \
             created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(hook.id.0)
        .bind(hook.workspace_id.0)
        .bind(hook.channel_id.0)
        .bind(bot.id.0)
        .bind(&bot.display_name)
        .bind(token_digest)
        .bind(signing_secret)
        .bind(hook.created_by.id.0)
        .bind(hook.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The webhooks of workspace `ws`, oldest first.
    pub async fn webhooks_in(&self, ws: Id) -> Result<Vec<Webhook>> {
        let sql = format!("{SELECT} WHERE h.workspace_id = $1 ORDER BY h.id");
        let rows = sqlx::query_as::<_, Row>(&sql).bind(ws.0).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn webhook(&self, id: Id) -> Result<Option<Webhook>> {
        let sql = format!("{SELECT} WHERE h.id = $1");
        Ok(sqlx::query_as::<_, Row>(&sql).bind(id.0).fetch_optional(&self.pool).await?.map(Into::into))
    }

    /// The webhook whose address holds the token with this digest.
    pub async fn webhook_by_digest(&self, digest: &str) -> Result<Option<WebhookKey>> {
        #[derive(FromRow)]
        struct KeyRow {
            id: i64,
            channel_id: i64,
            bot_id: i64,
            username: String,
            display_name: String,
            created_by: i64,
            signing_secret: String,
        }
        let row = sqlx::query_as::<_, KeyRow>(
            "SELECT h.id, h.channel_id, h.bot_id, b.username, b.display_name, h.created_by, h.signing_secret \
             FROM webhooks h JOIN users b ON b.id = h.bot_id WHERE h.token_digest = $1",
        )
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| WebhookKey {
            id: Id(r.id),
            channel_id: Id(r.channel_id),
            bot: UserSummary::bot(Id(r.bot_id), r.username, r.display_name),
            created_by: Id(r.created_by),
            signing_secret: r.signing_secret,
        }))
    }

    /// Notes that webhook `id` posted at `at` (for its list).
    pub async fn webhook_used(&self, id: Id, at: i64) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE webhooks SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a webhook: its address stops working at once. Its bot account
    /// stays, as the author of what it posted.
    pub async fn delete_webhook(&self, id: Id) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
