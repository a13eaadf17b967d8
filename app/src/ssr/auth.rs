//! Who is asking: an `Authorization: Bearer <token>` header wins, else the
//! session cookie. One implementation for server functions, REST handlers
//! and the gateway.

use crate::wire::ApiError;
use axum::http::request::Parts;
use domain::model::User;
use domain::{Hub, Id};
use tower_sessions::Session;

use domain::session_store::USER_KEY;

/// The bearer token of a request, if it carries one.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The user a request acts for, if any. A bearer token that matches no user
/// is an error (not anonymous): the client should know its token is bad.
pub async fn authenticate(
    hub: &Hub,
    parts: &Parts,
    session: Option<&Session>,
) -> Result<Option<User>, ApiError> {
    if let Some(token) = bearer_token(parts) {
        return match hub.user_for_token(token).await? {
            Some(user) => Ok(Some(user)),
            None => Err(ApiError::new(
                crate::wire::ErrorCode::Unauthenticated,
                "This API token is not valid. Sign in again to get a new one.",
            )),
        };
    }
    let Some(session) = session else { return Ok(None) };
    let id: Option<i64> = session.get(USER_KEY).await.map_err(session_error)?;
    match id {
        Some(id) => Ok(hub.user(Id(id)).await?),
        None => Ok(None),
    }
}

/// Signs `user` in on this session: a new session id (so a planted id is
/// worthless), then the user's id stored in it.
pub async fn sign_in(session: &Session, user: &User) -> Result<(), ApiError> {
    session.cycle_id().await.map_err(session_error)?;
    session.insert(USER_KEY, user.id.0).await.map_err(session_error)?;
    Ok(())
}

/// The id of this browser session, once it has one.
pub fn session_id(session: &Session) -> Option<String> {
    session.id().map(|id| id.to_string())
}

/// Signs out: ends the bearer `token` the request used (if any) and the
/// session with what was made in it (push subscriptions); the session's data
/// is deleted and the cookie cleared.
pub async fn sign_out(hub: &Hub, session: &Session, token: Option<&str>) -> Result<(), ApiError> {
    hub.sign_out(token, session_id(session).as_deref()).await?;
    session.flush().await.map_err(session_error)
}

fn session_error(e: tower_sessions::session::Error) -> ApiError {
    tracing::error!(error = ?e, "session store failed");
    ApiError::new(
        crate::wire::ErrorCode::Internal,
        "Your session could not be read or saved. Please try again.",
    )
}

/// For server functions: the signed-in user, if any.
pub async fn current_user() -> Result<Option<User>, ApiError> {
    let services = super::services()?;
    let parts: Parts = leptos_axum::extract()
        .await
        .map_err(|e| ApiError::new(crate::wire::ErrorCode::Internal, e.to_string()))?;
    let session: Option<Session> = leptos_axum::extract().await.ok();
    authenticate(&services.hub, &parts, session.as_ref()).await
}

/// For server functions: the signed-in user, or an "unauthenticated" error.
pub async fn require_user() -> Result<User, ApiError> {
    current_user().await?.ok_or_else(ApiError::unauthenticated)
}

/// For server functions: the signed-in user and the hub to act through.
pub async fn caller() -> Result<(User, Hub), ApiError> {
    Ok((require_user().await?, super::services()?.hub))
}

/// Keeps `value` in this request's session under `key`, for the next page
/// to [`take`] (what a form made, shown once, also without JavaScript).
pub async fn keep<T: serde::Serialize>(key: &str, value: &T) -> Result<(), ApiError> {
    session().await?.insert(key, value).await.map_err(session_error)
}

/// Takes what was kept in `session` under `key`, once. Only a session that
/// holds something there is changed (removing marks a session to be saved,
/// and most pages have nothing to take).
pub async fn take<T: serde::de::DeserializeOwned>(
    session: &Session,
    key: &str,
) -> Result<Option<T>, ApiError> {
    let kept: Option<T> = session.get(key).await.map_err(session_error)?;
    if kept.is_some() {
        session.remove_value(key).await.map_err(session_error)?;
    }
    Ok(kept)
}

/// For server functions: the session of this request.
pub async fn session() -> Result<Session, ApiError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| ApiError::new(crate::wire::ErrorCode::Internal, format!("No session: {e}")))
}
