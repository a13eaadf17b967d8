use super::Store;
use crate::error::Result;
use crate::events::NewEvent;
use crate::id::Id;
use crate::model::{AuditEntry, Ban, Role, UserSummary, Workspace};
use crate::permissions::{Builtin, HeldRole, Override, OverrideTarget, Perms};
use sqlx::FromRow;
use std::collections::HashMap;

#[derive(FromRow)]
struct RoleRow {
    id: i64,
    workspace_id: i64,
    name: String,
    colour: String,
    position: i64,
    permissions: i64,
    builtin: String,
}

impl From<RoleRow> for Role {
    fn from(r: RoleRow) -> Self {
        Role {
            id: Id(r.id),
            workspace_id: Id(r.workspace_id),
            name: r.name,
            colour: r.colour,
            position: r.position,
            permissions: Perms::from_bits(r.permissions),
            builtin: Builtin::from_db(&r.builtin),
        }
    }
}

const ROLE_COLUMNS: &str = "r.id, r.workspace_id, r.name, r.colour, r.position, r.permissions, r.builtin";

/// A member's standing as the store knows it: guest or not, timeout, and
/// every role they hold (their Member or Guest role included).
#[derive(Debug, Clone, Default)]
pub struct Standing {
    pub is_guest: bool,
    pub timeout_until: Option<i64>,
    pub roles: Vec<HeldRole>,
}

/// What the audit log can be narrowed to.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor: Option<Id>,
    pub target_user: Option<Id>,
    /// Entries older than this id (paging).
    pub before: Option<Id>,
}

fn target_kind(t: OverrideTarget) -> (&'static str, i64) {
    match t {
        OverrideTarget::Role(id) => ("role", id.0),
        OverrideTarget::Member(id) => ("member", id.0),
    }
}

/// An audit log entry to write.
pub struct NewAudit<'a> {
    pub ws: Id,
    pub actor: Id,
    pub action: &'a str,
    pub target_user: Option<Id>,
    pub target_id: Option<Id>,
    pub summary: &'a str,
    /// The channel it concerns, if any.
    pub channel: Option<&'a crate::model::Channel>,
}

/// The roles a member (`wm`, in workspace `w`) holds, joined as `r`: their
/// Member or Guest role, the Owner role if they own the workspace (it gives
/// the owner's name its colour; their permissions come from owning it), and
/// those given to them. A row with no role when `wm` is absent.
pub(super) const HELD_ROLES: &str = "LEFT JOIN roles r ON r.workspace_id = wm.workspace_id AND ( \
   r.builtin = (CASE WHEN wm.is_guest = 1 THEN 'guest' ELSE 'member' END) \
   OR (r.builtin = 'owner' AND w.owner_id = wm.user_id) \
   OR r.id IN (SELECT mr.role_id FROM member_roles mr WHERE mr.workspace_id = wm.workspace_id AND mr.user_id = wm.user_id))";

/// The columns of [`HeldRoleRow`], from the `r` of [`HELD_ROLES`].
pub(super) const HELD_ROLE_COLUMNS: &str = "r.id AS role_id, r.position AS role_position, \
   r.permissions AS role_permissions, r.colour AS role_colour, r.builtin AS role_builtin";

/// A role of [`HELD_ROLES`], if the row has one.
#[derive(FromRow)]
pub(super) struct HeldRoleRow {
    pub role_id: Option<i64>,
    pub role_position: Option<i64>,
    pub role_permissions: Option<i64>,
    pub role_colour: Option<String>,
    pub role_builtin: Option<String>,
}

impl HeldRoleRow {
    /// The role, if it is one whose permissions the member holds (not the
    /// owner's Owner role, there for its colour: owning gives the rest).
    pub fn granted(&self) -> Option<HeldRole> {
        self.held().filter(|_| self.role_builtin.as_deref() != Some("owner"))
    }

    /// The role, whatever it gives.
    pub fn held(&self) -> Option<HeldRole> {
        Some(HeldRole {
            id: Id(self.role_id?),
            position: self.role_position?,
            permissions: Perms::from_bits(self.role_permissions?),
        })
    }
}

