use crate::api::{Login, Signup};
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
    view! {
        <Title text="Sign in" />
        <main class="auth">
            <h1>"Sign in to Parley"</h1>
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
