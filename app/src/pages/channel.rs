use crate::api::{AddChannelMember, ChannelViewDto, CreateInvite, JoinChannel, LeaveChannel, channel_view};
use crate::components::composer::Composer;
use crate::components::errors::{FieldError, field_error, form_error, page_error};
#[cfg(feature = "hydrate")]
use crate::components::message_list::apply_reaction;
use crate::components::message_list::{MessageList, merge_messages};
use crate::components::sidebar::Sidebar;
use crate::wire::{ChannelDto, MemberDto, MessageDto};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map, use_query_map};

#[component]
pub fn ChannelPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let join = ServerAction::<JoinChannel>::new();
    let add_member = ServerAction::<AddChannelMember>::new();
    let data = Resource::new(
        move || {
            (
                params.read().get("ws").unwrap_or_default(),
                params.read().get("ch").unwrap_or_default(),
                query.read().get("before"),
                query.read().get("at"),
                join.version().get(),
                add_member.version().get(),
            )
        },
        |(ws, ch, before, at, _, _)| channel_view(ws, ch, before, at),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! { <ChannelScreen view join add_member /> }.into_any(),
                    Err(e) => page_error(e),
                }
            })}
        </Transition>
    }
}

#[component]
fn ChannelScreen(
    view: ChannelViewDto,
    join: ServerAction<JoinChannel>,
    add_member: ServerAction<AddChannelMember>,
) -> impl IntoView {
    let ChannelViewDto { me, workspace, channels, channel, page, members, public_url } = view;
    let mut history = page.messages;
    history.reverse();
    let messages = RwSignal::new(history);
    let older = RwSignal::new(page.next_cursor);
    let channels = RwSignal::new(channels);
    let members = RwSignal::new(members);
    let is_member = channel.is_member.unwrap_or(false);
    let on_sent = Callback::new(move |m: MessageDto| messages.update(|list| merge_messages(list, [m])));
    // Who else is typing here, and until when (ms since the epoch).
    let typing: RwSignal<Vec<(crate::wire::UserDto, f64)>> = RwSignal::new(Vec::new());

    #[cfg(feature = "hydrate")]
    {
        use crate::live::{LiveEvent, subscribe};
        use crate::wire::GatewayEvent as G;
        let channel_id = channel.id.clone();
        let ws_id = workspace.id.clone();
        let my_id = me.id.clone();
        let sub = subscribe(move |event| match event {
            LiveEvent::Connected => {
                // Catch up on whatever arrived while we were not connected.
                let channel_id = channel_id.clone();
                leptos::task::spawn_local(async move {
                    if let Ok(page) = crate::api::message_page(channel_id, None).await {
                        messages.update(|list| merge_messages(list, page.messages));
                    }
                });
            }
            LiveEvent::Gateway(G::MessageCreate { message }) if message.channel_id == channel_id => {
                messages.update(|list| merge_messages(list, [message.clone()]));
                typing.update(|t| t.retain(|(u, _)| u.id != message.author.id));
            }
            LiveEvent::Gateway(G::TypingStart { channel_id: c, user })
                if *c == channel_id && user.id != my_id =>
            {
                let until = js_sys::Date::now() + 5000.0;
                typing.update(|t| {
                    t.retain(|(u, _)| u.id != user.id);
                    t.push((user.clone(), until));
                });
            }
            LiveEvent::Gateway(G::MessageUpdate { message }) if message.channel_id == channel_id => {
                messages.update(|list| {
                    if let Some(m) = list.iter_mut().find(|m| m.id == message.id) {
                        *m = message.clone();
                    }
                });
            }
            LiveEvent::Gateway(G::MessageDelete { channel_id: c, message_id }) if *c == channel_id => {
                messages.update(|list| list.retain(|m| m.id != *message_id));
            }
            LiveEvent::Gateway(G::ReactionAdd { channel_id: c, message_id, emoji, user })
                if *c == channel_id =>
            {
                messages.update(|list| apply_reaction(list, message_id, emoji, Ok(user)));
            }
            LiveEvent::Gateway(G::ReactionRemove { channel_id: c, message_id, emoji, user_id })
                if *c == channel_id =>
            {
                messages.update(|list| apply_reaction(list, message_id, emoji, Err(user_id)));
            }
            LiveEvent::Gateway(G::ChannelCreate { channel }) if channel.workspace_id == ws_id => {
                add_channel(channels, channel, None);
            }
            LiveEvent::Gateway(G::ChannelMemberAdd { channel, user_id })
                if channel.workspace_id == ws_id && *user_id == my_id =>
            {
                add_channel(channels, channel, Some(true));
            }
            LiveEvent::Gateway(G::PresenceUpdate { workspace_id, user_id, online })
                if *workspace_id == ws_id =>
            {
                members.update(|list| {
                    if let Some(m) = list.iter_mut().find(|m| m.user.id == *user_id) {
                        m.online = *online;
                    }
                });
            }
            LiveEvent::Gateway(G::WorkspaceMemberAdd { workspace_id, member }) if *workspace_id == ws_id => {
                members.update(|list| {
                    if !list.iter().any(|m| m.user.id == member.user.id) {
                        list.push(member.clone());
                        list.sort_by(|a, b| a.user.display_name.cmp(&b.user.display_name));
                    }
                });
            }
            LiveEvent::Gateway(G::WorkspaceMemberRemove { workspace_id, user_id })
                if *workspace_id == ws_id =>
            {
                members.update(|list| list.retain(|m| m.user.id != *user_id));
            }
            _ => {}
        });
        on_cleanup(move || sub.cancel());
        // Typing notices expire after 5 seconds of silence.
        if let Ok(tick) = leptos::prelude::set_interval_with_handle(
            move || {
                let now = js_sys::Date::now();
                if typing.with_untracked(|t| t.iter().any(|(_, until)| *until <= now)) {
                    typing.update(|t| t.retain(|(_, until)| *until > now));
                }
            },
            std::time::Duration::from_millis(500),
        ) {
            on_cleanup(move || tick.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = members;

    let location = use_location();
    let here = location.pathname.get_untracked();
    let query = use_query_map();
    let invite_code = move || query.read().get("invite");
    let invite_target =
        if channel.is_private { format!("#{}", channel.name) } else { workspace.name.clone() };
    let create_invite = ServerAction::<CreateInvite>::new();
    let leave = ServerAction::<LeaveChannel>::new();
    let title = format!("#{} · {}", channel.name, workspace.name);
    let sigil = if channel.is_private { "🔒" } else { "#" };
    let current = channel.id.clone();
    let invite_channel = if channel.is_private { channel.id.clone() } else { String::new() };
    let (leave_id, add_id, list_id, compose_id, join_id) =
        (channel.id.clone(), channel.id.clone(), channel.id.clone(), channel.id.clone(), channel.id.clone());
    let (list_name, compose_name, join_name) =
        (channel.name.clone(), channel.name.clone(), channel.name.clone());
    view! {
        <Title text=title />
        // Mentions of the reader stand out (usernames are [a-z0-9_.-] only).
        <style>{format!(".mention[data-mention=\"{}\"], .mention-all {{ background: #fff1b8; color: #5c4400; }}", me.username)}</style>
        <div class="app">
            <Sidebar workspace=workspace.clone() channels current me=me.clone() />
            <main class="channel" aria-labelledby="channel-title">
                <header class="channel-header">
                    <h1 id="channel-title"><span class="sigil" aria-hidden="true">{sigil}</span>{channel.name.clone()}</h1>
                    <p class="topic">{channel.topic.clone()}</p>
                    <div class="channel-actions">
                        <ActionForm action=create_invite attr:class="inline">
                            <input type="hidden" name="workspace_id" value=workspace.id.clone() />
                            <input type="hidden" name="channel_id" value=invite_channel />
                            <input type="hidden" name="return_to" value=here.clone() />
                            <button type="submit">"Invite people"</button>
                        </ActionForm>
                        {is_member.then(|| view! {
                            <ActionForm action=leave attr:class="inline">
                                <input type="hidden" name="channel_id" value=leave_id />
                                <button type="submit" class="link">"Leave channel"</button>
                            </ActionForm>
                        })}
                    </div>
                    <FieldError id="invite-create-error" message=form_error(create_invite.value()) />
                    {move || invite_code().map(|code| {
                        let url = format!("{public_url}{}", crate::paths::invite(&code));
                        view! {
                            <div class="invite-box" role="status">
                                <label for="invite-link">"Invite link to " {invite_target.clone()} " (share it with the people you invite)"</label>
                                <input id="invite-link" readonly value=url onfocus="this.select()" />
                            </div>
                        }
                    })}
                    {(channel.is_private && is_member).then(|| {
                        let value = add_member.value();
                        view! {
                            <details class="add-member">
                                <summary>"Add a workspace member"</summary>
                                <ActionForm action=add_member attr:class="inline" attr:aria-label="Add a member to this channel">
                                    <input type="hidden" name="channel_id" value=add_id />
                                    <label for="add-member-username">"Username"</label>
                                    <input id="add-member-username" name="username" required />
                                    <button type="submit">"Add"</button>
                                </ActionForm>
                                <FieldError id="add-member-error" message=move || field_error(value, "username")().or_else(form_error(value)) />
                            </details>
                        }
                    })}
                </header>
                <MessageList messages older channel_id=list_id channel_name=list_name me_id=me.id.clone() can_react=is_member
                    focus=query.read_untracked().get("at") />
                <p class="typing" aria-live="polite">{move || typing_text(&typing.get())}</p>
                {if is_member {
                    view! { <Composer channel_id=compose_id channel_name=compose_name on_sent /> }.into_any()
                } else {
                    view! {
                        <div class="join-bar">
                            <p>"You are reading #" {join_name} ". Join to post in it."</p>
                            <ActionForm action=join attr:class="inline">
                                <input type="hidden" name="channel_id" value=join_id />
                                <button type="submit">"Join channel"</button>
                            </ActionForm>
                        </div>
                    }.into_any()
                }}
            </main>
            <aside class="members" aria-labelledby="members-title">
                <h2 id="members-title">"Members"</h2>
                <MemberList members />
            </aside>
        </div>
    }
}

#[component]
fn MemberList(members: RwSignal<Vec<MemberDto>>) -> impl IntoView {
    view! {
        <ul class="member-list">
            <For each=move || members.get() key=|m| (m.user.id.clone(), m.online) let:m>
                <li class:online=m.online>
                    <span class="presence" role="img" aria-label=if m.online { "online" } else { "offline" }
                        title=if m.online { "online" } else { "offline" }></span>
                    <span class="member-name">{m.user.display_name.clone()}</span>
                    <span class="username">" @" {m.user.username.clone()}</span>
                    {m.is_owner.then(|| view! { <span class="badge">"owner"</span> })}
                </li>
            </For>
        </ul>
    }
}

/// "Ana is typing…", "Ana and Bob are typing…", "Several people are typing…".
fn typing_text(typing: &[(crate::wire::UserDto, f64)]) -> String {
    match typing {
        [] => String::new(),
        [(a, _)] => format!("{} is typing…", a.display_name),
        [(a, _), (b, _)] => format!("{} and {} are typing…", a.display_name, b.display_name),
        _ => "Several people are typing…".to_string(),
    }
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn add_channel(channels: RwSignal<Vec<ChannelDto>>, channel: &ChannelDto, is_member: Option<bool>) {
    channels.update(|list| {
        if let Some(existing) = list.iter_mut().find(|c| c.id == channel.id) {
            if is_member.is_some() {
                existing.is_member = is_member;
            }
        } else {
            let mut c = channel.clone();
            c.is_member = is_member.or(Some(false));
            list.push(c);
            list.sort_by(|a, b| a.name.cmp(&b.name));
        }
    });
}
