//! The JSON API and what every HTTP request goes through.
//!
//! - [`error`]: [`error::HttpError`], the one error response (`ApiError` as JSON).
//! - [`extract`]: who is asking ([`extract::CurrentUser`]).
//! - [`origin`]: the CSRF guard and the WebSocket Origin check.
//! - [`auth`], [`workspaces`]: accounts and workspaces; [`communication`]: seed 000's channels and
//!   messages API; [`roles`]: roles, channel permissions, moderation and the audit log; [`files`]: attachment downloads; [`link_previews`]: link previews' images, removal and switch; [`compliance`]: retention, legal holds and the deployment's audit log; [`exports`]: compliance exports; [`openapi`]: the document describing them.
//! - [`site`]: the app's built files, and what browsers may keep of every answer.

pub mod analytics;
pub mod auth;
pub mod bots;
pub mod commands;
pub mod communication;
pub mod compliance;
pub mod e2ee;
pub mod error;
pub mod exports;
pub mod extract;
pub mod files;
pub mod guard;
pub mod health;
pub mod link_previews;
pub mod meetings;
pub mod notifications;
pub mod notify_settings;
pub mod openapi;
pub mod origin;
pub mod outgoing_webhooks;
pub mod render;
pub mod roles;
pub mod site;
pub mod webhooks;
pub mod workspaces;

use crate::startup::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing;

/// Declares the JSON API once: [`ROUTES`] lists each path with its methods
/// (the authorisation matrix test checks that it covers every one), and
/// [`routes`] builds the router from the same lines.
macro_rules! api {
    ($($path:literal => $method:ident($handler:expr) $(.$more:ident($more_handler:expr))* $([$layer:expr])?;)*) => {
        /// Every route of the JSON API: its path and its methods.
        pub const ROUTES: &[(&str, &[&str])] =
            &[$(($path, &[stringify!($method) $(, stringify!($more))*])),*];

        /// The JSON API under `/api` (merged beside the server functions, which
        /// live at `/api/<name><hash>`), and attachment downloads under `/files`.
        /// Bodies are bounded for all of them by [`guard::bounded_body`]
        /// (the route for messages takes files, so more).
        pub fn routes() -> Router<AppState> {
            use communication as c;
            use roles as r;
            use outgoing_webhooks as ow;
            Router::new()
                $(.route($path, routing::$method($handler) $(.$more($more_handler))* $(.layer($layer))?))*
                .layer(axum::middleware::map_response(error::json_errors))
        }
    };
}

