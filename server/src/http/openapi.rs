//! The OpenAPI 3 document of the JSON API, generated from the handlers'
//! annotations and the wire types, served at `/api/openapi.json`.

use super::analytics as an;
use super::auth as a;
use super::bots as b;
use super::commands as cmd;
use super::communication as c;
use super::compliance as co;
use super::e2ee as e2;
use super::exports as ex;
use super::files as f;
use super::link_previews as lp;
use super::meetings as m;
use super::notifications as n;
use super::notify_settings as ns;
use super::outgoing_webhooks as ow;
use super::roles as r;
use super::webhooks as wh;
use super::workspaces as w;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Parley API", description = "Accounts, workspaces and invites; channels, direct conversations, messages, threads, reactions, \
        read state, pins, search, roles, channel permissions, moderation and the audit log; meetings and notifications; incoming and outgoing webhooks, slash commands and bot accounts; end-to-end encryption's devices, key packages and commits; retention, legal holds and compliance exports. \
        Authenticate with `Authorization: Bearer <token>` (from `POST /api/auth/login` or `POST /api/auth/tokens`) or the \
        session cookie a browser gets when it signs in. Ids are strings of digits. Every error is an `ApiError` JSON \
        object with a fitting status code."),
    paths(
        openapi_document,
        a::signup, a::login, a::logout, a::logout_everywhere, a::me, a::change_password, a::request_password_reset,
        a::reset_password, a::tokens, a::create_token, a::revoke_token,
        w::list, w::create, w::discover, w::get, w::join, w::leave, w::members, w::list_invites, w::create_invite,
        w::invite_preview, w::revoke_invite, w::accept_invite,
        c::list_channels, c::create_channel, c::get_channel, c::update_channel, c::delete_channel,
        c::add_members, c::join_channel, c::leave_channel, c::create_direct, c::mark_read, c::read_marks, c::pins,
        c::list_messages, c::send_message, c::message, c::edit_message, c::delete_message, c::search, c::add_reaction,
        c::remove_reaction, c::thread, c::follow, c::pin, c::readers, c::followed_threads, f::download, f::upload_policy,
        lp::remove_link_preview, lp::link_preview_image, lp::link_previews_setting, lp::set_link_previews, lp::preview_page,
        co::deployment_retention, co::set_deployment_retention, co::compliance_archive, co::set_compliance_archive,
        co::holds, co::create_hold, co::release_hold, co::deployment_audit, co::workspace_retention,
        co::set_workspace_retention, co::channel_retention, co::set_channel_retention,
        ex::list, ex::create, ex::get, ex::delete, ex::archive, ex::daily, ex::set_daily,
        an::workspace_figures, an::workspace_figure, an::workspace_figure_csv, an::deployment_figures,
        an::deployment_figure, an::deployment_figure_csv,
        r::permissions, r::list_roles, r::create_role, r::update_role, r::delete_role, r::give_role, r::take_role,
        r::kick, r::ban, r::bans, r::unban, r::timeout, r::audit_log, r::overrides, r::set_override,
        r::reorder_roles, r::categories, r::create_category, r::rename_category, r::delete_category,
        r::arrange_channels,
        m::list, m::schedule, m::instant, m::get, m::join, m::end, m::ics, m::renew_feed, m::feed,
        n::list, n::send, n::unread_count, n::mark_all_read, n::mark_read,
        ns::get_preferences, ns::put_preferences, ns::subscribe, ns::unsubscribe, ns::set_level, ns::templates,
        ns::save_template, ns::delete_template, ns::create_defaults,
        wh::list_webhooks, wh::create_webhook, wh::delete_webhook, wh::call_webhook,
        ow::list_outgoing_webhooks, ow::create_outgoing_webhook, ow::delete_outgoing_webhook,
        ow::webhook_deliveries, ow::redeliver,
        cmd::run_command, cmd::list_commands, cmd::list_slash_commands, cmd::create_slash_command,
        cmd::delete_slash_command, cmd::command_uses, cmd::answer_command,
        b::list_bots, b::create_bot, b::remove_bot, b::bot_tokens, b::create_bot_token, b::revoke_bot_token,
        e2::set_identity_key, e2::identity_key, e2::key_backup, e2::replace_key_backup, e2::delete_key_backup, e2::register_device, e2::list_devices, e2::remove_device, e2::key_packages_left, e2::add_key_packages,
        e2::welcomes, e2::dismiss_welcome, e2::encrypt_end_to_end, e2::conversation_devices,
        e2::claim_key_packages, e2::commits, e2::commit_keys, e2::encryption_policy, e2::set_encryption_policy,
        e2::encrypted_archive, e2::set_encrypted_archive, e2::consent_to_encrypted_archive,
        e2::shared_histories, e2::dismiss_shared_history, e2::set_history_sharing, e2::share_history,
    ),
    modifiers(&SignedIn, &EveryRouteIsBounded),
    security(("bearer" = []), ("session" = [])),
    tags((name = "accounts", description = "Signing up and in, passwords, API tokens"),
        (name = "workspaces", description = "Workspaces, their members and invites"),
        (name = "channels", description = "Channels and direct conversations"),
        (name = "messages", description = "Messages, threads, reactions, search, attachments and link previews"),
        (name = "roles", description = "Roles and channel permissions"),
        (name = "moderation", description = "Kick, ban, timeout and the audit log"),
        (name = "meetings", description = "Scheduled meetings and instant calls, iCalendar files and feeds"),
        (name = "notifications", description = "Notifications: one's own, their preferences and push subscriptions, sending them, and a workspace's templates"),
        (name = "bots", description = "Bot accounts and their API tokens"),
        (name = "webhooks", description = "Incoming webhooks (their addresses take Slack's payloads or Parley's own) and outgoing webhooks (calls with Slack's payloads, signed, retried, logged)"),
        (name = "commands", description = "Slash commands: running one in a channel, the commands a channel offers, a workspace's own commands (Slack's form fields, signed) and their response URLs"),
        (name = "compliance", description = "Retention policies (the deployment's, a workspace's, a channel's), compliance archiving, legal holds, compliance exports and the deployment's audit log"),
        (name = "analytics", description = "Messages and the people who posted, per day, and the busiest channels, of a workspace or of the deployment, as JSON or CSV"),
        (name = "encryption", description = "End-to-end encrypted conversations: devices and their key packages, the commits that change a conversation's keys (one per epoch) and the welcomes that let added devices join, and the histories shared with them; the server delivers, the devices encrypt"),
        (name = "meta", description = "This document"))
)]
pub struct ApiDoc;

