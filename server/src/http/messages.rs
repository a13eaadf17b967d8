//! Editing and deleting messages; reactions.

use super::error::{HttpResult, JsonBody, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::wire::{MessageDto, SearchHitDto};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use domain::error::Thing;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct EditBody {
    body: String,
}

/// `PATCH /api/messages/{id}` `{body}`: the author edits their message.
pub async fn edit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EditBody>,
) -> HttpResult<Json<MessageDto>> {
    let msg = state.services.hub.edit_message(user.id, path_id(&id, Thing::Message)?, &body.body).await?;
    Ok(Json((&msg).into()))
}

/// `DELETE /api/messages/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.delete_message(user.id, path_id(&id, Thing::Message)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/messages/{id}/reactions/{emoji}` (the emoji URL-encoded, or a `:shortcode:`).
pub async fn add_reaction(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, emoji)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    state.services.hub.add_reaction(user.id, path_id(&id, Thing::Message)?, &emoji).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/messages/{id}/reactions/{emoji}`.
pub async fn remove_reaction(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, emoji)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    state.services.hub.remove_reaction(user.id, path_id(&id, Thing::Message)?, &emoji).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: String,
    workspace_id: Option<String>,
}

/// `GET /api/search?q=...&workspace_id=...`: messages the caller may see,
/// newest first (at most 50).
pub async fn search(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<SearchQuery>,
) -> HttpResult<Json<Vec<SearchHitDto>>> {
    let ws = match query.workspace_id.as_deref() {
        Some(w) if !w.is_empty() => Some(path_id(w, Thing::Workspace)?),
        _ => None,
    };
    let hits = state.services.hub.search(user.id, &query.q, ws).await?;
    Ok(Json(hits.iter().map(SearchHitDto::from).collect()))
}
