//! In-app notifications.

use super::{Store, Tx};
use crate::error::Result;
use crate::events::NewEvent;
use crate::id::Id;
use crate::model::Notification;

type Row = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
    String,
    String,
);

const COLUMNS: &str = "id, user_id, workspace_id, kind, title, content, priority, channel_id, message_id, thread_id, read_at, created_at, template, data";

fn from_row(r: Row) -> Notification {
    Notification {
        id: Id(r.0),
        user_id: Id(r.1),
        workspace_id: r.2.map(Id),
        kind: r.3,
        title: r.4,
        content: r.5,
        priority: r.6,
        channel_id: r.7.map(Id),
        message_id: r.8.map(Id),
        thread_id: r.9.map(Id),
        read_at: r.10,
        created_at: r.11,
        template: r.12,
        data: r.13,
    }
}

/// A delivery to make from a notification being stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDelivery {
    pub notification_id: Id,
    pub user_id: Id,
    /// `email`, `push` or `sms`.
    pub channel: &'static str,
    /// An email address, a phone number, or a push subscription's id.
    pub recipient: String,
    pub due_at: i64,
    /// Deliveries of one person, channel and recipient with the same key
    /// gather while they wait (a digest, a collapsed push).
    pub group_key: String,
}

/// Notifications to store, with the deliveries they make. Stored with the
/// change that causes them when there is one (a message), so that nobody
/// misses being told of what was committed.
#[derive(Debug, Clone, Default)]
pub struct Notifying {
    pub list: Vec<Notification>,
    pub planned: Vec<PlannedDelivery>,
}

impl Notifying {
    /// Whether storing these leaves deliveries for the worker to send.
    pub fn delivers(&self) -> bool {
        !self.planned.is_empty()
    }
}

impl Store {
    /// Stores notifications and their deliveries in one transaction (see
    /// [`Store::write_notifications`]). With `fired`, a scheduled
    /// notification is marked done in the same transaction, and nothing is
    /// stored if it was done already (`false`), so a schedule fires once.
    /// `events` are logged with them.
    pub async fn insert_notifications(
        &self,
        notifying: &Notifying,
        fired: Option<Id>,
        events: &[NewEvent],
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        if let Some(id) = fired {
            let done = sqlx::query(
                "UPDATE scheduled_notifications SET done_at = $2, claimed_until = NULL \
                 WHERE id = $1 AND done_at IS NULL",
            )
            .bind(id.0)
            .bind(crate::now_ms())
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
        }
        Self::write_notifications(&mut tx, notifying).await?;
        self.commit(tx, events).await?;
        Ok(true)
    }

