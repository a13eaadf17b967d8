use super::Store;
use crate::error::Result;
use crate::id::Id;

impl Store {
    /// Writes a session's data (and whose it is, once someone signed in),
    /// replacing what was stored under `id`.
    pub async fn save_session(&self, id: &str, data: &str, expires_at: i64, user: Option<Id>) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_at, user_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, \
             user_id = excluded.user_id",
        )
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .bind(user.map(|u| u.0))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Inserts a session only if `id` is free; returns whether it was.
    pub async fn create_session(
        &self,
        id: &str,
        data: &str,
        expires_at: i64,
        user: Option<Id>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO sessions (id, data, expires_at, user_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .bind(user.map(|u| u.0))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The data of an unexpired session.
    pub async fn load_session(&self, id: &str, now: i64) -> Result<Option<(String, i64)>> {
        Ok(sqlx::query_as::<_, (String, i64)>(
            "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn delete_session(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Ends every session of `user` but `keep`; returns how many ended.
    pub async fn delete_sessions_of(&self, user: Id, keep: Option<&str>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2 IS NULL OR id <> $2)")
            .bind(user.0)
            .bind(keep)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}
