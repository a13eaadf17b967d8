//! Outgoing webhooks: what they hear, where they call, the calls queued for
//! them (as deliveries) and each attempt at a call.

use super::{Delivery, Store};
use crate::error::Result;
use crate::id::Id;
use crate::model::{
    CallState, OutgoingWebhook, PayloadFormat, User, UserSummary, WebhookAttempt, WebhookDelivery,
    WebhookEvent,
};
use sqlx::FromRow;
use std::collections::{HashMap, HashSet};

/// An outgoing webhook as the reader of the event log needs it: what it
/// hears, on whose authority, and what its payloads carry.
#[derive(Debug, Clone)]
pub struct OutgoingRule {
    pub id: Id,
    pub workspace_id: Id,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    /// None: every public channel of its workspace.
    pub channels: HashSet<Id>,
    pub trigger_words: Vec<String>,
    pub created_by: Id,
    pub bot: UserSummary,
    pub format: PayloadFormat,
    pub token: String,
    /// It hears events after this position of the log.
    pub after_seq: i64,
}

/// What a call to an outgoing webhook needs that its delivery does not hold.
#[derive(Debug, Clone)]
pub struct OutgoingKey {
    pub id: Id,
    pub url: String,
    pub format: PayloadFormat,
    pub signing_secret: String,
    pub bot: UserSummary,
    pub created_by: Id,
}

#[derive(FromRow)]
struct Row {
    id: i64,
    workspace_id: i64,
    name: String,
    url: String,
    content_type: String,
    events: String,
    trigger_words: String,
    token: String,
    signing_secret: String,
    after_seq: i64,
    bot_id: i64,
    bot_username: String,
    bot_name: String,
    creator_id: i64,
    creator_username: String,
    creator_name: String,
    created_at: i64,
}

impl Row {
    fn bot(&self) -> UserSummary {
        UserSummary::bot(Id(self.bot_id), self.bot_username.clone(), self.bot_name.clone())
    }

    fn format(&self) -> PayloadFormat {
        PayloadFormat::parse(&self.content_type).unwrap_or(PayloadFormat::Json)
    }

    fn events(&self) -> Vec<WebhookEvent> {
        self.events.split_whitespace().filter_map(WebhookEvent::parse).collect()
    }

    fn words(&self) -> Vec<String> {
        self.trigger_words.split_whitespace().map(str::to_string).collect()
    }
}

const SELECT: &str = "SELECT h.id, h.workspace_id, h.name, h.url, h.content_type, h.events, h.trigger_words, \
     h.token, h.signing_secret, h.after_seq, b.id AS bot_id, b.username AS bot_username, \
     b.display_name AS bot_name, p.id AS creator_id, p.username AS creator_username, \
     p.display_name AS creator_name, h.created_at \
     FROM outgoing_webhooks h JOIN users b ON b.id = h.bot_id JOIN users p ON p.id = h.created_by";

const DELIVERY_COLUMNS: &str = "id, webhook_id, subject, body_text, created_at, due_at, sent_at, failed_at";

