//! Seed 000's notifications routes under `/api/communication/notifications/`:
//! the caller's own in-app notifications.

use super::error::{HttpResult, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::wire::{ApiError, NotificationDto, UnreadCountDto};
use axum::Json;
use axum::extract::{Path, Query, State};
use domain::error::Thing;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
pub struct NotificationListQuery {
    /// Only unread ones.
    #[serde(default)]
    unread_only: bool,
    /// Older than this notification (the last id of the previous page).
    before: Option<String>,
}

/// `GET /api/communication/notifications/`: the caller's notifications, newest first (50 a page).
#[utoipa::path(get, path = "/api/communication/notifications/", tag = "notifications", params(NotificationListQuery),
    responses((status = 200, body = Vec<NotificationDto>), (status = 400, body = ApiError), (status = 401, body = ApiError)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<NotificationListQuery>,
) -> HttpResult<Json<Vec<NotificationDto>>> {
    let before = app::ssr::parse_optional_id("before", q.before.as_deref())?;
    let list = state.services.hub.notifications(user.id, before, q.unread_only).await?;
    Ok(Json(list.iter().map(NotificationDto::from).collect()))
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
#[utoipa::path(post, path = "/api/communication/notifications/{id}/mark_read/", tag = "notifications",
    params(("id" = String, Path, description = "Notification id")),
    responses((status = 200, body = NotificationDto), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn mark_read(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<NotificationDto>> {
    let n = state.services.hub.mark_notification_read(user.id, path_id(&id, Thing::Notification)?).await?;
    Ok(Json((&n).into()))
}
