//! Notification preferences (the caller's), web push subscriptions, channel
//! levels, and a workspace's notification templates.

use super::error::{HttpResult, JsonBody, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::schema as s;
use app::wire::{ApiError, NotificationPreferencesDto, PushSubscriptionInput, TemplateDto};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use domain::error::Thing;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /api/communication/notification_preferences/`.
#[utoipa::path(get, path = "/api/communication/notification_preferences/", tag = "notifications",
    responses((status = 200, body = NotificationPreferencesDto), (status = 401, body = ApiError)))]
pub async fn get_preferences(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<NotificationPreferencesDto>> {
    Ok(Json((&state.services.hub.notification_settings(user.id).await?).into()))
}

/// What `PUT /api/communication/notification_preferences/` changes: the
/// writable part of [`NotificationPreferencesDto`] (a whole one as `GET`
/// gives it is accepted too; its read-only fields are ignored).
#[derive(Deserialize, ToSchema)]
pub struct PreferencesBody {
    #[schema(value_type = s::TimeZoneName)]
    time_zone: String,
    /// With quiet hours on, at least one day is chosen.
    quiet_hours_enabled: bool,
    /// `HH:MM` in the time zone; an end before the start runs past midnight.
    #[schema(value_type = s::TimeOfDay)]
    quiet_start: String,
    #[schema(value_type = s::TimeOfDay)]
    quiet_end: String,
    /// The days a quiet window starts on.
    #[schema(value_type = Vec<s::Weekday>)]
    quiet_days: Vec<String>,
    /// High and urgent notifications still arrive in quiet hours.
    urgent_breaks_through: bool,
    /// E.164 (`+442079460958`), or empty.
    #[serde(default)]
    #[schema(pattern = r"^(\+[1-9][0-9]{7,14})?$")]
    phone: String,
    /// Switches left out are off.
    switches: Vec<app::wire::NotificationSwitchDto>,
}

/// `PUT /api/communication/notification_preferences/`: replaces them
/// (switches left out are off).
#[utoipa::path(put, path = "/api/communication/notification_preferences/", tag = "notifications",
    request_body = PreferencesBody,
    responses((status = 200, body = NotificationPreferencesDto), (status = 400, body = ApiError), (status = 401, body = ApiError)))]
pub async fn put_preferences(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(p): JsonBody<PreferencesBody>,
) -> HttpResult<Json<NotificationPreferencesDto>> {
    if let Some(s) = p.switches.iter().find(|s| !domain::notify::is_switch(&s.kind, &s.channel)) {
        let message = format!(
            "“{}” by {} is not a notification type and delivery channel Parley knows.",
            s.kind, s.channel
        );
        return Err(ApiError::invalid("switches", message).into());
    }
    let on = p.switches.iter().filter(|s| s.enabled).map(|s| format!("{}:{}", s.kind, s.channel)).collect();
    let input = app::conversions::settings_input(
        p.time_zone,
        p.quiet_hours_enabled,
        p.quiet_start,
        p.quiet_end,
        &p.quiet_days,
        p.urgent_breaks_through,
        p.phone,
        on,
    )?;
    let hub = &state.services.hub;
    hub.save_notification_settings(user.id, input).await?;
    Ok(Json((&hub.notification_settings(user.id).await?).into()))
}

/// `POST /api/communication/push_subscriptions/`: turns web push on for a
/// browser (the body is `PushSubscription.toJSON()`).
#[utoipa::path(post, path = "/api/communication/push_subscriptions/", tag = "notifications",
    request_body = PushSubscriptionInput,
    responses((status = 201, body = app::wire::PushSubscriptionDto), (status = 400, body = ApiError), (status = 401, body = ApiError)))]
pub async fn subscribe(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: tower_sessions::Session,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PushSubscriptionInput>,
) -> HttpResult<(StatusCode, Json<app::wire::PushSubscriptionDto>)> {
    let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    // Made with the session cookie, it ends with that session's sign-out.
    let in_session = match headers.contains_key(header::AUTHORIZATION) {
        true => None,
        false => app::ssr::auth::session_id(&session),
    };
    let s = state
        .services
        .hub
        .subscribe_push(
            user.id,
            &body.endpoint,
            &body.keys.p256dh,
            &body.keys.auth,
            agent,
            in_session.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json((&s).into())))
}

#[derive(Deserialize, ToSchema)]
pub struct EndpointBody {
    /// The push service's URL for the browser, as it subscribed.
    #[schema(pattern = "^https://")]
    endpoint: String,
}

/// `POST /api/communication/push_subscriptions/unsubscribe/`: turns web
/// push off for one of the caller's browsers.
#[utoipa::path(post, path = "/api/communication/push_subscriptions/unsubscribe/", tag = "notifications",
    request_body = EndpointBody,
    responses((status = 204), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<EndpointBody>,
) -> HttpResult<StatusCode> {
    state.services.hub.unsubscribe_push(user.id, &body.endpoint).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct LevelBody {
    #[schema(value_type = s::NotificationLevel)]
    level: String,
}

/// `POST /api/communication/channels/{id}/notification_level/`: how much of
/// the channel notifies the caller.
#[utoipa::path(post, path = "/api/communication/channels/{id}/notification_level/", tag = "notifications",
    params(("id" = s::Id, Path, description = "Channel id")), request_body = LevelBody,
    responses((status = 200, body = LevelBody), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn set_level(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<LevelBody>,
) -> HttpResult<Json<LevelBody>> {
    let level =
        state.services.hub.set_channel_level(user.id, path_id(&id, Thing::Channel)?, &body.level).await?;
    Ok(Json(LevelBody { level: level.as_str().to_string() }))
}

/// `GET /api/communication/workspaces/{id}/notification_templates/`: every
/// template (built-in ones the workspace has not stored say `is_default`).
#[utoipa::path(get, path = "/api/communication/workspaces/{id}/notification_templates/", tag = "notifications",
    params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = Vec<TemplateDto>), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn templates(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<Vec<TemplateDto>>> {
    let list = state.services.hub.notification_templates(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json(list.iter().map(Into::into).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct TemplateBody {
    /// A notification type, a new template id, or `digest`: 1 to 50 letters, digits and _.
    #[schema(pattern = "^[A-Za-z0-9_]{1,50}$")]
    name: String,
    #[schema(value_type = s::DeliveryChannel)]
    channel: String,
    /// At most 200 characters; `{{variable}}` takes a value.
    #[serde(default)]
    #[schema(max_length = 200)]
    subject: Option<String>,
    /// 1 to 5000 characters, not only white space; `{{variable}}` takes a value.
    #[schema(max_length = 5000, pattern = r"\S")]
    body: String,
    /// At most 20000 characters; `{{variable}}` takes a value.
    #[serde(default)]
    #[schema(max_length = 20000)]
    body_html: Option<String>,
}

/// `POST /api/communication/workspaces/{id}/notification_templates/`: saves
/// a template (replacing the one with its name and channel).
#[utoipa::path(post, path = "/api/communication/workspaces/{id}/notification_templates/", tag = "notifications",
    params(("id" = s::Id, Path, description = "Workspace id")), request_body = TemplateBody,
    responses((status = 200, body = TemplateDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn save_template(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<TemplateBody>,
) -> HttpResult<Json<TemplateDto>> {
    let template = app::ssr::template_input(b.name, &b.channel, b.subject, b.body, b.body_html)?;
    let saved = state.services.hub.save_template(user.id, path_id(&id, Thing::Workspace)?, template).await?;
    Ok(Json((&saved).into()))
}

/// `DELETE /api/communication/workspaces/{id}/notification_templates/{template_id}/`:
/// a built-in template goes back to its default wording.
#[utoipa::path(delete, path = "/api/communication/workspaces/{id}/notification_templates/{template_id}/",
    tag = "notifications",
    params(("id" = s::Id, Path, description = "Workspace id"), ("template_id" = s::Id, Path, description = "Template id")),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn delete_template(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, template_id)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    let (ws, t) = (path_id(&id, Thing::Workspace)?, path_id(&template_id, Thing::Template)?);
    state.services.hub.delete_template(user.id, ws, t).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct AddedDto {
    /// How many templates were stored.
    added: u64,
}

/// `POST /api/communication/workspaces/{id}/notification_templates/create_defaults/`:
/// stores the built-in templates the workspace lacks, for editing (seed
/// 000's `create_default_templates`).
#[utoipa::path(post, path = "/api/communication/workspaces/{id}/notification_templates/create_defaults/",
    tag = "notifications", params(("id" = s::Id, Path, description = "Workspace id")),
    responses((status = 200, body = AddedDto), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn create_defaults(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<AddedDto>> {
    let added = state.services.hub.create_default_templates(user.id, path_id(&id, Thing::Workspace)?).await?;
    Ok(Json(AddedDto { added }))
}
