//! A person's own account: password change and reset, signing out
//! everywhere, and API tokens.

use crate::wire::{ApiError, ApiTokenDto, CreatedTokenDto, MeDto};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the account page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountViewDto {
    pub me: MeDto,
    pub tokens: Vec<ApiTokenDto>,
}

#[server]
pub async fn account_view() -> Result<AccountViewDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let tokens = hub.tokens(user.id).await?;
            Ok(AccountViewDto {
                me: MeDto::from(&user),
                tokens: tokens.iter().map(ApiTokenDto::from).collect(),
            })
        }
        .await,
    )
}

/// Changes the caller's password; every other session and every API token
/// ends (this browser stays signed in).
#[server]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            use crate::ssr::auth;
            let (user, hub) = auth::caller().await?;
            let keep = auth::session_id(&auth::session().await?);
            hub.change_password(user.id, &current_password, &new_password, keep.as_deref()).await?;
            crate::ssr::redirect(&format!("{}?changed=password", crate::paths::account()));
            Ok(())
        }
        .await,
    )
}

/// Signs the caller out of every browser and revokes every API token,
/// this browser included.
#[server]
pub async fn sign_out_everywhere() -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            use crate::ssr::auth;
            let (user, hub) = auth::caller().await?;
            hub.sign_out_everywhere(user.id, None).await?;
            auth::sign_out(&hub, &auth::session().await?, None).await?;
            crate::ssr::redirect("/login");
            Ok(())
        }
        .await,
    )
}

/// Makes a named API token; its secret is in the answer, this once.
#[server]
pub async fn create_token(
    name: String,
    expires_in_days: Option<String>,
) -> Result<CreatedTokenDto, ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            let days = match expires_in_days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
                None => None,
                Some(d) => Some(d.parse::<i64>().map_err(|_| {
                    ApiError::invalid("expires_in_days", "`expires_in_days` must be a whole number.")
                })?),
            };
            let (info, token) = hub.create_token(user.id, &name, days).await?;
            Ok(CreatedTokenDto { info: ApiTokenDto::from(&info), token })
        }
        .await,
    )
}

#[server]
pub async fn revoke_token(id: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let (user, hub) = crate::ssr::auth::caller().await?;
            hub.revoke_token_by_id(user.id, &id).await?;
            Ok(())
        }
        .await,
    )
}

/// Emails a reset link if an account has this address; the answer is the
/// same either way.
#[server]
pub async fn request_password_reset(email: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let hub = crate::ssr::services()?.hub;
            hub.request_password_reset(&email, crate::ssr::client_addr()).await?;
            crate::ssr::redirect(&format!("{}?sent=1", crate::paths::FORGOT_PASSWORD));
            Ok(())
        }
        .await,
    )
}

/// Sets a new password with a reset link, then asks to sign in with it.
#[server]
pub async fn reset_password(token: String, new_password: String) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let hub = crate::ssr::services()?.hub;
            hub.reset_password(&token, &new_password).await?;
            crate::ssr::redirect("/login?reset=1");
            Ok(())
        }
        .await,
    )
}
