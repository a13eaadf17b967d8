//! Server functions of the workspace settings page: roles, members
//! (roles, kick, ban, timeout), channels (type, flags, permission
//! overrides, categories and order), guest invites and the audit log.

use crate::wire::{
    ApiError, AuditEntryDto, BanDto, CategoryDto, ChannelDto, InviteDto, MeDto, MemberDto, OverrideDto,
    PermissionDto, RoleDto, WorkspaceDto,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything the settings page shows; the parts the reader may not manage are empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsViewDto {
    pub me: MeDto,
    pub workspace: WorkspaceDto,
    /// The reader's workspace-wide permissions.
    pub my_permissions: Vec<String>,
    /// The reader's highest role position (roles at or above it are not theirs to change).
    pub my_top: i64,
    pub roles: Vec<RoleDto>,
    pub members: Vec<MemberDto>,
    /// Every channel the reader can see, archived ones included.
    pub channels: Vec<ChannelDto>,
    pub categories: Vec<CategoryDto>,
    pub permissions: Vec<PermissionDto>,
    pub bans: Vec<BanDto>,
    pub audit: Vec<AuditEntryDto>,
    /// The notification templates (for who manages the workspace).
    #[serde(default)]
    pub templates: Vec<crate::wire::TemplateDto>,
    /// The invites that still work: all of them for who may change the
    /// workspace, otherwise the reader's own.
    #[serde(default)]
    pub invites: Vec<crate::wire::InviteDto>,
    /// The overrides set on each channel the reader may change, by the
    /// channel's id.
    #[serde(default)]
    pub overrides: std::collections::BTreeMap<String, Vec<OverrideDto>>,
    /// The workspace's retention, and its channels' own (by channel id).
    pub retention: crate::wire::RetentionDto,
    #[serde(default)]
    pub channel_retention: Vec<(String, crate::wire::RetentionPolicyDto, crate::wire::RetentionPolicyDto)>,
    /// Whether direct conversations opened here are end-to-end encrypted
    /// from the start, and whether the reader may change that.
    #[serde(default)]
    pub encrypt_direct: bool,
    #[serde(default)]
    pub can_require_encryption: bool,
    /// The archiving member of the workspace's encrypted conversations, if any.
    #[serde(default)]
    pub archivist: Option<crate::wire::UserDto>,
}

#[server]
pub async fn settings_view(
    workspace_id: String,
    audit_action: Option<String>,
    audit_user: Option<String>,
) -> Result<SettingsViewDto, ApiError> {
    crate::ssr::respond(
        async move {
            use domain::permissions::Perm;
            let (user, hub) = crate::ssr::auth::caller().await?;
            let public_url = crate::ssr::services()?.public_url;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let workspace = hub.workspace(user.id, ws).await?;
            let me = hub.my_standing(user.id, ws).await?;
            let bans = if me.perms.has(Perm::BanMembers) { hub.bans(user.id, ws).await? } else { Vec::new() };
            let invites = match domain::permissions::create_invite(me) {
                Ok(()) => hub.invites(user.id, ws).await?,
                Err(_) => Vec::new(),
            };
            let audit = if me.perms.has(Perm::ViewAuditLog) {
                let filter = domain::store::AuditFilter {
                    action: audit_action.filter(|a| !a.trim().is_empty()),
                    target_user: crate::ssr::parse_optional_id("audit_user", audit_user.as_deref())?,
                    ..Default::default()
                };
                hub.audit_log(user.id, ws, &filter).await?
            } else {
                Vec::new()
            };
            let retention = hub.retention_settings(user.id, ws).await?;
            let (encrypt_direct, can_require_encryption) = hub.encrypts_direct(user.id, ws).await?;
            let archive = hub.encrypted_archive(user.id, ws).await?;
            Ok(SettingsViewDto {
                archivist: archive.archivist.as_ref().map(crate::wire::UserDto::from),
                encrypt_direct,
                can_require_encryption,
                retention: retention.workspace.into(),
                channel_retention: retention
                    .channels
                    .into_iter()
                    .map(|(id, own, effective)| (id.to_string(), own.into(), effective.into()))
                    .collect(),
                me: MeDto::from(&user),
                workspace: WorkspaceDto::from(&workspace),
                my_permissions: crate::conversions::perm_names(me.perms),
                my_top: me.top,
                roles: hub.roles(user.id, ws).await?.iter().map(RoleDto::from).collect(),
                members: hub.members(user.id, ws).await?.iter().map(MemberDto::from).collect(),
                channels: hub
                    .channels(user.id, ws)
                    .await?
                    .iter()
                    .filter(|l| l.channel.kind != domain::model::ChannelKind::Direct)
                    .map(ChannelDto::from)
                    .collect(),
                categories: hub.categories(user.id, ws).await?.iter().map(CategoryDto::from).collect(),
                permissions: Perm::ALL.into_iter().map(PermissionDto::from).collect(),
                bans: bans.iter().map(BanDto::from).collect(),
                audit: audit.iter().map(AuditEntryDto::from).collect(),
                invites: invites.iter().map(|i| crate::conversions::invite_dto(i, &public_url)).collect(),
                overrides: hub
                    .manageable_overrides(user.id, ws)
                    .await?
                    .into_iter()
                    .map(|(channel, list)| {
                        (channel.to_string(), list.iter().map(OverrideDto::from).collect())
                    })
                    .collect(),
                templates: if me.perms.has(Perm::ManageWorkspace) {
                    hub.notification_templates(user.id, ws).await?.iter().map(Into::into).collect()
                } else {
                    Vec::new()
                },
            })
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn role_change(
    name: String,
    colour: Option<String>,
    permissions: Option<Vec<String>>,
) -> Result<domain::hub::RoleChange, ApiError> {
    Ok(domain::hub::RoleChange {
        name,
        colour: colour.unwrap_or_default(),
        permissions: crate::conversions::parse_perms(&permissions.unwrap_or_default(), "permissions")?,
    })
}

#[server]
pub async fn create_role(
    workspace_id: String,
    name: String,
    colour: Option<String>,
    permissions: Option<Vec<String>>,
) -> Result<RoleDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let role = hub.create_role(user.id, ws, role_change(name, colour, permissions)?).await?;
            Ok(RoleDto::from(&role))
        }
        .await,
    )
}

#[server]
pub async fn update_role(
    workspace_id: String,
    role_id: String,
    name: String,
    colour: Option<String>,
    permissions: Option<Vec<String>>,
) -> Result<RoleDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let role_id = crate::ssr::parse_id("role_id", &role_id)?;
            let role = hub.update_role(user.id, ws, role_id, role_change(name, colour, permissions)?).await?;
            Ok(RoleDto::from(&role))
        }
        .await,
    )
}

