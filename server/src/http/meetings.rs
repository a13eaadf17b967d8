//! Seed 000's meetings routes under `/api/communication/meetings/`, each
//! meeting's `.ics` file, and the private calendar feeds (`/calendar/…`).

use super::error::{HttpResult, JsonBody, QueryParams, path_id};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::schema as s;
use app::wire::{ApiError, CalendarFeedDto, MeetingDto};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::error::Thing;
use domain::model::{Meeting, User};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Meeting `m` as `viewer` sees it (their link into its Jitsi room, if offered).
fn dto(state: &AppState, viewer: &User, m: &Meeting) -> MeetingDto {
    let hub = &state.services.hub;
    app::conversions::meeting_dto(m, &hub.call_shown(m.channel_id), hub.video_link(viewer, m))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeetingListQuery {
    /// Only this workspace's meetings (default: every workspace of the caller).
    #[param(value_type = Option<s::IdOrEmpty>)]
    workspace_id: Option<String>,
}

/// `GET /api/communication/meetings/`: the caller's meetings (organised or
/// invited to), earliest first, until a day after they end.
#[utoipa::path(get, path = "/api/communication/meetings/", operation_id = "list_meetings", tag = "meetings", params(MeetingListQuery),
    responses((status = 200, body = Vec<MeetingDto>), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    QueryParams(q): QueryParams<MeetingListQuery>,
) -> HttpResult<Json<Vec<MeetingDto>>> {
    let hub = &state.services.hub;
    let mut out = Vec::new();
    for ws in super::communication::workspaces_asked(hub, user.id, q.workspace_id.as_deref()).await? {
        out.extend(hub.meetings(user.id, ws).await?.iter().map(|m| dto(&state, &user, m)));
    }
    Ok(Json(out))
}

#[derive(Deserialize, ToSchema)]
pub struct ScheduleBody {
    #[schema(value_type = s::Id)]
    workspace_id: String,
    #[schema(value_type = s::Title)]
    title: String,
    #[serde(default)]
    #[schema(value_type = s::ShortText)]
    description: String,
    /// Usernames of the people invited (at most 100).
    #[serde(default)]
    #[schema(value_type = Vec<s::Username>, max_items = 100)]
    participants: Vec<String>,
    /// RFC 3339, like `2026-11-23T09:30:00+01:00`.
    #[schema(value_type = s::Timestamp)]
    scheduled_start: String,
    /// After the start, at most 24 hours later, and not yet past.
    #[schema(value_type = s::Timestamp)]
    scheduled_end: String,
    /// The organizer may record the call.
    #[serde(default)]
    enable_recording: bool,
}

fn time(field: &'static str, text: &str) -> Result<i64, ApiError> {
    domain::calendar::parse_rfc3339(text).ok_or_else(|| {
        ApiError::from(domain::Error::invalid(
            field,
            "Give a date and time like 2026-11-23T09:30:00+01:00 (RFC 3339).",
        ))
    })
}

/// `POST /api/communication/meetings/`: schedules a meeting; its call gets a
/// private voice channel whose members are the organizer and participants.
#[utoipa::path(post, path = "/api/communication/meetings/", operation_id = "schedule_meeting", tag = "meetings", request_body = ScheduleBody,
    responses((status = 201, body = MeetingDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn schedule(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<ScheduleBody>,
) -> HttpResult<(StatusCode, Json<MeetingDto>)> {
    let ws = app::ssr::parse_id("workspace_id", &body.workspace_id)?;
    app::ssr::usernames("participants", &body.participants)?;
    let new = domain::hub::NewMeeting {
        title: &body.title,
        description: &body.description,
        participants: body.participants,
        starts_at: time("scheduled_start", &body.scheduled_start)?,
        ends_at: time("scheduled_end", &body.scheduled_end)?,
        enable_recording: body.enable_recording,
        instant: false,
    };
    let m = state.services.hub.schedule_meeting(user.id, ws, new).await?;
    Ok((StatusCode::CREATED, Json(dto(&state, &user, &m))))
}

#[derive(Deserialize, ToSchema)]
pub struct InstantBody {
    #[schema(value_type = s::Id)]
    workspace_id: String,
    /// Default: "Call".
    #[serde(default)]
    #[schema(max_length = 200)]
    title: String,
    /// Usernames of the people invited (at most 100).
    #[serde(default)]
    #[schema(value_type = Vec<s::Username>, max_items = 100)]
    participants: Vec<String>,
}

/// `POST /api/communication/meetings/instant/`: a call that starts now (booked
/// for an hour); join it at `url`.
#[utoipa::path(post, path = "/api/communication/meetings/instant/", operation_id = "instant_meeting", tag = "meetings", request_body = InstantBody,
    responses((status = 201, body = MeetingDto), (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub async fn instant(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<InstantBody>,
) -> HttpResult<(StatusCode, Json<MeetingDto>)> {
    let ws = app::ssr::parse_id("workspace_id", &body.workspace_id)?;
    app::ssr::usernames("participants", &body.participants)?;
    let title = if body.title.trim().is_empty() { "Call" } else { body.title.as_str() };
    let new = domain::hub::NewMeeting {
        title,
        participants: body.participants,
        instant: true,
        ..Default::default()
    };
    let m = state.services.hub.schedule_meeting(user.id, ws, new).await?;
    Ok((StatusCode::CREATED, Json(dto(&state, &user, &m))))
}

/// `GET /api/communication/meetings/{id}/`.
#[utoipa::path(get, path = "/api/communication/meetings/{id}/", operation_id = "get_meeting", tag = "meetings",
    params(("id" = s::Id, Path, description = "Meeting id")),
    responses((status = 200, body = MeetingDto), (status = 401, body = ApiError), (status = 404, body = ApiError)))]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<MeetingDto>> {
    let m = state.services.hub.meeting(user.id, path_id(&id, Thing::Meeting)?).await?;
    Ok(Json(dto(&state, &user, &m)))
}

/// `POST /api/communication/meetings/{id}/join/`: checks that the meeting is
/// open to the caller and not over; the call is `channel_id`'s (join it over
/// the gateway with `VOICE_JOIN`, or open `url`).
#[utoipa::path(post, path = "/api/communication/meetings/{id}/join/", operation_id = "join_meeting", tag = "meetings",
    params(("id" = s::Id, Path, description = "Meeting id")),
    responses((status = 200, body = MeetingDto), (status = 409, description = "The meeting has ended", body = ApiError), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn join(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<MeetingDto>> {
    let m = state.services.hub.join_meeting(user.id, path_id(&id, Thing::Meeting)?).await?;
    Ok(Json(dto(&state, &user, &m)))
}

/// `POST /api/communication/meetings/{id}/end/`: ends it for everyone (its
/// organizer, or who manages channels): the call ends, its channel is archived.
#[utoipa::path(post, path = "/api/communication/meetings/{id}/end/", operation_id = "end_meeting", tag = "meetings",
    params(("id" = s::Id, Path, description = "Meeting id")),
    responses((status = 200, body = MeetingDto), (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn end(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Json<MeetingDto>> {
    let m = state.services.hub.end_meeting(user.id, path_id(&id, Thing::Meeting)?).await?;
    Ok(Json(dto(&state, &user, &m)))
}

fn calendar_response(name: &str, body: String) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8"));
    if let Ok(v) = HeaderValue::from_str(&super::files::content_disposition(name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    response
}

fn page_url(state: &AppState, m: &Meeting) -> String {
    let path = app::paths::channel(&m.workspace_id.to_string(), &m.channel_id.to_string());
    format!("{}{path}", state.services.public_url)
}

/// `GET /api/communication/meetings/{id}/ics/`: the meeting as an iCalendar file (RFC 5545).
#[utoipa::path(get, path = "/api/communication/meetings/{id}/ics/", operation_id = "meeting_ics", tag = "meetings",
    params(("id" = s::Id, Path, description = "Meeting id")),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 401, body = ApiError),
        (status = 404, body = ApiError)))]
pub async fn ics(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<Response> {
    let m = state.services.hub.meeting(user.id, path_id(&id, Thing::Meeting)?).await?;
    let body = domain::calendar::calendar(&m.title, std::slice::from_ref(&m), |m| page_url(&state, m));
    Ok(calendar_response("meeting.ics", body))
}

/// `POST /api/communication/meetings/calendar_feed/`: a new private address
/// of the caller's calendar feed (the previous one stops working).
#[utoipa::path(post, path = "/api/communication/meetings/calendar_feed/", tag = "meetings",
    responses((status = 200, body = CalendarFeedDto), (status = 401, body = ApiError)))]
pub async fn renew_feed(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<CalendarFeedDto>> {
    let token = state.services.hub.renew_calendar_feed(user.id).await?;
    Ok(Json(CalendarFeedDto {
        url: format!("{}{}", state.services.public_url, app::paths::calendar_feed(&token)),
    }))
}

/// `GET /calendar/{secret}.ics`: a person's meetings, for calendar apps (the
/// secret in the address is the only credential).
#[utoipa::path(get, path = "/calendar/{file}", tag = "meetings", operation_id = "calendar_feed", security(()),
    params(("file" = String, Path, description = "`<secret>.ics`, from `POST /api/communication/meetings/calendar_feed/`")),
    responses((status = 200, description = "An iCalendar file of the person's meetings", content_type = "text/calendar"),
        (status = 404, description = "No such feed (or it was renewed)", body = ApiError)))]
pub async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> HttpResult<Response> {
    let token = file.strip_suffix(".ics").unwrap_or(&file);
    let (person, meetings) = state.services.hub.calendar_feed(token).await?;
    let name = format!("Parley: {}", person.display_name);
    let body = domain::calendar::calendar(&name, &meetings, |m| page_url(&state, m));
    Ok(calendar_response("parley.ics", body))
}
