use crate::api::{CreateChannel, LeaveWorkspace, Logout, OpenDirect};
use crate::components::bell::NotificationBell;
use crate::components::call::{CallBar, IncomingCall};
use crate::components::confirm::Confirm;
use crate::components::errors::{FieldError, field_error, form_error};
use crate::components::shortcuts::Shortcuts;
use crate::wire::{CategoryDto, ChannelDto, ChannelKind, MeDto, WorkspaceDto};
use leptos::prelude::*;

/// The workspace's channels and direct conversations with their unread
/// counts, the Threads view, forms to make a channel or start a
/// conversation, and who is signed in. `current` is the open channel's id
/// (or "threads").
#[component]
pub fn Sidebar(
    workspace: WorkspaceDto,
    channels: RwSignal<Vec<ChannelDto>>,
    current: String,
    me: MeDto,
    /// Headings that group channels; channels without one come first.
    #[prop(optional)]
    categories: Vec<CategoryDto>,
) -> impl IntoView {
    // Calls ring on every page of the workspace.
    #[cfg(feature = "hydrate")]
    crate::call::watch(crate::components::call::use_call(), me.id.clone());
    let create = ServerAction::<CreateChannel>::new();
    let open_dm = ServerAction::<OpenDirect>::new();
    let dm_value = open_dm.value();
    let dm_ws_id = workspace.id.clone();
    let threads_href = crate::paths::threads(&workspace.id);
    let threads_active = current == "threads";
    let meetings_href = crate::paths::meetings(&workspace.id);
    let meetings_active = current == "meetings";
    let (current_dm, me_id) = (current.clone(), me.id.clone());
    let leave = ServerAction::<LeaveWorkspace>::new();
    let logout = ServerAction::<Logout>::new();
    let value = create.value();
    let ws_id = workspace.id.clone();
    let leave_ws_id = workspace.id.clone();
    let leave_ws_name = workspace.name.clone();
    let is_owner = workspace.owner_id == me.id;
    let settings_href = crate::paths::settings(&workspace.id);
    let settings_active = current == "settings";
    let integrations_href = crate::paths::integrations(&workspace.id);
    let (shortcuts_ws, shortcuts_me) = (workspace.id.clone(), me.id.clone());
    let current_cat = current.clone();
    let grouped = categories
        .into_iter()
        .map(|cat| {
            let (current, cat_id) = (current_cat.clone(), cat.id.clone());
            view! {
                <h3 class="sidebar-section category">{cat.name.clone()}</h3>
                <ul class="channel-list" aria-label=cat.name.clone()>
                    <For each=move || {
                            let cat_id = cat_id.clone();
                            channels.get().into_iter().filter(move |c| listed(c) && c.category_id.as_deref() == Some(cat_id.as_str()))
                        }
                        key=|c| (c.id.clone(), c.is_member, c.name.clone(), c.unread, c.mentions, call_key(c)) let:c>
                        {channel_link(&c, &current, &c.name, sigil(&c))}
                    </For>
                </ul>
            }
        })
        .collect_view();
    view! {
        // On a phone the sidebar is folded away: this opens it over the page
        // (a link to it, so that it works without JavaScript; `rel=external`
        // leaves it to the browser, whose `:target` shows it).
        <a class="nav-toggle" href="#sidebar" rel="external" aria-label="Channels and views">"☰"</a>
        <nav class="sidebar" id="sidebar" aria-label="Workspace">
            <div class="sidebar-head">
                <a class="nav-close" href="#" rel="external" aria-label="Close the channel list">"✕"</a>
                <a href="/" class="all-workspaces" title="All workspaces">"← Workspaces"</a>
                <h2 class="workspace-name">
                    <span class="ws-icon" aria-hidden="true">{crate::pages::home::icon_of(&workspace)}</span>
                    {workspace.name.clone()}
                </h2>
                <NotificationBell />
            </div>
            <form class="search" method="get" action=format!("/w/{}/search", workspace.id) role="search">
                <label for="search-q" class="visually-hidden">"Search messages"</label>
                <input id="search-q" name="q" type="search" placeholder="Search messages" required />
            </form>
            <ul class="channel-list" aria-label="Views">
                <li class:active=threads_active>
                    <a href=threads_href aria-current=threads_active.then_some("page")>
                        <span class="sigil" aria-hidden="true">"🧵"</span>"Threads"
                    </a>
                </li>
                <li class:active=meetings_active>
                    <a href=meetings_href aria-current=meetings_active.then_some("page")>
                        <span class="sigil" aria-hidden="true">"📅"</span>"Meetings"
                    </a>
                </li>
                <li>
                    <a href=integrations_href>
                        <span class="sigil" aria-hidden="true">"🔌"</span>"Integrations"
                    </a>
                </li>
                <li class:active=settings_active>
                    <a href=settings_href aria-current=settings_active.then_some("page")>
                        <span class="sigil" aria-hidden="true">"⚙"</span>"Settings"
                    </a>
                </li>
            </ul>
            <h3 class="sidebar-section">"Channels"</h3>
            <ul class="channel-list" aria-label="Channels">
                <For each=move || channels.get().into_iter().filter(|c| listed(c) && c.category_id.is_none())
                    key=|c| (c.id.clone(), c.is_member, c.name.clone(), c.unread, c.mentions, call_key(c)) let:c>
                    {channel_link(&c, &current, &c.name, sigil(&c))}
                </For>
            </ul>
            {grouped}
            <h3 class="sidebar-section">"Direct messages"</h3>
            <ul class="channel-list" aria-label="Direct messages">
                <For each=move || channels.get().into_iter().filter(|c| c.kind == ChannelKind::Direct)
                    key=|c| (c.id.clone(), c.unread, c.mentions, c.members.len()) let:c>
                    {channel_link(&c, &current_dm, &c.label(&me_id), "@")}
                </For>
            </ul>
            <details class="new-dm" open=move || dm_value.with(|v| matches!(v, Some(Err(_))))>
                <summary>"+ New message"</summary>
                <ActionForm action=open_dm attr:class="stack" attr:aria-label="Start a conversation">
                    <input type="hidden" name="workspace_id" value=dm_ws_id />
                    <label for="dm-usernames">"To (usernames, up to 7)"</label>
                    <input id="dm-usernames" name="usernames" required placeholder="e.g. ana, bob" />
                    <FieldError id="dm-error" message=move || field_error(dm_value, "usernames")().or_else(form_error(dm_value)) />
                    <button type="submit">"Open conversation"</button>
                </ActionForm>
            </details>
            <details class="new-channel" open=move || value.with(|v| matches!(v, Some(Err(_))))>
                <summary>"+ New channel"</summary>
                <ActionForm action=create attr:class="stack" attr:aria-label="Create a channel">
                    <input type="hidden" name="workspace_id" value=ws_id />
                    <label for="channel-name">"Channel name"</label>
                    <input id="channel-name" name="name" required maxlength="80" placeholder="e.g. plans" />
                    <FieldError id="channel-name-error" message=field_error(value, "name") />
                    <label for="channel-topic">"Topic"</label>
                    <input id="channel-topic" name="topic" maxlength="500" />
                    <label for="channel-kind">"Type"</label>
                    <select id="channel-kind" name="kind">
                        <option value="text" selected=true>"Text: messages and threads"</option>
                        <option value="voice">"Voice: calls with voice, video and screens"</option>
                        <option value="announcement">"Announcement: only some may post"</option>
                    </select>
                    <label class="check"><input type="checkbox" name="is_private" value="true" />
                        " Private: only people added to it can see it"</label>
                    <label class="check"><input type="checkbox" name="sensitive" value="true" />
                        " Sensitive: kept out of search, not quoted in notifications"</label>
                    <FieldError id="channel-error" message=form_error(value) />
                    <button type="submit">"Create channel"</button>
                </ActionForm>
            </details>
            <div class="sidebar-foot">
                <IncomingCall />
                <CallBar />
                <p class="me">{me.display_name.clone()} <span class="username">" @" {me.username.clone()}</span></p>
                {(!is_owner).then(|| view! {
                    <Confirm action="Leave workspace" up=true
                        what=format!("You leave {leave_ws_name} and its channels; an invite brings you back.")>
                        <ActionForm action=leave attr:class="inline">
                            <input type="hidden" name="workspace_id" value=leave_ws_id />
                            <button type="submit" class="danger">{format!("Leave {leave_ws_name}")}</button>
                        </ActionForm>
                    </Confirm>
                    <FieldError id="leave-error" message=form_error(leave.value()) />
                })}
                <a class="link" href=crate::paths::notification_settings()>"Notification settings"</a>
                <a class="link" href=crate::paths::account()>"Account"</a>
                <Shortcuts workspace_id=shortcuts_ws channels me_id=shortcuts_me />
                <ActionForm action=logout attr:class="inline">
                    <button type="submit" class="link">"Sign out"</button>
                </ActionForm>
            </div>
        </nav>
    }
    .into_any()
}

