//! Outgoing webhooks under `/api/communication/`: listed, made and removed
//! by who holds `manage_webhooks` in the workspace; each with a log of its
//! latest calls, any of which can be sent again.

use super::error::{HttpError, HttpResult, JsonBody, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::schema as s;
use app::wire::{ApiError, CreatedOutgoingWebhookDto, ErrorCode, OutgoingWebhookDto, WebhookDeliveryDto};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::error::Thing;
use domain::hub::NewOutgoingWebhook;
use domain::model::{PayloadFormat, WebhookEvent};
use serde::Deserialize;
use utoipa::ToSchema;

/// `GET /api/communication/workspaces/{id}/outgoing-webhooks/`: the
/// workspace's outgoing webhooks, oldest first.
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/outgoing-webhooks/", tag = "webhooks",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = Vec<OutgoingWebhookDto>), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn list_outgoing_webhooks(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<OutgoingWebhookDto>>> {
    let hooks = state.services.hub.outgoing_webhooks(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json(hooks.iter().map(OutgoingWebhookDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct OutgoingWebhookBody {
    /// What its answers show as their author.
    #[schema(value_type = s::WebhookName)]
    name: String,
    /// Where it calls.
    #[schema(value_type = s::WebhookUrl)]
    url: String,
    /// What it is called for: at least one.
    #[schema(value_type = Vec<s::WebhookEventName>, min_items = 1)]
    events: Vec<String>,
    /// The channels it hears; none (the default): every public channel.
    #[serde(default)]
    #[schema(value_type = Vec<s::Id>)]
    channel_ids: Vec<String>,
    /// Words a message must start with to be sent; none: every message.
    #[serde(default)]
    trigger_words: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Option<s::PayloadFormatName>)]
    format: Option<String>,
}

/// `POST /api/communication/workspaces/{id}/outgoing-webhooks/`: makes an
/// outgoing webhook; its token and signing secret are in this answer only.
#[utoipa::path(post, path = "/api/communication/workspaces/{id}/outgoing-webhooks/", tag = "webhooks",
    params(("id" = s::Id, Path, description = "Workspace id")), request_body = OutgoingWebhookBody,
    responses((status = 201, body = CreatedOutgoingWebhookDto), (status = 400, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn create_outgoing_webhook(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<OutgoingWebhookBody>,
) -> HttpResult<(StatusCode, Json<CreatedOutgoingWebhookDto>)> {
    let ws = path_id(&id, Thing::Workspace)?;
    let events = parse_events(&body.events)?;
    let format = match body.format.as_deref() {
        None | Some("") => PayloadFormat::Json,
        Some(f) => PayloadFormat::parse(f).ok_or_else(|| {
            HttpError::new(ErrorCode::Invalid, format!("format: “{f}” is not json or form."))
        })?,
    };
    let channels = body
        .channel_ids
        .iter()
        .map(|c| app::ssr::parse_id("channel_ids", c))
        .collect::<Result<Vec<_>, _>>()?;
    let words = body.trigger_words.join(" ");
    let new = NewOutgoingWebhook {
        name: &body.name,
        url: &body.url,
        format,
        events: &events,
        channels: &channels,
        trigger_words: &words,
    };
    let made = state.services.hub.create_outgoing_webhook(user.id, ws, new).await?;
    Ok((StatusCode::CREATED, Json(CreatedOutgoingWebhookDto::from(&made))))
}

/// The events named, each known.
fn parse_events(names: &[String]) -> Result<Vec<WebhookEvent>, HttpError> {
    names
        .iter()
        .map(|n| {
            WebhookEvent::parse(n).ok_or_else(|| {
                let known: Vec<&str> = WebhookEvent::ALL.iter().map(|e| e.as_str()).collect();
                HttpError::new(
                    ErrorCode::Invalid,
                    format!("events: “{n}” is not an event; choose among {}.", known.join(", ")),
                )
            })
        })
        .collect()
}

/// `DELETE /api/communication/outgoing-webhooks/{id}/`: no more calls,
/// queued ones included; what its bot answered stays.
#[utoipa::path(delete, path = "/api/communication/outgoing-webhooks/{id}/", tag = "webhooks",
    params(("id" = s::Id, Path, description = "Outgoing webhook id")),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn delete_outgoing_webhook(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.delete_outgoing_webhook(user.id, path_id(&id, Thing::Webhook)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/communication/outgoing-webhooks/{id}/deliveries/`: its latest
/// 50 calls, newest first, each with its attempts (time, status code,
/// latency, the start of the answer or the error).
#[utoipa::path(get, path = "/api/communication/outgoing-webhooks/{id}/deliveries/", tag = "webhooks",
    params(("id" = s::Id, Path, description = "Outgoing webhook id")),
    responses((status = 200, body = Vec<WebhookDeliveryDto>), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn webhook_deliveries(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<WebhookDeliveryDto>>> {
    let (_, calls) = state.services.hub.outgoing_webhook_log(user.id, path_id(&id, Thing::Webhook)?).await?;
    Ok(Json(calls.iter().map(WebhookDeliveryDto::from).collect()))
}

/// `POST /api/communication/outgoing-webhooks/{id}/deliveries/{delivery}/redeliver/`:
/// sends a call again, as it was first sent (signed anew); the new call is
/// answered, and heads the log.
#[utoipa::path(post, path = "/api/communication/outgoing-webhooks/{id}/deliveries/{delivery}/redeliver/",
    tag = "webhooks",
    params(("id" = s::Id, Path, description = "Outgoing webhook id"),
        ("delivery" = s::Id, Path, description = "The call to send again")),
    responses((status = 202, body = WebhookDeliveryDto), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn redeliver(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, delivery)): Path<(String, String)>,
) -> HttpResult<(StatusCode, Json<WebhookDeliveryDto>)> {
    let (id, delivery) = (path_id(&id, Thing::Webhook)?, path_id(&delivery, Thing::Webhook)?);
    let again = state.services.hub.redeliver(user.id, id, delivery).await?;
    Ok((StatusCode::ACCEPTED, Json(WebhookDeliveryDto::from(&again))))
}