api! {
    "/api/openapi.json" => get(openapi::openapi_document);
    "/api/auth/signup" => post(auth::signup);
    "/api/auth/login" => post(auth::login);
    "/api/auth/logout" => post(auth::logout);
    "/api/auth/me" => get(auth::me);
    "/api/auth/logout_everywhere" => post(auth::logout_everywhere);
    "/api/auth/password" => post(auth::change_password);
    "/api/auth/password_reset" => post(auth::request_password_reset);
    "/api/auth/password_reset/confirm" => post(auth::reset_password);
    "/api/auth/tokens" => get(auth::tokens).post(auth::create_token);
    "/api/auth/tokens/{id}" => delete(auth::revoke_token);
    "/api/workspaces" => get(workspaces::list).post(workspaces::create);
    "/api/workspaces/discover" => get(workspaces::discover);
    "/api/workspaces/{id}" => get(workspaces::get);
    "/api/workspaces/{id}/join" => post(workspaces::join);
    "/api/workspaces/{id}/leave" => post(workspaces::leave);
    "/api/workspaces/{id}/members" => get(workspaces::members);
    "/api/workspaces/{id}/invites" => get(workspaces::list_invites).post(workspaces::create_invite);
    "/api/invites/{code}" => get(workspaces::invite_preview).delete(workspaces::revoke_invite);
    "/api/invites/{code}/accept" => post(workspaces::accept_invite);
    "/api/communication/channels/" => get(c::list_channels).post(c::create_channel);
    "/api/communication/channels/create_direct/" => post(c::create_direct);
    "/api/communication/channels/{id}/" => get(c::get_channel).put(c::update_channel).delete(c::delete_channel);
    "/api/communication/channels/{id}/add_members/" => post(c::add_members);
    "/api/communication/channels/{id}/join/" => post(c::join_channel);
    "/api/communication/channels/{id}/leave/" => post(c::leave_channel);
    "/api/communication/channels/{id}/read/" => post(c::mark_read);
    "/api/communication/channels/{id}/reads/" => get(c::read_marks);
    "/api/communication/channels/{id}/pins/" => get(c::pins);
    "/api/communication/messages/" => get(c::list_messages).post(c::send_message)
        [DefaultBodyLimit::disable()];
    "/api/communication/messages/search/" => post(c::search);
    "/api/communication/messages/{id}/" => get(c::message).put(c::edit_message).delete(c::delete_message);
    "/api/communication/messages/{id}/add_reaction/" => post(c::add_reaction);
    "/api/communication/messages/{id}/remove_reaction/" => post(c::remove_reaction);
    "/api/communication/messages/{id}/thread/" => get(c::thread);
    "/api/communication/messages/{id}/follow/" => post(c::follow);
    "/api/communication/messages/{id}/pin/" => post(c::pin);
    "/api/communication/messages/{id}/readers/" => get(c::readers);
    "/api/communication/messages/{id}/link-previews/{position}/" => delete(link_previews::remove_link_preview);
    "/api/communication/workspaces/{id}/link-previews/" => get(link_previews::link_previews_setting).put(link_previews::set_link_previews).post(link_previews::preview_page);
    "/api/communication/workspaces/{id}/retention/" => get(compliance::workspace_retention).put(compliance::set_workspace_retention);
    "/api/communication/channels/{id}/retention/" => get(compliance::channel_retention).put(compliance::set_channel_retention);
    "/api/admin/retention/" => get(compliance::deployment_retention).put(compliance::set_deployment_retention);
    "/api/admin/compliance-archive/" => get(compliance::compliance_archive).put(compliance::set_compliance_archive);
    "/api/admin/holds/" => get(compliance::holds).post(compliance::create_hold);
    "/api/admin/holds/{id}/release/" => post(compliance::release_hold);
    "/api/admin/audit/" => get(compliance::deployment_audit);
    "/api/admin/exports/" => get(exports::list).post(exports::create);
    "/api/admin/exports/{id}/" => get(exports::get).delete(exports::delete);
    "/api/admin/exports/{id}/archive" => get(exports::archive);
    "/api/admin/daily-export/" => get(exports::daily).put(exports::set_daily);
    "/api/admin/analytics/" => get(analytics::deployment_figures);
    "/api/admin/analytics/{figure}/" => get(analytics::deployment_figure);
    "/api/admin/analytics/{figure}/csv" => get(analytics::deployment_figure_csv);
    "/api/communication/workspaces/{id}/analytics/" => get(analytics::workspace_figures);
    "/api/communication/workspaces/{id}/analytics/{figure}/" => get(analytics::workspace_figure);
    "/api/communication/workspaces/{id}/analytics/{figure}/csv" => get(analytics::workspace_figure_csv);
    "/api/communication/meetings/" => get(meetings::list).post(meetings::schedule);
    "/api/communication/meetings/instant/" => post(meetings::instant);
    "/api/communication/meetings/calendar_feed/" => post(meetings::renew_feed);
    "/api/communication/meetings/{id}/" => get(meetings::get);
    "/api/communication/meetings/{id}/join/" => post(meetings::join);
    "/api/communication/meetings/{id}/end/" => post(meetings::end);
    "/api/communication/meetings/{id}/ics/" => get(meetings::ics);
    "/calendar/{file}" => get(meetings::feed);
    "/api/communication/notifications/" => get(notifications::list).post(notifications::send);
    "/api/communication/notifications/unread_count/" => get(notifications::unread_count);
    "/api/communication/notifications/mark_all_read/" => post(notifications::mark_all_read);
    "/api/communication/notifications/{id}/mark_read/" => post(notifications::mark_read);
    "/api/communication/notification_preferences/" => get(notify_settings::get_preferences).put(notify_settings::put_preferences);
    "/api/communication/push_subscriptions/" => post(notify_settings::subscribe);
    "/api/communication/push_subscriptions/unsubscribe/" => post(notify_settings::unsubscribe);
    "/api/communication/channels/{id}/notification_level/" => post(notify_settings::set_level);
    "/api/communication/workspaces/{id}/notification_templates/" => get(notify_settings::templates).post(notify_settings::save_template);
    "/api/communication/workspaces/{id}/notification_templates/create_defaults/" => post(notify_settings::create_defaults);
    "/api/communication/workspaces/{id}/notification_templates/{template_id}/" => delete(notify_settings::delete_template);
    "/api/communication/threads/" => get(c::followed_threads);
    "/api/communication/permissions/" => get(r::permissions);
    "/api/communication/channels/{id}/permissions/" => get(r::overrides).put(r::set_override);
    "/api/communication/workspaces/{id}/roles/" => get(r::list_roles).post(r::create_role);
    "/api/communication/workspaces/{id}/roles/{role_id}/" => put(r::update_role).delete(r::delete_role);
    "/api/communication/workspaces/{id}/role_order/" => put(r::reorder_roles);
    "/api/communication/workspaces/{id}/categories/" => get(r::categories).post(r::create_category);
    "/api/communication/workspaces/{id}/categories/{category_id}/" => put(r::rename_category).delete(r::delete_category);
    "/api/communication/workspaces/{id}/channel_order/" => put(r::arrange_channels);
    "/api/communication/workspaces/{id}/members/{user_id}/roles/{role_id}/" => put(r::give_role).delete(r::take_role);
    "/api/communication/workspaces/{id}/members/{user_id}/kick/" => post(r::kick);
    "/api/communication/workspaces/{id}/members/{user_id}/ban/" => post(r::ban);
    "/api/communication/workspaces/{id}/members/{user_id}/timeout/" => post(r::timeout);
    "/api/communication/workspaces/{id}/bans/" => get(r::bans);
    "/api/communication/workspaces/{id}/bans/{user_id}/" => delete(r::unban);
    "/api/communication/workspaces/{id}/audit_log/" => get(r::audit_log);
    "/api/communication/workspaces/{id}/webhooks/" => get(webhooks::list_webhooks).post(webhooks::create_webhook);
    "/api/communication/webhooks/{id}/" => delete(webhooks::delete_webhook);
    "/api/communication/workspaces/{id}/outgoing-webhooks/" => get(ow::list_outgoing_webhooks).post(ow::create_outgoing_webhook);
    "/api/communication/outgoing-webhooks/{id}/" => delete(ow::delete_outgoing_webhook);
    "/api/communication/channels/{id}/commands/" => get(commands::list_commands).post(commands::run_command);
    "/api/communication/workspaces/{id}/slash-commands/" => get(commands::list_slash_commands).post(commands::create_slash_command);
    "/api/communication/slash-commands/{id}/" => delete(commands::delete_slash_command);
    "/api/communication/slash-commands/{id}/uses/" => get(commands::command_uses);
    "/api/communication/commands/answers/{secret}/" => post(commands::answer_command);
    "/api/communication/outgoing-webhooks/{id}/deliveries/" => get(ow::webhook_deliveries);
    "/api/communication/outgoing-webhooks/{id}/deliveries/{delivery}/redeliver/" => post(ow::redeliver);
    "/api/communication/workspaces/{id}/bots/" => get(bots::list_bots).post(bots::create_bot);
    "/api/communication/bots/{id}/" => delete(bots::remove_bot);
    "/api/communication/bots/{id}/tokens/" => get(bots::bot_tokens).post(bots::create_bot_token);
    "/api/communication/bots/{id}/tokens/{token_id}/" => delete(bots::revoke_bot_token);
    "/api/communication/identity/" => get(e2ee::identity_key).put(e2ee::set_identity_key);
    "/api/communication/key_backup/" => get(e2ee::key_backup).put(e2ee::replace_key_backup).delete(e2ee::delete_key_backup);
    "/api/communication/devices/" => get(e2ee::list_devices).post(e2ee::register_device);
    "/api/communication/devices/{id}/" => delete(e2ee::remove_device);
    "/api/communication/devices/{id}/key_packages/" => get(e2ee::key_packages_left).post(e2ee::add_key_packages);
    "/api/communication/devices/{id}/welcomes/" => get(e2ee::welcomes);
    "/api/communication/devices/{id}/welcomes/{welcome_id}/" => delete(e2ee::dismiss_welcome);
    "/api/communication/devices/{id}/shared_histories/" => get(e2ee::shared_histories);
    "/api/communication/devices/{id}/shared_histories/{history_id}/" => delete(e2ee::dismiss_shared_history);
    "/api/communication/channels/{id}/end_to_end/" => post(e2ee::encrypt_end_to_end);
    "/api/communication/workspaces/{id}/encryption/" => get(e2ee::encryption_policy).put(e2ee::set_encryption_policy);
    "/api/communication/workspaces/{id}/encryption/archive/" => get(e2ee::encrypted_archive).put(e2ee::set_encrypted_archive);
    "/api/communication/workspaces/{id}/encryption/archive/consent/" => post(e2ee::consent_to_encrypted_archive);
    "/api/communication/channels/{id}/devices/" => get(e2ee::conversation_devices);
    "/api/communication/channels/{id}/key_packages/" => post(e2ee::claim_key_packages);
    "/api/communication/channels/{id}/commits/" => get(e2ee::commits).post(e2ee::commit_keys);
    "/api/communication/channels/{id}/history_sharing/" => put(e2ee::set_history_sharing);
    "/api/communication/channels/{id}/shared_histories/" => post(e2ee::share_history);
    "/hooks/{token}" => post(webhooks::call_webhook);
    "/api/communication/files/policy/" => get(files::upload_policy);
    "/files/{id}/{name}" => get(files::download);
    "/files/previews/{id}/{position}" => get(link_previews::link_preview_image);
}
