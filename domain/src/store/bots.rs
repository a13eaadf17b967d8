//! Bot accounts: a user that never signs in with a password, made in one
//! workspace by its admins, with an owner; it works through API tokens.

use super::{Store, Tx};
use crate::error::Result;
use crate::events::NewEvent;
use crate::id::Id;
use crate::model::{Bot, User, UserSummary};
use sqlx::FromRow;

#[derive(FromRow)]
struct Row {
    user_id: i64,
    username: String,
    display_name: String,
    workspace_id: i64,
    owner_id: i64,
    owner_username: String,
    owner_name: String,
    emoji: String,
    description: String,
    created_at: i64,
}

impl From<Row> for Bot {
    fn from(r: Row) -> Self {
        Bot {
            user: UserSummary::bot(Id(r.user_id), r.username, r.display_name),
            workspace_id: Id(r.workspace_id),
            owner: UserSummary::person(Id(r.owner_id), r.owner_username, r.owner_name),
            emoji: r.emoji,
            description: r.description,
            created_at: r.created_at,
        }
    }
}

const SELECT: &str = "SELECT b.user_id, u.username, u.display_name, b.workspace_id, b.owner_id, \
     o.username AS owner_username, o.display_name AS owner_name, b.emoji, b.description, b.created_at \
     FROM bots b JOIN users u ON u.id = b.user_id JOIN users o ON o.id = b.owner_id";

impl Store {
    /// Writes a bot's account (a bot's, or an incoming webhook's) in `tx`: `'!'`
    /// for a password hash, which no password matches.
    pub(super) async fn insert_bot_account(tx: &mut Tx, account: &User) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (id, username, display_name, email, password_hash, created_at, is_bot) \
             VALUES ($1, $2, $3, $4, '!', $5, 1)",
        )
        .bind(account.id.0)
        .bind(&account.username)
        .bind(&account.display_name)
        .bind(&account.email)
        .bind(account.created_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Stores a new bot: its account (no password), its record, and its
    /// membership of the workspace (no channel: it is added to those it
    /// serves), with the events that announce it, in one transaction. A
    /// taken username is a conflict on `username`.
    pub async fn create_bot(&self, bot: &Bot, account: &User, events: &[NewEvent]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username = $1")
            .bind(&account.username)
            .fetch_one(&mut *tx)
            .await?;
        if taken > 0 {
            tx.rollback().await?;
            return Err(crate::Error::conflict("username", "That username is taken. Choose another."));
        }
        Self::insert_bot_account(&mut tx, account).await?;
        sqlx::query(
            "INSERT INTO bots (user_id, workspace_id, owner_id, emoji, description, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(account.id.0)
        .bind(bot.workspace_id.0)
        .bind(bot.owner.id.0)
        .bind(&bot.emoji)
        .bind(&bot.description)
        .bind(bot.created_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO workspace_members (workspace_id, user_id, joined_at, is_guest) VALUES ($1, $2, $3, 0)")
            .bind(bot.workspace_id.0)
            .bind(account.id.0)
            .bind(bot.created_at)
            .execute(&mut *tx)
            .await?;
        self.commit(tx, events).await
    }

    /// The bots of workspace `ws`, oldest first.
    pub async fn bots_in(&self, ws: Id) -> Result<Vec<Bot>> {
        let sql = format!("{SELECT} WHERE b.workspace_id = $1 ORDER BY b.created_at, b.user_id");
        let rows = sqlx::query_as::<_, Row>(&sql).bind(ws.0).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The bot whose account is `user`, if it is one.
    pub async fn bot(&self, user: Id) -> Result<Option<Bot>> {
        let sql = format!("{SELECT} WHERE b.user_id = $1");
        Ok(sqlx::query_as::<_, Row>(&sql).bind(user.0).fetch_optional(&self.pool).await?.map(Into::into))
    }

    /// Removes a bot: its tokens and its record go, and it leaves the
    /// workspace and every channel (told through `announce`, as a member's
    /// leaving is). Its account stays, as the author of what it posted.
    pub async fn remove_bot(
        &self,
        bot: &Bot,
        announce: impl FnOnce(&[Id]) -> Vec<NewEvent>,
    ) -> Result<Vec<Id>> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
            .bind(bot.user.id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM bots WHERE user_id = $1").bind(bot.user.id.0).execute(&mut *tx).await?;
        let left = Self::remove_member_in(&mut tx, bot.workspace_id, bot.user.id).await?;
        self.commit(tx, &announce(&left)).await?;
        Ok(left)
    }
}
