//! Compliance exports (deployment administrators): asked for, listed,
//! downloaded (resumable: `Range` requests are answered) and deleted; and
//! the daily export's setting.

use super::error::{HttpError, HttpResult, JsonBody, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::schema as s;
use app::wire::{ApiError, ComplianceExportDto, DailyExportDto};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::error::Thing;
use domain::export::ExportFormat;
use domain::hub::ExportRequest;
use serde::Deserialize;
use tower::ServiceExt;
use utoipa::ToSchema;

/// `GET /api/admin/exports/`: compliance exports, newest first.
#[utoipa::path(get, path = "/api/admin/exports/", tag = "compliance", operation_id = "list_exports",
    responses((status = 200, body = Vec<ComplianceExportDto>), (status = 401, body = ApiError),
        (status = 403, body = ApiError)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<Vec<ComplianceExportDto>>> {
    let exports = state.services.hub.compliance_exports(user.id).await?;
    Ok(Json(exports.iter().map(ComplianceExportDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct NewExportBody {
    /// `json` (Slack's layout: a file per channel per day), `csv` (a row
    /// per message event) or `eml` (an email per message).
    #[schema(pattern = "^(json|csv|eml)$")]
    format: String,
    /// The first day of messages to export (`YYYY-MM-DD`, UTC).
    #[schema(format = Date)]
    from: String,
    /// The last day (`YYYY-MM-DD`, UTC), included.
    #[schema(format = Date)]
    to: String,
    /// Only these workspaces (absent or empty: all).
    #[serde(default)]
    #[schema(value_type = Vec<s::Id>)]
    workspace_ids: Vec<String>,
    /// Only these channels (absent or empty: all).
    #[serde(default)]
    #[schema(value_type = Vec<s::Id>)]
    channel_ids: Vec<String>,
    /// Only these people: what they wrote, and every message of the
    /// direct conversations they are in (absent or empty: everyone).
    #[serde(default)]
    #[schema(value_type = Vec<s::Id>)]
    user_ids: Vec<String>,
}

/// The format a body names, or why not.
fn format(text: &str) -> HttpResult<ExportFormat> {
    ExportFormat::parse(text)
        .ok_or_else(|| domain::Error::invalid("format", "Choose the format json, csv or eml.").into())
}

/// `POST /api/admin/exports/`: asks for a compliance export; it is written
/// in the background (poll it until its state is `done`). Audited.
#[utoipa::path(post, path = "/api/admin/exports/", tag = "compliance", operation_id = "create_export", request_body = NewExportBody,
    responses((status = 202, body = ComplianceExportDto), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<NewExportBody>,
) -> HttpResult<(StatusCode, Json<ComplianceExportDto>)> {
    let ids =
        |list: &[String], thing| list.iter().map(|id| path_id(id, thing)).collect::<Result<Vec<_>, _>>();
    let request = ExportRequest {
        format: format(&body.format)?,
        from: body.from,
        to: body.to,
        workspaces: ids(&body.workspace_ids, Thing::Workspace)?,
        channels: ids(&body.channel_ids, Thing::Channel)?,
        users: ids(&body.user_ids, Thing::User)?,
        usernames: Vec::new(),
        channel_names: Vec::new(),
    };
    let export = state.services.hub.request_export(user.id, request).await?;
    Ok((StatusCode::ACCEPTED, Json(ComplianceExportDto::from(&export))))
}

/// `GET /api/admin/exports/{id}/`: one compliance export, with its progress.
#[utoipa::path(get, path = "/api/admin/exports/{id}/", tag = "compliance", operation_id = "get_export",
    params(("id" = s::Id, Path, description = "Export id")),
    responses((status = 200, body = ComplianceExportDto), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<ComplianceExportDto>> {
    let export = state.services.hub.compliance_export(user.id, path_id(&id, Thing::Export)?).await?;
    Ok(Json(ComplianceExportDto::from(&export)))
}

/// `DELETE /api/admin/exports/{id}/`: deletes an export and its archive (a
/// running one stops). Audited.
#[utoipa::path(delete, path = "/api/admin/exports/{id}/", tag = "compliance", operation_id = "delete_export",
    params(("id" = s::Id, Path, description = "Export id")),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.delete_export(user.id, path_id(&id, Thing::Export)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/admin/exports/{id}/archive`: a finished export's zip, streamed
/// from disk. A cut-off download resumes with `Range`. Audited (a resumed
/// download is not noted again).
#[utoipa::path(get, path = "/api/admin/exports/{id}/archive", tag = "compliance", operation_id = "export_archive",
    params(("id" = s::Id, Path, description = "Export id")),
    responses((status = 200, description = "The export's zip", content_type = "application/zip"),
        (status = 206, description = "The part of the zip asked for with Range", content_type = "application/zip"),
        (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, description = "Not finished yet", body = ApiError),
        (status = 416, description = "The range is outside the archive", body = ApiError)))]
pub async fn archive(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> HttpResult<Response> {
    let range = headers.get(header::RANGE).cloned();
    let resumed = range.as_ref().and_then(|r| r.to_str().ok()).is_some_and(|r| !r.starts_with("bytes=0-"));
    let id = path_id(&id, Thing::Export)?;
    let (path, name) = state.services.hub.export_archive(user.id, id, !resumed).await?;
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        tracing::error!(path = %path.display(), "a finished export's archive is missing");
        return Err(HttpError::from(domain::Error::NotFound(Thing::Export)));
    }
    let mut request = Request::builder().uri("/");
    for name in [header::RANGE, header::IF_RANGE, header::IF_MODIFIED_SINCE, header::IF_NONE_MATCH] {
        if let Some(v) = headers.get(&name) {
            request = request.header(name, v.clone());
        }
    }
    let request = request.body(Body::empty()).map_err(|e| domain::Error::internal(e.to_string()))?;
    let served = tower_http::services::ServeFile::new(&path)
        .oneshot(request)
        .await
        .map_err(|e| domain::Error::internal(format!("serving an export: {e}")))?;
    let mut response = served.map(Body::new).into_response();
    if response.status() == StatusCode::RANGE_NOT_SATISFIABLE {
        response = outside_the_archive(response);
    }
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&super::files::content_disposition(&name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    Ok(response)
}

/// A `Range` past the archive's end, answered with the JSON error (and
/// `Content-Range` saying how long the archive is).
fn outside_the_archive(served: Response) -> Response {
    let length = served.headers().get(header::CONTENT_RANGE).cloned();
    let error = ApiError {
        code: app::wire::ErrorCode::Invalid,
        message: "The range asked for is outside the archive. Ask for a range within its length (in \
                  Content-Range), or for the whole file."
            .to_string(),
        field: Some("range".to_string()),
        rate_limit: None,
    };
    let mut response = (StatusCode::RANGE_NOT_SATISFIABLE, Json(error)).into_response();
    if let Some(length) = length {
        response.headers_mut().insert(header::CONTENT_RANGE, length);
    }
    response
}

/// `GET /api/admin/daily-export/`: whether the daily export is on, and its format.
#[utoipa::path(get, path = "/api/admin/daily-export/", tag = "compliance", operation_id = "daily_export",
    responses((status = 200, body = DailyExportDto), (status = 401, body = ApiError),
        (status = 403, body = ApiError)))]
pub async fn daily(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<DailyExportDto>> {
    let format = state.services.hub.daily_export(user.id).await?;
    Ok(Json(DailyExportDto { format: format.map_or("off", |f| f.as_str()).to_string() }))
}

/// `PUT /api/admin/daily-export/`: turns the daily export on (each day
/// after midnight UTC, the day before, everywhere, in the format given) or
/// `off`. Audited.
#[utoipa::path(put, path = "/api/admin/daily-export/", tag = "compliance", operation_id = "set_daily_export", request_body = DailyExportDto,
    responses((status = 200, body = DailyExportDto), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn set_daily(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<DailyExportDto>,
) -> HttpResult<Json<DailyExportDto>> {
    let format = match body.format.as_str() {
        "off" => None,
        other => Some(format(other).map_err(|_| {
            HttpError::from(domain::Error::invalid("format", "Choose off, json, csv or eml."))
        })?),
    };
    state.services.hub.set_daily_export(user.id, format).await?;
    Ok(Json(body))
}
