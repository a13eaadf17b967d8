//! Workspaces, their members and invites.

use super::error::{HttpResult, JsonBody, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::schema as s;
use app::wire::ApiError;
use app::wire::{ChannelDto, InviteDto, InvitePreviewDto, MemberDto, WorkspaceDto};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::error::Thing;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct CreateBody {
    #[schema(value_type = s::WorkspaceName)]
    name: String,
    #[serde(default)]
    #[schema(value_type = s::ShortText)]
    description: String,
    #[serde(default)]
    #[schema(value_type = s::Icon)]
    icon: String,
    /// Private workspaces are joined by invite only.
    #[serde(default)]
    is_private: bool,
}

/// A new workspace and its first channel.
#[derive(Serialize, ToSchema)]
pub struct Created {
    workspace: WorkspaceDto,
    general: ChannelDto,
}

/// `POST /api/workspaces`: a new workspace with its `general` channel; its
/// creator is its owner.
#[utoipa::path(post, path = "/api/workspaces", operation_id = "create_workspace", tag = "workspaces", request_body = CreateBody,
    responses((status = 201, body = Created), (status = 400, body = ApiError)))]
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

/// `GET /api/workspaces`: the caller's workspaces.
#[utoipa::path(get, path = "/api/workspaces", operation_id = "list_workspaces", tag = "workspaces", responses((status = 200, body = Vec<WorkspaceDto>)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<Vec<WorkspaceDto>>> {
    let list = state.services.hub.my_workspaces(user.id).await?;
    Ok(Json(list.iter().map(WorkspaceDto::from).collect()))
}

/// `GET /api/workspaces/discover`: public workspaces the caller may join.
#[utoipa::path(get, path = "/api/workspaces/discover", tag = "workspaces",
    responses((status = 200, body = Vec<WorkspaceDto>)))]
pub async fn discover(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<Vec<WorkspaceDto>>> {
    let list = state.services.hub.discover_workspaces(user.id).await?;
    Ok(Json(list.iter().map(WorkspaceDto::from).collect()))
}

/// `GET /api/workspaces/{id}`.
#[utoipa::path(get, path = "/api/workspaces/{id}", tag = "workspaces", operation_id = "get_workspace",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = WorkspaceDto), (status = 404, body = ApiError)))]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<WorkspaceDto>> {
    let ws = state.services.hub.workspace(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json((&ws).into()))
}

/// `POST /api/workspaces/{id}/join`: joins a public workspace.
#[utoipa::path(post, path = "/api/workspaces/{id}/join", tag = "workspaces", operation_id = "join_workspace",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = WorkspaceDto), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn join(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<WorkspaceDto>> {
    let ws = state.services.hub.join_workspace(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json((&ws).into()))
}

