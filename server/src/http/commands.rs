//! Slash commands under `/api/communication/`: running one in a channel,
//! listing what can be typed there, a workspace's own commands (listed,
//! made and removed by who holds `manage_webhooks` in the workspace), and
//! the response URL through which such a command answers later.

use super::error::{HttpResult, JsonBody, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::schema as s;
use app::wire::{
    ApiError, CommandListingDto, CommandReplyDto, CommandUseDto, CreatedSlashCommandDto, SlashCommandDto,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use domain::error::Thing;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct RunCommandBody {
    /// The command as typed: `/shrug`, `/remind me in 10 minutes to stretch`.
    #[schema(value_type = s::CommandText)]
    command: String,
    /// Typed in this thread (answers posted in the channel go there).
    #[serde(default)]
    #[schema(value_type = Option<s::IdOrEmpty>)]
    thread_id: Option<String>,
    /// An idempotency key for what the command posts.
    #[serde(default)]
    #[schema(value_type = Option<s::Nonce>)]
    nonce: Option<String>,
}

/// `POST /api/communication/channels/{id}/commands/`: runs a command typed
/// in the channel. What it says for the caller alone is `ephemeral`; what
/// it posted is `message`; `go_to` and `join_call` say what a client does
/// next.
#[utoipa::path(post, path = "/api/communication/channels/{id}/commands/", tag = "commands",
    params(("id" = s::Id, Path, description = "Channel id")), request_body = RunCommandBody,
    responses((status = 200, body = CommandReplyDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError),
        (status = 429, body = ApiError)))]
pub async fn run_command(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RunCommandBody>,
) -> HttpResult<Json<CommandReplyDto>> {
    let channel = path_id(&id, Thing::Channel)?;
    let thread = app::ssr::parse_optional_id("thread_id", body.thread_id.as_deref())?;
    let nonce = body.nonce.as_deref().filter(|n| !n.is_empty());
    let reply = state.services.hub.run_command(user.id, channel, thread, &body.command, nonce).await?;
    Ok(Json(CommandReplyDto::from(&reply)))
}

/// `GET /api/communication/channels/{id}/commands/`: the commands that can
/// be typed in the channel, built-ins first.
#[utoipa::path(get, path = "/api/communication/channels/{id}/commands/", tag = "commands",
    params(("id" = s::Id, Path, description = "Channel id")),
    responses((status = 200, body = Vec<CommandListingDto>), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn list_commands(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<CommandListingDto>>> {
    let listed = state.services.hub.commands(user.id, path_id(&id, Thing::Channel)?).await?;
    Ok(Json(listed.iter().map(CommandListingDto::from).collect()))
}

/// `GET /api/communication/workspaces/{id}/slash-commands/`: the
/// workspace's own commands, by name.
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/slash-commands/", tag = "commands",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = Vec<SlashCommandDto>), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn list_slash_commands(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<SlashCommandDto>>> {
    let commands = state.services.hub.slash_commands(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json(commands.iter().map(SlashCommandDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct SlashCommandBody {
    /// Typed after the slash; not a built-in command's name.
    #[schema(value_type = s::CommandName)]
    name: String,
    /// Where it calls.
    #[schema(value_type = s::WebhookUrl)]
    url: String,
    /// What `/help` and the suggestions say it does.
    #[serde(default)]
    #[schema(value_type = Option<s::ShortLine>)]
    description: Option<String>,
    /// What follows the name: `[environment]`.
    #[serde(default)]
    #[schema(value_type = Option<s::ShortLine>)]
    usage_hint: Option<String>,
}

/// `POST /api/communication/workspaces/{id}/slash-commands/`: makes a
/// command; its token and signing secret are in this answer only.
#[utoipa::path(post, path = "/api/communication/workspaces/{id}/slash-commands/", tag = "commands",
    params(("id" = s::Id, Path, description = "Workspace id")), request_body = SlashCommandBody,
    responses((status = 201, body = CreatedSlashCommandDto), (status = 400, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 409, body = ApiError)))]
pub async fn create_slash_command(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SlashCommandBody>,
) -> HttpResult<(StatusCode, Json<CreatedSlashCommandDto>)> {
    let ws = path_id(&id, Thing::Workspace)?;
    let new = domain::hub::NewSlashCommand {
        name: &body.name,
        url: &body.url,
        description: body.description.as_deref().unwrap_or(""),
        usage_hint: body.usage_hint.as_deref().unwrap_or(""),
    };
    let made = state.services.hub.create_slash_command(user.id, ws, new).await?;
    Ok((StatusCode::CREATED, Json(CreatedSlashCommandDto::from(&made))))
}

/// `GET /api/communication/slash-commands/{id}/uses/`: its latest 50 uses
/// of the last day, newest first: who typed what, and how its call answered.
#[utoipa::path(get, path = "/api/communication/slash-commands/{id}/uses/", tag = "commands",
    params(("id" = s::Id, Path, description = "Slash command id")),
    responses((status = 200, body = Vec<CommandUseDto>), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn command_uses(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<CommandUseDto>>> {
    let (_, uses) = state.services.hub.slash_command_uses(user.id, path_id(&id, Thing::Command)?).await?;
    Ok(Json(uses.iter().map(CommandUseDto::from).collect()))
}

/// `DELETE /api/communication/slash-commands/{id}/`: typing it does nothing
/// more, and its calls' response URLs stop working.
#[utoipa::path(delete, path = "/api/communication/slash-commands/{id}/", tag = "commands",
    params(("id" = s::Id, Path, description = "Slash command id")),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn delete_slash_command(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.delete_slash_command(user.id, path_id(&id, Thing::Command)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/communication/commands/answers/{secret}/`: a command's later
/// answer (the `response_url` of its call), as Slack's: JSON with `text`
/// (and `attachments`, `blocks`) and `response_type` `ephemeral` (the
/// default: shown to the person who typed the command) or `in_channel`
/// (posted as the command's bot), or plain text. Five answers within 30
/// minutes of the call.
#[utoipa::path(post, path = "/api/communication/commands/answers/{secret}/", tag = "commands",
    params(("secret" = String, Path, description = "The secret part of the response URL")),
    request_body(content = String, description = "`{\"text\": \"Deployed\", \"response_type\": \"in_channel\"}`, \
        or plain text", content_type = "application/json"),
    responses((status = 200, description = "Shown or posted: the body is `ok`", body = String),
        (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 429, body = ApiError)),
    security(()))]
pub async fn answer_command(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    body: Bytes,
) -> HttpResult<(StatusCode, [(header::HeaderName, &'static str); 1], &'static str)> {
    state.services.hub.answer_command(&secret, &body).await?;
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok"))
}
