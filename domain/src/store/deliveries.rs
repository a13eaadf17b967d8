use super::Store;
use crate::error::Result;
use crate::id::Id;
use sqlx::FromRow;

/// One outgoing delivery: an email, a push to one browser, an SMS, or a
/// call to an outgoing webhook. Made from notifications (`user_id` set; its
/// items are read when it is sent), or written whole (an invitation email,
/// a webhook's payload).
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Delivery {
    pub id: i64,
    /// `email`, `push`, `sms` or `webhook`.
    pub channel: String,
    /// An email address, a push subscription's id, a phone number, or a
    /// webhook's URL.
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// Not before (ms since the epoch).
    pub due_at: i64,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_error: String,
    pub user_id: Option<i64>,
    pub group_key: String,
    /// The outgoing webhook a call goes to.
    pub webhook_id: Option<i64>,
    /// Where the webhook's answer is posted (a call about a message in a
    /// thread answers in that thread).
    pub answer_channel_id: Option<i64>,
    pub answer_thread_id: Option<i64>,
}

impl Delivery {
    pub fn email(to: &str, subject: &str, text: &str, html: &str, due_at: i64) -> Self {
        Self::whole("email", to, subject, text, html, due_at)
    }

    /// A delivery written whole when it is queued, not gathered from
    /// notifications (an email, a call to a webhook).
    pub fn whole(channel: &str, to: &str, subject: &str, text: &str, html: &str, due_at: i64) -> Self {
        Delivery {
            id: Id::new().0,
            channel: channel.into(),
            recipient: to.into(),
            subject: subject.into(),
            body_text: text.into(),
            body_html: html.into(),
            due_at,
            attempts: 0,
            sent_at: None,
            failed_at: None,
            last_error: String::new(),
            user_id: None,
            group_key: String::new(),
            webhook_id: None,
            answer_channel_id: None,
            answer_thread_id: None,
        }
    }
}

pub(super) const COLUMNS: &str = "id, channel, recipient, subject, body_text, body_html, due_at, attempts, sent_at, failed_at, last_error, \
     user_id, group_key, webhook_id, answer_channel_id, answer_thread_id";

impl Store {
    pub async fn enqueue_delivery(&self, d: &Delivery) -> Result<()> {
        let mut tx = self.write_tx().await?;
        Self::insert_delivery(&mut tx, d).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes a delivery written whole (not one gathered from notifications) in `tx`.
    pub(super) async fn insert_delivery(tx: &mut super::Tx, d: &Delivery) -> Result<()> {
        sqlx::query(
            "INSERT INTO deliveries (id, channel, recipient, subject, body_text, body_html, due_at, created_at, \
             webhook_id, answer_channel_id, answer_thread_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(d.id)
        .bind(&d.channel)
        .bind(&d.recipient)
        .bind(&d.subject)
        .bind(&d.body_text)
        .bind(&d.body_html)
        .bind(d.due_at)
        .bind(crate::now_ms())
        .bind(d.webhook_id)
        .bind(d.answer_channel_id)
        .bind(d.answer_thread_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Claims up to `limit` deliveries due at `now` for `lease_ms` (no other
    /// worker takes them meanwhile; a crashed worker's lease runs out).
    pub async fn claim_due_deliveries(&self, now: i64, lease_ms: i64, limit: i64) -> Result<Vec<Delivery>> {
        let due: Vec<Delivery> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM deliveries WHERE sent_at IS NULL AND failed_at IS NULL AND due_at <= $1 \
             AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY due_at, id LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::with_capacity(due.len());
        for d in due {
            let took = sqlx::query(
                "UPDATE deliveries SET claimed_until = $1 WHERE id = $2 AND sent_at IS NULL \
                 AND (claimed_until IS NULL OR claimed_until < $3)",
            )
            .bind(now + lease_ms)
            .bind(d.id)
            .bind(now)
            .execute(&self.pool)
            .await?;
            if took.rows_affected() == 1 {
                claimed.push(d);
            }
        }
        Ok(claimed)
    }

    /// The earliest time a pending delivery may be tried, if any (a claimed
    /// one once its claim runs out).
    pub async fn next_delivery_due(&self) -> Result<Option<i64>> {
        let (due,): (Option<i64>,) = sqlx::query_as(
            "SELECT MIN(CASE WHEN claimed_until IS NOT NULL AND claimed_until > due_at \
             THEN claimed_until ELSE due_at END) FROM deliveries WHERE sent_at IS NULL AND failed_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(due)
    }

    pub async fn mark_delivery_sent(&self, id: i64, attempts: i64, now: i64) -> Result<()> {
        sqlx::query("UPDATE deliveries SET sent_at = $1, attempts = $2, claimed_until = NULL WHERE id = $3")
            .bind(now)
            .bind(attempts)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a failed attempt: due again at `retry_at`, or given up on (`None`).
    pub async fn mark_delivery_failed(
        &self,
        id: i64,
        attempts: i64,
        error: &str,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<()> {
        let query = match retry_at {
            Some(_) => {
                "UPDATE deliveries SET attempts = $1, last_error = $2, due_at = $3, claimed_until = NULL \
                 WHERE id = $4"
            }
            None => {
                "UPDATE deliveries SET attempts = $1, last_error = $2, failed_at = $3, claimed_until = NULL \
                 WHERE id = $4"
            }
        };
        sqlx::query(query)
            .bind(attempts)
            .bind(error)
            .bind(retry_at.unwrap_or(now))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every delivery to `recipient`, oldest first (for its history and tests).
    pub async fn deliveries_to(&self, recipient: &str) -> Result<Vec<Delivery>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM deliveries WHERE recipient = $1 ORDER BY created_at, id"
        ))
        .bind(recipient)
        .fetch_all(&self.pool)
        .await?)
    }
}
