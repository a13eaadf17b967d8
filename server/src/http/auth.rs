//! `POST /api/auth/signup`, `/login`, `/logout`, `/logout_everywhere`,
//! `/password`, `/password_reset`; `GET /api/auth/me`; API tokens under
//! `/api/auth/tokens`. Signing up or in sets the session cookie and returns
//! an API token.

use super::error::{HttpResult, JsonBody};
use super::extract::CurrentUser;
use crate::startup::AppState;
use app::schema as s;
use app::ssr::ClientAddr;
use app::ssr::auth;
use app::wire::ApiError;
use app::wire::{ApiTokenDto, AuthDto, CreatedTokenDto, MeDto};
use axum::extract::{Path, State};
use axum::http::{StatusCode, request::Parts};
use axum::{Extension, Json};
use serde::Deserialize;
use tower_sessions::Session;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct SignupBody {
    #[schema(value_type = s::Username)]
    username: String,
    /// Default: the username.
    #[serde(default)]
    #[schema(value_type = s::DisplayNameOrEmpty)]
    display_name: String,
    #[schema(value_type = s::Email)]
    email: String,
    #[schema(value_type = s::Password)]
    password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginBody {
    /// The username (any text: a wrong one is answered as a wrong password is).
    #[schema(max_length = 1024)]
    username: String,
    #[schema(min_length = 1, max_length = 1024)]
    password: String,
}

/// `POST /api/auth/signup`: a new account, signed in (session cookie) and
/// with an API token.
#[utoipa::path(post, path = "/api/auth/signup", tag = "accounts", request_body = SignupBody, security(()),
    responses((status = 201, body = AuthDto), (status = 400, body = ApiError), (status = 409, body = ApiError)))]
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

/// `POST /api/auth/login`: signs in (session cookie) and returns an API token.
#[utoipa::path(post, path = "/api/auth/login", tag = "accounts", request_body = LoginBody, security(()),
    responses((status = 200, body = AuthDto), (status = 400, body = ApiError),
        (status = 401, description = "Wrong username or password", body = ApiError)))]
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

/// `POST /api/auth/logout`: ends the session, and revokes the bearer token
/// the request used, if any (signed out already: nothing to do).
#[utoipa::path(post, path = "/api/auth/logout", tag = "accounts", security((), ("bearer" = []), ("session" = [])),
    responses((status = 204)))]
pub async fn logout(State(state): State<AppState>, session: Session, parts: Parts) -> HttpResult<StatusCode> {
    auth::sign_out(&state.services.hub, &session, auth::bearer_token(&parts)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/logout_everywhere`: every session and API token of the
/// caller ends, this one included.
#[utoipa::path(post, path = "/api/auth/logout_everywhere", tag = "accounts", responses((status = 204)))]
pub async fn logout_everywhere(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
) -> HttpResult<StatusCode> {
    state.services.hub.sign_out_everywhere(user.id, None).await?;
    auth::sign_out(&state.services.hub, &session, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordBody {
    #[schema(max_length = 1024)]
    current_password: String,
    #[schema(value_type = s::Password)]
    new_password: String,
}

/// `POST /api/auth/password`: a new password. Every other browser session
/// and every API token ends (the token used for this request too).
#[utoipa::path(post, path = "/api/auth/password", tag = "accounts", request_body = PasswordBody,
    responses((status = 204),
        (status = 400, description = "The new password is not allowed, or the current one is wrong", body = ApiError)))]
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

#[derive(Deserialize, ToSchema)]
pub struct ResetRequestBody {
    /// The account's address (whether one has it or not, the answer is the same).
    #[schema(value_type = s::Email)]
    email: String,
}

/// `POST /api/auth/password_reset`: emails a single-use link if an account
/// has the address. Always 202: the answer does not tell whether it has.
#[utoipa::path(post, path = "/api/auth/password_reset", tag = "accounts", request_body = ResetRequestBody,
    security(()), responses((status = 202)))]
pub async fn request_password_reset(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    JsonBody(body): JsonBody<ResetRequestBody>,
) -> HttpResult<StatusCode> {
    state.services.hub.request_password_reset(&body.email, client.map(|c| c.0.0)).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize, ToSchema)]
pub struct ResetBody {
    /// The token from the emailed link.
    #[schema(max_length = 1024)]
    token: String,
    #[schema(value_type = s::Password)]
    new_password: String,
}

/// `POST /api/auth/password_reset/confirm`: sets the new password with the
/// link's token; every session and token of the account ends.
#[utoipa::path(post, path = "/api/auth/password_reset/confirm", tag = "accounts", request_body = ResetBody,
    security(()), responses((status = 204), (status = 400, body = ApiError),
        (status = 403, description = "The link is unknown, expired or used already", body = ApiError)))]
pub async fn reset_password(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<ResetBody>,
) -> HttpResult<StatusCode> {
    state.services.hub.reset_password(&body.token, &body.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/auth/tokens`: the caller's API tokens that still work.
#[utoipa::path(get, path = "/api/auth/tokens", tag = "accounts", responses((status = 200, body = Vec<ApiTokenDto>)))]
pub async fn tokens(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> HttpResult<Json<Vec<ApiTokenDto>>> {
    let tokens = state.services.hub.tokens(user.id).await?;
    Ok(Json(tokens.iter().map(ApiTokenDto::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct TokenBody {
    /// What the token is for.
    #[schema(value_type = s::TokenName)]
    name: String,
    /// 1 to 365; absent or 0: never expires.
    #[serde(default, deserialize_with = "app::wire::whole_number::optional")]
    #[schema(minimum = 0, maximum = 365)]
    expires_in_days: Option<i64>,
}

/// `POST /api/auth/tokens`: a named token for a script or bot, shown once.
#[utoipa::path(post, path = "/api/auth/tokens", tag = "accounts", request_body = TokenBody,
    responses((status = 201, body = CreatedTokenDto), (status = 400, body = ApiError)))]
pub async fn create_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    JsonBody(body): JsonBody<TokenBody>,
) -> HttpResult<(StatusCode, Json<CreatedTokenDto>)> {
    let (info, token) = state.services.hub.create_token(user.id, &body.name, body.expires_in_days).await?;
    Ok((StatusCode::CREATED, Json(CreatedTokenDto { info: ApiTokenDto::from(&info), token })))
}

/// `DELETE /api/auth/tokens/{id}`: the token stops working at once.
#[utoipa::path(delete, path = "/api/auth/tokens/{id}", tag = "accounts",
    params(("id" = String, Path, description = "The token's id (from the list)")),
    responses((status = 204), (status = 404, body = ApiError)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    state.services.hub.revoke_token_by_id(user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/auth/me`: who is signed in.
#[utoipa::path(get, path = "/api/auth/me", tag = "accounts", responses((status = 200, body = MeDto)))]
pub async fn me(CurrentUser(user): CurrentUser) -> Json<MeDto> {
    Json(MeDto::from(&user))
}
