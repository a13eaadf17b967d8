//! `POST /api/auth/signup`, `/login`, `/logout`; `GET /api/auth/me`.
//! Signing up or in sets the session cookie and returns an API token.

use super::error::{HttpResult, JsonBody};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::ssr::ClientAddr;
use app::ssr::auth;
use app::wire::{AuthDto, MeDto};
use axum::extract::State;
use axum::http::{StatusCode, request::Parts};
use axum::{Extension, Json};
use serde::Deserialize;
use tower_sessions::Session;

#[derive(Deserialize)]
pub struct SignupBody {
    username: String,
    #[serde(default)]
    display_name: String,
    email: String,
    password: String,
}

#[derive(Deserialize)]
pub struct LoginBody {
    username: String,
    password: String,
}

pub async fn signup(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    session: Session,
    JsonBody(body): JsonBody<SignupBody>,
) -> HttpResult<(StatusCode, Json<AuthDto>)> {
    let hub = &state.services.hub;
    let user = hub
        .signup(
            domain::hub::Signup {
                username: body.username,
                display_name: body.display_name,
                email: body.email,
                password: body.password,
            },
            client.map(|c| c.0.0),
        )
        .await?;
    auth::sign_in(&session, &user).await?;
    let token = hub.issue_token(user.id).await?;
    Ok((StatusCode::CREATED, Json(AuthDto { user: MeDto::from(&user), token })))
}

pub async fn login(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    session: Session,
    JsonBody(body): JsonBody<LoginBody>,
) -> HttpResult<Json<AuthDto>> {
    let hub = &state.services.hub;
    let user = hub.login(&body.username, &body.password, client.map(|c| c.0.0)).await?;
    auth::sign_in(&session, &user).await?;
    let token = hub.issue_token(user.id).await?;
    Ok(Json(AuthDto { user: MeDto::from(&user), token }))
}

/// Ends the session, and revokes the bearer token the request used, if any.
pub async fn logout(State(state): State<AppState>, session: Session, parts: Parts) -> HttpResult<StatusCode> {
    if let Some(token) = auth::bearer_token(&parts) {
        state.services.hub.revoke_token(token).await?;
    }
    auth::sign_out(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(CurrentUser(user): CurrentUser) -> Json<MeDto> {
    Json(MeDto::from(&user))
}