/// Whether a channel has a place among the sidebar's channels (not a
/// direct conversation, not archived).
fn listed(c: &ChannelDto) -> bool {
    c.kind != ChannelKind::Direct && !c.archived
}

fn sigil(c: &ChannelDto) -> &'static str {
    match c.kind {
        ChannelKind::Announcement => "📣",
        ChannelKind::Voice => "🔊",
        _ if c.is_external => "🌐",
        _ if c.is_private => "🔒",
        _ => "#",
    }
}

/// One entry of the sidebar: bold when unread (unless muted: dimmed), with
/// a badge for mentions.
fn channel_link(c: &ChannelDto, current: &str, name: &str, sigil: &'static str) -> impl IntoView + use<> {
    let href = crate::paths::channel(&c.workspace_id, &c.id);
    let active = c.id == current;
    let muted = c.notify_level == "muted";
    let unread = c.unread > 0 && !active && !muted;
    let mentions = if active { 0 } else { c.mentions };
    let label = match (unread, mentions) {
        (_, m) if m > 0 => format!("{name}, {m} mention{}", if m == 1 { "" } else { "s" }),
        (true, _) => format!("{name}, unread messages"),
        _ if muted => format!("{name}, muted"),
        _ => name.to_string(),
    };
    view! {
        <li class:active=active class:not-member=c.is_member == Some(false) class:unread=unread class:muted=muted data-channel=c.id.clone()>
            <a href=href aria-current=active.then_some("page") aria-label=label>
                <span class="sigil" aria-hidden="true">{sigil}</span>
                <span class="channel-name">{name.to_string()}</span>
                {(mentions > 0).then(|| view! { <span class="badge mention-count" aria-hidden="true">{mentions}</span> })}
            </a>
            {(!c.call.is_empty()).then(|| {
                let people = c
                    .call
                    .iter()
                    .map(|p| {
                        let muted = p.self_muted || p.server_muted || !p.can_speak;
                        view! {
                            <li class="call-person">
                                {p.user.display_name.clone()}
                                {muted.then(|| view! { <span class="muted" title="Muted">" 🔇"</span> })}
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul class="call-people" aria-label=format!("In the call in {name}")>{people}</ul> }
            })}
        </li>
    }
}

/// What of a channel's call the sidebar shows, so a change redraws it.
fn call_key(c: &ChannelDto) -> Vec<(String, bool)> {
    c.call.iter().map(|p| (p.user.id.clone(), p.self_muted || p.server_muted || !p.can_speak)).collect()
}
