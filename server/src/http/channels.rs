//! Channels of a workspace, their members and messages.

use super::error::{HttpResult, JsonBody, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::wire::{ChannelDto, MessageDto, MessagePageDto};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use domain::error::Thing;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct CreateBody {
    name: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    is_private: bool,
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(ws): Path<String>,
    JsonBody(body): JsonBody<CreateBody>,
) -> HttpResult<(StatusCode, Json<ChannelDto>)> {
    let ws = path_id(&ws, Thing::Workspace)?;
    let ch = state.services.hub.create_channel(user.id, ws, &body.name, &body.topic, body.is_private).await?;
    Ok((StatusCode::CREATED, Json(ChannelDto { is_member: Some(true), ..(&ch).into() })))
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(ws): Path<String>,
) -> HttpResult<Json<Vec<ChannelDto>>> {
    let list = state.services.hub.channels(user.id, path_id(&ws, Thing::Workspace)?).await?;
    Ok(Json(list.iter().map(ChannelDto::from).collect()))
}

pub async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<ChannelDto>> {
    let listing = state.services.hub.channel(user.id, path_id(&id, Thing::Channel)?).await?;
    Ok(Json((&listing).into()))
}

pub async fn join(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<ChannelDto>> {
    let ch = state.services.hub.join_channel(user.id, path_id(&id, Thing::Channel)?).await?;
    Ok(Json(ChannelDto { is_member: Some(true), ..(&ch).into() }))
}

pub async fn leave(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.leave_channel(user.id, path_id(&id, Thing::Channel)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct AddMemberBody {
    username: String,
}

pub async fn add_member(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AddMemberBody>,
) -> HttpResult<StatusCode> {
    state.services.hub.add_channel_member(user.id, path_id(&id, Thing::Channel)?, &body.username).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct PageQuery {
    before: Option<String>,
    limit: Option<i64>,
}

pub async fn messages(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> HttpResult<Json<MessagePageDto>> {
    let before = app::ssr::parse_optional_id("before", q.before.as_deref())?;
    let page = state
        .services
        .hub
        .messages(user.id, path_id(&id, Thing::Channel)?, before, q.limit.unwrap_or(app::api::PAGE_SIZE))
        .await?;
    Ok(Json((&page).into()))
}

#[derive(Deserialize)]
pub struct PostBody {
    body: String,
    #[serde(default)]
    nonce: Option<String>,
}

/// Answers 201 with the new message once it is committed; a repeated nonce
/// answers 200 with the message it created first.
pub async fn post_message(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PostBody>,
) -> HttpResult<(StatusCode, Json<MessageDto>)> {
    let ch = path_id(&id, Thing::Channel)?;
    let (msg, created) =
        state.services.hub.post_message(user.id, ch, &body.body, body.nonce.as_deref()).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json((&msg).into())))
}
