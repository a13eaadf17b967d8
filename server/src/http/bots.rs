//! Bot accounts under `/api/communication/`: a workspace's bots (listed for
//! its members), made by who may change the workspace; each bot's API
//! tokens, made and revoked by its owner or the workspace's managers; and
//! removing a bot. A bot then uses the API and the gateway with its token.

use super::error::{HttpResult, JsonBody, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::schema as s;
use app::wire::{ApiError, ApiTokenDto, BotDto, CreatedTokenDto};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::error::Thing;
use domain::hub::NewBot;
use serde::Deserialize;
use utoipa::ToSchema;

/// `GET /api/communication/workspaces/{id}/bots/`: the workspace's bots.
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/bots/", tag = "bots",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = Vec<BotDto>), (status = 404, body = ApiError)))]
pub async fn list_bots(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<BotDto>>> {
    let bots = state.services.hub.bots(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json(bots.iter().map(BotDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct BotBody {
    /// Its username, to add it to channels and mention it.
    #[schema(value_type = s::Username)]
    username: String,
    #[schema(value_type = s::DisplayName)]
    display_name: String,
    /// Its avatar: one emoji or a `:shortcode:` (absent, null or empty: 🤖).
    #[serde(default)]
    #[schema(value_type = Option<s::BotEmoji>)]
    emoji: Option<String>,
    /// What it does.
    #[serde(default)]
    #[schema(value_type = Option<s::ShortText>)]
    description: Option<String>,
}

/// `POST /api/communication/workspaces/{id}/bots/`: makes a bot owned by the caller.
#[utoipa::path(post, path = "/api/communication/workspaces/{id}/bots/", tag = "bots",
    params(("id" = s::Id, Path, description = "Workspace id")), request_body = BotBody,
    responses((status = 201, body = BotDto), (status = 400, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn create_bot(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<BotBody>,
) -> HttpResult<(StatusCode, Json<BotDto>)> {
    let new = NewBot {
        username: &body.username,
        display_name: &body.display_name,
        emoji: body.emoji.as_deref().unwrap_or(""),
        description: body.description.as_deref().unwrap_or(""),
    };
    let bot = state.services.hub.create_bot(user.id, path_id(&id, Thing::Workspace)?, new).await?;
    Ok((StatusCode::CREATED, Json(BotDto::from(&bot))))
}

/// `DELETE /api/communication/bots/{id}/`: its tokens stop working and it
/// leaves the workspace; what it posted stays.
#[utoipa::path(delete, path = "/api/communication/bots/{id}/", tag = "bots",
    params(("id" = s::Id, Path, description = "The bot's user id")),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn remove_bot(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.remove_bot(user.id, path_id(&id, Thing::Bot)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/communication/bots/{id}/tokens/`: the bot's tokens that work.
#[utoipa::path(get, path = "/api/communication/bots/{id}/tokens/", tag = "bots",
    params(("id" = s::Id, Path, description = "The bot's user id")),
    responses((status = 200, body = Vec<ApiTokenDto>), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn bot_tokens(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<ApiTokenDto>>> {
    let tokens = state.services.hub.bot_tokens(user.id, path_id(&id, Thing::Bot)?).await?;
    Ok(Json(tokens.iter().map(ApiTokenDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct BotTokenBody {
    /// What the token is for.
    #[schema(value_type = s::TokenName)]
    name: String,
}

/// `POST /api/communication/bots/{id}/tokens/`: a token for the bot, shown once.
#[utoipa::path(post, path = "/api/communication/bots/{id}/tokens/", tag = "bots",
    params(("id" = s::Id, Path, description = "The bot's user id")), request_body = BotTokenBody,
    responses((status = 201, body = CreatedTokenDto), (status = 400, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn create_bot_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<BotTokenBody>,
) -> HttpResult<(StatusCode, Json<CreatedTokenDto>)> {
    let hub = &state.services.hub;
    let (info, token) = hub.create_bot_token(user.id, path_id(&id, Thing::Bot)?, &body.name).await?;
    Ok((StatusCode::CREATED, Json(CreatedTokenDto { info: ApiTokenDto::from(&info), token })))
}

/// `DELETE /api/communication/bots/{id}/tokens/{token_id}/`: the token stops working at once.
#[utoipa::path(delete, path = "/api/communication/bots/{id}/tokens/{token_id}/", tag = "bots",
    params(("id" = s::Id, Path, description = "The bot's user id"),
        ("token_id" = String, Path, description = "The token's id (from the list)")),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn revoke_bot_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, token_id)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    state.services.hub.revoke_bot_token(user.id, path_id(&id, Thing::Bot)?, &token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
