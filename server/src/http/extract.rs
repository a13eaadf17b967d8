//! Who is asking, as an axum extractor. The rule itself (bearer token, else
//! session) lives in `app::ssr::auth`, shared with server functions.

use super::error::HttpError;
use crate::startup::AppState;
use app::wire::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use domain::model::User;
use tower_sessions::Session;

/// The signed-in user; answers 401 when there is none.
pub struct CurrentUser(pub User);

/// The signed-in user, if any.
pub struct MaybeUser(pub Option<User>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await.ok();
        let user = app::ssr::auth::authenticate(&state.services.hub, parts, session.as_ref()).await?;
        Ok(MaybeUser(user))
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state).await?;
        user.map(CurrentUser).ok_or_else(|| ApiError::unauthenticated().into())
    }
}
