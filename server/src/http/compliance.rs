//! Compliance: the deployment's retention and archiving, legal holds and
//! audit log (its administrators), and a workspace's or channel's retention.

use super::error::{HttpResult, JsonBody, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::schema as s;
use app::wire::{
    ApiError, ComplianceArchiveDto, DeploymentAuditEntryDto, DeploymentRetentionDto, LegalHoldDto,
    RetentionDto, RetentionPolicyDto,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::error::Thing;
use domain::hub::NewHold;
use serde::Deserialize;
use utoipa::ToSchema;

/// `GET /api/admin/retention/`: the deployment's retention: what its
/// administrators set, what the configuration gives, and what applies.
#[utoipa::path(get, path = "/api/admin/retention/", tag = "compliance",
    responses((status = 200, body = DeploymentRetentionDto), (status = 401, body = ApiError),
        (status = 403, body = ApiError)))]
pub async fn deployment_retention(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<DeploymentRetentionDto>> {
    Ok(Json(state.services.hub.deployment_retention(user.id).await?.into()))
}

/// `PUT /api/admin/retention/`: sets the deployment's retention (days; 0
/// keeps forever; null leaves it to the configuration). Audited.
#[utoipa::path(put, path = "/api/admin/retention/", tag = "compliance", request_body = RetentionPolicyDto,
    responses((status = 200, body = DeploymentRetentionDto), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn set_deployment_retention(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<RetentionPolicyDto>,
) -> HttpResult<Json<DeploymentRetentionDto>> {
    let hub = &state.services.hub;
    hub.set_deployment_retention(user.id, body.into()).await?;
    Ok(Json(hub.deployment_retention(user.id).await?.into()))
}

/// `GET /api/admin/compliance-archive/`: whether edits and deletes keep
/// what was there, for exports.
#[utoipa::path(get, path = "/api/admin/compliance-archive/", tag = "compliance",
    responses((status = 200, body = ComplianceArchiveDto), (status = 401, body = ApiError),
        (status = 403, body = ApiError)))]
pub async fn compliance_archive(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<ComplianceArchiveDto>> {
    Ok(Json(ComplianceArchiveDto { enabled: state.services.hub.compliance_archive(user.id).await? }))
}

/// `PUT /api/admin/compliance-archive/`: turns compliance archiving on or
/// off (from then on). Audited.
#[utoipa::path(put, path = "/api/admin/compliance-archive/", tag = "compliance", request_body = ComplianceArchiveDto,
    responses((status = 200, body = ComplianceArchiveDto), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn set_compliance_archive(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<ComplianceArchiveDto>,
) -> HttpResult<Json<ComplianceArchiveDto>> {
    state.services.hub.set_compliance_archive(user.id, body.enabled).await?;
    Ok(Json(body))
}

/// `GET /api/admin/holds/`: every legal hold, newest first, released ones included.
#[utoipa::path(get, path = "/api/admin/holds/", tag = "compliance",
    responses((status = 200, body = Vec<LegalHoldDto>), (status = 401, body = ApiError),
        (status = 403, body = ApiError)))]
