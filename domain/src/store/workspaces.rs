use super::Store;
use crate::error::Result;
use crate::events::NewEvent;
use crate::id::Id;
use crate::model::{Channel, Invite, Member, UserSummary, Workspace};
use sqlx::FromRow;

#[derive(FromRow)]
pub(super) struct WorkspaceRow {
    id: i64,
    name: String,
    description: String,
    icon: String,
    is_private: i64,
    owner_id: i64,
    created_at: i64,
}

impl From<WorkspaceRow> for Workspace {
    fn from(r: WorkspaceRow) -> Self {
        Workspace {
            id: Id(r.id),
            name: r.name,
            description: r.description,
            icon: r.icon,
            is_private: r.is_private != 0,
            owner_id: Id(r.owner_id),
            created_at: r.created_at,
        }
    }
}

#[derive(FromRow)]
struct InviteRow {
    code: String,
    workspace_id: i64,
    created_by: i64,
    created_at: i64,
    expires_at: Option<i64>,
    max_uses: Option<i64>,
    uses: i64,
    is_guest: i64,
    email: Option<String>,
}

impl From<InviteRow> for Invite {
    fn from(r: InviteRow) -> Self {
        Invite {
            code: r.code,
            workspace_id: Id(r.workspace_id),
            channel_ids: Vec::new(),
            is_guest: r.is_guest != 0,
            email: r.email,
            created_by: Id(r.created_by),
            created_at: r.created_at,
            expires_at: r.expires_at,
            max_uses: r.max_uses,
            uses: r.uses,
        }
    }
}

pub(super) const WS_COLUMNS: &str =
    "w.id, w.name, w.description, w.icon, w.is_private, w.owner_id, w.created_at";