#[server]
pub async fn delete_role(workspace_id: String, role_id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            hub.delete_role(user.id, ws, crate::ssr::parse_id("role_id", &role_id)?).await?;
            Ok(())
        }
        .await,
    )
}

/// `order`: the ids of the roles below the caller's highest, highest first.
#[server]
pub async fn reorder_roles(
    workspace_id: String,
    #[server(default)] order: Vec<String>,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let order = crate::ssr::parse_ids("order", &order)?;
            hub.reorder_roles(user.id, ws, &order).await?;
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn set_member_role(
    workspace_id: String,
    user_id: String,
    role_id: String,
    on: bool,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let target = crate::ssr::parse_id("user_id", &user_id)?;
            hub.set_member_role(user.id, ws, target, crate::ssr::parse_id("role_id", &role_id)?, on).await?;
            Ok(())
        }
        .await,
    )
}

/// Kick (`kick`), ban (`ban`, with `reason`), unban (`unban`) or time out
/// (`timeout`, for `minutes`; 0 lifts it) a member.
#[server]
pub async fn moderate_member(
    workspace_id: String,
    user_id: String,
    action: String,
    reason: Option<String>,
    minutes: Option<i64>,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let target = crate::ssr::parse_id("user_id", &user_id)?;
            match action.as_str() {
                "kick" => hub.kick(user.id, ws, target).await?,
                "ban" => hub.ban(user.id, ws, target, reason.as_deref().unwrap_or("")).await?,
                "unban" => hub.unban(user.id, ws, target).await?,
                "timeout" => {
                    hub.timeout(user.id, ws, target, minutes.unwrap_or(0)).await?;
                }
                _ => return Err(ApiError::invalid("action", "The action is kick, ban, unban or timeout.")),
            }
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn channel_overrides(channel_id: String) -> Result<Vec<OverrideDto>, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let overrides = hub.overrides(user.id, crate::ssr::parse_id("channel_id", &channel_id)?).await?;
            Ok(overrides.iter().map(OverrideDto::from).collect())
        }
        .await,
    )
}

/// Sets one override: `target` is `role:<id>` or `member:<id>`; `allow` and
/// `deny` are permission names (both empty: the override is removed).
#[server]
pub async fn set_channel_override(
    channel_id: String,
    target: String,
    allow: Option<Vec<String>>,
    deny: Option<Vec<String>>,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let (kind, id) = target
                .split_once(':')
                .ok_or_else(|| ApiError::invalid("target", "Choose a role or a member."))?;
            let entry = OverrideDto {
                target_kind: kind.to_string(),
                target_id: id.to_string(),
                allow: allow.unwrap_or_default(),
                deny: deny.unwrap_or_default(),
            };
            let o = domain::permissions::Override::try_from(&entry)?;
            hub.set_override(user.id, crate::ssr::parse_id("channel_id", &channel_id)?, o).await?;
            Ok(())
        }
        .await,
    )
}

