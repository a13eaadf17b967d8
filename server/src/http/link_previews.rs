//! Link previews: removing one from a message, a preview's image as Parley
//! keeps it (checked against the channel's visibility on every request, so
//! a reader never loads anything from the linked site), a workspace's
//! switch for them, and a page's preview fetched for a browser that puts it
//! in an end-to-end encrypted message.

use super::error::{HttpResult, JsonBody, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::schema as s;
use app::wire::{ApiError, LinkPreviewDto, LinkPreviewSettingDto};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::error::Thing;
use serde::Deserialize;
use utoipa::ToSchema;

/// A preview's place among its message's links, as written in a path.
fn position(raw: &str) -> Result<i64, domain::Error> {
    raw.parse::<i64>().ok().filter(|p| *p >= 0).ok_or(domain::Error::NotFound(Thing::LinkPreview))
}

/// `DELETE /api/communication/messages/{id}/link-previews/{position}/`: the
/// message's author (or who manages messages there) removes a preview; it
/// stays removed when the message is edited.
#[utoipa::path(delete, path = "/api/communication/messages/{id}/link-previews/{position}/", tag = "messages",
    params(("id" = s::Id, Path, description = "Message id"),
        ("position" = i64, Path, minimum = 0, description = "The preview's position")),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn remove_link_preview(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, at)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    let message = path_id(&id, Thing::Message)?;
    state.services.hub.remove_link_preview(user.id, message, position(&at)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /files/previews/{id}/{position}`: the image of a message's preview.
#[utoipa::path(get, path = "/files/previews/{id}/{position}", tag = "messages", operation_id = "link_preview_image",
    params(("id" = s::Id, Path, description = "Message id"),
        ("position" = i64, Path, minimum = 0, description = "The preview's position")),
    responses((status = 200, description = "The image (PNG, JPEG, GIF or WebP)", content_type = "image/*"),
        (status = 401, body = ApiError),
        (status = 404, description = "No such preview image, or not one the caller may see", body = ApiError)))]
pub async fn link_preview_image(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, at)): Path<(String, String)>,
) -> HttpResult<Response> {
    let message = path_id(&id, Thing::Message)?;
    let (path, content_type) =
        state.services.hub.link_preview_image(user.id, message, position(&at)?).await?;
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        tracing::error!(path = %path.display(), error = %e, "a link preview's image is missing");
        domain::Error::NotFound(Thing::LinkPreview)
    })?;
    let mut response = Body::from(bytes).into_response();
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("image/png"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400"));
    Ok(response)
}

/// `GET /api/communication/workspaces/{id}/link-previews/`: whether links
/// posted in the workspace get previews.
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/link-previews/", tag = "workspaces",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = LinkPreviewSettingDto), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn link_previews_setting(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<LinkPreviewSettingDto>> {
    let (enabled, _) =
        state.services.hub.link_previews_setting(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json(LinkPreviewSettingDto { enabled }))
}

#[derive(Deserialize, ToSchema)]
pub struct LinkPreviewSettingBody {
    /// Whether links posted from now on get previews.
    enabled: bool,
}

/// `PUT /api/communication/workspaces/{id}/link-previews/`: who manages the
/// workspace turns previews on or off (for links posted from then on).
#[utoipa::path(put, path = "/api/communication/workspaces/{id}/link-previews/", tag = "workspaces",
    params(("id" = s::Id, Path, description = "Workspace id")), request_body = LinkPreviewSettingBody,
    responses((status = 200, body = LinkPreviewSettingDto), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn set_link_previews(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<LinkPreviewSettingBody>,
) -> HttpResult<Json<LinkPreviewSettingDto>> {
    let ws = path_id(&id, Thing::Workspace)?;
    state.services.hub.set_link_previews(user.id, ws, body.enabled).await?;
    Ok(Json(LinkPreviewSettingDto { enabled: body.enabled }))
}

#[derive(Deserialize, ToSchema)]
pub struct PagePreviewBody {
    /// The page's address (`http://` or `https://`).
    #[schema(value_type = s::PageUrl)]
    url: String,
}

/// `POST /api/communication/workspaces/{id}/link-previews/`: the preview of
/// one page (its title, description and site; no image), for a browser to
/// put inside an end-to-end encrypted message it sends in the workspace.
/// 204 where the workspace turned previews off or the page has none.
#[utoipa::path(post, path = "/api/communication/workspaces/{id}/link-previews/", tag = "workspaces",
    params(("id" = s::Id, Path, description = "Workspace id")), request_body = PagePreviewBody,
    responses((status = 200, body = LinkPreviewDto), (status = 204, description = "No preview"),
        (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 404, body = ApiError),
        (status = 429, body = ApiError)))]
pub async fn preview_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PagePreviewBody>,
) -> HttpResult<Response> {
    let ws = path_id(&id, Thing::Workspace)?;
    Ok(match state.services.hub.preview_page(user.id, ws, &body.url).await? {
        Some(preview) => Json(LinkPreviewDto::of_page(&preview)).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}
