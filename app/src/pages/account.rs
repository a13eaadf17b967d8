//! The account page (`/account`): change the password, sign out
//! everywhere, and make or revoke API tokens for scripts and bots.

use crate::api::{AccountViewDto, ChangePassword, CreateToken, RevokeToken, SignOutEverywhere, account_view};
use crate::components::confirm::Confirm;
use crate::components::errors::{FieldError, field_error, form_error};
use crate::components::time::{DateTimeOr, Time};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AccountPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let data =
        crate::codec::page_data(move || (create.version().get(), revoke.version().get()), |_| account_view());
    view! {
        <Title text="Account" />
        {super::page_screen(data, move |view| account_screen(view, create, revoke))}
    }
}

fn account_screen(
    view: AccountViewDto,
    create: ServerAction<CreateToken>,
    revoke: ServerAction<RevokeToken>,
) -> impl IntoView {
    let AccountViewDto { me, tokens } = view;
    let change = ServerAction::<ChangePassword>::new();
    let everywhere = ServerAction::<SignOutEverywhere>::new();
    let changed = use_query_map().read_untracked().get("changed").is_some();
    let change_value = change.value();
    let changed_now = move || changed || matches!(change_value.get(), Some(Ok(())));
    let created = create.value();
    let rows = tokens
        .into_iter()
        .map(|t| {
            let label = format!("Revoke the token {}", t.name);
            view! {
                <tr class="token-row">
                    <td>{t.name}</td>
                    <td><Time ms=t.created_at /></td>
                    <td><DateTimeOr ms=t.expires_at none="never" /></td>
                    <td>
                        <ActionForm action=revoke attr:class="inline">
                            <input type="hidden" name="id" value=t.id />
                            <button type="submit" class="danger" aria-label=label>"Revoke"</button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <main class="settings account" aria-labelledby="account-title">
            <p><a href="/">"← Your workspaces"</a></p>
            <h1 id="account-title">"Account"</h1>
            <p>"Signed in as " <strong>{me.display_name}</strong> " (@" {me.username} ", " {me.email} ")"</p>

            <section aria-labelledby="password-title">
                <h2 id="password-title">"Password"</h2>
                {move || changed_now().then(|| view! {
                    <p class="notice" role="status">"Your password is changed. Every other browser and every API token is signed out."</p>
                })}
                <ActionForm action=change attr:class="stack" attr:aria-label="Change your password">
                    <label for="current-password">"Current password"</label>
                    <input id="current-password" name="current_password" type="password" autocomplete="current-password" required />
                    <FieldError id="current-password-error" message=field_error(change_value, "current_password") />
                    <label for="new-password">"New password"</label>
                    <input id="new-password" name="new_password" type="password" autocomplete="new-password" required
                        aria-describedby="new-password-help" />
                    <p class="help" id="new-password-help">"At least 8 characters. Other browsers and API tokens are signed out."</p>
                    <FieldError id="new-password-error" message=field_error(change_value, "new_password") />
                    <FieldError id="change-password-error" message=form_error(change_value) />
                    <button type="submit">"Change password"</button>
                </ActionForm>
            </section>

            <section aria-labelledby="sessions-title">
                <h2 id="sessions-title">"Where you are signed in"</h2>
                <p class="hint">"Lost a device, or signed in somewhere you should not have? End every session and API token, this one included."</p>
                <Confirm action="Sign out everywhere"
                    what="Every browser and app signed in as you, this one included, signs out, and every API token stops working.">
                    <ActionForm action=everywhere attr:class="inline">
                        <button type="submit" class="danger">"Sign out on every device"</button>
                    </ActionForm>
                </Confirm>
                <FieldError id="everywhere-error" message=form_error(everywhere.value()) />
            </section>

            <section aria-labelledby="tokens-title">
                <h2 id="tokens-title">"API tokens"</h2>
                <p class="hint">"For scripts and bots: send one as " <code>"Authorization: Bearer <token>"</code> ". Sign-ins get one each, named “sign-in”."</p>
                <table class="tokens">
                    <thead><tr><th>"Name"</th><th>"Made"</th><th>"Expires"</th><th><span class="visually-hidden">"Revoke"</span></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                <FieldError id="revoke-token-error" message=form_error(revoke.value()) />
                <ActionForm action=create attr:class="stack" attr:aria-label="Make an API token">
                    <label for="token-name">"Name"</label>
                    <input id="token-name" name="name" maxlength="100" required />
                    <FieldError id="token-name-error" message=field_error(created, "name") />
                    <label for="token-expiry">"Expires after"</label>
                    <select id="token-expiry" name="expires_in_days">
                        <option value="7">"7 days"</option>
                        <option value="30" selected>"30 days"</option>
                        <option value="90">"90 days"</option>
                        <option value="365">"1 year"</option>
                        <option value="0">"Never"</option>
                    </select>
                    <FieldError id="token-error" message=form_error(created) />
                    <button type="submit">"Make token"</button>
                </ActionForm>
                {move || created.get().and_then(Result::ok).map(|t| view! {
                    <div class="invite-box" role="status">
                        <label for="new-token">"Your new token (copy it now: it is not shown again)"</label>
                        <input id="new-token" readonly value=t.token on:focus=crate::components::select_all />
                    </div>
                })}
            </section>
        </main>
    }
}
