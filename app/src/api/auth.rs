use crate::wire::{ApiError, MeDto};
use leptos::prelude::*;

#[server]
pub async fn signup(
    username: String,
    display_name: String,
    email: String,
    password: String,
    next: Option<String>,
) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            use crate::ssr::{auth, services};
            let hub = services()?.hub;
            let user = hub
                .signup(
                    domain::hub::Signup { username, display_name, email, password },
                    crate::ssr::client_addr(),
                )
                .await?;
            auth::sign_in(&auth::session().await?, &user).await?;
            crate::ssr::redirect(&safe_next(next));
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            use crate::ssr::{auth, services};
            let user = services()?.hub.login(&username, &password, crate::ssr::client_addr()).await?;
            auth::sign_in(&auth::session().await?, &user).await?;
            crate::ssr::redirect(&safe_next(next));
            Ok(())
        }
        .await,
    )
}

#[server]
pub async fn logout() -> Result<(), ApiError> {
    crate::ssr::respond(
        async move {
            let hub = crate::ssr::services()?.hub;
            crate::ssr::auth::sign_out(&hub, &crate::ssr::auth::session().await?, None).await?;
            crate::ssr::redirect("/login");
            Ok(())
        }
        .await,
    )
}

/// The signed-in user, or `None`.
#[server]
pub async fn me() -> Result<Option<MeDto>, ApiError> {
    crate::ssr::respond(
        async move { Ok(crate::ssr::auth::current_user().await?.as_ref().map(MeDto::from)) }.await,
    )
}

/// Where to go after signing in: a local path only (no open redirects).
pub fn safe_next(next: Option<String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_is_local_only() {
        assert_eq!(super::safe_next(Some("/invite/abc".into())), "/invite/abc");
        assert_eq!(super::safe_next(Some("//evil.example".into())), "/");
        assert_eq!(super::safe_next(Some("https://evil.example".into())), "/");
        assert_eq!(super::safe_next(Some("/\\evil.example".into())), "/");
        assert_eq!(super::safe_next(None), "/");
    }
}
