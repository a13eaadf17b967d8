use crate::api::{Login, RequestPasswordReset, ResetPassword, Signup};
use crate::components::errors::{FieldError, field_error, form_error};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn next_param() -> String {
    use_query_map().read_untracked().get("next").unwrap_or_else(|| "/".to_string())
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let next = next_param();
    let signup_href = crate::paths::signup_then(&next);
    let value = action.value();
    let reset = use_query_map().read_untracked().get("reset").is_some();
    view! {
        <Title text="Sign in" />
        <main class="auth">
            <h1>"Sign in to Parley"</h1>
            {reset.then(|| view! { <p class="notice" role="status">"Your password is changed. Sign in with the new one."</p> })}
            <ActionForm action attr:class="stack" attr:aria-label="Sign in">
                <input type="hidden" name="next" value=next />
                <label for="login-username">"Username"</label>
                <input id="login-username" name="username" autocomplete="username" required />
                <label for="login-password">"Password"</label>
                <input id="login-password" name="password" type="password" autocomplete="current-password" required />
                <FieldError id="login-password-error" message=field_error(value, "password") />
                <FieldError id="login-error" message=form_error(value) />
                <button type="submit" disabled=move || action.pending().get()>"Sign in"</button>
            </ActionForm>
            <p><a href=crate::paths::FORGOT_PASSWORD>"Forgot your password?"</a></p>
            <p>"New here? " <a href=signup_href>"Create an account"</a></p>
        </main>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<Signup>::new();
    let next = next_param();
    let login_href = crate::paths::login_then(&next);
    let value = action.value();
    view! {
        <Title text="Create an account" />
        <main class="auth">
            <h1>"Create your Parley account"</h1>
            <ActionForm action attr:class="stack" attr:aria-label="Create an account">
                <input type="hidden" name="next" value=next />
                <label for="signup-username">"Username"</label>
                <input id="signup-username" name="username" autocomplete="username" required
                    aria-describedby="signup-username-help" />
                <p class="help" id="signup-username-help">"2 to 32 characters: letters, digits, _ . -"</p>
                <FieldError id="signup-username-error" message=field_error(value, "username") />
                <label for="signup-display-name">"Display name"</label>
                <input id="signup-display-name" name="display_name" autocomplete="name" />
                <FieldError id="signup-display-name-error" message=field_error(value, "display_name") />
                <label for="signup-email">"Email"</label>
                <input id="signup-email" name="email" type="email" autocomplete="email" required />
                <FieldError id="signup-email-error" message=field_error(value, "email") />
                <label for="signup-password">"Password"</label>
                <input id="signup-password" name="password" type="password" autocomplete="new-password" required
                    aria-describedby="signup-password-help" />
                <p class="help" id="signup-password-help">"At least 8 characters."</p>
                <FieldError id="signup-password-error" message=field_error(value, "password") />
                <FieldError id="signup-error" message=form_error(value) />
                <button type="submit" disabled=move || action.pending().get()>"Create account"</button>
            </ActionForm>
            <p>"Have an account? " <a href=login_href>"Sign in"</a></p>
        </main>
    }
}

/// Asks for a reset link by email. The page says the same whether or not an
/// account has the address.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let value = action.value();
    let sent_before = use_query_map().read_untracked().get("sent").is_some();
    let sent = move || sent_before || matches!(value.get(), Some(Ok(())));
    view! {
        <Title text="Reset your password" />
        <main class="auth">
            <h1>"Reset your password"</h1>
            {move || sent().then(|| view! {
                <p class="notice" role="status">"If an account has that address, we sent it a link to choose a new \
                    password. It works once, within 30 minutes. Check your inbox."</p>
            })}
            <ActionForm action attr:class="stack" attr:aria-label="Reset your password">
                <label for="forgot-email">"Email address of your account"</label>
                <input id="forgot-email" name="email" type="email" autocomplete="email" required />
                <FieldError id="forgot-email-error" message=field_error(value, "email") />
                <FieldError id="forgot-error" message=form_error(value) />
                <button type="submit" disabled=move || action.pending().get()>"Send me a link"</button>
            </ActionForm>
            <p><a href="/login">"Back to sign in"</a></p>
        </main>
    }
}

/// Where a reset link leads: choose a new password.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let value = action.value();
    let token = use_query_map().read_untracked().get("token").unwrap_or_default();
    view! {
        <Title text="Choose a new password" />
        <main class="auth">
            <h1>"Choose a new password"</h1>
            <ActionForm action attr:class="stack" attr:aria-label="Choose a new password">
                <input type="hidden" name="token" value=token />
                <label for="reset-password">"New password"</label>
                <input id="reset-password" name="new_password" type="password" autocomplete="new-password" required
                    aria-describedby="reset-password-help" />
                <p class="help" id="reset-password-help">"At least 8 characters. You will be signed out everywhere."</p>
                <FieldError id="reset-password-error" message=field_error(value, "new_password") />
                <FieldError id="reset-error" message=form_error(value) />
                <button type="submit" disabled=move || action.pending().get()>"Set new password"</button>
            </ActionForm>
            <p><a href=crate::paths::FORGOT_PASSWORD>"Ask for a new link"</a></p>
        </main>
    }
}