    /// Writes notifications and their deliveries in `tx`: each delivery
    /// joins a waiting one of its group that no worker has taken yet, or
    /// starts one.
    pub(super) async fn write_notifications(tx: &mut Tx, notifying: &Notifying) -> Result<()> {
        let Notifying { list, planned } = notifying;
        for n in list {
            sqlx::query(&format!(
                "INSERT INTO notifications ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            ))
            .bind(n.id.0)
            .bind(n.user_id.0)
            .bind(n.workspace_id.map(|w| w.0))
            .bind(&n.kind)
            .bind(&n.title)
            .bind(&n.content)
            .bind(&n.priority)
            .bind(n.channel_id.map(|c| c.0))
            .bind(n.message_id.map(|m| m.0))
            .bind(n.thread_id.map(|t| t.0))
            .bind(n.read_at)
            .bind(n.created_at)
            .bind(&n.template)
            .bind(&n.data)
            .execute(&mut **tx)
            .await?;
        }
        for p in planned {
            let open: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM deliveries WHERE user_id = $1 AND channel = $2 AND recipient = $3 \
                 AND group_key = $4 AND sent_at IS NULL AND failed_at IS NULL AND claimed_until IS NULL \
                 AND attempts = 0 ORDER BY id LIMIT 1",
            )
            .bind(p.user_id.0)
            .bind(p.channel)
            .bind(&p.recipient)
            .bind(&p.group_key)
            .fetch_optional(&mut **tx)
            .await?;
            // Touching the row locks it against a worker's claim until this
            // commits; a worker that claimed it first makes this a new group.
            let mut joined = None;
            if let Some((id,)) = open {
                let touched = sqlx::query(
                    "UPDATE deliveries SET attempts = 0 WHERE id = $1 AND claimed_until IS NULL AND sent_at IS NULL",
                )
                .bind(id)
                .execute(&mut **tx)
                .await?;
                if touched.rows_affected() == 1 {
                    joined = Some(id);
                }
            }
            let delivery = match joined {
                Some(id) => id,
                None => {
                    let id = Id::new().0;
                    sqlx::query(
                        "INSERT INTO deliveries (id, channel, recipient, subject, body_text, body_html, due_at, \
                         created_at, user_id, group_key) VALUES ($1, $2, $3, '', '', '', $4, $5, $6, $7)",
                    )
                    .bind(id)
                    .bind(p.channel)
                    .bind(&p.recipient)
                    .bind(p.due_at)
                    .bind(crate::now_ms())
                    .bind(p.user_id.0)
                    .bind(&p.group_key)
                    .execute(&mut **tx)
                    .await?;
                    id
                }
            };
            sqlx::query("INSERT INTO delivery_items (delivery_id, notification_id) VALUES ($1, $2)")
                .bind(delivery)
                .bind(p.notification_id.0)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// The notifications a delivery gathers, oldest first.
    pub async fn delivery_items(&self, delivery: i64) -> Result<Vec<Notification>> {
        let sql = format!(
            "SELECT {} FROM notifications n JOIN delivery_items i ON i.notification_id = n.id \
             WHERE i.delivery_id = $1 ORDER BY n.id",
            COLUMNS.split(", ").map(|c| format!("n.{c}")).collect::<Vec<_>>().join(", ")
        );
        let rows = sqlx::query_as::<_, Row>(&sql).bind(delivery).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    /// `user`'s notifications, newest first, older than `before` if given.
    pub async fn notifications_of(
        &self,
        user: Id,
        before: Option<Id>,
        unread_only: bool,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 AND ($2 = 0 OR id < $2) \
             AND ($3 = 0 OR read_at IS NULL) ORDER BY id DESC LIMIT $4"
        );
        let rows = sqlx::query_as::<_, Row>(&sql)
            .bind(user.0)
            .bind(before.map_or(0, |b| b.0))
            .bind(i64::from(unread_only))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    pub async fn unread_notification_count(&self, user: Id) -> Result<i64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
                .bind(user.0)
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }

    /// Marks one of `user`'s notifications read; `None` if they have no
    /// such one (otherwise `events` are logged).
    pub async fn mark_notification_read(
        &self,
        user: Id,
        id: Id,
        at: i64,
        events: &[NewEvent],
    ) -> Result<Option<Notification>> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE notifications SET read_at = $3 WHERE id = $1 AND user_id = $2 AND read_at IS NULL",
        )
        .bind(id.0)
        .bind(user.0)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let sql = format!("SELECT {COLUMNS} FROM notifications WHERE id = $1 AND user_id = $2");
        let row = sqlx::query_as::<_, Row>(&sql).bind(id.0).bind(user.0).fetch_optional(&mut *tx).await?;
        self.commit_if(tx, row.is_some(), events).await?;
        Ok(row.map(from_row))
    }

    /// Marks all of `user`'s notifications read; how many were unread.
    pub async fn mark_all_notifications_read(&self, user: Id, at: i64, events: &[NewEvent]) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        let done =
            sqlx::query("UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL")
                .bind(user.0)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        self.commit(tx, events).await?;
        Ok(done.rows_affected())
    }

    /// Who follows `thread` once a reply is stored: those following it now,
    /// and its first author unless they chose not to (a reply makes them
    /// follow it, see [`Store::insert_message`]).
    pub async fn thread_followers(&self, thread: Id) -> Result<Vec<Id>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT user_id FROM thread_follows WHERE thread_id = $1 AND following = 1 \
             UNION SELECT m.author_id FROM messages m WHERE m.id = $1 AND NOT EXISTS \
               (SELECT 1 FROM thread_follows f WHERE f.thread_id = m.id AND f.user_id = m.author_id)",
        )
        .bind(thread.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(u,)| Id(u)).collect())
    }
}
