use super::roles::{HELD_ROLE_COLUMNS, HELD_ROLES, HeldRoleRow, Standing};
use super::{Backend, Store};
use crate::error::Result;
use crate::events::NewEvent;
use crate::id::Id;
use crate::model::{Category, Channel, ChannelKind, ChannelListing, ReadMark, UserSummary, Workspace};
use crate::notify::Level;
use sqlx::FromRow;
use std::collections::HashMap;

#[derive(FromRow)]
struct ChannelRow {
    id: i64,
    workspace_id: i64,
    name: String,
    topic: String,
    is_private: i64,
    auto_join: i64,
    kind: String,
    is_external: i64,
    archived_at: Option<i64>,
    sensitive: i64,
    end_to_end: i64,
    shares_history: i64,
    user_limit: i64,
    category_id: Option<i64>,
    position: i64,
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
            kind: ChannelKind::from_db(&r.kind),
            is_external: r.is_external != 0,
            archived_at: r.archived_at,
            sensitive: r.sensitive != 0,
            end_to_end: r.end_to_end != 0,
            shares_history: r.shares_history != 0,
            user_limit: r.user_limit,
            category_id: r.category_id.map(Id),
            position: r.position,
            created_by: Id(r.created_by),
            created_at: r.created_at,
        }
    }
}

/// A channel, its workspace, and who someone is there (see
/// [`Store::channel_standing`]).
#[derive(Debug, Clone)]
pub struct ChannelStanding {
    pub channel: Channel,
    pub workspace: Workspace,
    /// Whether any permission override is set on the channel.
    pub overridden: bool,
    /// The person, if they have an account.
    pub person: Option<UserSummary>,
    /// The colour of their name in the workspace: that of their highest
    /// coloured role, empty without one.
    pub colour: String,
    /// Their standing in the workspace and whether they belong to the
    /// channel; `None` when they are not a member of the workspace.
    pub member: Option<(Standing, bool)>,
    /// The notification levels set for the channel, by person, when asked
    /// for (what posting there needs: read in the same query).
    pub levels: Option<HashMap<Id, Level>>,
}

const CH_COLUMNS: &str = "c.id, c.workspace_id, c.name, c.topic, c.is_private, c.auto_join, c.kind, \
     c.is_external, c.archived_at, c.sensitive, c.end_to_end, c.shares_history, c.user_limit, c.category_id, c.position, c.created_by, c.created_at";

