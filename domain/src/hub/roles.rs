//! Roles, member roles, channel overrides, channel settings, categories and
//! the order of channels: what the settings pages change. Every change is
//! written to the audit log and announced with `WorkspaceUpdated`, on which
//! pages and gateway connections re-read what their person may see.

use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind, NewEvent};
use crate::id::Id;
use crate::input::{CategoryName, Colour, RoleName};
use crate::model::{Category, Channel, ChannelKind, Role};
use crate::permissions::{self, Builtin, Override, OverrideTarget, Perm, Perms};
use crate::store::NewAudit;
use std::collections::HashMap;

/// What a role's editor sends.
#[derive(Debug, Clone)]
pub struct RoleChange {
    pub name: String,
    pub colour: String,
    pub permissions: Perms,
}

/// A channel's type and flags, as its settings page sends them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelSettings {
    pub kind: ChannelKind,
    pub is_private: bool,
    pub is_external: bool,
    pub auto_join: bool,
    pub archived: bool,
    /// Kept out of search, and not quoted in notifications.
    pub sensitive: bool,
    /// For voice channels (0: no limit).
    pub user_limit: i64,
}

fn names(p: Perms) -> String {
    let list: Vec<&str> = p.list().into_iter().map(Perm::name).collect();
    if list.is_empty() { "nothing".into() } else { list.join(", ") }
}

impl Hub {
    /// What announces that roles, permissions, channels' settings or
    /// timeouts changed in `ws`, logged in the change's own transaction: it
    /// carries nothing but the workspace's id, for pages to read again what
    /// they show (and connections what they follow). After the commit,
    /// [`Hub::refresh_calls`] has calls re-read who may speak or stay.
    pub(super) fn workspace_updated(ws: Id) -> NewEvent {
        NewEvent::new(Audience::Workspace(ws), EventKind::WorkspaceUpdated { workspace_id: ws })
    }

    pub(super) async fn audit(
        &self,
        ws: Id,
        actor: Id,
        action: &str,
        target_user: Option<Id>,
        target_id: Option<Id>,
        summary: String,
    ) -> Result<()> {
        let summary = &summary;
        let entry = NewAudit { ws, actor, action, target_user, target_id, summary, channel: None };
        self.store.add_audit(entry).await
    }

    /// Records an action concerning channel `ch` (in its workspace's log):
    /// its details are shown only to who may read the channel.
    pub(super) async fn audit_in(
        &self,
        ch: &Channel,
        actor: Id,
        action: &str,
        target_user: Option<Id>,
        target_id: Option<Id>,
        summary: String,
    ) -> Result<()> {
        let (ws, summary) = (ch.workspace_id, &summary);
        let entry = NewAudit { ws, actor, action, target_user, target_id, summary, channel: Some(ch) };
        self.store.add_audit(entry).await
    }