/// `POST /api/workspaces/{id}/leave` (its owner cannot leave it).
#[utoipa::path(post, path = "/api/workspaces/{id}/leave", tag = "workspaces", operation_id = "leave_workspace",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn leave(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.leave_workspace(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/workspaces/{id}/members`.
#[utoipa::path(get, path = "/api/workspaces/{id}/members", operation_id = "workspace_members", tag = "workspaces",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = Vec<MemberDto>), (status = 404, body = ApiError)))]
pub async fn members(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<MemberDto>>> {
    let list = state.services.hub.members(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json(list.iter().map(MemberDto::from).collect()))
}

/// An invite's terms; the body may be left out for a workspace-wide invite
/// that lasts a week.
#[derive(Deserialize, Default, ToSchema)]
pub struct InviteBody {
    /// The channel it opens (and, for a guest, joins).
    #[serde(default)]
    #[schema(value_type = Option<s::IdOrEmpty>)]
    channel_id: Option<String>,
    /// A guest invite: the guest joins only `channel_ids` (channels open to guests).
    #[serde(default)]
    guest: bool,
    #[serde(default)]
    #[schema(value_type = Vec<s::Id>)]
    channel_ids: Vec<String>,
    /// Whom a guest invite is for.
    #[serde(default)]
    #[schema(value_type = Option<s::EmailOrEmpty>)]
    email: Option<String>,
    /// Hours until it stops working: absent for a week, 0 for never.
    #[serde(default, deserialize_with = "app::wire::whole_number::optional")]
    #[schema(minimum = 0, maximum = 8760)]
    expires_in_hours: Option<i64>,
    /// How many people may use it: absent or 0 for no limit.
    #[serde(default, deserialize_with = "app::wire::whole_number::optional")]
    #[schema(minimum = 0, maximum = 1000)]
    max_uses: Option<i64>,
}

/// `POST /api/workspaces/{id}/invites`: an invite link (needs create_invite;
/// a guest invite needs channels open to guests).
#[utoipa::path(post, path = "/api/workspaces/{id}/invites", tag = "workspaces",
    params(("id" = s::Id, Path, description = "Workspace id")), request_body(content = Option<InviteBody>),
    responses((status = 201, body = InviteDto), (status = 400, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
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
        serde_json::from_slice::<Option<InviteBody>>(&body)
            .map_err(|e| {
                super::error::HttpError::new(
                    app::wire::ErrorCode::Invalid,
                    format!("The request body is not valid JSON: {e}"),
                )
            })?
            .unwrap_or_default()
    };
    let ws = path_id(&id, Thing::Workspace)?;
    if let Some(email) = body.email.as_deref().filter(|e| !e.is_empty()) {
        domain::input::Email::parse(email)?;
    }
    let terms = domain::input::InviteTerms::parse(body.expires_in_hours, body.max_uses)?;
    let channel = app::ssr::parse_optional_id("channel_id", body.channel_id.as_deref())?;
    let mut channels = app::ssr::parse_ids("channel_ids", &body.channel_ids)?;
    let invite = if body.guest {
        channels.extend(channel);
        state.services.hub.create_guest_invite(user.id, ws, &channels, body.email.as_deref(), terms).await?
    } else {
        state.services.hub.create_invite(user.id, ws, channel, terms).await?
    };
    Ok((StatusCode::CREATED, Json(app::conversions::invite_dto(&invite, &state.services.public_url))))
}

/// `GET /api/workspaces/{id}/invites`: the invites that still work (all of
/// them for who may change the workspace, otherwise the caller's own).
#[utoipa::path(get, path = "/api/workspaces/{id}/invites", tag = "workspaces",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = Vec<InviteDto>), (status = 404, body = ApiError)))]
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
#[utoipa::path(delete, path = "/api/invites/{code}", tag = "workspaces",
    params(("code" = String, Path, description = "The invite's code")),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn revoke_invite(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(code): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.revoke_invite(user.id, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/invites/{code}`: what an invite opens, for anyone holding its link.
#[utoipa::path(get, path = "/api/invites/{code}", tag = "workspaces", security(()),
    params(("code" = String, Path, description = "The invite's code")),
    responses((status = 200, body = InvitePreviewDto),
        (status = 404, description = "No such invite, or it expired, was used up or revoked", body = ApiError)))]
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
#[derive(Serialize, ToSchema)]
pub struct Accepted {
    workspace: WorkspaceDto,
    channel: ChannelDto,
}

/// `POST /api/invites/{code}/accept`: joins the workspace (and channel) it opens.
#[utoipa::path(post, path = "/api/invites/{code}/accept", tag = "workspaces",
    params(("code" = String, Path, description = "The invite's code")),
    responses((status = 200, body = Accepted), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn accept_invite(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(code): Path<String>,
) -> HttpResult<Json<Accepted>> {
    let (ws, ch) = state.services.hub.accept_invite(user.id, &code).await?;
    Ok(Json(Accepted { workspace: (&ws).into(), channel: (&ch).into() }))
}
