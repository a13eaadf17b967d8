//! The REST API of roles, channel permissions, moderation and the audit
//! log, under `/api/communication/` beside the channels and messages API.

use super::error::{HttpResult, JsonBody, QueryParams, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::api::PlacedChannel;
use app::conversions::parse_perms;
use app::schema as s;
use app::wire::{ApiError, AuditEntryDto, BanDto, CategoryDto, OverrideDto, PermissionDto, RoleDto};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::error::Thing;
use domain::permissions::Perm;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// `GET /api/communication/permissions/`: every permission, with what it allows.
#[utoipa::path(get, path = "/api/communication/permissions/", tag = "roles",
    responses((status = 200, body = Vec<PermissionDto>), (status = 401, body = ApiError)))]
pub async fn permissions(CurrentUser(_): CurrentUser) -> Json<Vec<PermissionDto>> {
    Json(Perm::ALL.into_iter().map(PermissionDto::from).collect())
}

/// `GET /api/communication/workspaces/{id}/roles/`: the roles, highest first.
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/roles/", tag = "roles",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = Vec<RoleDto>), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn list_roles(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<RoleDto>>> {
    let roles = state.services.hub.roles(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json(roles.iter().map(RoleDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct RoleBody {
    #[schema(value_type = s::RoleName)]
    name: String,
    /// `#rrggbb`, or empty for none.
    #[serde(default)]
    #[schema(value_type = s::Colour)]
    colour: String,
    /// Permission names (see `GET /api/communication/permissions/`).
    #[serde(default)]
    #[schema(value_type = Vec<s::Permission>)]
    permissions: Vec<String>,
}

impl RoleBody {
    fn change(self) -> Result<domain::hub::RoleChange, ApiError> {
        Ok(domain::hub::RoleChange {
            permissions: parse_perms(&self.permissions, "permissions")?,
            name: self.name,
            colour: self.colour,
        })
    }
}

/// `POST /api/communication/workspaces/{id}/roles/`: a custom role, placed just above Member.
#[utoipa::path(post, path = "/api/communication/workspaces/{id}/roles/", tag = "roles", request_body = RoleBody,
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 201, body = RoleDto), (status = 400, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn create_role(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RoleBody>,
) -> HttpResult<(StatusCode, Json<RoleDto>)> {
    let ws = path_id(&id, Thing::Workspace)?;
    let role = state.services.hub.create_role(user.id, ws, body.change()?).await?;
    Ok((StatusCode::CREATED, Json(RoleDto::from(&role))))
}

/// `PUT /api/communication/workspaces/{id}/roles/{role_id}/`: name, colour and permissions.
#[utoipa::path(put, path = "/api/communication/workspaces/{id}/roles/{role_id}/", tag = "roles",
    request_body = RoleBody,
    params(("id" = s::Id, Path, description = "Workspace id"), ("role_id" = s::Id, Path, description = "Role id")),
    responses((status = 200, body = RoleDto), (status = 400, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn update_role(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, role_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<RoleBody>,
) -> HttpResult<Json<RoleDto>> {
    let ws = path_id(&id, Thing::Workspace)?;
    let role_id = path_id(&role_id, Thing::Role)?;
    let role = state.services.hub.update_role(user.id, ws, role_id, body.change()?).await?;
    Ok(Json(RoleDto::from(&role)))
}

/// `DELETE /api/communication/workspaces/{id}/roles/{role_id}/`: custom roles only.
#[utoipa::path(delete, path = "/api/communication/workspaces/{id}/roles/{role_id}/", tag = "roles",
    params(("id" = s::Id, Path, description = "Workspace id"), ("role_id" = s::Id, Path, description = "Role id")),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn delete_role(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, role_id)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    let ws = path_id(&id, Thing::Workspace)?;
    state.services.hub.delete_role(user.id, ws, path_id(&role_id, Thing::Role)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT` gives a member a role, `DELETE` takes it:
/// `/api/communication/workspaces/{id}/members/{user_id}/roles/{role_id}/`.
#[utoipa::path(put, path = "/api/communication/workspaces/{id}/members/{user_id}/roles/{role_id}/", tag = "roles",
    params(("id" = s::Id, Path, description = "Workspace id"), ("user_id" = s::Id, Path, description = "Member"),
        ("role_id" = s::Id, Path, description = "Role id")),
    responses((status = 204), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn give_role(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(path): Path<(String, String, String)>,
) -> HttpResult<StatusCode> {
    set_member_role(&state, user.id, path, true).await
}

async fn set_member_role(
    state: &AppState,
    actor: domain::Id,
    (id, user_id, role_id): (String, String, String),
    on: bool,
) -> HttpResult<StatusCode> {
    let (ws, target, role) =
        (path_id(&id, Thing::Workspace)?, path_id(&user_id, Thing::User)?, path_id(&role_id, Thing::Role)?);
    state.services.hub.set_member_role(actor, ws, target, role, on).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// See [`give_role`].
#[utoipa::path(delete, path = "/api/communication/workspaces/{id}/members/{user_id}/roles/{role_id}/", tag = "roles",
    params(("id" = s::Id, Path, description = "Workspace id"), ("user_id" = s::Id, Path, description = "Member"),
        ("role_id" = s::Id, Path, description = "Role id")),
    responses((status = 204), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn take_role(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(path): Path<(String, String, String)>,
) -> HttpResult<StatusCode> {
    set_member_role(&state, user.id, path, false).await
}

/// `POST /api/communication/workspaces/{id}/members/{user_id}/kick/`.
#[utoipa::path(post, path = "/api/communication/workspaces/{id}/members/{user_id}/kick/", tag = "moderation",
    params(("id" = s::Id, Path, description = "Workspace id"), ("user_id" = s::Id, Path, description = "Member")),
    responses((status = 204), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn kick(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, user_id)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    let (ws, target) = (path_id(&id, Thing::Workspace)?, path_id(&user_id, Thing::User)?);
    state.services.hub.kick(user.id, ws, target).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct BanBody {
    #[serde(default)]
    #[schema(value_type = s::ShortText)]
    reason: String,
}

/// `POST /api/communication/workspaces/{id}/members/{user_id}/ban/`: they leave and cannot rejoin.
#[utoipa::path(post, path = "/api/communication/workspaces/{id}/members/{user_id}/ban/", tag = "moderation",
    request_body = BanBody,
    params(("id" = s::Id, Path, description = "Workspace id"), ("user_id" = s::Id, Path, description = "Person")),
    responses((status = 204), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn ban(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, user_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<BanBody>,
) -> HttpResult<StatusCode> {
    let (ws, target) = (path_id(&id, Thing::Workspace)?, path_id(&user_id, Thing::User)?);
    state.services.hub.ban(user.id, ws, target, &body.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/communication/workspaces/{id}/bans/`.
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/bans/", tag = "moderation",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = Vec<BanDto>), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn bans(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<BanDto>>> {
    let bans = state.services.hub.bans(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json(bans.iter().map(BanDto::from).collect()))
}

/// `DELETE /api/communication/workspaces/{id}/bans/{user_id}/`: lifts a ban.
#[utoipa::path(delete, path = "/api/communication/workspaces/{id}/bans/{user_id}/", tag = "moderation",
    params(("id" = s::Id, Path, description = "Workspace id"), ("user_id" = s::Id, Path, description = "Person")),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn unban(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, user_id)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    let (ws, target) = (path_id(&id, Thing::Workspace)?, path_id(&user_id, Thing::User)?);
    state.services.hub.unban(user.id, ws, target).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct TimeoutBody {
    /// 1 to 40320 (28 days); 0 lifts the timeout.
    #[serde(deserialize_with = "app::wire::whole_number::one")]
    #[schema(minimum = 0, maximum = 40320)]
    minutes: i64,
}

/// `POST /api/communication/workspaces/{id}/members/{user_id}/timeout/`: no posting, replying or
/// reacting for a while.
#[utoipa::path(post, path = "/api/communication/workspaces/{id}/members/{user_id}/timeout/", tag = "moderation",
    request_body = TimeoutBody,
    params(("id" = s::Id, Path, description = "Workspace id"), ("user_id" = s::Id, Path, description = "Member")),
    responses((status = 204), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn timeout(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, user_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<TimeoutBody>,
) -> HttpResult<StatusCode> {
    let (ws, target) = (path_id(&id, Thing::Workspace)?, path_id(&user_id, Thing::User)?);
    state.services.hub.timeout(user.id, ws, target, body.minutes).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// An action (`member.ban`) or a family of them (`member`).
    action: Option<String>,
    /// Only what this person did.
    #[param(value_type = Option<s::IdOrEmpty>)]
    actor_id: Option<String>,
    /// Only what was done to this person.
    #[param(value_type = Option<s::IdOrEmpty>)]
    user_id: Option<String>,
    /// Entries older than this one (paging).
    #[param(value_type = Option<s::IdOrEmpty>)]
    before: Option<String>,
}

/// `GET /api/communication/workspaces/{id}/audit_log/`: newest first, 100 per page.
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/audit_log/", tag = "moderation",
    params(("id" = s::Id, Path, description = "Workspace id"), AuditQuery),
    responses((status = 200, body = Vec<AuditEntryDto>), (status = 400, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn audit_log(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<AuditQuery>,
) -> HttpResult<Json<Vec<AuditEntryDto>>> {
    use app::ssr::parse_optional_id;
    let filter = domain::store::AuditFilter {
        action: q.action.filter(|a| !a.trim().is_empty()),
        actor: parse_optional_id("actor_id", q.actor_id.as_deref())?,
        target_user: parse_optional_id("user_id", q.user_id.as_deref())?,
        before: parse_optional_id("before", q.before.as_deref())?,
    };
    let entries = state.services.hub.audit_log(user.id, path_id(&id, Thing::Workspace)?, &filter).await?;
    Ok(Json(entries.iter().map(AuditEntryDto::from).collect()))
}

/// `GET /api/communication/channels/{id}/permissions/`: the channel's overrides.
#[utoipa::path(get, path = "/api/communication/channels/{id}/permissions/", tag = "roles",
    params(("id" = s::Id, Path, description = "Channel id")),
    responses((status = 200, body = Vec<OverrideDto>), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn overrides(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<OverrideDto>>> {
    let list = state.services.hub.overrides(user.id, path_id(&id, Thing::Channel)?).await?;
    Ok(Json(list.iter().map(OverrideDto::from).collect()))
}

/// `PUT /api/communication/channels/{id}/permissions/`: sets one role's or member's override
/// (empty allow and deny remove it).
#[utoipa::path(put, path = "/api/communication/channels/{id}/permissions/", tag = "roles", request_body = OverrideDto,
    params(("id" = s::Id, Path, description = "Channel id")),
    responses((status = 204), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn set_override(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<OverrideDto>,
) -> HttpResult<StatusCode> {
    let o = domain::permissions::Override::try_from(&body)?;
    state.services.hub.set_override(user.id, path_id(&id, Thing::Channel)?, o).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct RoleOrderBody {
    /// Role ids, highest first.
    #[schema(value_type = Vec<s::Id>)]
    order: Vec<String>,
}

/// `PUT /api/communication/workspaces/{id}/role_order/`: the roles below one's own highest
/// (Member and Guest aside), highest first, each named once.
#[utoipa::path(put, path = "/api/communication/workspaces/{id}/role_order/", tag = "roles",
    request_body = RoleOrderBody, params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = Vec<RoleDto>), (status = 400, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn reorder_roles(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RoleOrderBody>,
) -> HttpResult<Json<Vec<RoleDto>>> {
    let ws = path_id(&id, Thing::Workspace)?;
    let order = app::ssr::parse_ids("order", &body.order)?;
    let roles = state.services.hub.reorder_roles(user.id, ws, &order).await?;
    Ok(Json(roles.iter().map(RoleDto::from).collect()))
}

/// `GET /api/communication/workspaces/{id}/categories/`: the categories of channels, in order.
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/categories/", tag = "channels",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = Vec<CategoryDto>), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn categories(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<CategoryDto>>> {
    let list = state.services.hub.categories(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json(list.iter().map(CategoryDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct CategoryBody {
    #[schema(value_type = s::CategoryName)]
    name: String,
}

/// `POST /api/communication/workspaces/{id}/categories/`: a new category, first in order
/// (manage_channels).
#[utoipa::path(post, path = "/api/communication/workspaces/{id}/categories/", tag = "channels",
    request_body = CategoryBody, params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 201, body = CategoryDto), (status = 400, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn create_category(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CategoryBody>,
) -> HttpResult<(StatusCode, Json<CategoryDto>)> {
    let c = state.services.hub.create_category(user.id, path_id(&id, Thing::Workspace)?, &body.name).await?;
    Ok((StatusCode::CREATED, Json(CategoryDto::from(&c))))
}

/// `PUT /api/communication/workspaces/{id}/categories/{category_id}/`: renames it.
#[utoipa::path(put, path = "/api/communication/workspaces/{id}/categories/{category_id}/", tag = "channels",
    request_body = CategoryBody,
    params(("id" = s::Id, Path, description = "Workspace id"), ("category_id" = s::Id, Path, description = "Category")),
    responses((status = 204), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn rename_category(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, category_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<CategoryBody>,
) -> HttpResult<StatusCode> {
    let (ws, category) = (path_id(&id, Thing::Workspace)?, path_id(&category_id, Thing::Category)?);
    state.services.hub.change_category(user.id, ws, category, Some(&body.name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/communication/workspaces/{id}/categories/{category_id}/`: its channels stay,
/// without a category.
#[utoipa::path(delete, path = "/api/communication/workspaces/{id}/categories/{category_id}/", tag = "channels",
    params(("id" = s::Id, Path, description = "Workspace id"), ("category_id" = s::Id, Path, description = "Category")),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn delete_category(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, category_id)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    let (ws, category) = (path_id(&id, Thing::Workspace)?, path_id(&category_id, Thing::Category)?);
    state.services.hub.change_category(user.id, ws, category, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ChannelOrderBody {
    /// Category ids, first to last.
    #[serde(default)]
    #[schema(value_type = Vec<s::Id>)]
    categories: Vec<String>,
    /// Channels first to last, each with its category (`""` for none); channels not named
    /// follow in their current order.
    #[serde(default)]
    channels: Vec<PlacedChannel>,
}

/// `PUT /api/communication/workspaces/{id}/channel_order/`: the order of categories and
/// channels, as drag and drop leaves them (manage_channels).
#[utoipa::path(put, path = "/api/communication/workspaces/{id}/channel_order/", tag = "channels",
    request_body = ChannelOrderBody, params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 204), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn arrange_channels(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ChannelOrderBody>,
) -> HttpResult<StatusCode> {
    let ws = path_id(&id, Thing::Workspace)?;
    let (categories, channels) = app::ssr::parse_arrangement(&body.categories, &body.channels)?;
    state.services.hub.arrange_channels(user.id, ws, &categories, &channels).await?;
    Ok(StatusCode::NO_CONTENT)
}
