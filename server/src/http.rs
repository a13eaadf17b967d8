//! The JSON API and what every HTTP request goes through.
//!
//! - [`error`]: [`error::HttpError`], the one error response (`ApiError` as JSON).
//! - [`extract`]: who is asking ([`extract::CurrentUser`]).
//! - [`origin`]: the CSRF guard and the WebSocket Origin check.
//! - [`auth`], [`workspaces`]: accounts and workspaces; [`communication`]: seed 000's channels and
//!   messages API; [`roles`]: roles, channel permissions, moderation and the audit log; [`files`]: attachment downloads; [`openapi`]: the document describing them.

pub mod auth;
pub mod communication;
pub mod error;
pub mod extract;
pub mod files;
pub mod openapi;
pub mod origin;
pub mod roles;
pub mod workspaces;

use crate::startup::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

/// The JSON API under `/api` (merged beside the server functions, which
/// live at `/api/<name><hash>`), and attachment downloads under `/files`.
/// `upload_limit` is the largest request body a message with files may have.
pub fn routes(upload_limit: usize) -> Router<AppState> {
    use communication as c;
    use roles as r;
    Router::new()
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/auth/signup", post(auth::signup))
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/me", get(auth::me))
        .route("/api/workspaces", get(workspaces::list).post(workspaces::create))
        .route("/api/workspaces/discover", get(workspaces::discover))
        .route("/api/workspaces/{id}", get(workspaces::get))
        .route("/api/workspaces/{id}/join", post(workspaces::join))
        .route("/api/workspaces/{id}/leave", post(workspaces::leave))
        .route("/api/workspaces/{id}/members", get(workspaces::members))
        .route("/api/workspaces/{id}/invites", post(workspaces::create_invite))
        .route("/api/invites/{code}", get(workspaces::invite_preview))
        .route("/api/invites/{code}/accept", post(workspaces::accept_invite))
        .route("/api/communication/channels/", get(c::list_channels).post(c::create_channel))
        .route("/api/communication/channels/create_direct/", post(c::create_direct))
        .route(
            "/api/communication/channels/{id}/",
            get(c::get_channel).put(c::update_channel).delete(c::delete_channel),
        )
        .route("/api/communication/channels/{id}/add_members/", post(c::add_members))
        .route("/api/communication/channels/{id}/join/", post(c::join_channel))
        .route("/api/communication/channels/{id}/leave/", post(c::leave_channel))
        .route("/api/communication/channels/{id}/read/", post(c::mark_read))
        .route("/api/communication/channels/{id}/reads/", get(c::read_marks))
        .route("/api/communication/channels/{id}/pins/", get(c::pins))
        .route(
            "/api/communication/messages/",
            get(c::list_messages).post(c::send_message).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/api/communication/messages/search/", post(c::search))
        .route(
            "/api/communication/messages/{id}/",
            axum::routing::put(c::edit_message).delete(c::delete_message),
        )
        .route("/api/communication/messages/{id}/add_reaction/", post(c::add_reaction))
        .route("/api/communication/messages/{id}/remove_reaction/", post(c::remove_reaction))
        .route("/api/communication/messages/{id}/thread/", get(c::thread))
        .route("/api/communication/messages/{id}/follow/", post(c::follow))
        .route("/api/communication/messages/{id}/pin/", post(c::pin))
        .route("/api/communication/messages/{id}/readers/", get(c::readers))
        .route("/api/communication/threads/", get(c::followed_threads))
        .route("/api/communication/permissions/", get(r::permissions))
        .route("/api/communication/channels/{id}/permissions/", get(r::overrides).put(r::set_override))
        .route("/api/communication/workspaces/{id}/roles/", get(r::list_roles).post(r::create_role))
        .route(
            "/api/communication/workspaces/{id}/roles/{role_id}/",
            axum::routing::put(r::update_role).delete(r::delete_role),
        )
        .route(
            "/api/communication/workspaces/{id}/members/{user_id}/roles/{role_id}/",
            axum::routing::put(r::give_role).delete(r::take_role),
        )
        .route("/api/communication/workspaces/{id}/members/{user_id}/kick/", post(r::kick))
        .route("/api/communication/workspaces/{id}/members/{user_id}/ban/", post(r::ban))
        .route("/api/communication/workspaces/{id}/members/{user_id}/timeout/", post(r::timeout))
        .route("/api/communication/workspaces/{id}/bans/", get(r::bans))
        .route("/api/communication/workspaces/{id}/bans/{user_id}/", axum::routing::delete(r::unban))
        .route("/api/communication/workspaces/{id}/audit_log/", get(r::audit_log))
        .route("/files/{id}/{name}", get(files::download))
}
