//! The WebSocket gateway at `/ws`: the only code that knows the wire format
//! of live events (`app::wire::GatewayEvent`).
//!
//! - [`upgrade`] checks Origin and authentication, then hands the socket to
//!   [`connection`], which runs one connection: its handshake, the
//!   client's commands, and writing its frames.
//! - `feed` is what reaches one connection: it joins the [`router`],
//!   keeps the set of channels and workspaces the user belongs to, replays
//!   the log on `RESUME`, and forwards exactly the events the client may see.
//! - `outgoing` is a connection's bounded queue of frames, written by the
//!   connection's own loop as the socket takes them.
//! - [`router`] hands each event of the bus only to the connections indexed
//!   under its audience.

pub mod connection;
pub mod dialect;
mod feed;
mod outgoing;
pub mod router;

pub(crate) use outgoing::QUEUE;

use crate::http::error::HttpError;
use crate::startup::AppState;
use app::wire::{ApiError, ErrorCode};
use axum::extract::{FromRequestParts, Path, Query, State, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use dialect::Dialect;
use serde::Deserialize;
use tower_sessions::Session;

/// Bytes a connection reads from its socket at a time (and keeps for it
/// while idle): commands are small, and a larger frame makes room for
/// itself once its header is read.
const READ_BUFFER: usize = 1024;

#[derive(Deserialize)]
pub struct UpgradeQuery {
    /// An API token, for clients that cannot set headers on a WebSocket.
    token: Option<String>,
}

/// `GET /ws`: upgrades an authenticated request from an allowed origin.
pub async fn upgrade(state: State<AppState>, q: Query<UpgradeQuery>, parts: Parts) -> Response {
    upgrade_to(state, q, parts, Dialect::Gateway).await
}

/// `GET /ws/communication/messages/`: the same, speaking [`Dialect::Communication`].
pub async fn upgrade_communication(state: State<AppState>, q: Query<UpgradeQuery>, parts: Parts) -> Response {
    upgrade_to(state, q, parts, Dialect::Communication).await
}

/// `GET /ws/text/{channel}/`: the same for one channel the person may see,
/// speaking [`Dialect::TextChannel`].
pub async fn upgrade_text_channel(
    state: State<AppState>,
    q: Query<UpgradeQuery>,
    Path(channel): Path<String>,
    parts: Parts,
) -> Response {
    match crate::http::error::path_id(&channel, domain::error::Thing::Channel) {
        Ok(id) => upgrade_to(state, q, parts, Dialect::TextChannel(id)).await,
        Err(e) => e.into_response(),
    }
}

async fn upgrade_to(
    State(state): State<AppState>,
    Query(q): Query<UpgradeQuery>,
    mut parts: Parts,
    dialect: Dialect,
) -> Response {
    if !state.origin.allows(&parts.headers) {
        return HttpError::new(ErrorCode::Forbidden, "WebSocket connections from other sites are refused.")
            .into_response();
    }
    let user = match q.token {
        Some(token) => {
            state.services.hub.user_for_token(&token).await.map_err(ApiError::from).and_then(|u| {
                u.ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "This API token is not valid."))
            })
        }
        None => {
            let session = Session::from_request_parts(&mut parts, &state).await.ok();
            app::ssr::auth::authenticate(&state.services.hub, &parts, session.as_ref())
                .await
                .and_then(|u| u.ok_or_else(ApiError::unauthenticated))
        }
    };
    let user = match user {
        Ok(u) => u,
        Err(e) => return HttpError(e).into_response(),
    };
    if let Dialect::TextChannel(channel) = dialect
        && let Err(e) = state.services.hub.channel(user.id, channel).await
    {
        return HttpError::from(e).into_response();
    }
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    // A larger message is refused by the WebSocket layer before it is
    // held whole; the connection then closes with 1009.
    let limit = state.body_limits.body;
    // Commands are small: a read buffer of the WebSocket layer's default
    // size (128 KiB, all of it touched by the first read) would make most of
    // an idle connection's memory. It grows for a larger frame.
    let ws = ws.max_message_size(limit).max_frame_size(limit).read_buffer_size(READ_BUFFER);
    let hub = state.services.hub.clone();
    let shutdown = state.shutdown.clone();
    let calls = state.calls.clone();
    let router = state.router.clone();
    // Counted from now (the upgrade completes after the server may have
    // begun to stop) until the connection ends: stopping waits for every one.
    let live = state.live.token();
    ws.on_upgrade(move |socket| async move {
        connection::run(socket, hub, router, calls, user, dialect, shutdown).await;
        drop(live);
    })
}