impl Store {
    /// Creates a workspace with its first channel; the owner joins both.
    pub async fn create_workspace(
        &self,
        ws: &Workspace,
        first_channel: &Channel,
        events: &[NewEvent],
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO workspaces (id, name, description, icon, is_private, owner_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(ws.id.0)
        .bind(&ws.name)
        .bind(&ws.description)
        .bind(&ws.icon)
        .bind(ws.is_private as i64)
        .bind(ws.owner_id.0)
        .bind(ws.created_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO workspace_members (workspace_id, user_id, joined_at) VALUES ($1, $2, $3)")
            .bind(ws.id.0)
            .bind(ws.owner_id.0)
            .bind(ws.created_at)
            .execute(&mut *tx)
            .await?;
        Self::insert_builtin_roles(&mut tx, ws.id, ws.created_at).await?;
        Self::insert_channel(&mut tx, first_channel).await?;
        self.commit(tx, events).await
    }

    pub async fn workspace(&self, id: Id) -> Result<Option<Workspace>> {
        let sql = format!("SELECT {WS_COLUMNS} FROM workspaces w WHERE w.id = $1");
        Ok(sqlx::query_as::<_, WorkspaceRow>(&sql)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .map(Into::into))
    }

    /// Every workspace of the deployment, by name: id and name (what a
    /// compliance export may be limited to).
    pub async fn all_workspaces(&self) -> Result<Vec<(Id, String)>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM workspaces ORDER BY name, id").fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(id, name)| (Id(id), name)).collect())
    }

    /// The workspaces `user` belongs to, oldest membership first.
    pub async fn workspaces_of(&self, user: Id) -> Result<Vec<Workspace>> {
        let sql = format!(
            "SELECT {WS_COLUMNS} FROM workspaces w JOIN workspace_members m ON m.workspace_id = w.id \
             WHERE m.user_id = $1 ORDER BY m.joined_at, w.id"
        );
        Ok(sqlx::query_as::<_, WorkspaceRow>(&sql)
            .bind(user.0)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Public workspaces `user` has not joined, newest first.
    pub async fn discoverable_workspaces(&self, user: Id, limit: i64) -> Result<Vec<Workspace>> {
        let sql = format!(
            "SELECT {WS_COLUMNS} FROM workspaces w WHERE w.is_private = $1 AND NOT EXISTS \
             (SELECT 1 FROM workspace_members m WHERE m.workspace_id = w.id AND m.user_id = $2) \
             ORDER BY w.id DESC LIMIT $3"
        );
        Ok(sqlx::query_as::<_, WorkspaceRow>(&sql)
            .bind(0i64)
            .bind(user.0)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub async fn is_workspace_member(&self, ws: Id, user: Id) -> Result<bool> {
        let n = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM workspace_members WHERE workspace_id = $1 AND user_id = $2",
        )
        .bind(ws.0)
        .bind(user.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Adds `user` to the workspace and to its auto-join channels (a guest:
    /// to none). Returns the auto-join channels newly joined, or `None` if
    /// already a member.
    pub async fn add_workspace_member(
        &self,
        ws: Id,
        user: Id,
        now: i64,
        is_guest: bool,
        announce: impl FnOnce(&[Channel]) -> Vec<NewEvent>,
    ) -> Result<Option<Vec<Channel>>> {
        let mut tx = self.write_tx().await?;
        let added = sqlx::query(
            "INSERT INTO workspace_members (workspace_id, user_id, joined_at, is_guest) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (workspace_id, user_id) DO NOTHING",
        )
        .bind(ws.0)
        .bind(user.0)
        .bind(now)
        .bind(is_guest as i64)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !added {
            return Ok(None);
        }
        let auto = if is_guest { Vec::new() } else { Self::auto_join_channels(&mut tx, ws).await? };
        for ch in &auto {
            Self::insert_channel_member(&mut tx, ch.id, user, now).await?;
        }
        self.commit(tx, &announce(&auto)).await?;
        Ok(Some(auto))
    }

    /// Removes `user` from the workspace and every channel in it; returns
    /// the ids of the channels they left, which `announce` is told.
    pub async fn remove_workspace_member(
        &self,
        ws: Id,
        user: Id,
        announce: impl FnOnce(&[Id]) -> Vec<NewEvent>,
    ) -> Result<Vec<Id>> {
        let mut tx = self.write_tx().await?;
        let left = Self::remove_member_in(&mut tx, ws, user).await?;
        self.commit(tx, &announce(&left)).await?;
        Ok(left)
    }

    pub(super) async fn remove_member_in(tx: &mut super::Tx, ws: Id, user: Id) -> Result<Vec<Id>> {
        let left: Vec<i64> = sqlx::query_scalar(
            "SELECT c.id FROM channels c JOIN channel_members m ON m.channel_id = c.id \
             WHERE c.workspace_id = $1 AND m.user_id = $2",
        )
        .bind(ws.0)
        .bind(user.0)
        .fetch_all(&mut **tx)
        .await?;
        sqlx::query(
            "DELETE FROM channel_members WHERE user_id = $1 AND channel_id IN \
             (SELECT id FROM channels WHERE workspace_id = $2)",
        )
        .bind(user.0)
        .bind(ws.0)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "DELETE FROM channel_reads WHERE user_id = $1 AND channel_id IN \
             (SELECT id FROM channels WHERE workspace_id = $2)",
        )
        .bind(user.0)
        .bind(ws.0)
        .execute(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM member_roles WHERE workspace_id = $1 AND user_id = $2")
            .bind(ws.0)
            .bind(user.0)
            .execute(&mut **tx)
            .await?;
        sqlx::query("DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2")
            .bind(ws.0)
            .bind(user.0)
            .execute(&mut **tx)
            .await?;
        Ok(left.into_iter().map(Id).collect())
    }

    pub async fn workspace_members(&self, ws: Id) -> Result<Vec<Member>> {
        #[derive(FromRow)]
        struct Row {
            id: i64,
            username: String,
            display_name: String,
            is_bot: i64,
            joined_at: i64,
            owner_id: i64,
            is_guest: i64,
            timeout_until: Option<i64>,
        }
        let rows = sqlx::query_as::<_, Row>(
            "SELECT u.id, u.username, u.display_name, u.is_bot, m.joined_at, w.owner_id, m.is_guest, m.timeout_until \
             FROM workspace_members m JOIN users u ON u.id = m.user_id \
             JOIN workspaces w ON w.id = m.workspace_id \
             WHERE m.workspace_id = $1 ORDER BY u.display_name, u.username",
        )
        .bind(ws.0)
        .fetch_all(&self.pool)
        .await?;
        let held: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT mr.user_id, mr.role_id FROM member_roles mr JOIN roles r ON r.id = mr.role_id \
             WHERE mr.workspace_id = $1 ORDER BY r.position DESC",
        )
        .bind(ws.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Member {
                user: UserSummary {
                    id: Id(r.id),
                    username: r.username,
                    display_name: r.display_name,
                    is_bot: r.is_bot != 0,
                },
                joined_at: r.joined_at,
                is_owner: r.owner_id == r.id,
                is_guest: r.is_guest != 0,
                roles: held.iter().filter(|(u, _)| *u == r.id).map(|(_, role)| Id(*role)).collect(),
                timeout_until: r.timeout_until,
                status: crate::presence::Status::Offline,
            })
            .collect())
    }

    pub async fn create_invite(&self, invite: &Invite) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO invites (code, workspace_id, created_by, created_at, expires_at, max_uses, uses, is_guest, email) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&invite.code)
        .bind(invite.workspace_id.0)
        .bind(invite.created_by.0)
        .bind(invite.created_at)
        .bind(invite.expires_at)
        .bind(invite.max_uses)
        .bind(invite.uses)
        .bind(invite.is_guest as i64)
        .bind(invite.email.as_deref())
        .execute(&mut *tx)
        .await?;
        for channel in &invite.channel_ids {
            sqlx::query("INSERT INTO invite_channels (code, channel_id) VALUES ($1, $2)")
                .bind(&invite.code)
                .bind(channel.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn invite(&self, code: &str) -> Result<Option<Invite>> {
        let Some(mut invite): Option<Invite> = sqlx::query_as::<_, InviteRow>(
            "SELECT code, workspace_id, created_by, created_at, expires_at, max_uses, uses, is_guest, email \
             FROM invites WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(&self.pool)
        .await?
        .map(Into::into) else {
            return Ok(None);
        };
        let channels: Vec<i64> =
            sqlx::query_scalar("SELECT channel_id FROM invite_channels WHERE code = $1 ORDER BY channel_id")
                .bind(code)
                .fetch_all(&self.pool)
                .await?;
        invite.channel_ids = channels.into_iter().map(Id).collect();
        Ok(Some(invite))
    }

    /// A workspace's invites still usable at `now` (only those `created_by`
    /// made, when given), newest first, with their channels.
    pub async fn usable_invites(&self, ws: Id, created_by: Option<Id>, now: i64) -> Result<Vec<Invite>> {
        let mut invites: Vec<Invite> = sqlx::query_as::<_, InviteRow>(
            "SELECT code, workspace_id, created_by, created_at, expires_at, max_uses, uses, is_guest, email \
             FROM invites WHERE workspace_id = $1 AND ($2 IS NULL OR created_by = $2) \
             AND (expires_at IS NULL OR expires_at > $3) AND (max_uses IS NULL OR uses < max_uses) \
             ORDER BY created_at DESC, code",
        )
        .bind(ws.0)
        .bind(created_by.map(|u| u.0))
        .bind(now)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
        let channels: Vec<(String, i64)> = sqlx::query_as(
            "SELECT ic.code, ic.channel_id FROM invite_channels ic JOIN invites i ON i.code = ic.code \
             WHERE i.workspace_id = $1 ORDER BY ic.channel_id",
        )
        .bind(ws.0)
        .fetch_all(&self.pool)
        .await?;
        for invite in &mut invites {
            invite.channel_ids =
                channels.iter().filter(|(code, _)| *code == invite.code).map(|(_, c)| Id(*c)).collect();
        }
        Ok(invites)
    }

    /// Removes an invite; returns whether there was one.
    pub async fn delete_invite(&self, code: &str) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM invite_channels WHERE code = $1").bind(code).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM invites WHERE code = $1").bind(code).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Counts one use of an invite, unless it is used up; returns whether it counted.
    pub async fn use_invite(&self, code: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE invites SET uses = uses + 1 WHERE code = $1 AND (max_uses IS NULL OR uses < max_uses)",
        )
        .bind(code)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
