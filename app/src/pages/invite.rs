use crate::api::{AcceptInvite, invite_preview, me};
use crate::components::errors::{FieldError, form_error};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// An invite link's landing page: what it leads to, and a button to join
/// (or to sign up / sign in first, coming back here afterwards).
#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let data = crate::codec::page_data(code, |code| async move {
        let preview = invite_preview(code).await?;
        let me = me().await?;
        Ok::<_, crate::wire::ApiError>((preview, me))
    });
    let accept = ServerAction::<AcceptInvite>::new();
    view! {
        <Title text="Invitation" />
        {super::page_screen(data, move |(preview, me)| {
            let here = crate::paths::invite(&preview.code);
            let place = match &preview.channel {
                Some(c) => format!("#{} in {}", c.name, preview.workspace.name),
                None => preview.workspace.name.clone(),
            };
            view! {
                <main class="centered invite">
                    <p class="ws-icon big" aria-hidden="true">{crate::pages::home::icon_of(&preview.workspace)}</p>
                    <h1>"You are invited to " {place}</h1>
                    <p>{preview.workspace.description.clone()}</p>
                    {match me {
                        Some(me) => view! {
                            <ActionForm action=accept attr:aria-label="Accept invitation">
                                <input type="hidden" name="code" value=preview.code.clone() />
                                <button type="submit">"Join as " {me.display_name}</button>
                            </ActionForm>
                            <FieldError id="invite-error" message=form_error(accept.value()) />
                        }.into_any(),
                        None => view! {
                            <p class="actions">
                                <a class="button" href=crate::paths::signup_then(&here)>"Create an account to join"</a>
                                " or "
                                <a href=crate::paths::login_then(&here)>"sign in"</a>
                            </p>
                        }.into_any(),
                    }}
                </main>
            }
        })}
    }
}
