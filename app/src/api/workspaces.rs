use crate::wire::{ApiError, InviteDto, InvitePreviewDto, MeDto, WorkspaceDto};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything the home page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeDto {
    pub me: MeDto,
    pub workspaces: Vec<WorkspaceDto>,
    /// Public workspaces the user could join.
    pub discover: Vec<WorkspaceDto>,
    /// Whether the user administers the deployment (the page links to its administration).
    #[serde(default)]
    pub admin: bool,
}

#[server]
pub async fn home() -> Result<HomeDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            Ok(HomeDto {
                me: MeDto::from(&user),
                workspaces: hub.my_workspaces(user.id).await?.iter().map(WorkspaceDto::from).collect(),
                discover: hub.discover_workspaces(user.id).await?.iter().map(WorkspaceDto::from).collect(),
                admin: hub.is_deployment_admin(user.id).await?,
            })
        }
        .await,
    )
}

/// Creates a workspace and opens its #general.
#[server]
pub async fn create_workspace(
    name: String,
    description: Option<String>,
    icon: Option<String>,
    is_private: Option<String>,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let form = domain::hub::NewWorkspace {
                name,
                description: description.unwrap_or_default(),
                icon: icon.unwrap_or_default(),
                is_private: crate::ssr::checked(&is_private),
            };
            let (ws, general) = hub.create_workspace(user.id, form).await?;
            crate::ssr::redirect(&crate::paths::channel(&ws.id.to_string(), &general.id.to_string()));
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn join_workspace(workspace_id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws =
                hub.join_workspace(user.id, crate::ssr::parse_id("workspace_id", &workspace_id)?).await?;
            let ch = hub.first_channel(user.id, ws.id).await?;
            crate::ssr::redirect(&crate::paths::channel(&ws.id.to_string(), &ch.id.to_string()));
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn leave_workspace(workspace_id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.leave_workspace(user.id, crate::ssr::parse_id("workspace_id", &workspace_id)?).await?;
            crate::ssr::redirect("/");
            Ok(())
        }
        .await,
    )
}

/// Makes an invite link to the workspace, or with `channel_id` to a channel
/// in it. With `return_to` (a local path) it goes back there with
/// `?invite=<code>`, which the channel page shows as a link to copy.
#[server]
pub async fn create_invite(
    workspace_id: String,
    channel_id: Option<String>,
    return_to: Option<String>,
    expires_in_hours: Option<String>,
    max_uses: Option<String>,
) -> Result<InviteDto, ApiError> {
    crate::ssr::respond(
        async move {
            use crate::ssr::parse_id;
            let user = crate::ssr::auth::require_user().await?;
            let services = crate::ssr::services()?;
            let channel = crate::ssr::parse_optional_id("channel_id", channel_id.as_deref())?;
            let terms = crate::ssr::parse_invite_terms(expires_in_hours.as_deref(), max_uses.as_deref())?;
            let invite = services
                .hub
                .create_invite(user.id, parse_id("workspace_id", &workspace_id)?, channel, terms)
                .await?;
            if let Some(back) = return_to.filter(|r| !r.is_empty()) {
                let back = crate::api::auth::safe_next(Some(back));
                let path = back.split('?').next().unwrap_or("/");
                crate::ssr::redirect(&format!("{path}?invite={}", invite.code));
            }
            Ok(crate::conversions::invite_dto(&invite, &services.public_url))
        }
        .await,
    )
}

/// Revokes an invite: its link stops working at once.
#[server]
pub async fn revoke_invite(code: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.revoke_invite(user.id, &code).await?;
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn invite_preview(code: String) -> Result<InvitePreviewDto, ApiError> {
    crate::ssr::respond(
        async move {
            let hub = crate::ssr::services()?.hub;
            let (invite, ws, channel) = hub.invite_preview(&code).await?;
            Ok(InvitePreviewDto {
                code: invite.code,
                workspace: WorkspaceDto::from(&ws),
                channel: channel.as_ref().map(crate::wire::ChannelDto::from),
            })
        }
        .await,
    )
}

#[server]
pub async fn accept_invite(code: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let (ws, ch) = hub.accept_invite(user.id, &code).await?;
            crate::ssr::redirect(&crate::paths::channel(&ws.id.to_string(), &ch.id.to_string()));
            Ok(())
        }
        .await,
    )
}

/// Where to go for a workspace: its first channel.
#[server]
pub async fn workspace_entry(workspace_id: String) -> Result<String, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            let ch = hub.first_channel(user.id, ws).await?;
            Ok(crate::paths::channel(&workspace_id, &ch.id.to_string()))
        }
        .await,
    )
}

/// The people of a workspace, for the quick switcher (who is a member may
/// see them all, as the member list shows them).
#[server]
pub async fn workspace_people(workspace_id: String) -> Result<Vec<crate::wire::UserDto>, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let ws = crate::ssr::parse_id("workspace_id", &workspace_id)?;
            Ok(hub.members(user.id, ws).await?.iter().map(|m| crate::wire::UserDto::from(&m.user)).collect())
        }
        .await,
    )
}
