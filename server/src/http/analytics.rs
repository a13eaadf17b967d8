//! Analytics over the API: a workspace's figures (who manages it) and the
//! deployment's (its administrators), each as JSON or as CSV.

use super::error::{HttpResult, QueryParams, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::schema as s;
use app::wire::{ApiError, FigureDto};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domain::error::Thing;
use domain::hub::AnalyticsScope;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// The days covered, up to today (UTC): 1 to 366 (default 30).
    #[param(minimum = 1, maximum = 366)]
    days: Option<i64>,
}

impl PeriodQuery {
    fn days(&self) -> i64 {
        self.days.unwrap_or(30)
    }
}

async fn all(
    state: &AppState,
    user: domain::Id,
    scope: AnalyticsScope,
    q: &PeriodQuery,
) -> HttpResult<Json<Vec<FigureDto>>> {
    let figures = state.services.hub.analytics(user, scope, q.days(), domain::now_ms()).await?;
    Ok(Json(figures.iter().map(|f| app::conversions::figure_dto(f, scope, q.days())).collect()))
}

async fn one(
    state: &AppState,
    user: domain::Id,
    scope: AnalyticsScope,
    figure: &str,
    q: &PeriodQuery,
) -> HttpResult<domain::model::Figure> {
    Ok(state.services.hub.figure(user, scope, figure, q.days(), domain::now_ms()).await?)
}

/// A figure as a CSV download.
fn csv(figure: &domain::model::Figure) -> Response {
    let name = format!("parley-{}-{}-to-{}.csv", figure.name, figure.from, figure.to);
    let mut response = figure.to_csv().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&super::files::content_disposition(&name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// `GET /api/communication/workspaces/{id}/analytics/`: the workspace's
/// figures (messages and people who posted per day, busiest channels),
/// for who manages it.
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/analytics/", tag = "analytics",
    operation_id = "workspace_analytics",
    params(("id" = s::Id, Path, description = "Workspace id"), PeriodQuery),
    responses((status = 200, body = Vec<FigureDto>), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn workspace_figures(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    QueryParams(q): QueryParams<PeriodQuery>,
) -> HttpResult<Json<Vec<FigureDto>>> {
    let scope = AnalyticsScope::Workspace(path_id(&id, Thing::Workspace)?);
    all(&state, user.id, scope, &q).await
}

/// `GET /api/communication/workspaces/{id}/analytics/{figure}/`: one of
/// the workspace's figures (`messages`, `active_people`, `channels`).
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/analytics/{figure}/", tag = "analytics",
    operation_id = "workspace_figure",
    params(("id" = s::Id, Path, description = "Workspace id"),
        ("figure" = inline(s::FigureName), Path, description = "The figure"), PeriodQuery),
    responses((status = 200, body = FigureDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn workspace_figure(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, figure)): Path<(String, String)>,
    QueryParams(q): QueryParams<PeriodQuery>,
) -> HttpResult<Json<FigureDto>> {
    let scope = AnalyticsScope::Workspace(path_id(&id, Thing::Workspace)?);
    let f = one(&state, user.id, scope, &figure, &q).await?;
    Ok(Json(app::conversions::figure_dto(&f, scope, q.days())))
}

/// `GET /api/communication/workspaces/{id}/analytics/{figure}/csv`: one of
/// the workspace's figures as CSV.
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/analytics/{figure}/csv", tag = "analytics",
    operation_id = "workspace_figure_csv",
    params(("id" = s::Id, Path, description = "Workspace id"),
        ("figure" = inline(s::FigureName), Path, description = "The figure"), PeriodQuery),
    responses((status = 200, description = "The figure as CSV", content_type = "text/csv"),
        (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn workspace_figure_csv(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, figure)): Path<(String, String)>,
    QueryParams(q): QueryParams<PeriodQuery>,
) -> HttpResult<Response> {
    let scope = AnalyticsScope::Workspace(path_id(&id, Thing::Workspace)?);
    Ok(csv(&one(&state, user.id, scope, &figure, &q).await?))
}

/// `GET /api/admin/analytics/`: the deployment's figures, across every
/// workspace (its administrators).
#[utoipa::path(get, path = "/api/admin/analytics/", tag = "analytics", operation_id = "deployment_analytics",
    params(PeriodQuery),
    responses((status = 200, body = Vec<FigureDto>), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError)))]
pub async fn deployment_figures(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    QueryParams(q): QueryParams<PeriodQuery>,
) -> HttpResult<Json<Vec<FigureDto>>> {
    all(&state, user.id, AnalyticsScope::Deployment, &q).await
}

/// `GET /api/admin/analytics/{figure}/`: one of the deployment's figures.
#[utoipa::path(get, path = "/api/admin/analytics/{figure}/", tag = "analytics", operation_id = "deployment_figure",
    params(("figure" = inline(s::FigureName), Path, description = "The figure"), PeriodQuery),
    responses((status = 200, body = FigureDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError)))]
pub async fn deployment_figure(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(figure): Path<String>,
    QueryParams(q): QueryParams<PeriodQuery>,
) -> HttpResult<Json<FigureDto>> {
    let f = one(&state, user.id, AnalyticsScope::Deployment, &figure, &q).await?;
    Ok(Json(app::conversions::figure_dto(&f, AnalyticsScope::Deployment, q.days())))
}

/// `GET /api/admin/analytics/{figure}/csv`: one of the deployment's figures as CSV.
#[utoipa::path(get, path = "/api/admin/analytics/{figure}/csv", tag = "analytics",
    operation_id = "deployment_figure_csv",
    params(("figure" = inline(s::FigureName), Path, description = "The figure"), PeriodQuery),
    responses((status = 200, description = "The figure as CSV", content_type = "text/csv"),
        (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn deployment_figure_csv(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(figure): Path<String>,
    QueryParams(q): QueryParams<PeriodQuery>,
) -> HttpResult<Response> {
    Ok(csv(&one(&state, user.id, AnalyticsScope::Deployment, &figure, &q).await?))
}
