use crate::api::{CreateWorkspace, JoinWorkspace, Logout, home};
use crate::components::errors::{FieldError, field_error, form_error};
use crate::wire::WorkspaceDto;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    let data = crate::codec::page_data(|| (), |_| home());
    view! {
        <Title text="Your workspaces" />
        {super::page_screen(data, |home| view! { <Home home /> })}
    }
}

#[component]
fn Home(home: crate::api::HomeDto) -> impl IntoView {
    let create = ServerAction::<CreateWorkspace>::new();
    let join = ServerAction::<JoinWorkspace>::new();
    let logout = ServerAction::<Logout>::new();
    let value = create.value();
    let crate::api::HomeDto { me, workspaces, discover, admin } = home;
    view! {
        <main class="home">
            <header class="home-header">
                <h1>"Your workspaces"</h1>
                <div class="who">
                    <span>"Signed in as " <strong>{me.display_name}</strong> " (@" {me.username} ")"</span>
                    <a class="link" href=crate::paths::notification_settings()>"Notification settings"</a>
                    <a class="link" href=crate::paths::account()>"Account"</a>
                    {admin.then(|| view! { <a class="link" href=crate::paths::admin()>"Administration"</a> })}
                    <ActionForm action=logout attr:class="inline">
                        <button type="submit" class="link">"Sign out"</button>
                    </ActionForm>
                </div>
            </header>
            <section aria-labelledby="mine">
                <h2 id="mine" class="visually-hidden">"Workspaces you belong to"</h2>
                {if workspaces.is_empty() {
                    view! { <p class="empty">"You are not in any workspace yet. Create one below, or open an invite link."</p> }.into_any()
                } else {
                    view! {
                        <ul class="workspace-list">
                            {workspaces.into_iter().map(|w| view! {
                                <li><a href=crate::paths::workspace(&w.id)>
                                    <span class="ws-icon" aria-hidden="true">{icon_of(&w)}</span>
                                    <span class="ws-name">{w.name.clone()}</span>
                                    {w.is_private.then(|| view! { <span class="badge">"private"</span> })}
                                </a></li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
            <section class="card" aria-labelledby="create-heading">
                <h2 id="create-heading">"Create a workspace"</h2>
                <ActionForm action=create attr:class="stack" attr:aria-label="Create a workspace">
                    <label for="ws-name">"Workspace name"</label>
                    <input id="ws-name" name="name" required maxlength="64" />
                    <FieldError id="ws-name-error" message=field_error(value, "name") />
                    <label for="ws-description">"Description"</label>
                    <input id="ws-description" name="description" maxlength="500" />
                    <FieldError id="ws-description-error" message=field_error(value, "description") />
                    <label for="ws-icon">"Icon (an emoji)"</label>
                    <input id="ws-icon" name="icon" maxlength="8" placeholder="🚀" />
                    <FieldError id="ws-icon-error" message=field_error(value, "icon") />
                    <label class="check"><input type="checkbox" name="is_private" value="true" />
                        " Private: people join only by invite link"</label>
                    <FieldError id="ws-error" message=form_error(value) />
                    <button type="submit" disabled=move || create.pending().get()>"Create workspace"</button>
                </ActionForm>
            </section>
            <section aria-labelledby="discover-heading">
                <h2 id="discover-heading">"Public workspaces"</h2>
                {if discover.is_empty() {
                    view! { <p class="empty">"No public workspaces to join right now."</p> }.into_any()
                } else {
                    view! {
                        <ul class="workspace-list discover">
                            {discover.into_iter().map(|w| {
                                let label = format!("Join {}", w.name);
                                view! {
                                <li>
                                    <span class="ws-icon" aria-hidden="true">{icon_of(&w)}</span>
                                    <span class="ws-name">{w.name.clone()}</span>
                                    <span class="ws-description">{w.description.clone()}</span>
                                    <ActionForm action=join attr:class="inline">
                                        <input type="hidden" name="workspace_id" value=w.id.clone() />
                                        <button type="submit" aria-label=label>"Join"</button>
                                    </ActionForm>
                                </li>
                            }}).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
        </main>
    }
}

/// The icon of a workspace, or its initial when it has none.
pub fn icon_of(w: &WorkspaceDto) -> String {
    if w.icon.is_empty() {
        w.name.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default()
    } else {
        w.icon.clone()
    }
}