/// The two ways to be signed in, and what a route that needs one answers
/// without it: 401 on every operation that keeps the document's default
/// security (those open to anyone say `security(())`). Every operation
/// with a request body or query parameters may answer 400 (a body or query
/// that is not what the route takes).
struct SignedIn;

impl utoipa::Modify for SignedIn {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token (`pt_…`)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "parley_session",
                "The session cookie a browser gets when it signs in",
            ))),
        );
        let unauthenticated = error_response("Not signed in: no valid token or session").build();
        let malformed = error_response("The body or query is not what this route takes").build();
        for_each_operation(openapi, |op| {
            let open = op.security.as_ref().is_some_and(|s| s.iter().any(|r| r == &Default::default()));
            let has_query =
                op.parameters.iter().flatten().any(|p| matches!(p.parameter_in, ParameterIn::Query));
            let has_input = op.request_body.is_some() || has_query;
            let responses = &mut op.responses.responses;
            if !open {
                responses.entry("401".into()).or_insert_with(|| unauthenticated.clone().into());
            }
            if has_input {
                responses.entry("400".into()).or_insert_with(|| malformed.clone().into());
            }
        });
    }
}

/// A response carrying the JSON error.
fn error_response(description: &str) -> utoipa::openapi::ResponseBuilder {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = ContentBuilder::new().schema(Some(Ref::from_schema_name("ApiError"))).build();
    ResponseBuilder::new().description(description).content("application/json", error)
}

/// Runs `change` on every operation of the document.
fn for_each_operation(
    openapi: &mut utoipa::openapi::OpenApi,
    mut change: impl FnMut(&mut utoipa::openapi::path::Operation),
) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        operations.into_iter().flatten().for_each(&mut change);
    }
}

/// Every route may answer 429 (a rate limit: the client's address, or what
/// the route does) and 413 (a body over the limit); the document says so
/// for each operation, with the headers a refusal carries.
struct EveryRouteIsBounded;

impl utoipa::Modify for EveryRouteIsBounded {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::{Type, schema::ObjectBuilder};
        let header = |description: &str, ty: Type| {
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(ty))
                .description(Some(description))
                .build()
        };
        let limited = error_response(
            "Too many requests: wait `Retry-After` seconds (the error's `rate_limit` says which limit)",
        )
        .header("Retry-After", header("Whole seconds to wait", Type::Integer))
        .header("X-RateLimit-Limit", header("How many the bucket holds when full", Type::Integer))
        .header("X-RateLimit-Remaining", header("How many are left (0)", Type::Integer))
        .header("X-RateLimit-Reset-After", header("Seconds until the bucket is full again", Type::Number))
        .header("X-RateLimit-Bucket", header("Which limit refused the request", Type::String))
        .build();
        let too_large = error_response("The request body is larger than the server accepts").build();
        for_each_operation(openapi, |op| {
            let responses = &mut op.responses.responses;
            responses.entry("429".into()).or_insert_with(|| limited.clone().into());
            responses.entry("413".into()).or_insert_with(|| too_large.clone().into());
        });
    }
}