/// The coloured roles of a member (`wm`, in workspace `w`): the built-in
/// one they hold (the owner's is Owner) and those given to them. The same
/// rule picks a post's author's colour in `Store::channel_standing`.
const COLOURING_ROLES: &str = "JOIN roles r ON r.workspace_id = wm.workspace_id AND r.colour <> '' AND ( \
   r.builtin = (CASE WHEN w.owner_id = wm.user_id THEN 'owner' WHEN wm.is_guest = 1 THEN 'guest' ELSE 'member' END) \
   OR r.id IN (SELECT mr.role_id FROM member_roles mr WHERE mr.workspace_id = wm.workspace_id AND mr.user_id = wm.user_id))";

impl Store {
    /// Inserts the five built-in roles of a new workspace, in `tx`.
    pub(super) async fn insert_builtin_roles(tx: &mut super::Tx, ws: Id, now: i64) -> Result<()> {
        for b in Builtin::ALL {
            sqlx::query(
                "INSERT INTO roles (id, workspace_id, name, colour, position, permissions, builtin, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(Id::new().0)
            .bind(ws.0)
            .bind(b.name())
            .bind(b.colour())
            .bind(b.position())
            .bind(b.default_permissions().0 as i64)
            .bind(b.as_str())
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Gives the built-in roles to workspaces made before roles existed.
    pub(super) async fn ensure_builtin_roles(&self) -> Result<()> {
        let missing: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM workspaces w WHERE NOT EXISTS (SELECT 1 FROM roles r WHERE r.workspace_id = w.id)",
        )
        .fetch_all(&self.pool)
        .await?;
        for ws in missing {
            let mut tx = self.write_tx().await?;
            Self::insert_builtin_roles(&mut tx, Id(ws), crate::now_ms()).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// A workspace's roles, highest first.
    pub async fn roles(&self, ws: Id) -> Result<Vec<Role>> {
        let sql =
            format!("SELECT {ROLE_COLUMNS} FROM roles r WHERE r.workspace_id = $1 ORDER BY r.position DESC");
        Ok(sqlx::query_as::<_, RoleRow>(&sql)
            .bind(ws.0)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub async fn role(&self, id: Id) -> Result<Option<Role>> {
        let sql = format!("SELECT {ROLE_COLUMNS} FROM roles r WHERE r.id = $1");
        Ok(sqlx::query_as::<_, RoleRow>(&sql).bind(id.0).fetch_optional(&self.pool).await?.map(Into::into))
    }

    /// Adds a custom role at `role.position`, moving the roles from there up
    /// by one. A name taken in the workspace is a conflict on `name`.
    pub async fn create_role(&self, role: &Role, events: &[NewEvent]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE roles SET position = position + 1 WHERE workspace_id = $1 AND position >= $2")
            .bind(role.workspace_id.0)
            .bind(role.position)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO roles (id, workspace_id, name, colour, position, permissions, builtin, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(role.id.0)
        .bind(role.workspace_id.0)
        .bind(&role.name)
        .bind(&role.colour)
        .bind(role.position)
        .bind(role.permissions.0 as i64)
        .bind("")
        .bind(crate::now_ms())
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            super::conflict_or(e, "name", "A role with that name exists already. Choose another name.")
        })?;
        self.commit(tx, events).await
    }

    /// Writes a role's name, colour and permissions.
    pub async fn update_role(&self, role: &Role, events: &[NewEvent]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE roles SET name = $1, colour = $2, permissions = $3 WHERE id = $4")
            .bind(&role.name)
            .bind(&role.colour)
            .bind(role.permissions.0 as i64)
            .bind(role.id.0)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                super::conflict_or(e, "name", "A role with that name exists already. Choose another name.")
            })?;
        self.commit(tx, events).await
    }

    /// Deletes a role: members lose it, channels lose its overrides.
    pub async fn delete_role(&self, role: Id, events: &[NewEvent]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM channel_overrides WHERE target_kind = 'role' AND target_id = $1")
            .bind(role.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM roles WHERE id = $1").bind(role.0).execute(&mut *tx).await?;
        self.commit(tx, events).await
    }

    /// Sets the positions of roles.
    pub async fn set_role_positions(&self, positions: &[(Id, i64)], events: &[NewEvent]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for (id, position) in positions {
            sqlx::query("UPDATE roles SET position = $1 WHERE id = $2")
                .bind(position)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx, events).await
    }

    /// Gives (`on`) or takes a role; returns whether anything changed (and
    /// logs `events` only then).
    pub async fn set_member_role(
        &self,
        ws: Id,
        user: Id,
        role: Id,
        on: bool,
        events: &[NewEvent],
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = if on {
            sqlx::query(
                "INSERT INTO member_roles (workspace_id, user_id, role_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (workspace_id, user_id, role_id) DO NOTHING",
            )
        } else {
            sqlx::query("DELETE FROM member_roles WHERE workspace_id = $1 AND user_id = $2 AND role_id = $3")
        }
        .bind(ws.0)
        .bind(user.0)
        .bind(role.0)
        .execute(&mut *tx)
        .await?;
        self.commit_if(tx, done.rows_affected() == 1, events).await
    }

    /// Workspace `ws` and `user`'s standing there (`None` when they are not
    /// a member); `None` when there is no such workspace. One query.
    pub async fn workspace_standing(
        &self,
        ws: Id,
        user: Id,
    ) -> Result<Option<(Workspace, Option<Standing>)>> {
        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            ws: super::workspaces::WorkspaceRow,
            is_guest: Option<i64>,
            timeout_until: Option<i64>,
            #[sqlx(flatten)]
            role: HeldRoleRow,
        }
        // One row per role the member holds; one row with no role for an outsider.
        let sql = format!(
            "SELECT {}, wm.is_guest, wm.timeout_until, {HELD_ROLE_COLUMNS} FROM workspaces w \
             LEFT JOIN workspace_members wm ON wm.workspace_id = w.id AND wm.user_id = $2 {HELD_ROLES} \
             WHERE w.id = $1",
            super::workspaces::WS_COLUMNS
        );
        let rows = sqlx::query_as::<_, Row>(&sql).bind(ws.0).bind(user.0).fetch_all(&self.pool).await?;
        let roles: Vec<HeldRole> = rows.iter().filter_map(|r| r.role.granted()).collect();
        let Some(first) = rows.into_iter().next() else { return Ok(None) };
        let member = first.is_guest.map(|is_guest| Standing {
            is_guest: is_guest != 0,
            timeout_until: first.timeout_until,
            roles,
        });
        Ok(Some((first.ws.into(), member)))
    }

    /// The colour of each member's highest coloured role in `ws` (the
    /// owner's is the Owner role's), of `users` only; members without one are absent.
    pub async fn name_colours(&self, ws: Id, users: &[Id]) -> Result<HashMap<Id, String>> {
        if users.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT wm.user_id, r.colour, r.position FROM workspace_members wm \
             JOIN workspaces w ON w.id = wm.workspace_id {COLOURING_ROLES} \
             WHERE wm.workspace_id = $1 AND wm.user_id IN ({}) ORDER BY r.position",
            (2..users.len() + 2).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
        );
        let q = sqlx::query_as::<_, (i64, String, i64)>(&sql).bind(ws.0);
        let rows = users.iter().fold(q, |q, u| q.bind(u.0)).fetch_all(&self.pool).await?;
        // Ascending positions: the highest coloured role is written last.
        Ok(rows.into_iter().map(|(user, colour, _)| (Id(user), colour)).collect())
    }

    pub async fn overrides(&self, channel: Id) -> Result<Vec<Override>> {
        Ok(self.overrides_of(&[channel]).await?.remove(&channel).unwrap_or_default())
    }

    /// The overrides of each of `channels`.
    pub async fn overrides_of(&self, channels: &[Id]) -> Result<HashMap<Id, Vec<Override>>> {
        if channels.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT channel_id, target_kind, target_id, allow_bits, deny_bits FROM channel_overrides \
             WHERE channel_id IN ({})",
            super::placeholders(channels.len())
        );
        let q = sqlx::query_as::<_, (i64, String, i64, i64, i64)>(&sql);
        let rows = channels.iter().fold(q, |q, c| q.bind(c.0)).fetch_all(&self.pool).await?;
        let mut out: HashMap<Id, Vec<Override>> = HashMap::new();
        for (channel, kind, target, allow, deny) in rows {
            let target = if kind == "role" {
                OverrideTarget::Role(Id(target))
            } else {
                OverrideTarget::Member(Id(target))
            };
            out.entry(Id(channel)).or_default().push(Override {
                target,
                allow: Perms::from_bits(allow),
                deny: Perms::from_bits(deny),
            });
        }
        Ok(out)
    }

    /// Sets a channel override; one with nothing allowed or denied is removed.
    pub async fn set_override(&self, channel: Id, o: &Override, events: &[NewEvent]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let (kind, target) = target_kind(o.target);
        if o.allow == Perms::NONE && o.deny == Perms::NONE {
            sqlx::query(
                "DELETE FROM channel_overrides WHERE channel_id = $1 AND target_kind = $2 AND target_id = $3",
            )
            .bind(channel.0)
            .bind(kind)
            .bind(target)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query(
                "INSERT INTO channel_overrides (channel_id, target_kind, target_id, allow_bits, deny_bits) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel_id, target_kind, target_id) \
                 DO UPDATE SET allow_bits = excluded.allow_bits, deny_bits = excluded.deny_bits",
            )
            .bind(channel.0)
            .bind(kind)
            .bind(target)
            .bind(o.allow.0 as i64)
            .bind(o.deny.0 as i64)
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx, events).await
    }

    /// Bans `user` from `ws` and removes them from it; returns the channels they left.
    /// Bans `user` and removes them from the workspace (see
    /// [`Store::remove_workspace_member`]).
    pub async fn ban(
        &self,
        ws: Id,
        user: Id,
        reason: &str,
        by: Id,
        now: i64,
        announce: impl FnOnce(&[Id]) -> Vec<crate::events::NewEvent>,
    ) -> Result<Vec<Id>> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO bans (workspace_id, user_id, reason, banned_by, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (workspace_id, user_id) DO UPDATE SET reason = excluded.reason",
        )
        .bind(ws.0)
        .bind(user.0)
        .bind(reason)
        .bind(by.0)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let left = Self::remove_member_in(&mut tx, ws, user).await?;
        self.commit(tx, &announce(&left)).await?;
        Ok(left)
    }

