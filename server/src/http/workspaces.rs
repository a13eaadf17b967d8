//! Workspaces, their members and invites.

use super::error::{HttpResult, JsonBody, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::wire::{ChannelDto, InviteDto, InvitePreviewDto, MemberDto, WorkspaceDto};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::error::Thing;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct CreateBody {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    icon: String,
    #[serde(default)]
    is_private: bool,
}

/// A new workspace and its first channel.
#[derive(Serialize)]
pub struct Created {
    workspace: WorkspaceDto,
    general: ChannelDto,
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<CreateBody>,
) -> HttpResult<(StatusCode, Json<Created>)> {
    let form = domain::hub::NewWorkspace {
        name: body.name,
        description: body.description,
        icon: body.icon,
        is_private: body.is_private,
    };
    let (ws, general) = state.services.hub.create_workspace(user.id, form).await?;
    Ok((StatusCode::CREATED, Json(Created { workspace: (&ws).into(), general: (&general).into() })))
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<Vec<WorkspaceDto>>> {
    let list = state.services.hub.my_workspaces(user.id).await?;
    Ok(Json(list.iter().map(WorkspaceDto::from).collect()))
}

pub async fn discover(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<Vec<WorkspaceDto>>> {
    let list = state.services.hub.discover_workspaces(user.id).await?;
    Ok(Json(list.iter().map(WorkspaceDto::from).collect()))
}

pub async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<WorkspaceDto>> {
    let ws = state.services.hub.workspace(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json((&ws).into()))
}

pub async fn join(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<WorkspaceDto>> {
    let ws = state.services.hub.join_workspace(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json((&ws).into()))
}

pub async fn leave(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.leave_workspace(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn members(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<MemberDto>>> {
    let list = state.services.hub.members(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json(list.iter().map(MemberDto::from).collect()))
}

#[derive(Deserialize, Default)]
pub struct InviteBody {
    #[serde(default)]
    channel_id: Option<String>,
    /// A guest invite: the guest joins only `channel_ids` (channels open to guests).
    #[serde(default)]
    guest: bool,
    #[serde(default)]
    channel_ids: Vec<String>,
    /// Whom a guest invite is for.
    #[serde(default)]
    email: Option<String>,
    /// Hours until it stops working: absent for a week, 0 for never.
    #[serde(default)]
    expires_in_hours: Option<i64>,
    /// How many people may use it: absent or 0 for no limit.
    #[serde(default)]
    max_uses: Option<i64>,
}

pub async fn create_invite(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> HttpResult<(StatusCode, Json<InviteDto>)> {
    // The body is optional: none means a workspace-wide invite.
    let body: InviteBody = if body.iter().all(u8::is_ascii_whitespace) {
        InviteBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            super::error::HttpError::new(
                app::wire::ErrorCode::Invalid,
                format!("The request body is not valid JSON: {e}"),
            )
        })?
    };
    let ws = path_id(&id, Thing::Workspace)?;
    let terms = domain::input::InviteTerms::parse(body.expires_in_hours, body.max_uses)?;
    let channel = app::ssr::parse_optional_id("channel_id", body.channel_id.as_deref())?;
    let invite = if body.guest {
        let mut channels = body
            .channel_ids
            .iter()
            .map(|c| app::ssr::parse_id("channel_ids", c))
            .collect::<Result<Vec<_>, _>>()?;
        channels.extend(channel);
        state.services.hub.create_guest_invite(user.id, ws, &channels, body.email.as_deref(), terms).await?
    } else {
        state.services.hub.create_invite(user.id, ws, channel, terms).await?
    };
    Ok((StatusCode::CREATED, Json(app::conversions::invite_dto(&invite, &state.services.public_url))))
}

/// `GET /api/workspaces/{id}/invites`: the invites that still work (all of
/// them for who may change the workspace, otherwise the caller's own).
pub async fn list_invites(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<InviteDto>>> {
    let invites = state.services.hub.invites(user.id, path_id(&id, Thing::Workspace)?).await?;
    let url = &state.services.public_url;
    Ok(Json(invites.iter().map(|i| app::conversions::invite_dto(i, url)).collect()))
}

/// `DELETE /api/invites/{code}`: the link stops working at once.
pub async fn revoke_invite(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(code): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.revoke_invite(user.id, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn invite_preview(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> HttpResult<Json<InvitePreviewDto>> {
    let (invite, ws, channel) = state.services.hub.invite_preview(&code).await?;
    Ok(Json(InvitePreviewDto {
        code: invite.code,
        workspace: (&ws).into(),
        channel: channel.as_ref().map(ChannelDto::from),
    }))
}

/// The workspace joined and the channel to open.
#[derive(Serialize)]
pub struct Accepted {
    workspace: WorkspaceDto,
    channel: ChannelDto,
}

pub async fn accept_invite(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(code): Path<String>,
) -> HttpResult<Json<Accepted>> {
    let (ws, ch) = state.services.hub.accept_invite(user.id, &code).await?;
    Ok(Json(Accepted { workspace: (&ws).into(), channel: (&ch).into() }))
}
