//! Incoming webhooks: `POST /hooks/{token}` posts what a script sends
//! (JSON, or the form field `payload` holding JSON, as Slack and Mattermost
//! accept), answering `ok` as Slack does; their managers list, make and
//! remove them under `/api/communication/`.

use super::error::{HttpError, HttpResult, JsonBody, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::schema as s;
use app::wire::{ApiError, CreatedWebhookDto, ErrorCode, WebhookDto};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use domain::error::Thing;
use domain::hub::Signature;
use serde::Deserialize;
use utoipa::ToSchema;

/// `POST /hooks/{token}`: posts into the webhook's channel as its bot.
/// With a signing secret, `X-Parley-Request-Timestamp` and
/// `X-Parley-Signature` (or Slack's `X-Slack-…` names) must sign the body.
#[utoipa::path(post, path = "/hooks/{token}", tag = "webhooks",
    params(("token" = String, Path, description = "The secret part of the webhook's address")),
    request_body(content = String, description = "JSON: `{\"text\": \"Slack markup\"}` (with `username`, \
        `icon_emoji`, `attachments`, `blocks`) or `{\"content\": \"Markdown\"}`; or a form whose field \
        `payload` holds that JSON", content_type = "application/json"),
    responses((status = 200, description = "Posted: the body is `ok`", body = String),
        (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 429, body = ApiError)),
    security(()))]
pub async fn call_webhook(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResult<(StatusCode, [(header::HeaderName, &'static str); 1], &'static str)> {
    let header = |names: [&str; 2]| names.iter().find_map(|n| headers.get(*n).and_then(|v| v.to_str().ok()));
    let timestamp = header(["x-parley-request-timestamp", "x-slack-request-timestamp"]);
    let signature = header(["x-parley-signature", "x-slack-signature"]);
    let signed = match (timestamp, signature) {
        (Some(timestamp), Some(signature)) => Some(Signature { timestamp, signature }),
        _ => None,
    };
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let payload = if is_form { form_payload(&body)? } else { body.to_vec() };
    // The signature covers the body as sent, whatever its form.
    let hub = &state.services.hub;
    hub.post_by_webhook(&token, signed, &body, &payload).await?;
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok"))
}

/// The JSON in a form's `payload` field.
fn form_payload(body: &[u8]) -> HttpResult<Vec<u8>> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v.into_owned().into_bytes())
        .ok_or_else(|| {
            HttpError::new(
                ErrorCode::Invalid,
                "A form sent to a webhook needs the field payload, holding JSON such as {\"text\": \"Hello\"}.",
            )
        })
}

/// `GET /api/communication/workspaces/{id}/webhooks/`: the webhooks of the
/// channels where the caller may manage them.
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/webhooks/", tag = "webhooks",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = Vec<WebhookDto>), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<WebhookDto>>> {
    let hooks = state.services.hub.webhooks(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json(hooks.iter().map(WebhookDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct WebhookBody {
    /// The channel (or direct conversation) it posts into.
    #[schema(value_type = s::Id)]
    channel_id: String,
    /// What its posts show as their author.
    #[schema(value_type = s::WebhookName)]
    name: String,
    /// Require every call to be signed with a signing secret (shown once).
    #[serde(default)]
    signed: bool,
}

/// `POST /api/communication/workspaces/{id}/webhooks/`: makes a webhook; its
/// address (and signing secret) are in this answer only.
#[utoipa::path(post, path = "/api/communication/workspaces/{id}/webhooks/", tag = "webhooks",
    params(("id" = s::Id, Path, description = "Workspace id")), request_body = WebhookBody,
    responses((status = 201, body = CreatedWebhookDto), (status = 400, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<WebhookBody>,
) -> HttpResult<(StatusCode, Json<CreatedWebhookDto>)> {
    let ws = path_id(&id, Thing::Workspace)?;
    let channel = app::ssr::parse_id("channel_id", &body.channel_id)?;
    let hub = &state.services.hub;
    let made = hub.create_webhook(user.id, ws, channel, &body.name, body.signed).await?;
    Ok((StatusCode::CREATED, Json(CreatedWebhookDto::from(&made))))
}

/// `DELETE /api/communication/webhooks/{id}/`: its address stops working at
/// once; what it posted stays.
#[utoipa::path(delete, path = "/api/communication/webhooks/{id}/", tag = "webhooks",
    params(("id" = s::Id, Path, description = "Webhook id")),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.delete_webhook(user.id, path_id(&id, Thing::Webhook)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
