//! Histories of encrypted conversations shared with the devices they add
//! (ciphertext, base64), and whether each conversation shares them.

use super::Store;
use crate::error::Result;
use crate::events::NewEvent;
use crate::id::Id;
use crate::model::SharedHistory;
use sqlx::FromRow;

#[derive(FromRow)]
struct SharedHistoryRow {
    id: i64,
    device_id: i64,
    channel_id: i64,
    from_device_id: i64,
    from_user_id: i64,
    from_name: String,
    epoch: i64,
    data: String,
    created_at: i64,
}

impl Store {
    /// Turns an encrypted conversation's sharing of its history on or off.
    pub async fn set_shares_history(&self, channel: Id, on: bool, events: &[NewEvent]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE channels SET shares_history = $1 WHERE id = $2")
            .bind(on as i64)
            .bind(channel.0)
            .execute(&mut *tx)
            .await?;
        self.commit(tx, events).await
    }

    /// Keeps a history `from_device` shared in `channel` at `epoch`, once
    /// for each device of `to`.
    pub async fn add_shared_histories(
        &self,
        channel: Id,
        from_device: Id,
        epoch: i64,
        data: &str,
        to: &[Id],
        events: &[NewEvent],
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let now = crate::now_ms();
        for device in to {
            sqlx::query(
                "INSERT INTO shared_histories (id, device_id, channel_id, from_device_id, epoch, data, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(Id::new().0)
            .bind(device.0)
            .bind(channel.0)
            .bind(from_device.0)
            .bind(epoch)
            .bind(data)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx, events).await
    }

    /// The histories shared with a device, oldest first, with who shared each.
    pub async fn shared_histories_for(&self, device: Id) -> Result<Vec<SharedHistory>> {
        let rows = sqlx::query_as::<_, SharedHistoryRow>(
            "SELECT h.id, h.device_id, h.channel_id, h.from_device_id, d.user_id AS from_user_id, \
             u.display_name AS from_name, h.epoch, h.data, h.created_at FROM shared_histories h \
             JOIN devices d ON d.id = h.from_device_id JOIN users u ON u.id = d.user_id \
             WHERE h.device_id = $1 ORDER BY h.id",
        )
        .bind(device.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| SharedHistory {
                id: Id(r.id),
                device_id: Id(r.device_id),
                channel_id: Id(r.channel_id),
                from_device_id: Id(r.from_device_id),
                from_user_id: Id(r.from_user_id),
                from_name: r.from_name,
                epoch: r.epoch,
                data: r.data,
                created_at: r.created_at,
            })
            .collect())
    }

    /// Drops a shared history its device has taken; returns whether it was there.
    pub async fn drop_shared_history(&self, device: Id, shared: Id) -> Result<bool> {
        let done = sqlx::query("DELETE FROM shared_histories WHERE id = $1 AND device_id = $2")
            .bind(shared.0)
            .bind(device.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
