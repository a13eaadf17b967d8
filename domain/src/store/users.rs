use super::Store;
use crate::error::Result;
use crate::id::Id;
use crate::model::User;
use sqlx::FromRow;

#[derive(FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    email: String,
    created_at: i64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: Id(r.id),
            username: r.username,
            display_name: r.display_name,
            email: r.email,
            created_at: r.created_at,
        }
    }
}

const USER_COLUMNS: &str = "id, username, display_name, email, created_at";

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
            "INSERT INTO users (id, username, display_name, email, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
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

    pub async fn create_token(&self, user_id: Id, digest: &str, now: i64) -> Result<()> {
        sqlx::query("INSERT INTO api_tokens (token_digest, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(digest)
            .bind(user_id.0)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn user_by_token(&self, digest: &str) -> Result<Option<User>> {
        let sql = "SELECT u.id, u.username, u.display_name, u.email, u.created_at FROM api_tokens t \
             JOIN users u ON u.id = t.user_id WHERE t.token_digest = $1"
            .to_string();
        Ok(sqlx::query_as::<_, UserRow>(&sql).bind(digest).fetch_optional(&self.pool).await?.map(Into::into))
    }

    pub async fn delete_token(&self, digest: &str) -> Result<()> {
        sqlx::query("DELETE FROM api_tokens WHERE token_digest = $1")
            .bind(digest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
