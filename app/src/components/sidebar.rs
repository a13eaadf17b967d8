use crate::api::{CreateChannel, LeaveWorkspace, Logout};
use crate::components::errors::{FieldError, field_error, form_error};
use crate::wire::{ChannelDto, MeDto, WorkspaceDto};
use leptos::prelude::*;

/// The workspace's channels, a form to make one, and who is signed in.
#[component]
pub fn Sidebar(
    workspace: WorkspaceDto,
    channels: RwSignal<Vec<ChannelDto>>,
    current: String,
    me: MeDto,
) -> impl IntoView {
    let create = ServerAction::<CreateChannel>::new();
    let leave = ServerAction::<LeaveWorkspace>::new();
    let logout = ServerAction::<Logout>::new();
    let value = create.value();
    let ws_id = workspace.id.clone();
    let leave_ws_id = workspace.id.clone();
    let is_owner = workspace.owner_id == me.id;
    view! {
        <nav class="sidebar" aria-label="Workspace">
            <div class="sidebar-head">
                <a href="/" class="all-workspaces" title="All workspaces">"← Workspaces"</a>
                <h2 class="workspace-name">
                    <span class="ws-icon" aria-hidden="true">{crate::pages::home::icon_of(&workspace)}</span>
                    {workspace.name.clone()}
                </h2>
            </div>
            <form class="search" method="get" action=format!("/w/{}/search", workspace.id) role="search">
                <label for="search-q" class="visually-hidden">"Search messages"</label>
                <input id="search-q" name="q" type="search" placeholder="Search messages" required />
            </form>
            <h3 class="sidebar-section">"Channels"</h3>
            <ul class="channel-list" aria-label="Channels">
                <For each=move || channels.get() key=|c| (c.id.clone(), c.is_member) let:c>
                    {
                        let href = crate::paths::channel(&c.workspace_id, &c.id);
                        let active = c.id == current;
                        view! {
                            <li class:active=active class:not-member=c.is_member == Some(false)>
                                <a href=href aria-current=active.then_some("page")>
                                    <span class="sigil" aria-hidden="true">{if c.is_private { "🔒" } else { "#" }}</span>
                                    {c.name.clone()}
                                </a>
                            </li>
                        }
                    }
                </For>
            </ul>
            <details class="new-channel" open=move || value.with(|v| matches!(v, Some(Err(_))))>
                <summary>"+ New channel"</summary>
                <ActionForm action=create attr:class="stack" attr:aria-label="Create a channel">
                    <input type="hidden" name="workspace_id" value=ws_id />
                    <label for="channel-name">"Channel name"</label>
                    <input id="channel-name" name="name" required maxlength="80" placeholder="e.g. plans" />
                    <FieldError id="channel-name-error" message=field_error(value, "name") />
                    <label for="channel-topic">"Topic"</label>
                    <input id="channel-topic" name="topic" maxlength="500" />
                    <label class="check"><input type="checkbox" name="is_private" value="true" />
                        " Private: only people added to it can see it"</label>
                    <FieldError id="channel-error" message=form_error(value) />
                    <button type="submit">"Create channel"</button>
                </ActionForm>
            </details>
            <div class="sidebar-foot">
                <p class="me">{me.display_name.clone()} <span class="username">" @" {me.username.clone()}</span></p>
                {(!is_owner).then(|| view! {
                    <ActionForm action=leave attr:class="inline">
                        <input type="hidden" name="workspace_id" value=leave_ws_id />
                        <button type="submit" class="link">"Leave workspace"</button>
                    </ActionForm>
                    <FieldError id="leave-error" message=form_error(leave.value()) />
                })}
                <ActionForm action=logout attr:class="inline">
                    <button type="submit" class="link">"Sign out"</button>
                </ActionForm>
            </div>
        </nav>
    }
}
