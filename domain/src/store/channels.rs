use super::Store;
use crate::error::Result;
use crate::id::Id;
use crate::model::{Channel, ChannelListing};
use sqlx::{Any, FromRow, Transaction};

#[derive(FromRow)]
struct ChannelRow {
    id: i64,
    workspace_id: i64,
    name: String,
    topic: String,
    is_private: i64,
    auto_join: i64,
    created_by: i64,
    created_at: i64,
}

impl From<ChannelRow> for Channel {
    fn from(r: ChannelRow) -> Self {
        Channel {
            id: Id(r.id),
            workspace_id: Id(r.workspace_id),
            name: r.name,
            topic: r.topic,
            is_private: r.is_private != 0,
            auto_join: r.auto_join != 0,
            created_by: Id(r.created_by),
            created_at: r.created_at,
        }
    }
}

const CH_COLUMNS: &str =
    "c.id, c.workspace_id, c.name, c.topic, c.is_private, c.auto_join, c.created_by, c.created_at";

impl Store {
    /// Inserts a channel and makes its creator a member, in `tx`.
    pub(super) async fn insert_channel(tx: &mut Transaction<'static, Any>, ch: &Channel) -> Result<()> {
        sqlx::query(
            "INSERT INTO channels (id, workspace_id, name, topic, is_private, auto_join, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(ch.id.0)
        .bind(ch.workspace_id.0)
        .bind(&ch.name)
        .bind(&ch.topic)
        .bind(ch.is_private as i64)
        .bind(ch.auto_join as i64)
        .bind(ch.created_by.0)
        .bind(ch.created_at)
        .execute(&mut **tx)
        .await
        .map_err(|e| {
            super::conflict_or(e, "name", "A channel with that name exists in this workspace already. Choose another name.")
        })?;
        Self::insert_channel_member(tx, ch.id, ch.created_by, ch.created_at).await?;
        Ok(())
    }

    /// Adds a member in `tx`; returns whether they were not one already.
    pub(super) async fn insert_channel_member(
        tx: &mut Transaction<'static, Any>,
        channel: Id,
        user: Id,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO channel_members (channel_id, user_id, joined_at) VALUES ($1, $2, $3) \
             ON CONFLICT (channel_id, user_id) DO NOTHING",
        )
        .bind(channel.0)
        .bind(user.0)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn auto_join_channels(
        tx: &mut Transaction<'static, Any>,
        ws: Id,
    ) -> Result<Vec<Channel>> {
        let sql =
            format!("SELECT {CH_COLUMNS} FROM channels c WHERE c.workspace_id = $1 AND c.auto_join = $2");
        Ok(sqlx::query_as::<_, ChannelRow>(&sql)
            .bind(ws.0)
            .bind(1i64)
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Creates a channel; its creator becomes its first member. A name taken
    /// in the workspace is a conflict on `name`.
    pub async fn create_channel(&self, ch: &Channel) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        Self::insert_channel(&mut tx, ch).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn channel(&self, id: Id) -> Result<Option<Channel>> {
        let sql = format!("SELECT {CH_COLUMNS} FROM channels c WHERE c.id = $1");
        Ok(sqlx::query_as::<_, ChannelRow>(&sql).bind(id.0).fetch_optional(&self.pool).await?.map(Into::into))
    }

    /// The channels of a workspace that `user` may see: every public one,
    /// and the private ones they belong to; sorted by name.
    pub async fn visible_channels(&self, ws: Id, user: Id) -> Result<Vec<ChannelListing>> {
        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            ch: ChannelRow,
            member: Option<i64>,
        }
        let sql = format!(
            "SELECT {CH_COLUMNS}, m.user_id AS member FROM channels c \
             LEFT JOIN channel_members m ON m.channel_id = c.id AND m.user_id = $1 \
             WHERE c.workspace_id = $2 AND (c.is_private = $3 OR m.user_id IS NOT NULL) \
             ORDER BY c.name"
        );
        Ok(sqlx::query_as::<_, Row>(&sql)
            .bind(user.0)
            .bind(ws.0)
            .bind(0i64)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| ChannelListing { is_member: r.member.is_some(), channel: r.ch.into() })
            .collect())
    }

    pub async fn is_channel_member(&self, channel: Id, user: Id) -> Result<bool> {
        let n = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM channel_members WHERE channel_id = $1 AND user_id = $2",
        )
        .bind(channel.0)
        .bind(user.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Adds a member; returns whether they were not one already.
    pub async fn add_channel_member(&self, channel: Id, user: Id, now: i64) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let added = Self::insert_channel_member(&mut tx, channel, user, now).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Removes a member; returns whether they were one.
    pub async fn remove_channel_member(&self, channel: Id, user: Id) -> Result<bool> {
        let done = sqlx::query("DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2")
            .bind(channel.0)
            .bind(user.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every channel `user` is a member of, across workspaces (the gateway's subscriptions).
    pub async fn channel_ids_of(&self, user: Id) -> Result<Vec<Id>> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT channel_id FROM channel_members WHERE user_id = $1")
            .bind(user.0)
            .fetch_all(&self.pool)
            .await?;
        Ok(ids.into_iter().map(Id).collect())
    }

    /// Every workspace `user` belongs to (the gateway's subscriptions).
    pub async fn workspace_ids_of(&self, user: Id) -> Result<Vec<Id>> {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT workspace_id FROM workspace_members WHERE user_id = $1")
                .bind(user.0)
                .fetch_all(&self.pool)
                .await?;
        Ok(ids.into_iter().map(Id).collect())
    }
}