impl Store {
    /// Stores a new outgoing webhook, the bot account it answers as and the
    /// channels it hears, in one transaction. It hears what is logged from
    /// now on; when it is the only one, the reader of the log starts here.
    pub async fn create_outgoing_webhook(
        &self,
        hook: &OutgoingWebhook,
        bot: &User,
        token: &str,
        signing_secret: &str,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        Self::insert_bot_account(&mut tx, bot).await?;
        let events: Vec<&str> = hook.events.iter().map(|e| e.as_str()).collect();
        sqlx::query(
            "INSERT INTO outgoing_webhooks (id, workspace_id, bot_id, name, url, content_type, events, \
             trigger_words, token, signing_secret, created_by, created_at, after_seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             (SELECT seq FROM event_position WHERE id = 1))",
        )
        .bind(hook.id.0)
        .bind(hook.workspace_id.0)
        .bind(bot.id.0)
        .bind(&hook.name)
        .bind(&hook.url)
        .bind(hook.format.as_str())
        .bind(events.join(" "))
        .bind(hook.trigger_words.join(" "))
        .bind(token)
        .bind(signing_secret)
        .bind(hook.created_by.id.0)
        .bind(hook.created_at)
        .execute(&mut *tx)
        .await?;
        for (channel, _) in &hook.channels {
            sqlx::query("INSERT INTO outgoing_webhook_channels (webhook_id, channel_id) VALUES ($1, $2)")
                .bind(hook.id.0)
                .bind(channel.0)
                .execute(&mut *tx)
                .await?;
        }
        // With no other webhook, what was logged before concerns no one.
        sqlx::query(
            "UPDATE outgoing_webhook_cursor SET seq = (SELECT seq FROM event_position WHERE id = 1) \
             WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM outgoing_webhooks WHERE id <> $1)",
        )
        .bind(hook.id.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The channels each of `hooks` hears, with their names.
    async fn outgoing_channels(&self, hooks: &[i64]) -> Result<HashMap<i64, Vec<(Id, String)>>> {
        let mut found: HashMap<i64, Vec<(Id, String)>> = HashMap::new();
        if hooks.is_empty() {
            return Ok(found);
        }
        let sql = format!(
            "SELECT w.webhook_id, c.id, c.name FROM outgoing_webhook_channels w \
             JOIN channels c ON c.id = w.channel_id WHERE w.webhook_id IN ({}) ORDER BY c.name",
            super::placeholders(hooks.len())
        );
        let mut q = sqlx::query_as::<_, (i64, i64, String)>(&sql);
        for id in hooks {
            q = q.bind(id);
        }
        for (hook, channel, name) in q.fetch_all(&self.pool).await? {
            found.entry(hook).or_default().push((Id(channel), name));
        }
        Ok(found)
    }

    async fn outgoing_rows(&self, filter: &str, bind: Option<i64>) -> Result<Vec<(Row, Vec<(Id, String)>)>> {
        let sql = format!("{SELECT} {filter} ORDER BY h.id");
        let mut q = sqlx::query_as::<_, Row>(&sql);
        if let Some(v) = bind {
            q = q.bind(v);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut channels = self.outgoing_channels(&ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let c = channels.remove(&r.id).unwrap_or_default();
                (r, c)
            })
            .collect())
    }

    fn outgoing_of(r: Row, channels: Vec<(Id, String)>) -> OutgoingWebhook {
        OutgoingWebhook {
            id: Id(r.id),
            workspace_id: Id(r.workspace_id),
            name: r.name.clone(),
            url: r.url.clone(),
            format: r.format(),
            events: r.events(),
            channels,
            trigger_words: r.words(),
            bot: r.bot(),
            created_by: UserSummary::person(Id(r.creator_id), r.creator_username, r.creator_name),
            created_at: r.created_at,
        }
    }

    /// The outgoing webhooks of workspace `ws`, oldest first.
    pub async fn outgoing_webhooks_in(&self, ws: Id) -> Result<Vec<OutgoingWebhook>> {
        let rows = self.outgoing_rows("WHERE h.workspace_id = $1", Some(ws.0)).await?;
        Ok(rows.into_iter().map(|(r, c)| Self::outgoing_of(r, c)).collect())
    }

    pub async fn outgoing_webhook(&self, id: Id) -> Result<Option<OutgoingWebhook>> {
        let rows = self.outgoing_rows("WHERE h.id = $1", Some(id.0)).await?;
        Ok(rows.into_iter().next().map(|(r, c)| Self::outgoing_of(r, c)))
    }

    /// Every outgoing webhook of the deployment, as the reader of the log needs them.
    pub async fn outgoing_rules(&self) -> Result<Vec<OutgoingRule>> {
        let rows = self.outgoing_rows("", None).await?;
        Ok(rows
            .into_iter()
            .map(|(r, c)| OutgoingRule {
                id: Id(r.id),
                workspace_id: Id(r.workspace_id),
                url: r.url.clone(),
                events: r.events(),
                channels: c.into_iter().map(|(id, _)| id).collect(),
                trigger_words: r.words(),
                created_by: Id(r.creator_id),
                bot: r.bot(),
                format: r.format(),
                token: r.token.clone(),
                after_seq: r.after_seq,
            })
            .collect())
    }

    /// What a call to webhook `id` needs, while it exists (not its channels).
    pub async fn outgoing_key(&self, id: Id) -> Result<Option<OutgoingKey>> {
        let sql = format!("{SELECT} WHERE h.id = $1");
        let row = sqlx::query_as::<_, Row>(&sql).bind(id.0).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| OutgoingKey {
            id: Id(r.id),
            url: r.url.clone(),
            format: r.format(),
            signing_secret: r.signing_secret.clone(),
            bot: r.bot(),
            created_by: Id(r.creator_id),
        }))
    }

    /// Deletes an outgoing webhook, its queued calls and their log. Its bot
    /// account stays, as the author of what it answered.
    pub async fn delete_outgoing_webhook(&self, id: Id) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done =
            sqlx::query("DELETE FROM outgoing_webhooks WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// How far the event log has been read for outgoing webhooks.
    pub async fn outgoing_cursor(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT seq FROM outgoing_webhook_cursor WHERE id = 1")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Queues `calls`, made from the events after `from` up to `to`, and
    /// moves the cursor to `to`, in one transaction; unless another reader
    /// moved it first (then nothing is written, and `false` is returned).
    pub async fn queue_outgoing_calls(&self, from: i64, to: i64, calls: &[Delivery]) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let moved = sqlx::query("UPDATE outgoing_webhook_cursor SET seq = $1 WHERE id = 1 AND seq = $2")
            .bind(to)
            .bind(from)
            .execute(&mut *tx)
            .await?;
        if moved.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        for d in calls {
            Self::insert_delivery(&mut tx, d).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Records one attempt at the call `delivery`.
    pub async fn record_webhook_attempt(&self, delivery: i64, attempt: &WebhookAttempt) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO webhook_calls (id, delivery_id, at, status_code, latency_ms, ok, excerpt) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Id::new().0)
        .bind(delivery)
        .bind(attempt.at)
        .bind(attempt.status_code.map(i64::from))
        .bind(attempt.latency_ms)
        .bind(attempt.ok as i64)
        .bind(&attempt.excerpt)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The latest `limit` calls queued for webhook `id`, newest first, each
    /// with its attempts.
    pub async fn webhook_deliveries(&self, id: Id, limit: i64) -> Result<Vec<WebhookDelivery>> {
        let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE webhook_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(id.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        self.with_attempts(rows).await
    }

    /// One call queued for a webhook.
    pub async fn webhook_delivery(&self, id: Id) -> Result<Option<WebhookDelivery>> {
        let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1 AND webhook_id IS NOT NULL"
        ))
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(self.with_attempts(rows).await?.pop())
    }

    async fn with_attempts(&self, rows: Vec<DeliveryRow>) -> Result<Vec<WebhookDelivery>> {
        let mut attempts: HashMap<i64, Vec<WebhookAttempt>> = HashMap::new();
        if !rows.is_empty() {
            let sql = format!(
                "SELECT delivery_id, at, status_code, latency_ms, ok, excerpt FROM webhook_calls \
                 WHERE delivery_id IN ({}) ORDER BY at, id",
                super::placeholders(rows.len())
            );
            let mut q = sqlx::query_as::<_, (i64, i64, Option<i64>, i64, i64, String)>(&sql);
            for r in &rows {
                q = q.bind(r.id);
            }
            for (delivery, at, code, latency_ms, ok, excerpt) in q.fetch_all(&self.pool).await? {
                attempts.entry(delivery).or_default().push(WebhookAttempt {
                    at,
                    status_code: code.and_then(|c| u16::try_from(c).ok()),
                    latency_ms,
                    ok: ok != 0,
                    excerpt,
                });
            }
        }
        Ok(rows
            .into_iter()
            .map(|r| WebhookDelivery {
                id: Id(r.id),
                webhook_id: Id(r.webhook_id),
                event: WebhookEvent::parse(&r.subject).unwrap_or(WebhookEvent::MessagePosted),
                created_at: r.created_at,
                state: match (r.sent_at, r.failed_at) {
                    (Some(_), _) => CallState::Delivered,
                    (None, Some(_)) => CallState::Failed,
                    (None, None) => CallState::Pending,
                },
                due_at: r.due_at,
                payload: r.body_text,
                attempts: attempts.remove(&r.id).unwrap_or_default(),
            })
            .collect())
    }

    /// The queued call `id` as it was written (to send it again).
    pub async fn queued_call(&self, id: Id) -> Result<Option<Delivery>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {} FROM deliveries WHERE id = $1 AND webhook_id IS NOT NULL",
            super::deliveries::COLUMNS
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?)
    }
}

#[derive(FromRow)]
struct DeliveryRow {
    id: i64,
    webhook_id: i64,
    subject: String,
    body_text: String,
    created_at: i64,
    due_at: i64,
    sent_at: Option<i64>,
    failed_at: Option<i64>,
}
