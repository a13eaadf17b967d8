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
    modifiers(&EveryRouteIsBounded),
    tags((name = "channels", description = "Channels and direct conversations"),
        (name = "messages", description = "Messages, threads, reactions and search"),
        (name = "roles", description = "Roles and channel permissions"),
        (name = "moderation", description = "Kick, ban, timeout and the audit log"),
        (name = "meetings", description = "Scheduled meetings and instant calls, iCalendar files and feeds"),
        (name = "notifications", description = "Notifications: one's own, their preferences and push subscriptions, sending them, and a workspace's templates"))
)]
pub struct ApiDoc;

/// Every route may answer 429 (a rate limit: the client's address, or what
/// the route does) and 413 (a body over the limit); the document says so
/// for each operation, with the headers a refusal carries.
struct EveryRouteIsBounded;

impl utoipa::Modify for EveryRouteIsBounded {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder, Type, schema::ObjectBuilder};
        let error = || ContentBuilder::new().schema(Some(Ref::from_schema_name("ApiError"))).build();
        let header = |description: &str, ty: Type| {
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(ty))
                .description(Some(description))
                .build()
        };
        let limited = ResponseBuilder::new()
            .description(
                "Too many requests: wait `Retry-After` seconds (the error's `rate_limit` says which limit)",
            )
            .content("application/json", error())
            .header("Retry-After", header("Whole seconds to wait", Type::Integer))
            .header("X-RateLimit-Limit", header("How many the bucket holds when full", Type::Integer))
            .header("X-RateLimit-Remaining", header("How many are left (0)", Type::Integer))
            .header("X-RateLimit-Reset-After", header("Seconds until the bucket is full again", Type::Number))
            .header("X-RateLimit-Bucket", header("Which limit refused the request", Type::String))
            .build();
        let too_large = ResponseBuilder::new()
            .description("The request body is larger than the server accepts")
            .content("application/json", error())
            .build();
        for item in openapi.paths.paths.values_mut() {
            let operations =
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in operations.into_iter().flatten() {
                let responses = &mut op.responses.responses;
                responses.entry("429".into()).or_insert_with(|| limited.clone().into());
                responses.entry("413".into()).or_insert_with(|| too_large.clone().into());
            }
        }
    }
}

/// `GET /api/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
