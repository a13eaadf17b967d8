use super::Store;
use crate::error::Result;
use crate::id::Id;
use crate::model::{ApiToken, User};
use sqlx::FromRow;

#[derive(FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    email: String,
    created_at: i64,
    is_bot: i64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: Id(r.id),
            username: r.username,
            display_name: r.display_name,
            email: r.email,
            created_at: r.created_at,
            is_bot: r.is_bot != 0,
        }
    }
}

const USER_COLUMNS: &str = "id, username, display_name, email, created_at, is_bot";

impl Store {
    /// Inserts a user; a taken username or e-mail is a conflict on that field.
    pub async fn create_user(&self, user: &User, password_hash: &str) -> Result<()> {
        let taken_username = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users WHERE username = $1")
            .bind(&user.username)
            .fetch_one(&self.pool)
            .await?;
        if taken_username > 0 {
            return Err(crate::Error::conflict("username", "That username is taken. Choose another."));
        }
        sqlx::query(
            // The first person of a deployment administers it.
            "INSERT INTO users (id, username, display_name, email, password_hash, created_at, deployment_admin) \
             SELECT $1, $2, $3, $4, $5, $6, \
                    CASE WHEN EXISTS (SELECT 1 FROM users WHERE id <> 1 AND is_bot = 0) THEN 0 ELSE 1 END",
        )
        .bind(user.id.0)
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(&user.email)
        .bind(password_hash)
        .bind(user.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| {
            // The username was checked above; a race or the e-mail is what's left.
            super::conflict_or(
                e,
                "email",
                "An account with that e-mail address exists already. Sign in instead.",
            )
        })?;
        Ok(())
    }

    pub async fn user(&self, id: Id) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        Ok(sqlx::query_as::<_, UserRow>(&sql).bind(id.0).fetch_optional(&self.pool).await?.map(Into::into))
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        Ok(sqlx::query_as::<_, UserRow>(&sql)
            .bind(username)
            .fetch_optional(&self.pool)
            .await?
            .map(Into::into))
    }

    /// The user and their password hash, for signing in.
    pub async fn credentials(&self, username: &str) -> Result<Option<(User, String)>> {
        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            password_hash: String,
        }
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1");
        Ok(sqlx::query_as::<_, Row>(&sql)
            .bind(username)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| (r.user.into(), r.password_hash)))
    }

    /// Stores a new API token's digest for `user`.
    pub async fn create_token(
        &self,
        user_id: Id,
        digest: &str,
        name: &str,
        now: i64,
        expires_at: Option<i64>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_tokens (token_digest, user_id, created_at, name, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(digest)
        .bind(user_id.0)
        .bind(now)
        .bind(name)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whose an unexpired token is.
    pub async fn user_by_token(&self, digest: &str, now: i64) -> Result<Option<User>> {
        let sql = "SELECT u.id, u.username, u.display_name, u.email, u.created_at, u.is_bot FROM api_tokens t \
             JOIN users u ON u.id = t.user_id WHERE t.token_digest = $1 AND (t.expires_at IS NULL OR t.expires_at > $2)";
        Ok(sqlx::query_as::<_, UserRow>(sql)
            .bind(digest)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?
            .map(Into::into))
    }

    /// `user`'s unexpired tokens, newest first; each known by the start of
    /// its digest (the token itself is never stored).
    pub async fn tokens_of(&self, user: Id, now: i64) -> Result<Vec<ApiToken>> {
        let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT token_digest, name, created_at, expires_at FROM api_tokens \
             WHERE user_id = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC, token_digest",
        )
        .bind(user.0)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(digest, name, created_at, expires_at)| ApiToken {
                id: ApiToken::id_of(&digest),
                name,
                created_at,
                expires_at,
            })
            .collect())
    }

    pub async fn delete_token(&self, digest: &str) -> Result<()> {
        sqlx::query("DELETE FROM api_tokens WHERE token_digest = $1")
            .bind(digest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes `user`'s token with this id; whether there was one.
    pub async fn delete_token_by_id(&self, user: Id, id: &str) -> Result<bool> {
        let sql = format!(
            "DELETE FROM api_tokens WHERE user_id = $1 AND substr(token_digest, 1, {}) = $2",
            ApiToken::ID_LEN
        );
        let done = sqlx::query(&sql).bind(user.0).bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes every token of `user` but `keep` (a digest); returns how many.
    pub async fn delete_tokens_of(&self, user: Id, keep: Option<&str>) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM api_tokens WHERE user_id = $1 AND ($2 IS NULL OR token_digest <> $2)")
                .bind(user.0)
                .bind(keep)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        Ok(sqlx::query_as::<_, UserRow>(&sql).bind(email).fetch_optional(&self.pool).await?.map(Into::into))
    }

    /// The stored password hash of `user`.
    pub async fn password_hash(&self, user: Id) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn set_password_hash(&self, user: Id, hash: &str) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(user.0)
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a password reset link's digest, usable once until `expires_at`.
    pub async fn create_password_reset(
        &self,
        digest: &str,
        user: Id,
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO password_resets (token_digest, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(digest)
        .bind(user.0)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Uses a password reset link: whose it is, if it is unused and
    /// unexpired; it cannot be used again.
    pub async fn take_password_reset(&self, digest: &str, now: i64) -> Result<Option<Id>> {
        let user: Option<i64> = sqlx::query_scalar(
            "UPDATE password_resets SET used_at = $2 \
             WHERE token_digest = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
        )
        .bind(digest)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(user.map(Id))
    }
}