impl Store {
    /// Inserts a channel and makes its creator a member, in `tx`.
    pub(super) async fn insert_channel(tx: &mut super::Tx, ch: &Channel) -> Result<()> {
        sqlx::query(
            "INSERT INTO channels (id, workspace_id, name, topic, is_private, auto_join, kind, \
             is_external, archived_at, user_limit, category_id, position, created_by, created_at, sensitive, \
             end_to_end) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
             (SELECT COALESCE(MAX(position) + 1, 0) FROM channels WHERE workspace_id = $12), $13, $14, $15, $16)",
        )
        .bind(ch.id.0)
        .bind(ch.workspace_id.0)
        .bind(&ch.name)
        .bind(&ch.topic)
        .bind(ch.is_private as i64)
        .bind(ch.auto_join as i64)
        .bind(ch.kind.as_str())
        .bind(ch.is_external as i64)
        .bind(ch.archived_at)
        .bind(ch.user_limit)
        .bind(ch.category_id.map(|c| c.0))
        .bind(ch.workspace_id.0)
        .bind(ch.created_by.0)
        .bind(ch.created_at)
        .bind(ch.sensitive as i64)
        .bind(ch.end_to_end as i64)
        .execute(&mut **tx)
        .await
        .map_err(name_taken)?;
        Self::insert_channel_member(tx, ch.id, ch.created_by, ch.created_at).await?;
        Ok(())
    }

    /// Adds a member in `tx`; returns whether they were not one already.
    /// A new member has read nothing before joining: what is there already
    /// does not count as unread.
    pub(super) async fn insert_channel_member(
        tx: &mut super::Tx,
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
        if done.rows_affected() == 1 {
            sqlx::query(
                "INSERT INTO channel_reads (channel_id, user_id, last_read_id) \
                 SELECT $1, $2, COALESCE(MAX(id), 0) FROM messages WHERE channel_id = $3 \
                 ON CONFLICT (channel_id, user_id) DO NOTHING",
            )
            .bind(channel.0)
            .bind(user.0)
            .bind(channel.0)
            .execute(&mut **tx)
            .await?;
        }
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn auto_join_channels(tx: &mut super::Tx, ws: Id) -> Result<Vec<Channel>> {
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
    /// Creates a channel (its creator a member) with `members` in it too.
    pub async fn create_channel(&self, ch: &Channel, members: &[Id], events: &[NewEvent]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        Self::insert_channel(&mut tx, ch).await?;
        for m in members {
            Self::insert_channel_member(&mut tx, ch.id, *m, ch.created_at).await?;
        }
        self.commit(tx, events).await
    }

    pub async fn channel(&self, id: Id) -> Result<Option<Channel>> {
        let sql = format!("SELECT {CH_COLUMNS} FROM channels c WHERE c.id = $1");
        Ok(sqlx::query_as::<_, ChannelRow>(&sql).bind(id.0).fetch_optional(&self.pool).await?.map(Into::into))
    }

    /// A channel, its workspace, and who `user` is there: what every
    /// operation on a channel needs before it asks the rules, read in one
    /// query (`None`: no such channel); with `levels`, the channel's
    /// notification levels too (see [`Store::channel_levels`]).
    pub async fn channel_standing(&self, id: Id, user: Id, levels: bool) -> Result<Option<ChannelStanding>> {
        #[derive(FromRow)]
        struct Row {
            #[sqlx(flatten)]
            ch: ChannelRow,
            ws_name: String,
            ws_description: String,
            ws_icon: String,
            ws_is_private: i64,
            ws_owner_id: i64,
            ws_created_at: i64,
            overridden: i64,
            in_channel: i64,
            levels: Option<String>,
            username: Option<String>,
            display_name: Option<String>,
            is_bot: Option<i64>,
            is_guest: Option<i64>,
            timeout_until: Option<i64>,
            #[sqlx(flatten)]
            role: HeldRoleRow,
        }
        // One row per role the member holds (their Owner role included, for
        // its colour); one row with no role for an outsider. The levels as
        // `user:level,user:level`.
        let levels_sql = match (levels, self.backend) {
            (false, _) => "NULL",
            (true, Backend::Sqlite) => {
                "(SELECT group_concat(l.user_id || ':' || l.level, ',') FROM channel_notify_levels l \
                  WHERE l.channel_id = c.id)"
            }
            (true, Backend::Postgres) => {
                "(SELECT string_agg(l.user_id || ':' || l.level, ',') FROM channel_notify_levels l \
                  WHERE l.channel_id = c.id)"
            }
        };
        let sql = format!(
            "SELECT {CH_COLUMNS}, w.name AS ws_name, w.description AS ws_description, w.icon AS ws_icon, \
               w.is_private AS ws_is_private, w.owner_id AS ws_owner_id, w.created_at AS ws_created_at, \
               (SELECT COUNT(*) FROM channel_overrides o WHERE o.channel_id = c.id) AS overridden, \
               (SELECT COUNT(*) FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = $2) AS in_channel, \
               {levels_sql} AS levels, u.username, u.display_name, u.is_bot, wm.is_guest, wm.timeout_until, {HELD_ROLE_COLUMNS} \
             FROM channels c JOIN workspaces w ON w.id = c.workspace_id \
             LEFT JOIN users u ON u.id = $2 \
             LEFT JOIN workspace_members wm ON wm.workspace_id = c.workspace_id AND wm.user_id = $2 \
             {HELD_ROLES} \
             WHERE c.id = $1"
        );
        let rows = sqlx::query_as::<_, Row>(&sql).bind(id.0).bind(user.0).fetch_all(&self.pool).await?;
        let is_owner = rows.first().is_some_and(|r| r.ws_owner_id == user.0);
        let (mut roles, mut colour, mut colour_position) = (Vec::new(), String::new(), i64::MIN);
        for r in &rows {
            let Some(held) = r.role.held() else { continue };
            // The owner's name takes the Owner role's colour, not Member's
            // (the rule of `roles::COLOURING_ROLES`).
            let colours = !is_owner || r.role.role_builtin.as_deref() != Some("member");
            let role_colour = r.role.role_colour.as_deref().unwrap_or("");
            if colours && !role_colour.is_empty() && held.position > colour_position {
                colour_position = held.position;
                colour = role_colour.to_string();
            }
            roles.extend(r.role.granted());
        }
        let Some(first) = rows.into_iter().next() else { return Ok(None) };
        let person = match (first.username, first.display_name) {
            (Some(username), Some(display_name)) => {
                Some(UserSummary { id: user, username, display_name, is_bot: first.is_bot == Some(1) })
            }
            _ => None,
        };
        let member = first.is_guest.map(|is_guest| {
            let standing = Standing { is_guest: is_guest != 0, timeout_until: first.timeout_until, roles };
            (standing, first.in_channel > 0)
        });
        let standing = ChannelStanding {
            workspace: Workspace {
                id: Id(first.ch.workspace_id),
                name: first.ws_name,
                description: first.ws_description,
                icon: first.ws_icon,
                is_private: first.ws_is_private != 0,
                owner_id: Id(first.ws_owner_id),
                created_at: first.ws_created_at,
            },
            channel: first.ch.into(),
            overridden: first.overridden > 0,
            levels: levels.then(|| parse_levels(first.levels.as_deref().unwrap_or(""))),
            person,
            colour,
            member,
        };
        Ok(Some(standing))
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
             ORDER BY c.position, c.name"
        );
        Ok(sqlx::query_as::<_, Row>(&sql)
            .bind(user.0)
            .bind(ws.0)
            .bind(0i64)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|r| ChannelListing::new(r.ch.into(), r.member.is_some()))
            .collect())
    }

    /// Per channel of `ws` that `user` belongs to: (unread, mentions) among
    /// top-level messages by others newer than what they have read. In a
    /// direct conversation every unread message counts as a mention.
    pub async fn unread_counts(&self, ws: Id, user: Id) -> Result<HashMap<Id, (i64, i64)>> {
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT c.id, \
               COUNT(m.id), \
               COALESCE(SUM(CASE WHEN c.kind = 'direct' OR m.mentions_all = 1 OR EXISTS \
                 (SELECT 1 FROM mentions x WHERE x.message_id = m.id AND x.user_id = $1) THEN 1 ELSE 0 END), 0) \
             FROM channel_reads r JOIN channels c ON c.id = r.channel_id \
             JOIN messages m ON m.channel_id = c.id AND m.id > r.last_read_id AND m.thread_id IS NULL \
               AND m.deleted_at IS NULL AND m.author_id <> $2 \
             WHERE r.user_id = $3 AND c.workspace_id = $4 \
             GROUP BY c.id",
        )
        .bind(user.0)
        .bind(user.0)
        .bind(user.0)
        .bind(ws.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(c, unread, mentions)| (Id(c), (unread, mentions))).collect())
    }

    /// The members of each of `channels`, by display name.
    pub async fn members_of_channels(&self, channels: &[Id]) -> Result<HashMap<Id, Vec<UserSummary>>> {
        let mut out: HashMap<Id, Vec<UserSummary>> = HashMap::new();
        if channels.is_empty() {
            return Ok(out);
        }
        let placeholders: Vec<String> = (1..=channels.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT cm.channel_id, u.id, u.username, u.display_name, u.is_bot FROM channel_members cm \
             JOIN users u ON u.id = cm.user_id WHERE cm.channel_id IN ({}) ORDER BY u.display_name, u.id",
            placeholders.join(", ")
        );
        let mut q = sqlx::query_as::<_, (i64, i64, String, String, i64)>(&sql);
        for c in channels {
            q = q.bind(c.0);
        }
        for (c, id, username, display_name, is_bot) in q.fetch_all(&self.pool).await? {
            let user = UserSummary { id: Id(id), username, display_name, is_bot: is_bot != 0 };
            out.entry(Id(c)).or_default().push(user);
        }
        Ok(out)
    }

    /// The channel of `ws` with this exact name.
    pub async fn channel_by_name(&self, ws: Id, name: &str) -> Result<Option<Channel>> {
        let sql = format!("SELECT {CH_COLUMNS} FROM channels c WHERE c.workspace_id = $1 AND c.name = $2");
        Ok(sqlx::query_as::<_, ChannelRow>(&sql)
            .bind(ws.0)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .map(Into::into))
    }

    /// Creates a direct conversation with its members, unless one with the
    /// same name (the same people) exists: then that one is returned, with `false`.
    pub async fn create_direct(
        &self,
        ch: &Channel,
        members: &[Id],
        events: &[NewEvent],
    ) -> Result<(Channel, bool)> {
        let mut tx = self.write_tx().await?;
        match Self::insert_channel(&mut tx, ch).await {
            Ok(()) => {}
            Err(crate::Error::Conflict { .. }) => {
                tx.rollback().await?;
                let existing = self.channel_by_name(ch.workspace_id, &ch.name).await?;
                return Ok((existing.ok_or(crate::Error::NotFound(crate::error::Thing::Channel))?, false));
            }
            Err(e) => return Err(e),
        }
        for m in members {
            Self::insert_channel_member(&mut tx, ch.id, *m, ch.created_at).await?;
        }
        self.commit(tx, events).await?;
        Ok((ch.clone(), true))
    }

    /// Writes what can change of a channel: name, topic, type, flags,
    /// archive time, user limit and category. A name taken in the workspace
    /// is a conflict on `name`. A channel made sensitive leaves search at
    /// once, in the same transaction (one made ordinary again comes back
    /// through [`Store::restore_search_text`]).
    pub async fn update_channel(&self, ch: &Channel, events: &[NewEvent]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        if ch.sensitive {
            sqlx::query("UPDATE messages SET search_text = '' WHERE channel_id = $1 AND search_text <> ''")
                .bind(ch.id.0)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE channels SET name = $1, topic = $2, kind = $3, is_private = $4, is_external = $5, \
             auto_join = $6, archived_at = $7, user_limit = $8, category_id = $9, sensitive = $10 WHERE id = $11",
        )
        .bind(&ch.name)
        .bind(&ch.topic)
        .bind(ch.kind.as_str())
        .bind(ch.is_private as i64)
        .bind(ch.is_external as i64)
        .bind(ch.auto_join as i64)
        .bind(ch.archived_at)
        .bind(ch.user_limit)
        .bind(ch.category_id.map(|c| c.0))
        .bind(ch.sensitive as i64)
        .bind(ch.id.0)
        .execute(&mut *tx)
        .await
        .map_err(name_taken)?;
        self.commit(tx, events).await
    }

    /// Deletes a channel with its messages, members and invites; returns
    /// the attachments whose files are to be removed.
    pub async fn delete_channel(&self, id: Id, events: &[NewEvent]) -> Result<Vec<Id>> {
        let mut tx = self.write_tx().await?;
        let files: Vec<i64> = sqlx::query_scalar(
            "SELECT a.id FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.channel_id = $1",
        )
        .bind(id.0)
        .fetch_all(&mut *tx)
        .await?;
        // Replies reference their thread's first message: remove them first.
        sqlx::query("DELETE FROM messages WHERE channel_id = $1 AND thread_id IS NOT NULL")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM channels WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        self.commit(tx, events).await?;
        Ok(files.into_iter().map(Id).collect())
    }

    /// Moves `user`'s read mark in `channel` forward to `message` (never back);
    /// returns whether it moved (only then are `events` logged).
    pub async fn mark_read(&self, channel: Id, user: Id, message: Id, events: &[NewEvent]) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "INSERT INTO channel_reads (channel_id, user_id, last_read_id) VALUES ($1, $2, $3) \
             ON CONFLICT (channel_id, user_id) DO UPDATE SET last_read_id = excluded.last_read_id \
             WHERE channel_reads.last_read_id < excluded.last_read_id",
        )
        .bind(channel.0)
        .bind(user.0)
        .bind(message.0)
        .execute(&mut *tx)
        .await?;
        self.commit_if(tx, done.rows_affected() == 1, events).await
    }

    /// How far each member of `channel` has read.
    pub async fn read_marks(&self, channel: Id) -> Result<Vec<ReadMark>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT r.user_id, r.last_read_id FROM channel_reads r \
             JOIN channel_members cm ON cm.channel_id = r.channel_id AND cm.user_id = r.user_id \
             WHERE r.channel_id = $1 ORDER BY r.user_id",
        )
        .bind(channel.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(u, m)| ReadMark { user_id: Id(u), last_read_id: Id(m) }).collect())
    }

    /// The newest top-level message of a channel, and how far `user` has
    /// read it (0 for none).
    pub async fn read_position(&self, channel: Id, user: Id) -> Result<(Id, Id)> {
        let (latest, read): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT MAX(id) FROM messages WHERE channel_id = $1 AND thread_id IS NULL), \
             (SELECT last_read_id FROM channel_reads WHERE channel_id = $1 AND user_id = $2)",
        )
        .bind(channel.0)
        .bind(user.0)
        .fetch_one(&self.pool)
        .await?;
        Ok((Id(latest.unwrap_or(0)), Id(read.unwrap_or(0))))
    }

    /// Sets the order of a workspace's channels: each gets its category and
    /// its place in the order given.
    pub async fn set_channel_order(
        &self,
        ws: Id,
        order: &[(Id, Option<Id>)],
        events: &[NewEvent],
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for (i, (channel, category)) in order.iter().enumerate() {
            sqlx::query(
                "UPDATE channels SET category_id = $1, position = $2 WHERE id = $3 AND workspace_id = $4",
            )
            .bind(category.map(|c| c.0))
            .bind(i as i64)
            .bind(channel.0)
            .bind(ws.0)
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx, events).await
    }

    pub async fn create_category(&self, c: &Category, events: &[NewEvent]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO categories (id, workspace_id, name, position) \
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(position) + 1, 0) FROM categories WHERE workspace_id = $4))",
        )
        .bind(c.id.0)
        .bind(c.workspace_id.0)
        .bind(&c.name)
        .bind(c.workspace_id.0)
        .execute(&mut *tx)
        .await?;
        self.commit(tx, events).await
    }

    /// A workspace's categories, in order.
    pub async fn categories(&self, ws: Id) -> Result<Vec<Category>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT id, name, position FROM categories WHERE workspace_id = $1 ORDER BY position, id",
        )
        .bind(ws.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, position)| Category { id: Id(id), workspace_id: ws, name, position })
            .collect())
    }

    /// Renames a category (`Some`) or deletes it (`None`: its channels
    /// become uncategorised); returns whether it existed in `ws` (and logs
    /// `events` only then).
    pub async fn change_category(
        &self,
        ws: Id,
        id: Id,
        name: Option<&str>,
        events: &[NewEvent],
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = match name {
            Some(name) => {
                sqlx::query("UPDATE categories SET name = $1 WHERE id = $2 AND workspace_id = $3").bind(name)
            }
            None => sqlx::query("DELETE FROM categories WHERE id = $1 AND workspace_id = $2"),
        }
        .bind(id.0)
        .bind(ws.0)
        .execute(&mut *tx)
        .await?;
        self.commit_if(tx, done.rows_affected() == 1, events).await
    }

    /// Sets the order of a workspace's categories.
    pub async fn set_category_order(&self, ws: Id, order: &[Id]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for (i, id) in order.iter().enumerate() {
            sqlx::query("UPDATE categories SET position = $1 WHERE id = $2 AND workspace_id = $3")
                .bind(i as i64)
                .bind(id.0)
                .bind(ws.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The ids of every channel of `ws`, direct conversations aside.
    pub async fn channel_ids_in(&self, ws: Id) -> Result<Vec<Id>> {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM channels WHERE workspace_id = $1 AND kind <> $2")
                .bind(ws.0)
                .bind(ChannelKind::Direct.as_str())
                .fetch_all(&self.pool)
                .await?;
        Ok(ids.into_iter().map(Id).collect())
    }

    /// The encrypted conversations of `ws` that `user` is not a member of.
    pub async fn encrypted_channels_without(&self, ws: Id, user: Id) -> Result<Vec<Channel>> {
        let sql = format!(
            "SELECT {CH_COLUMNS} FROM channels c WHERE c.workspace_id = $1 AND c.end_to_end = 1 \
             AND NOT EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.id AND m.user_id = $2) \
             ORDER BY c.id"
        );
        let rows =
            sqlx::query_as::<_, ChannelRow>(&sql).bind(ws.0).bind(user.0).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Adds a member; returns whether they are new (only then are `events` logged).
    pub async fn add_channel_member(
        &self,
        channel: Id,
        user: Id,
        now: i64,
        events: &[NewEvent],
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let added = Self::insert_channel_member(&mut tx, channel, user, now).await?;
        self.commit_if(tx, added, events).await
    }

    /// Removes a member (and their read mark); returns whether they were one
    /// (only then are `events` logged).
    pub async fn remove_channel_member(&self, channel: Id, user: Id, events: &[NewEvent]) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2")
            .bind(channel.0)
            .bind(user.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM channel_reads WHERE channel_id = $1 AND user_id = $2")
            .bind(channel.0)
            .bind(user.0)
            .execute(&mut *tx)
            .await?;
        self.commit_if(tx, done.rows_affected() == 1, events).await
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

/// A channel name taken in its workspace, as the person should read it.
fn name_taken(e: sqlx::Error) -> crate::error::Error {
    super::conflict_or(
        e,
        "name",
        "A channel with that name exists in this workspace already. Choose another name.",
    )
}

/// Levels as `user:level,user:level` (see [`Store::channel_standing`]).
fn parse_levels(text: &str) -> HashMap<Id, Level> {
    let level = |pair: &str| {
        let (user, level) = pair.split_once(':')?;
        Some((Id(user.parse().ok()?), Level::parse(level)?))
    };
    text.split(',').filter_map(level).collect()
}
