//! `POST /api/auth/signup`, `/login`, `/logout`, `/logout_everywhere`,
//! `/password`, `/password_reset`; `GET /api/auth/me`; API tokens under
//! `/api/auth/tokens`. Signing up or in sets the session cookie and returns
//! an API token.

use super::error::{HttpResult, JsonBody};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::ssr::ClientAddr;
use app::ssr::auth;
use app::wire::{ApiTokenDto, AuthDto, CreatedTokenDto, MeDto};
use axum::extract::{Path, State};
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
    auth::sign_out(&state.services.hub, &session, auth::bearer_token(&parts)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/logout_everywhere`: every session and API token of the
/// caller ends, this one included.
pub async fn logout_everywhere(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> HttpResult<StatusCode> {
    state.services.hub.sign_out_everywhere(user.id, None).await?;
    auth::sign_out(&state.services.hub, &session, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// `POST /api/auth/password`: a new password. Every other browser session
/// and every API token ends (the token used for this request too).
pub async fn change_password(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    parts: Parts,
    JsonBody(body): JsonBody<PasswordBody>,
) -> HttpResult<StatusCode> {
    let keep = match auth::bearer_token(&parts) {
        Some(_) => None,
        None => auth::session_id(&session),
    };
    state
        .services
        .hub
        .change_password(user.id, &body.current_password, &body.new_password, keep.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct ResetRequestBody {
    email: String,
}

/// `POST /api/auth/password_reset`: emails a single-use link if an account
/// has the address. Always 202: the answer does not tell whether it has.
pub async fn request_password_reset(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    JsonBody(body): JsonBody<ResetRequestBody>,
) -> HttpResult<StatusCode> {
    state.services.hub.request_password_reset(&body.email, client.map(|c| c.0.0)).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize)]
pub struct ResetBody {
    token: String,
    new_password: String,
}

/// `POST /api/auth/password_reset/confirm`: sets the new password with the
/// link's token; every session and token of the account ends.
pub async fn reset_password(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<ResetBody>,
) -> HttpResult<StatusCode> {
    state.services.hub.reset_password(&body.token, &body.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/auth/tokens`: the caller's API tokens that still work.
pub async fn tokens(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<Vec<ApiTokenDto>>> {
    let tokens = state.services.hub.tokens(user.id).await?;
    Ok(Json(tokens.iter().map(ApiTokenDto::from).collect()))
}

#[derive(Deserialize)]
pub struct TokenBody {
    name: String,
    /// 1 to 365; absent or 0: never expires.
    #[serde(default)]
    expires_in_days: Option<i64>,
}

/// `POST /api/auth/tokens`: a named token for a script or bot, shown once.
pub async fn create_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<TokenBody>,
) -> HttpResult<(StatusCode, Json<CreatedTokenDto>)> {
    let (info, token) = state.services.hub.create_token(user.id, &body.name, body.expires_in_days).await?;
    Ok((StatusCode::CREATED, Json(CreatedTokenDto { info: ApiTokenDto::from(&info), token })))
}

/// `DELETE /api/auth/tokens/{id}`: the token stops working at once.
pub async fn revoke_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.revoke_token_by_id(user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(CurrentUser(user): CurrentUser) -> Json<MeDto> {
    Json(MeDto::from(&user))
}