    /// A workspace's roles, highest first.
    pub async fn roles(&self, actor: Id, ws: Id) -> Result<Vec<Role>> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        self.store.roles(ws).await
    }

    async fn role_in(&self, ws: Id, role: Id) -> Result<Role> {
        match self.store.role(role).await? {
            Some(r) if r.workspace_id == ws => Ok(r),
            _ => Err(Error::NotFound(Thing::Role)),
        }
    }

    /// Creates a custom role just above Member.
    pub async fn create_role(&self, actor: Id, ws: Id, change: RoleChange) -> Result<Role> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        let position = Builtin::Member.position() + 1;
        permissions::manage_role(facts, position - 1, false)?;
        permissions::grant(facts, change.permissions)?;
        let role = Role {
            id: Id::new(),
            workspace_id: ws,
            name: RoleName::parse(&change.name)?.into_inner(),
            colour: Colour::parse(&change.colour)?.into_inner(),
            position,
            permissions: change.permissions,
            builtin: None,
        };
        self.store.create_role(&role, &[Self::workspace_updated(ws)]).await?;
        let summary = format!("Created role {} with {}", role.name, names(role.permissions));
        self.audit(ws, actor, "role.create", None, Some(role.id), summary).await?;
        self.refresh_calls(ws).await?;
        Ok(role)
    }

    /// Changes a role's name, colour and permissions (built-in roles keep their names).
    pub async fn update_role(&self, actor: Id, ws: Id, role: Id, change: RoleChange) -> Result<Role> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        let mut role = self.role_in(ws, role).await?;
        permissions::manage_role(facts, role.position, role.builtin == Some(Builtin::Owner))?;
        permissions::grant(facts, Perms(change.permissions.0 & !role.permissions.0))?;
        let name = RoleName::parse(&change.name)?.into_inner();
        if role.builtin.is_some() && name != role.name {
            return Err(Error::invalid("name", "Built-in roles keep their names."));
        }
        let before = role.clone();
        role.name = name;
        role.colour = Colour::parse(&change.colour)?.into_inner();
        role.permissions = change.permissions;
        self.store.update_role(&role, &[Self::workspace_updated(ws)]).await?;
        let mut said = Vec::new();
        if before.name != role.name {
            said.push(format!("renamed from {}", before.name));
        }
        if before.colour != role.colour {
            said.push(format!("colour {}", if role.colour.is_empty() { "none" } else { &role.colour }));
        }
        let added = Perms(role.permissions.0 & !before.permissions.0);
        let removed = Perms(before.permissions.0 & !role.permissions.0);
        if added != Perms::NONE {
            said.push(format!("granted {}", names(added)));
        }
        if removed != Perms::NONE {
            said.push(format!("revoked {}", names(removed)));
        }
        let summary = format!(
            "Role {}: {}",
            role.name,
            if said.is_empty() { "no change".into() } else { said.join("; ") }
        );
        self.audit(ws, actor, "role.update", None, Some(role.id), summary).await?;
        self.refresh_calls(ws).await?;
        Ok(role)
    }

    pub async fn delete_role(&self, actor: Id, ws: Id, role: Id) -> Result<()> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        let role = self.role_in(ws, role).await?;
        permissions::manage_role(facts, role.position, role.builtin == Some(Builtin::Owner))?;
        if role.builtin.is_some() {
            return Err(Error::forbidden("Built-in roles cannot be deleted."));
        }
        self.store.delete_role(role.id, &[Self::workspace_updated(ws)]).await?;
        self.audit(ws, actor, "role.delete", None, Some(role.id), format!("Deleted role {}", role.name))
            .await?;
        self.refresh_calls(ws).await?;
        Ok(())
    }

    /// Puts the roles below `actor`'s highest (Member and Guest aside) in
    /// the order given, highest first. `order` names each of them once.
    pub async fn reorder_roles(&self, actor: Id, ws: Id, order: &[Id]) -> Result<Vec<Role>> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::workspace_permission(facts, Perm::ManageRoles)?;
        let roles = self.store.roles(ws).await?;
        let movable: Vec<&Role> = roles
            .iter()
            .filter(|r| {
                r.position < facts.top
                    && !matches!(r.builtin, Some(Builtin::Member | Builtin::Guest | Builtin::Owner))
            })
            .collect();
        let mut given = order.to_vec();
        given.sort();
        given.dedup();
        let mut expected: Vec<Id> = movable.iter().map(|r| r.id).collect();
        expected.sort();
        if given.len() != order.len() || given != expected {
            return Err(Error::invalid(
                "order",
                "List every role below your highest role once (Member and Guest stay at the bottom).",
            ));
        }
        let mut slots: Vec<i64> = movable.iter().map(|r| r.position).collect();
        slots.sort_by(|a, b| b.cmp(a));
        let positions: Vec<(Id, i64)> = order.iter().copied().zip(slots).collect();
        self.store.set_role_positions(&positions, &[Self::workspace_updated(ws)]).await?;
        let by_id = |id: Id| roles.iter().find(|r| r.id == id).map(|r| r.name.clone()).unwrap_or_default();
        let summary =
            format!("Role order: {}", order.iter().map(|id| by_id(*id)).collect::<Vec<_>>().join(" > "));
        self.audit(ws, actor, "role.reorder", None, None, summary).await?;
        self.refresh_calls(ws).await?;
        self.store.roles(ws).await
    }

    /// Gives a member a role (`on`) or takes it away.
    pub async fn set_member_role(&self, actor: Id, ws: Id, user: Id, role: Id, on: bool) -> Result<()> {
        let (workspace, facts) = self.workspace_facts(ws, actor).await?;
        let role = self.role_in(ws, role).await?;
        permissions::manage_role(facts, role.position, role.builtin == Some(Builtin::Owner))?;
        if matches!(role.builtin, Some(Builtin::Member | Builtin::Guest)) {
            return Err(Error::invalid(
                "role",
                "Every member holds Member, and every guest Guest; they are not given.",
            ));
        }
        let (target, _) = self.standing(&workspace, user).await?;
        if !target.is_member {
            return Err(Error::NotFound(Thing::User));
        }
        if user != actor && target.top >= facts.top {
            return Err(Error::forbidden(
                "You can only change the roles of members whose highest role is below yours.",
            ));
        }
        if self.store.set_member_role(ws, user, role.id, on, &[Self::workspace_updated(ws)]).await? {
            let (action, verb) =
                if on { ("member.role_add", "Gave") } else { ("member.role_remove", "Took") };
            let summary = format!("{verb} role {}", role.name);
            self.audit(ws, actor, action, Some(user), Some(role.id), summary).await?;
            self.refresh_calls(ws).await?;
        }
        Ok(())
    }

    /// The overrides set on a channel.
    pub async fn overrides(&self, actor: Id, channel: Id) -> Result<Vec<Override>> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::manage_channel(facts)?;
        self.store.overrides(ch.id).await
    }

    /// The overrides of every channel of `ws` that `actor` may change, by
    /// channel (those without any are left out), for the settings page.
    pub async fn manageable_overrides(&self, actor: Id, ws: Id) -> Result<HashMap<Id, Vec<Override>>> {
        let (_, listings) = self.visible_listings(ws, actor).await?;
        let ids: Vec<Id> = listings
            .iter()
            .filter(|(_, facts)| permissions::manage_channel(*facts).is_ok())
            .map(|(l, _)| l.channel.id)
            .collect();
        self.store.overrides_of(&ids).await
    }

    /// Sets what a role or a member is allowed and denied in one channel
    /// (nothing in either: the override is removed).
    pub async fn set_override(&self, actor: Id, channel: Id, o: Override) -> Result<()> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::manage_channel(facts)?;
        if o.allow.0 & o.deny.0 != 0 {
            return Err(Error::invalid("permissions", "A permission cannot be both allowed and denied."));
        }
        let channel_wide = Perms::of(&Perm::CHANNEL);
        if !channel_wide.contains(o.allow) || !channel_wide.contains(o.deny) {
            return Err(Error::invalid("permissions", "Only channel permissions can be set per channel."));
        }
        permissions::grant(facts.ws, o.allow)?;
        let target = match o.target {
            OverrideTarget::Role(r) => self.role_in(ch.workspace_id, r).await?.name,
            OverrideTarget::Member(u) => {
                if !self.store.is_workspace_member(ch.workspace_id, u).await? {
                    return Err(Error::NotFound(Thing::User));
                }
                let user = self.store.user(u).await?.ok_or(Error::NotFound(Thing::User))?;
                format!("@{}", user.username)
            }
        };
        self.store.set_override(ch.id, &o, &[Self::workspace_updated(ch.workspace_id)]).await?;
        let summary = format!("#{}: {target} allowed {}, denied {}", ch.name, names(o.allow), names(o.deny));
        let target_user = match o.target {
            OverrideTarget::Member(u) => Some(u),
            OverrideTarget::Role(_) => None,
        };
        self.audit_in(&ch, actor, "channel.permissions", target_user, Some(ch.id), summary).await?;
        self.refresh_calls(ch.workspace_id).await?;
        Ok(())
    }

    /// Changes a channel's type and flags; archiving makes it read-only.
    /// Guests leave a channel that stops being external.
    pub async fn configure_channel(&self, actor: Id, channel: Id, s: ChannelSettings) -> Result<Channel> {
        let (mut ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::manage_channel(facts)?;
        if s.kind == ChannelKind::Direct {
            return Err(Error::invalid("kind", "A channel cannot become a direct conversation."));
        }
        if !(0..=99).contains(&s.user_limit) {
            return Err(Error::invalid("user_limit", "A user limit is 0 (no limit) to 99."));
        }
        let before = ch.clone();
        ch.kind = s.kind;
        ch.is_private = s.is_private;
        ch.is_external = s.is_external;
        ch.auto_join = s.auto_join && !s.is_private;
        ch.sensitive = s.sensitive;
        ch.user_limit = if s.kind == ChannelKind::Voice { s.user_limit } else { 0 };
        ch.archived_at = match (before.archived_at, s.archived) {
            (Some(t), true) => Some(t),
            (None, true) => Some(crate::now_ms()),
            (_, false) => None,
        };
        let updated = [super::channels::channel_updated(&ch), Self::workspace_updated(ch.workspace_id)];
        self.store.update_channel(&ch, &updated).await?;
        if before.sensitive && !ch.sensitive {
            self.store.restore_search_text(ch.id).await?;
        }
        if before.is_external && !ch.is_external {
            for m in self.store.workspace_members(ch.workspace_id).await?.into_iter().filter(|m| m.is_guest) {
                let gone = super::channels::channel_member_gone(ch.id, m.user.id);
                self.store.remove_channel_member(ch.id, m.user.id, &gone).await?;
            }
        }
        let mut said = Vec::new();
        if before.kind != ch.kind {
            said.push(format!("type {}", ch.kind.as_str()));
        }
        for (was, now, yes, no) in [
            (before.is_private, ch.is_private, "private", "public"),
            (before.is_external, ch.is_external, "open to guests", "closed to guests"),
            (before.auto_join, ch.auto_join, "auto-join", "no auto-join"),
            (before.sensitive, ch.sensitive, "sensitive", "not sensitive"),
        ] {
            if was != now {
                said.push(if now { yes } else { no }.to_string());
            }
        }
        if before.user_limit != ch.user_limit {
            said.push(format!("user limit {}", ch.user_limit));
        }
        let action = match (before.archived_at.is_some(), ch.archived_at.is_some()) {
            (false, true) => "channel.archive",
            (true, false) => "channel.unarchive",
            _ => "channel.update",
        };
        let summary = format!(
            "#{}: {}",
            ch.name,
            if said.is_empty() { action.trim_start_matches("channel.").to_string() } else { said.join(", ") }
        );
        self.audit_in(&ch, actor, action, None, Some(ch.id), summary).await?;
        self.refresh_calls(ch.workspace_id).await?;
        Ok(ch)
    }

    /// The categories of a workspace, in order.
    pub async fn categories(&self, actor: Id, ws: Id) -> Result<Vec<Category>> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        self.store.categories(ws).await
    }

    pub async fn create_category(&self, actor: Id, ws: Id, name: &str) -> Result<Category> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::workspace_permission(facts, Perm::ManageChannels)?;
        let c = Category {
            id: Id::new(),
            workspace_id: ws,
            name: CategoryName::parse(name)?.into_inner(),
            position: 0,
        };
        self.store.create_category(&c, &[Self::workspace_updated(ws)]).await?;
        self.audit(ws, actor, "category.create", None, Some(c.id), format!("Created category {}", c.name))
            .await?;
        self.refresh_calls(ws).await?;
        Ok(c)
    }

    /// Renames a category, or deletes it (`None`); its channels stay, uncategorised.
    pub async fn change_category(&self, actor: Id, ws: Id, category: Id, name: Option<&str>) -> Result<()> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::workspace_permission(facts, Perm::ManageChannels)?;
        let name = name.map(CategoryName::parse).transpose()?;
        if !self
            .store
            .change_category(ws, category, name.as_ref().map(|n| n.as_str()), &[Self::workspace_updated(ws)])
            .await?
        {
            return Err(Error::NotFound(Thing::Category));
        }
        let (action, summary) = match name {
            Some(n) => ("category.update", format!("Renamed a category to {}", n.as_str())),
            None => ("category.delete", "Deleted a category".to_string()),
        };
        self.audit(ws, actor, action, None, Some(category), summary).await?;
        self.refresh_calls(ws).await?;
        Ok(())
    }

    /// Sets the order of categories and of channels (each with its
    /// category), as drag and drop leaves them. Channels not named keep
    /// their place after those named.
    pub async fn arrange_channels(
        &self,
        actor: Id,
        ws: Id,
        categories: &[Id],
        channels: &[(Id, Option<Id>)],
    ) -> Result<()> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::workspace_permission(facts, Perm::ManageChannels)?;
        let known_categories: Vec<Id> = self.store.categories(ws).await?.into_iter().map(|c| c.id).collect();
        let known_channels = self.store.channel_ids_in(ws).await?;
        if categories.iter().any(|c| !known_categories.contains(c))
            || channels.iter().any(|(ch, cat)| {
                !known_channels.contains(ch) || cat.is_some_and(|c| !known_categories.contains(&c))
            })
        {
            return Err(Error::invalid(
                "order",
                "The order names a channel or category that is not in this workspace.",
            ));
        }
        self.store.set_category_order(ws, categories).await?;
        let mut order = channels.to_vec();
        let named: Vec<Id> = channels.iter().map(|(c, _)| *c).collect();
        let rest = self.store.visible_channels(ws, actor).await?;
        order.extend(
            rest.into_iter()
                .filter(|l| l.channel.kind != ChannelKind::Direct && !named.contains(&l.channel.id))
                .map(|l| (l.channel.id, l.channel.category_id)),
        );
        self.store.set_channel_order(ws, &order, &[Self::workspace_updated(ws)]).await?;
        self.audit(ws, actor, "channel.reorder", None, None, "Rearranged the channels".into()).await?;
        self.refresh_calls(ws).await?;
        Ok(())
    }
}

impl Hub {
    /// `actor`'s standing in `ws` (their workspace-wide permissions and
    /// highest position), for pages that show or hide settings.
    pub async fn my_standing(&self, actor: Id, ws: Id) -> Result<permissions::WorkspaceFacts> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        Ok(facts)
    }
}