    /// Lifts a ban; returns whether there was one.
    pub async fn unban(&self, ws: Id, user: Id) -> Result<bool> {
        let done = sqlx::query("DELETE FROM bans WHERE workspace_id = $1 AND user_id = $2")
            .bind(ws.0)
            .bind(user.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn is_banned(&self, ws: Id, user: Id) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bans WHERE workspace_id = $1 AND user_id = $2")
            .bind(ws.0)
            .bind(user.0)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    pub async fn bans(&self, ws: Id) -> Result<Vec<Ban>> {
        let rows: Vec<(i64, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT u.id, u.username, u.display_name, b.reason, b.banned_by, b.created_at \
             FROM bans b JOIN users u ON u.id = b.user_id WHERE b.workspace_id = $1 ORDER BY b.created_at DESC",
        )
        .bind(ws.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, username, display_name, reason, by, at)| Ban {
                user: UserSummary::person(Id(id), username, display_name),
                reason,
                banned_by: Id(by),
                created_at: at,
            })
            .collect())
    }

    /// Sets or clears (`None`) a member's timeout.
    pub async fn set_timeout(&self, ws: Id, user: Id, until: Option<i64>, events: &[NewEvent]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE workspace_members SET timeout_until = $1 WHERE workspace_id = $2 AND user_id = $3",
        )
        .bind(until)
        .bind(ws.0)
        .bind(user.0)
        .execute(&mut *tx)
        .await?;
        self.commit(tx, events).await
    }

    /// Writes one line of the audit log.
    pub async fn add_audit(&self, entry: NewAudit<'_>) -> Result<()> {
        let mut tx = self.write_tx().await?;
        Self::add_audit_in(&mut tx, entry).await?;
        self.commit(tx, &[]).await
    }

    /// [`Store::add_audit`] in `tx`.
    pub(super) async fn add_audit_in(tx: &mut super::Tx, entry: NewAudit<'_>) -> Result<()> {
        let NewAudit { ws, actor, action, target_user, target_id, summary, channel } = entry;
        let id = Id::new();
        sqlx::query(
            "INSERT INTO audit_log (id, workspace_id, actor_id, action, target_user, target_id, summary, created_at, \
             channel_id, channel_private) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.0)
        .bind(ws.0)
        .bind(actor.0)
        .bind(action)
        .bind(target_user.map(|u| u.0))
        .bind(target_id.map(|t| t.0))
        .bind(summary)
        .bind(id.timestamp_ms())
        .bind(channel.map(|c| c.id.0))
        .bind(channel.is_some_and(|c| c.is_private) as i64)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The audit log of `ws`, newest first, narrowed by `filter`.
    pub async fn audit_log(&self, ws: Id, filter: &AuditFilter, limit: i64) -> Result<Vec<AuditEntry>> {
        #[derive(FromRow)]
        struct Row {
            id: i64,
            actor_id: i64,
            actor_username: String,
            actor_name: String,
            action: String,
            target_user: Option<i64>,
            target_username: Option<String>,
            target_name: Option<String>,
            target_id: Option<i64>,
            summary: String,
            created_at: i64,
            channel_id: Option<i64>,
            channel_private: i64,
        }
        let mut sql = String::from(
            "SELECT a.id, a.actor_id, u.username AS actor_username, u.display_name AS actor_name, a.action, \
             a.target_user, t.username AS target_username, t.display_name AS target_name, a.target_id, a.summary, \
             a.created_at, a.channel_id, a.channel_private FROM audit_log a JOIN users u ON u.id = a.actor_id LEFT JOIN users t ON t.id = a.target_user \
             WHERE a.workspace_id = $1",
        );
        let mut n = 1;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let (mut ints, mut text) = (Vec::new(), None);
        if let Some(action) = &filter.action {
            // `member` matches `member.ban`, `member.kick`...
            sql += &format!(" AND (a.action = {} OR a.action LIKE {})", next(), next());
            text = Some(action.clone());
        }
        if let Some(actor) = filter.actor {
            sql += &format!(" AND a.actor_id = {}", next());
            ints.push(actor.0);
        }
        if let Some(target) = filter.target_user {
            sql += &format!(" AND a.target_user = {}", next());
            ints.push(target.0);
        }
        if let Some(before) = filter.before {
            sql += &format!(" AND a.id < {}", next());
            ints.push(before.0);
        }
        sql += &format!(" ORDER BY a.id DESC LIMIT {}", next());
        ints.push(limit);
        let mut q = sqlx::query_as::<_, Row>(&sql).bind(ws.0);
        if let Some(action) = text {
            q = q.bind(action.clone()).bind(format!("{action}.%"));
        }
        let rows = ints.into_iter().fold(q, |q, i| q.bind(i)).fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                id: Id(r.id),
                workspace_id: ws,
                actor: UserSummary::person(Id(r.actor_id), r.actor_username, r.actor_name),
                action: r.action,
                target_user: match (r.target_user, r.target_username, r.target_name) {
                    (Some(id), Some(username), Some(display_name)) => {
                        Some(UserSummary::person(Id(id), username, display_name))
                    }
                    _ => None,
                },
                target_id: r.target_id.map(Id),
                summary: r.summary,
                created_at: r.created_at,
                channel: r.channel_id.map(|c| (Id(c), r.channel_private != 0)),
            })
            .collect())
    }
}
