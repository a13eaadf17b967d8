//! Seed 000's notifications routes under `/api/communication/notifications/`:
//! the caller's own in-app notifications.

use super::error::{HttpResult, JsonBody, QueryParams, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::schema as s;
use app::wire::{ApiError, NotificationDto, UnreadCountDto};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::error::Thing;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationListQuery {
    /// Only unread ones.
    #[serde(default)]
    unread_only: bool,
    /// Older than this notification (the last id of the previous page).
    #[param(value_type = Option<s::IdOrEmpty>)]
    before: Option<String>,
}

/// `GET /api/communication/notifications/`: the caller's notifications, newest first (50 a page).
#[utoipa::path(get, path = "/api/communication/notifications/", operation_id = "list_notifications", tag = "notifications", params(NotificationListQuery),
    responses((status = 200, body = Vec<NotificationDto>), (status = 400, body = ApiError), (status = 401, body = ApiError)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    QueryParams(q): QueryParams<NotificationListQuery>,
) -> HttpResult<Json<Vec<NotificationDto>>> {
    let before = app::ssr::parse_optional_id("before", q.before.as_deref())?;
    let list = state.services.hub.notifications(user.id, before, q.unread_only).await?;
    Ok(Json(list.iter().map(NotificationDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct NotificationSendBody {
    #[schema(value_type = s::Id)]
    workspace_id: String,
    /// Usernames of members of the workspace (1 to 500).
    #[schema(value_type = Vec<s::Username>, min_items = 1, max_items = 500)]
    recipients: Vec<String>,
    /// Default `custom`.
    #[serde(default, rename = "type")]
    #[schema(pattern = "^[A-Za-z0-9_]{0,50}$")]
    kind: String,
    /// May be left out when the template's in_app version gives it.
    #[serde(default)]
    #[schema(value_type = s::Title)]
    title: String,
    /// At most 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    content: String,
    /// `low`, `normal` (default), `high` or `urgent`.
    #[serde(default)]
    #[schema(pattern = "^(low|normal|high|urgent)$")]
    priority: Option<String>,
    /// Any of `in_app` (default), `email`, `push`, `sms` (each person's
    /// preferences still apply; `sms` only where the server has SMS).
    #[serde(default)]
    #[schema(value_type = Vec<s::DeliveryChannel>)]
    channels: Vec<String>,
    /// A template of the workspace's by name (a notification type, or one
    /// added under Settings → Notification templates).
    #[serde(default)]
    template_id: Option<String>,
    /// Values for the template's `{{variables}}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    template_data: Option<serde_json::Value>,
    /// RFC 3339; a time in the future (up to a year) schedules it
    /// (answered with 202 and an empty list).
    #[serde(default)]
    #[schema(value_type = Option<s::Timestamp>)]
    send_at: Option<String>,
}

/// `POST /api/communication/notifications/`: notifies members of a workspace
/// (who manages it may), in-app and by email, push or SMS when asked, now
/// or at `send_at`.
#[utoipa::path(post, path = "/api/communication/notifications/", operation_id = "send_notification", tag = "notifications", request_body = NotificationSendBody,
    responses((status = 201, body = Vec<NotificationDto>), (status = 202, body = Vec<NotificationDto>), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn send(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<NotificationSendBody>,
) -> HttpResult<(StatusCode, Json<Vec<NotificationDto>>)> {
    let send_at = match body.send_at.as_deref() {
        Some(t) => Some(domain::calendar::parse_rfc3339(t).ok_or_else(|| {
            domain::Error::invalid("send_at", "Give send_at as an RFC 3339 time, like 2026-12-01T09:00:00Z.")
        })?),
        None => None,
    };
    let ws = app::ssr::parse_id("workspace_id", &body.workspace_id)?;
    let new = domain::hub::CustomNotification {
        recipients: body.recipients,
        kind: &body.kind,
        title: &body.title,
        content: &body.content,
        priority: body.priority.as_deref().unwrap_or("normal"),
        channels: body.channels,
        template_id: body.template_id.as_deref(),
        template_data: body.template_data,
        send_at,
    };
    let scheduled = send_at.is_some_and(|at| at > domain::now_ms());
    let sent = state.services.hub.send_notification(user.id, ws, new).await?;
    let status = if scheduled { StatusCode::ACCEPTED } else { StatusCode::CREATED };
    Ok((status, Json(sent.iter().map(NotificationDto::from).collect())))
}

/// `GET /api/communication/notifications/unread_count/`.
#[utoipa::path(get, path = "/api/communication/notifications/unread_count/", tag = "notifications",
    responses((status = 200, body = UnreadCountDto), (status = 401, body = ApiError)))]
pub async fn unread_count(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<UnreadCountDto>> {
    Ok(Json(UnreadCountDto { unread_count: state.services.hub.unread_notifications(user.id).await? }))
}

/// `POST /api/communication/notifications/mark_all_read/`.
#[utoipa::path(post, path = "/api/communication/notifications/mark_all_read/", tag = "notifications",
    responses((status = 200, body = UnreadCountDto), (status = 401, body = ApiError)))]
pub async fn mark_all_read(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<UnreadCountDto>> {
    state.services.hub.mark_all_notifications_read(user.id).await?;
    Ok(Json(UnreadCountDto { unread_count: 0 }))
}

/// `POST /api/communication/notifications/{id}/mark_read/`: one of the caller's.
#[utoipa::path(post, path = "/api/communication/notifications/{id}/mark_read/", operation_id = "mark_notification_read", tag = "notifications",
    params(("id" = s::Id, Path, description = "Notification id")),
    responses((status = 200, body = NotificationDto), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn mark_read(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<NotificationDto>> {
    let n = state.services.hub.mark_notification_read(user.id, path_id(&id, Thing::Notification)?).await?;
    Ok(Json((&n).into()))
}