/// `GET /api/openapi.json`: this document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", operation_id = "openapi_document", security(()),
    responses((status = 200, description = "The OpenAPI 3 document of the JSON API", content_type = "application/json")))]
pub async fn openapi_document() -> impl axum::response::IntoResponse {
    // The same for the life of the process: generated once, on first ask.
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let json =
        DOCUMENT.get_or_init(|| serde_json::to_string(&ApiDoc::openapi()).expect("the document is JSON"));
    ([(axum::http::header::CONTENT_TYPE, "application/json")], json.as_str())
}

#[cfg(test)]
mod tests {
    use super::ApiDoc;
    use serde_json::Value;
    use std::collections::{BTreeSet, HashMap};
    use utoipa::OpenApi;

    fn document() -> Value {
        serde_json::to_value(ApiDoc::openapi()).expect("the document is JSON")
    }

    fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("a path item") {
                out.push((method.clone(), path.clone(), op));
            }
        }
        out
    }

    #[test]
    fn every_route_of_the_router_is_documented_with_each_method() {
        let doc = document();
        for (path, methods) in crate::http::ROUTES {
            for method in *methods {
                assert!(
                    doc["paths"][path][method].is_object(),
                    "{method} {path} is not in the OpenAPI document"
                );
            }
        }
        let routed: usize = crate::http::ROUTES.iter().map(|(_, m)| m.len()).sum();
        assert_eq!(operations(&doc).len(), routed, "the document describes only routes that exist");
    }

    #[test]
    fn operation_ids_are_unique() {
        let doc = document();
        let mut seen = HashMap::new();
        for (method, path, op) in operations(&doc) {
            let id = op["operationId"].as_str().expect("every operation has an id").to_string();
            if let Some(other) = seen.insert(id.clone(), format!("{method} {path}")) {
                panic!("operation id {id} names both {other} and {method} {path}");
            }
        }
    }

    #[test]
    fn path_parameters_are_exactly_the_templates_and_queries_are_not() {
        let doc = document();
        for (method, path, op) in operations(&doc) {
            let in_template: BTreeSet<&str> = path
                .split('/')
                .filter_map(|part| part.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
                .collect();
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let declared: BTreeSet<&str> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().expect("a parameter's name"))
                .collect();
            assert_eq!(declared, in_template, "{method} {path}: path parameters");
            for p in params.iter().filter(|p| p["in"] == "query") {
                assert!(!in_template.contains(p["name"].as_str().unwrap()), "{method} {path}: {p}");
            }
        }
    }

    /// Every `$ref` names a schema the document holds (a path parameter's
    /// type is not collected into the components on its own).
    #[test]
    fn every_reference_resolves() {
        fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
            match v {
                Value::Object(map) => {
                    if let Some(Value::String(r)) = map.get("$ref") {
                        out.push(r);
                    }
                    map.values().for_each(|v| refs(v, out));
                }
                Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = document();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        for r in found {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("a reference {r}"));
            assert!(doc["components"]["schemas"].get(name).is_some(), "{r} is not in the document");
        }
    }

    #[test]
    fn every_error_is_the_json_error() {
        let doc = document();
        for (method, path, op) in operations(&doc) {
            for (status, response) in op["responses"].as_object().expect("responses") {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ApiError",
                        "{method} {path} answers {status} with the JSON error"
                    );
                }
            }
        }
    }

    #[test]
    fn routes_that_need_no_one_signed_in_say_so_and_the_rest_answer_401() {
        let doc = document();
        let open: BTreeSet<String> = operations(&doc)
            .into_iter()
            .filter(|(_, _, op)| {
                op["security"].as_array().is_some_and(|s| s.iter().any(|r| r == &serde_json::json!({})))
            })
            .map(|(method, path, _)| format!("{method} {path}"))
            .collect();
        let expected = [
            "get /api/openapi.json",
            "post /api/auth/signup",
            "post /api/auth/login",
            "post /api/auth/logout",
            "post /api/auth/password_reset",
            "post /api/auth/password_reset/confirm",
            "get /api/invites/{code}",
            "get /calendar/{file}",
            "post /hooks/{token}",
            "post /api/communication/commands/answers/{secret}/",
        ];
        assert_eq!(open, expected.iter().map(|s| s.to_string()).collect());
        for (method, path, op) in operations(&doc) {
            if !open.contains(&format!("{method} {path}")) {
                assert!(op["responses"]["401"].is_object(), "{method} {path} documents 401");
            }
        }
    }
}
