//! The OpenAPI 3 document of the JSON API, generated from the handlers'
//! annotations and the wire types, served at `/api/openapi.json`.

use super::communication as c;
use super::meetings as m;
use super::notifications as n;
use super::notify_settings as ns;
use super::roles as r;
use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Parley API", description = "Channels, direct conversations, messages, threads, reactions, \
        read state, pins, search, roles, channel permissions, moderation and the audit log. Authenticate with the session cookie or `Authorization: Bearer <token>` \
        (from `POST /api/auth/login`). Errors are `ApiError` JSON with a fitting status code."),
    paths(
        c::list_channels, c::create_channel, c::get_channel, c::update_channel, c::delete_channel,
        c::add_members, c::join_channel, c::leave_channel, c::create_direct, c::mark_read, c::read_marks, c::pins,
        c::list_messages, c::send_message, c::edit_message, c::delete_message, c::search, c::add_reaction,
        c::remove_reaction, c::thread, c::follow, c::pin, c::readers, c::followed_threads,
        r::permissions, r::list_roles, r::create_role, r::update_role, r::delete_role, r::give_role, r::take_role,
        r::kick, r::ban, r::bans, r::unban, r::timeout, r::audit_log, r::overrides, r::set_override,
        r::reorder_roles, r::categories, r::create_category, r::rename_category, r::delete_category,
        r::arrange_channels,
        m::list, m::schedule, m::instant, m::get, m::join, m::end, m::ics, m::renew_feed,
        n::list, n::send, n::unread_count, n::mark_all_read, n::mark_read,
        ns::get_preferences, ns::put_preferences, ns::subscribe, ns::unsubscribe, ns::set_level, ns::templates,
        ns::save_template, ns::delete_template, ns::create_defaults,
    ),
    tags((name = "channels", description = "Channels and direct conversations"),
        (name = "messages", description = "Messages, threads, reactions and search"),
        (name = "roles", description = "Roles and channel permissions"),
        (name = "moderation", description = "Kick, ban, timeout and the audit log"),
        (name = "meetings", description = "Scheduled meetings and instant calls, iCalendar files and feeds"),
        (name = "notifications", description = "Notifications: one's own, their preferences and push subscriptions, sending them, and a workspace's templates"))
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