pub async fn holds(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<Vec<LegalHoldDto>>> {
    let holds = state.services.hub.holds(user.id).await?;
    Ok(Json(holds.iter().map(LegalHoldDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct NewHoldBody {
    /// What the hold is called (1 to 100 characters).
    #[schema(max_length = 100, pattern = r"\S")]
    name: String,
    /// Why content is held (1 to 1,000 characters).
    #[schema(max_length = 1000, pattern = r"\S")]
    reason: String,
    /// Hold what was posted from this time on (milliseconds since the
    /// epoch); absent: everything, however old.
    #[serde(default)]
    starts_at: Option<i64>,
    /// People whose messages are held.
    #[serde(default)]
    #[schema(value_type = Vec<s::Id>)]
    user_ids: Vec<String>,
    /// Channels whose messages are held.
    #[serde(default)]
    #[schema(value_type = Vec<s::Id>)]
    channel_ids: Vec<String>,
}

/// `POST /api/admin/holds/`: puts people and channels on a legal hold:
/// their messages are exempt from retention and kept as they were when
/// edited or deleted. Audited.
#[utoipa::path(post, path = "/api/admin/holds/", tag = "compliance", request_body = NewHoldBody,
    responses((status = 201, body = LegalHoldDto), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn create_hold(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<NewHoldBody>,
) -> HttpResult<(StatusCode, Json<LegalHoldDto>)> {
    let ids =
        |list: &[String], thing| list.iter().map(|id| path_id(id, thing)).collect::<Result<Vec<_>, _>>();
    let new = NewHold {
        name: body.name,
        reason: body.reason,
        starts_at: body.starts_at,
        users: ids(&body.user_ids, Thing::User)?,
        channels: ids(&body.channel_ids, Thing::Channel)?,
        ..Default::default()
    };
    let hold = state.services.hub.create_hold(user.id, new).await?;
    Ok((StatusCode::CREATED, Json(LegalHoldDto::from(&hold))))
}

/// `POST /api/admin/holds/{id}/release/`: releases a hold: its content
/// follows the retention policies again. Audited.
#[utoipa::path(post, path = "/api/admin/holds/{id}/release/", tag = "compliance",
    params(("id" = s::Id, Path, description = "Hold id")),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn release_hold(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.release_hold(user.id, path_id(&id, Thing::Hold)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/admin/audit/`: the deployment's audit log, newest first (its
/// settings, holds and retention runs).
#[utoipa::path(get, path = "/api/admin/audit/", tag = "compliance",
    responses((status = 200, body = Vec<DeploymentAuditEntryDto>), (status = 401, body = ApiError),
        (status = 403, body = ApiError)))]
pub async fn deployment_audit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<Vec<DeploymentAuditEntryDto>>> {
    let log = state.services.hub.deployment_audit(user.id, 200).await?;
    Ok(Json(log.iter().map(DeploymentAuditEntryDto::from).collect()))
}

/// `GET /api/communication/workspaces/{id}/retention/`: the workspace's own
/// retention and what applies (the deployment's where it sets none).
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/retention/", tag = "compliance",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = RetentionDto), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn workspace_retention(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<RetentionDto>> {
    let ws = path_id(&id, Thing::Workspace)?;
    Ok(Json(state.services.hub.workspace_retention(user.id, ws).await?.into()))
}

/// `PUT /api/communication/workspaces/{id}/retention/`: who manages the
/// workspace sets its retention. Audited.
#[utoipa::path(put, path = "/api/communication/workspaces/{id}/retention/", tag = "compliance",
    params(("id" = s::Id, Path, description = "Workspace id")), request_body = RetentionPolicyDto,
    responses((status = 200, body = RetentionDto), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn set_workspace_retention(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RetentionPolicyDto>,
) -> HttpResult<Json<RetentionDto>> {
    let ws = path_id(&id, Thing::Workspace)?;
    let hub = &state.services.hub;
    hub.set_workspace_retention(user.id, ws, body.into()).await?;
    Ok(Json(hub.workspace_retention(user.id, ws).await?.into()))
}

/// `GET /api/communication/channels/{id}/retention/`: the channel's own
/// retention and what applies (its workspace's, then the deployment's).
#[utoipa::path(get, path = "/api/communication/channels/{id}/retention/", tag = "compliance",
    params(("id" = s::Id, Path, description = "Channel id")),
    responses((status = 200, body = RetentionDto), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn channel_retention(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<RetentionDto>> {
    let channel = path_id(&id, Thing::Channel)?;
    Ok(Json(state.services.hub.channel_retention(user.id, channel).await?.into()))
}

/// `PUT /api/communication/channels/{id}/retention/`: who manages the
/// channel's workspace sets the channel's retention. Audited.
#[utoipa::path(put, path = "/api/communication/channels/{id}/retention/", tag = "compliance",
    params(("id" = s::Id, Path, description = "Channel id")), request_body = RetentionPolicyDto,
    responses((status = 200, body = RetentionDto), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn set_channel_retention(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RetentionPolicyDto>,
) -> HttpResult<Json<RetentionDto>> {
    let channel = path_id(&id, Thing::Channel)?;
    let hub = &state.services.hub;
    hub.set_channel_retention(user.id, channel, body.into()).await?;
    Ok(Json(hub.channel_retention(user.id, channel).await?.into()))
}
