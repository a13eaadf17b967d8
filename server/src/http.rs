//! The JSON API and what every HTTP request goes through.
//!
//! - [`error`]: [`error::HttpError`], the one error response (`ApiError` as JSON).
//! - [`extract`]: who is asking ([`extract::CurrentUser`]).
//! - [`origin`]: the CSRF guard and the WebSocket Origin check.
//! - [`auth`], [`workspaces`], [`channels`], [`messages`]: the routes, mounted by [`routes`].

pub mod auth;
pub mod channels;
pub mod error;
pub mod extract;
pub mod messages;
pub mod origin;
pub mod workspaces;

use crate::startup::AppState;
use axum::Router;
use axum::routing::{get, patch, post, put};

/// The JSON API under `/api` (merged beside the server functions, which
/// live at `/api/<name><hash>`).
pub fn routes() -> Router<AppState> {
    Router::new()
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
        .route("/api/workspaces/{id}/channels", get(channels::list).post(channels::create))
        .route("/api/invites/{code}", get(workspaces::invite_preview))
        .route("/api/invites/{code}/accept", post(workspaces::accept_invite))
        .route("/api/channels/{id}", get(channels::get))
        .route("/api/channels/{id}/join", post(channels::join))
        .route("/api/channels/{id}/leave", post(channels::leave))
        .route("/api/channels/{id}/members", post(channels::add_member))
        .route("/api/channels/{id}/messages", get(channels::messages).post(channels::post_message))
        .route("/api/messages/{id}", patch(messages::edit).delete(messages::delete))
        .route("/api/search", get(messages::search))
        .route(
            "/api/messages/{id}/reactions/{emoji}",
            put(messages::add_reaction).delete(messages::remove_reaction),
        )
}
