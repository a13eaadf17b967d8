use crate::wire::{ApiError, ErrorCode};
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

/// The error a form's action ended with, if it concerns `field`.
pub fn field_error<T, S>(
    value: S,
    field: &'static str,
) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static
where
    S: With<Value = Option<Result<T, ApiError>>> + Copy + Send + Sync + 'static,
{
    move || value.with(|v| v.as_ref().and_then(|r| r.as_ref().err()).and_then(|e| e.for_field(field)))
}

/// The error a form's action ended with, when it concerns no single field.
pub fn form_error<T, S>(value: S) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static
where
    S: With<Value = Option<Result<T, ApiError>>> + Copy + Send + Sync + 'static,
{
    move || {
        value.with(|v| {
            v.as_ref().and_then(|r| r.as_ref().err()).filter(|e| e.field.is_none()).map(|e| e.message.clone())
        })
    }
}

/// A message under a form field, announced to screen readers.
#[component]
pub fn FieldError(
    id: &'static str,
    message: impl Fn() -> Option<String> + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        {move || message().map(|m| view! { <p class="field-error" id=id role="alert">{m}</p> })}
    }
}

/// What a page shows when its data could not be loaded. Not being signed
/// in sends the person to the sign-in page, and back here afterwards.
pub fn page_error(error: ApiError) -> AnyView {
    if error.code == ErrorCode::Unauthenticated {
        let location = use_location();
        let here = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
        let here = if here.is_empty() { "/".to_string() } else { here };
        // A standard redirect for every browser (the data's own error set 401).
        #[cfg(feature = "ssr")]
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(axum::http::StatusCode::FOUND);
        }
        return view! { <Redirect path=crate::paths::login_then(&here) /> }.into_any();
    }
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = axum::http::StatusCode::from_u16(error.code.http_status())
    {
        resp.set_status(status);
    }
    view! {
        <main class="centered">
            <h1>{match error.code {
                ErrorCode::NotFound => "Not found",
                ErrorCode::Forbidden => "Not allowed",
                ErrorCode::Unreachable => "Cannot reach the server",
                ErrorCode::Unavailable => "Parley is briefly unavailable",
                _ => "Something went wrong",
            }}</h1>
            <p role="alert">{error.message}</p>
            <p><a href="/">"Go to your workspaces"</a></p>
        </main>
    }
    .into_any()
}