/// Sets a channel's type and flags (checkboxes: present and not "false" is on).
#[server]
pub async fn configure_channel(
    channel_id: String,
    kind: String,
    is_private: Option<String>,
    is_external: Option<String>,
    auto_join: Option<String>,
    archived: Option<String>,
    user_limit: Option<i64>,
    sensitive: Option<String>,
) -> Result<ChannelDto, ApiError> {
    use crate::ssr::checked;
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let settings = domain::hub::ChannelSettings {
                kind: crate::ssr::parse_kind(&kind)?,
                is_private: checked(&is_private),
                is_external: checked(&is_external),
                auto_join: checked(&auto_join),
                archived: checked(&archived),
                sensitive: checked(&sensitive),
                user_limit: user_limit.unwrap_or(0),
            };
            let ch = hub
                .configure_channel(user.id, crate::ssr::parse_id("channel_id", &channel_id)?, settings)
                .await?;
            Ok(ChannelDto::from(&hub.channel(user.id, ch.id).await?))
        }
        .await,
    )
}

/// Creates a category (`category_id` empty), renames one (`name` given) or deletes one (`name` empty).
#[server]
pub async fn save_category(
    workspace_id: String,
    category_id: Option<String>,
    name: String,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            match crate::ssr::parse_optional_id("category_id", category_id.as_deref())? {
                None => {
                    hub.create_category(user.id, ws, &name).await?;
                }
                Some(c) => {
                    let name = Some(name.as_str()).filter(|n| !n.trim().is_empty());
                    hub.change_category(user.id, ws, c, name).await?;
                }
            }
            Ok(())
        }
        .await,
    )
}

/// One channel's place after drag and drop: its id and its category ("" for none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PlacedChannel {
    #[cfg_attr(feature = "ssr", schema(value_type = crate::schema::Id))]
    pub channel_id: String,
    /// Its category, or `""` for none.
    #[cfg_attr(feature = "ssr", schema(value_type = crate::schema::IdOrEmpty))]
    pub category_id: String,
}

/// Sets the order of categories and channels, as drag and drop leaves them.
#[server]
pub async fn arrange_channels(
    workspace_id: String,
    #[server(default)] categories: Vec<String>,
    #[server(default)] channels: Vec<PlacedChannel>,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let (categories, channels) = crate::ssr::parse_arrangement(&categories, &channels)?;
            hub.arrange_channels(user.id, ws, &categories, &channels).await?;
            Ok(())
        }
        .await,
    )
}

/// Makes a guest invite to the channels named (which must be open to guests).
#[server]
pub async fn create_guest_invite(
    workspace_id: String,
    #[server(default)] channel_ids: Vec<String>,
    email: Option<String>,
    expires_in_hours: Option<String>,
    max_uses: Option<String>,
) -> Result<InviteDto, ApiError> {
    crate::ssr::respond(
        async move {
            let services = crate::ssr::services()?;
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let channels = channel_ids
                .iter()
                .map(|c| crate::ssr::parse_id("channel_ids", c))
                .collect::<Result<Vec<_>, _>>()?;
            let terms = crate::ssr::parse_invite_terms(expires_in_hours.as_deref(), max_uses.as_deref())?;
            let invite = hub.create_guest_invite(user.id, ws, &channels, email.as_deref(), terms).await?;
            Ok(crate::conversions::invite_dto(&invite, &services.public_url))
        }
        .await,
    )
}

/// Requires end-to-end encryption for the direct conversations opened in
/// the workspace from now on (`required` is `true`), or no longer.
#[server]
pub async fn set_direct_encryption(workspace_id: String, required: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            hub.set_encrypts_direct(user.id, ws, required == "true").await?;
            Ok(())
        }
        .await,
    )
}

/// Names the archiving member of the workspace's encrypted conversations
/// (`username`), or nobody (`username` empty).
#[server]
pub async fn set_archivist(workspace_id: String, username: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let username = Some(username.trim()).filter(|u| !u.is_empty());
            hub.set_archivist(user.id, ws, username).await?;
            Ok(())
        }
        .await,
    )
}

/// Sets the retention of the workspace (`channel_id` empty) or of one of
/// its channels: days for messages and for files (empty: as the level
/// above says; 0 keeps forever).
#[server]
pub async fn set_retention(
    workspace_id: String,
    channel_id: String,
    messages_days: String,
    files_days: String,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let policy = crate::ssr::retention_policy(&messages_days, &files_days)?;
            match crate::ssr::parse_optional_id("channel_id", Some(&channel_id))? {
                Some(channel) => hub.set_channel_retention(user.id, channel, policy).await?,
                None => {
                    let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
                    hub.set_workspace_retention(user.id, ws, policy).await?
                }
            }
            Ok(())
        }
        .await,
    )
}
