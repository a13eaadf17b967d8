use crate::api::{
    AddChannelMember, ChannelViewDto, CreateInvite, JoinChannel, LeaveChannel, SetTopic, channel_view,
};
use crate::components::call::CallStage;
use crate::components::composer::Composer;
use crate::components::confirm::Confirm;
use crate::components::errors::{FieldError, field_error, form_error};
#[cfg(feature = "hydrate")]
use crate::components::message_list::apply_message_event;
use crate::components::message_list::{ListContext, MessageList, first_unread, merge_messages};
use crate::components::sidebar::Sidebar;
use crate::components::thread_panel::{ThreadData, ThreadPanel, thread_data};
use crate::wire::{ChannelDto, ChannelKind, MemberDto, MessageDto, PresenceStatus, UserDto};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map, use_query_map};

#[component]
pub fn ChannelPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let join = ServerAction::<JoinChannel>::new();
    let add_member = ServerAction::<AddChannelMember>::new();
    // Bumped when roles or permissions change in the workspace: what the reader may do is read again.
    let reload = RwSignal::new(0u32);
    let data = crate::codec::page_data(
        move || {
            (
                params.read().get("ws").unwrap_or_default(),
                params.read().get("ch").unwrap_or_default(),
                query.read().get("before"),
                query.read().get("at"),
                join.version().get(),
                add_member.version().get(),
                reload.get(),
            )
        },
        |(ws, ch, before, at, _, _, _)| channel_view(ws, ch, before, at),
    );
    // The thread open beside the channel (`?thread=`), if any. Its data is
    // the page's too (see `page_data` why it is created here and not by the
    // panel).
    let thread_open: Signal<Option<String>> =
        Signal::derive(move || query.read().get("thread").filter(|t| !t.is_empty()));
    let thread = thread_data(thread_open);
    view! {
        {super::page_screen(data, move |view| view! { <ChannelScreen view thread_open thread join add_member reload /> })}
    }
}

#[component]
fn ChannelScreen(
    view: ChannelViewDto,
    thread_open: Signal<Option<String>>,
    thread: ThreadData,
    join: ServerAction<JoinChannel>,
    add_member: ServerAction<AddChannelMember>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let _ = reload;
    // What a command sent without JavaScript said, shown once.
    if let Some(html) = view.command_reply.clone() {
        crate::components::commands::CommandNotices::current().show(&view.channel.id, None, html);
    }
    let ChannelViewDto {
        me,
        workspace,
        channels,
        channel,
        page,
        members,
        public_url,
        last_read,
        read_marks,
        pinned,
        categories,
        command_reply: _,
        archive,
    } = view;
    let archive_ws = workspace.id.clone();
    let post_block = channel.post_block.clone();
    let place = crate::e2ee::Place { workspace: workspace.id.clone(), label: channel.label(&me.id) };
    crate::components::e2ee::provide_keys(&me.id, &channel.id, channel.end_to_end, place);
    let mut history = page.messages;
    history.reverse();
    let first_unread = first_unread(&history, last_read.as_deref(), &me.id);
    let messages = RwSignal::new(history);
    let read_marks = RwSignal::new(read_marks);
    let pinned = RwSignal::new(pinned);
    let topic = RwSignal::new(channel.topic.clone());
    let is_direct = channel.kind == ChannelKind::Direct;
    let label = channel.label(&me.id);

    let older = RwSignal::new(page.next_cursor);
    let channels = RwSignal::new(channels);
    let members = RwSignal::new(members);
    let people: Signal<Vec<UserDto>> =
        Signal::derive(move || members.with(|m| m.iter().map(|m| m.user.clone()).collect()));
    let query = use_query_map();
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
        let my_username = me.username.clone();
        // Read what arrives while the page is in view.
        let read_now = {
            let channel_id = channel_id.clone();
            move |message_id: String| {
                let visible =
                    leptos::prelude::document().visibility_state() == web_sys::VisibilityState::Visible;
                if is_member && visible {
                    let channel_id = channel_id.clone();
                    leptos::task::spawn_local(async move {
                        let _ = crate::api::mark_read(channel_id, Some(message_id)).await;
                    });
                }
            }
        };
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
            LiveEvent::Gateway(G::MessageCreate { message })
                if message.channel_id == channel_id && message.thread_id.is_none() =>
            {
                messages.update(|list| merge_messages(list, [message.clone()]));
                typing.update(|t| t.retain(|(u, _)| u.id != message.author.id));
                if message.author.id != my_id {
                    read_now(message.id.clone());
                }
            }
            LiveEvent::Gateway(G::MessageCreate { message })
                if message.thread_id.is_none() && message.author.id != my_id =>
            {
                // Elsewhere: count it in the sidebar.
                channels.update(|list| {
                    if let Some(c) = list.iter_mut().find(|c| c.id == message.channel_id) {
                        c.unread += 1;
                        if c.kind == ChannelKind::Direct || message.mentions_user(&my_username) {
                            c.mentions += 1;
                        }
                    }
                });
            }
            LiveEvent::Gateway(G::ReadUpdate { channel_id: c, user_id, last_read_id }) => {
                if *user_id == my_id {
                    channels.update(|list| {
                        if let Some(ch) = list.iter_mut().find(|ch| ch.id == *c) {
                            ch.unread = 0;
                            ch.mentions = 0;
                        }
                    });
                }
                if *c == channel_id {
                    read_marks.update(|marks| match marks.iter_mut().find(|m| m.user_id == *user_id) {
                        Some(m) => m.last_read_id = last_read_id.clone(),
                        None => marks.push(crate::wire::ReadMarkDto {
                            user_id: user_id.clone(),
                            last_read_id: last_read_id.clone(),
                        }),
                    });
                }
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
            LiveEvent::Gateway(e @ G::MessageUpdate { message }) if message.channel_id == channel_id => {
                messages.update(|list| apply_message_event(list, e));
                pinned.update(|list| {
                    list.retain(|m| m.id != message.id);
                    if message.pinned {
                        list.insert(0, message.clone());
                    }
                });
            }
            LiveEvent::Gateway(
                e @ (G::MessageDelete { channel_id: c, .. }
                | G::MessagesPurge { channel_id: c, .. }
                | G::LinkPreviews { channel_id: c, .. }
                | G::ReactionAdd { channel_id: c, .. }
                | G::ReactionRemove { channel_id: c, .. }),
            ) if *c == channel_id => {
                messages.update(|list| apply_message_event(list, e));
                match e {
                    G::MessageDelete { message_id, .. } => {
                        pinned.update(|list| list.retain(|m| m.id != *message_id))
                    }
                    G::MessagesPurge { message_ids, .. } => {
                        pinned.update(|list| list.retain(|m| !message_ids.contains(&m.id)))
                    }
                    _ => {}
                }
            }
            LiveEvent::Gateway(e @ G::MessageCreate { message }) if message.channel_id == channel_id => {
                // A reply: count it on its parent.
                messages.update(|list| apply_message_event(list, e));
            }
            LiveEvent::Gateway(G::ChannelCreate { channel }) if channel.workspace_id == ws_id => {
                add_channel(channels, channel, None);
            }
            LiveEvent::Gateway(G::ChannelMemberAdd { channel, user_id })
                if channel.workspace_id == ws_id && *user_id == my_id =>
            {
                if channel.id == channel_id && !is_member {
                    // Joined this one (by joining its call): the composer replaces "Join".
                    reload.update(|n| *n += 1);
                } else if channel.kind == ChannelKind::Direct {
                    // Its members are not in the event: ask for the listing.
                    let id = channel.id.clone();
                    leptos::task::spawn_local(async move {
                        if let Ok(c) = crate::api::channel_info(id).await {
                            add_channel(channels, &c, Some(true));
                        }
                    });
                } else {
                    add_channel(channels, channel, Some(true));
                }
            }
            LiveEvent::Gateway(G::ChannelUpdate { channel: updated }) => {
                channels.update(|list| {
                    if let Some(c) = list.iter_mut().find(|c| c.id == updated.id) {
                        c.name = updated.name.clone();
                        c.topic = updated.topic.clone();
                    }
                });
                if updated.id == channel_id {
                    topic.set(updated.topic.clone());
                }
            }
            LiveEvent::Gateway(G::VoiceState { channel_id: call, participants, .. }) => {
                channels.update(|list| {
                    if let Some(c) = list.iter_mut().find(|c| c.id == *call) {
                        c.call = participants.clone();
                    }
                });
            }
            LiveEvent::Gateway(G::ChannelDelete { channel_id: gone, .. }) => {
                channels.update(|list| list.retain(|c| c.id != *gone));
                if *gone == channel_id {
                    let _ = leptos::prelude::window().location().assign(&crate::paths::workspace(&ws_id));
                }
            }
            LiveEvent::Gateway(G::PresenceUpdate { workspace_id, user_id, status })
                if *workspace_id == ws_id =>
            {
                members.update(|list| {
                    if let Some(m) = list.iter_mut().find(|m| m.user.id == *user_id) {
                        m.status = *status;
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
            LiveEvent::Gateway(G::WorkspaceUpdate { workspace_id }) if *workspace_id == ws_id => {
                reload.update(|n| *n += 1);
            }
            _ => {}
        });
        // Typing is sent from the channel on screen only.
        let viewing = crate::live::view(channel.id.clone());
        on_cleanup(move || {
            sub.cancel();
            viewing.end();
        });
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
    let _ = (members, read_marks, pinned, topic);

    // Esc marks the channel read, up to its newest message, and takes away the "new messages" line.
    let all_read = RwSignal::new(false);
    {
        let id = channel.id.clone();
        provide_context(crate::components::shortcuts::MarkReadShortcut(Callback::new(move |()| {
            // `try_`: the page may be gone by the time the key is pressed.
            all_read.try_set(true);
            channels.try_update(|list| {
                if let Some(c) = list.iter_mut().find(|c| c.id == id) {
                    c.unread = 0;
                    c.mentions = 0;
                }
            });
            #[cfg(feature = "hydrate")]
            if is_member {
                let id = id.clone();
                leptos::task::spawn_local(async move {
                    let _ = crate::api::mark_read(id, None).await;
                });
            }
        })));
    }

    let location = use_location();
    let here = location.pathname.get_untracked();
    let invite_code = move || query.read().get("invite");
    let invite_target =
        if channel.is_private { format!("#{}", channel.name) } else { workspace.name.clone() };
    let create_invite = ServerAction::<CreateInvite>::new();
    let leave = ServerAction::<LeaveChannel>::new();
    let title = format!("{label} · {}", workspace.name);
    let sigil = match (channel.kind, channel.is_private) {
        (ChannelKind::Direct, _) => "@",
        (_, true) => "🔒",
        _ => "#",
    };
    let heading = if is_direct { label.clone() } else { channel.name.clone() };
    let set_topic = ServerAction::<SetTopic>::new();
    let set_level = ServerAction::<crate::api::SetChannelNotifyLevel>::new();
    let level_now = if channel.notify_level.is_empty() {
        if is_direct { "all" } else { "mentions" }.to_string()
    } else {
        channel.notify_level.clone()
    };
    let level_label = crate::pages::notification_settings::LEVELS
        .iter()
        .find(|(v, _)| *v == level_now)
        .map_or("", |(_, l)| *l);
    let level_summary = format!("🔔 {level_label}");
    let level_channel = channel.id.clone();
    let topic_id = channel.id.clone();
    let dm_members = channel.members.clone();
    let my_id_for_receipt = me.id.clone();
    let receipt = move || {
        if !is_direct {
            return None;
        }
        let last = messages.with(|list| list.iter().rev().find(|m| !m.deleted).cloned())?;
        if last.author.id != my_id_for_receipt {
            return None;
        }
        let seen: Vec<String> = read_marks.with(|marks| {
            dm_members
                .iter()
                .filter(|u| u.id != my_id_for_receipt)
                .filter(|u| {
                    marks.iter().any(|m| {
                        m.user_id == u.id
                            && (m.last_read_id.len(), &m.last_read_id) >= (last.id.len(), &last.id)
                    })
                })
                .map(|u| u.display_name.clone())
                .collect()
        });
        (!seen.is_empty()).then(|| format!("Seen by {}", seen.join(", ")))
    };
    let list_cx = ListContext {
        workspace_id: workspace.id.clone(),
        me_id: me.id.clone(),
        can_react: is_member,
        threads: true,
        focus: query.read_untracked().get("at"),
        first_unread,
    };
    let current = channel.id.clone();
    let invite_channel = if channel.is_private { channel.id.clone() } else { String::new() };
    let (leave_id, add_id, list_id, compose_id, join_id) =
        (channel.id.clone(), channel.id.clone(), channel.id.clone(), channel.id.clone(), channel.id.clone());
    let (list_name, compose_name, join_name) = (label.clone(), label.clone(), label.clone());
    let (thread_ws, thread_ch, thread_me) = (workspace.id.clone(), channel.id.clone(), me.id.clone());
    let invite_ws = workspace.id.clone();
    let leave_private = channel.is_private.then(|| format!("#{}", channel.name));
    let stage = matches!(channel.kind, ChannelKind::Voice | ChannelKind::Direct).then(|| {
        let id = channel.id.clone();
        let call = Signal::derive(move || {
            channels.with(|list| list.iter().find(|c| c.id == id).map(|c| c.call.clone()).unwrap_or_default())
        });
        view! { <CallStage channel=channel.clone() workspace_id=workspace.id.clone() me_id=me.id.clone() call /> }
            .into_any()
    });
    // In a direct conversation: whether the others are online, away or offline.
    let dm_presence = {
        let (others, me_id) = (channel.members.clone(), me.id.clone());
        move || {
            members.with(|list| {
                others
                    .iter()
                    .filter(|u| u.id != me_id)
                    .map(|u| {
                        let status = list
                            .iter()
                            .find(|m| m.user.id == u.id)
                            .map_or(PresenceStatus::Offline, |m| m.status);
                        format!("{} is {}", u.display_name, status.as_str())
                    })
                    .collect::<Vec<_>>()
                    .join(" · ")
            })
        }
    };
    let header = view! {
                <header class="channel-header">
                    <h1 id="channel-title"><span class="sigil" aria-hidden="true">{sigil}</span>{heading}</h1>
                    <p class="topic">{move || topic.get()}</p>
                    {channel.end_to_end.then(|| view! {
                        <p class="e2ee-note">"🔒 End-to-end encrypted: the server cannot read this conversation. \
                            It is not searchable on the server, and notifications do not quote it."</p>
                        <crate::components::history_sharing::HistorySharing channel_id=channel.id.clone()
                            shares=channel.shares_history reload />
                    })}
                    {channel.end_to_end.then(|| {
                        let names = channel.members.iter().map(|u| (u.id.clone(), u.display_name.clone())).collect();
                        let others: Vec<_> = channel.members.iter().filter(|u| u.id != me.id).collect();
                        let other = match (is_direct, others.as_slice()) {
                            (true, [one]) => Some((one.id.clone(), one.display_name.clone())),
                            _ => None,
                        };
                        view! { <crate::components::e2ee::KeysPanel names other /> }
                    })}
                    {archive.map(|archive| view! {
                        <crate::components::archive_notice::ArchiveNotice archive workspace_id=archive_ws reload />
                    })}
                    {channel.sensitive.then(|| view! {
                        <p class="sensitive-note">"Sensitive channel: its messages are not searchable, and notifications do not quote them."</p>
                    })}
                    {is_direct.then(|| view! { <p class="dm-presence" aria-live="polite">{dm_presence.clone()}</p> })}
                    <div class="channel-actions">
                        <details class="notify-level">
                            <summary aria-label=format!("Notifications for this channel: {level_label}")>{level_summary}</summary>
                            <crate::pages::notification_settings::LevelForm action=set_level channel_id=level_channel current=level_now />
                            <FieldError id="level-error" message=form_error(set_level.value()) />
                        </details>
                        {move || {
                            let n = pinned.with(Vec::len);
                            (n > 0).then(|| view! {
                                <details class="pins">
                                    <summary>{format!("📌 {n} pinned")}</summary>
                                    <ul class="pinned-list">
                                        {pinned.get().into_iter().map(|m| view! {
                                            <li>
                                                <a href=format!("?at={}", m.id)>
                                                    <span class="author">{m.author.display_name.clone()}</span> ": "
                                                    <span class="excerpt">{match m.sent_from {
                                                        Some(_) => "🔒 Encrypted message".to_string(),
                                                        None => excerpt(&m.body),
                                                    }}</span>
                                                </a>
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                </details>
                            })
                        }}
                        {(!is_direct && is_member).then(|| view! {
                            <details class="topic-edit">
                                <summary>"Edit topic"</summary>
                                <ActionForm action=set_topic attr:class="inline">
                                    <input type="hidden" name="channel_id" value=topic_id.clone() />
                                    <label for="topic-input" class="visually-hidden">"Topic"</label>
                                    <input id="topic-input" name="topic" maxlength="500" value=topic.get_untracked() />
                                    <button type="submit">"Save"</button>
                                </ActionForm>
                                <FieldError id="topic-error" message=move || field_error(set_topic.value(), "topic")().or_else(form_error(set_topic.value())) />
                            </details>
                        })}
                        {(!is_direct).then(|| view! {
                        <ActionForm action=create_invite attr:class="inline">
                            <input type="hidden" name="workspace_id" value=invite_ws.clone() />
                            <input type="hidden" name="channel_id" value=invite_channel />
                            <input type="hidden" name="return_to" value=here.clone() />
                            <button type="submit">"Invite people"</button>
                        </ActionForm>
                        })}
                        {(is_member && !channel.end_to_end && (is_direct || channel.is_private)).then(|| view! {
                            <crate::components::e2ee::EncryptButton me_id=me.id.clone() channel_id=channel.id.clone() />
                        })}
                        {(is_member && !is_direct).then(|| leave_channel(leave, leave_id, leave_private))}
                    </div>
                    <FieldError id="invite-create-error" message=form_error(create_invite.value()) />
                    {move || invite_code().map(|code| {
                        let url = format!("{public_url}{}", crate::paths::invite(&code));
                        view! {
                            <div class="invite-box" role="status">
                                <label for="invite-link">"Invite link to " {invite_target.clone()} " (share it with the people you invite)"</label>
                                <input id="invite-link" readonly value=url on:focus=crate::components::select_all />
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
    }
    .into_any();
    view! {
        <Title text=title />
        // Mentions of the reader stand out (usernames are [a-z0-9_.-] only).
        <style>{format!(".mention[data-mention=\"{}\"], .mention-all {{ background: var(--highlight-bg); color: var(--highlight-fg); }}", me.username)}</style>
        <div class="app">
            <Sidebar workspace=workspace.clone() channels current me=me.clone() categories />
            <main class="channel" class:all-read=move || all_read.get() aria-labelledby="channel-title">
                {header}
                {stage}
                <MessageList messages older channel_id=list_id label=list_name cx=list_cx />
                <p class="receipt" aria-live="polite">{receipt}</p>
                <p class="typing" aria-live="polite">{move || typing_text(&typing.get())}</p>
                {if let (true, Some(reason)) = (is_member, post_block) {
                    view! {
                        <div class="composer blocked">
                            <label for="composer-blocked" class="visually-hidden">"Message"</label>
                            <textarea id="composer-blocked" disabled rows="2" aria-describedby="post-block"
                                placeholder=format!("You cannot post in {compose_name}")></textarea>
                            <p id="post-block" class="post-block" role="status">{reason}</p>
                        </div>
                    }.into_any()
                } else if is_member {
                    view! { <Composer channel_id=compose_id label=compose_name people on_sent /> }.into_any()
                } else {
                    view! {
                        <div class="join-bar">
                            <p>"You are reading " {join_name} ". Join to post in it."</p>
                            <ActionForm action=join attr:class="inline">
                                <input type="hidden" name="channel_id" value=join_id />
                                <button type="submit">"Join channel"</button>
                            </ActionForm>
                        </div>
                    }.into_any()
                }}
            </main>
            {move || match thread_open.get() {
                Some(_) => view! {
                    <aside class="thread-aside">
                        <ThreadPanel data=thread workspace_id=thread_ws.clone() channel_id=thread_ch.clone()
                            me_id=thread_me.clone() can_post=is_member people />
                    </aside>
                }.into_any(),
                None => view! {
                    <aside class="members" aria-labelledby="members-title">
                        <h2 id="members-title">"Members"</h2>
                        <MemberList members />
                    </aside>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn MemberList(members: RwSignal<Vec<MemberDto>>) -> impl IntoView {
    view! {
        <ul class="member-list">
            <For each=move || members.get() key=|m| (m.user.id.clone(), m.status.as_str()) let:m>
                <li class:online=m.status == PresenceStatus::Online class:away=m.status == PresenceStatus::Away
                    data-status=m.status.as_str()>
                    <span class="presence" role="img" aria-label=m.status.as_str() title=m.status.as_str()></span>
                    <span class="member-name">{m.user.display_name.clone()}</span>
                    <span class="username">" @" {m.user.username.clone()}</span>
                    {m.is_owner.then(|| view! { <span class="badge">"owner"</span> })}
                    {m.user.is_bot.then(|| view! { <span class="bot-tag">"BOT"</span> })}
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

/// The first line of a message, shortened for lists.
fn excerpt(body: &str) -> String {
    let line = body.lines().next().unwrap_or("");
    let mut out: String = line.chars().take(80).collect();
    if line.chars().count() > 80 || body.lines().count() > 1 {
        out.push('…');
    }
    out
}

/// Leaving a channel; leaving a private one asks first, since only an
/// invite brings one back (`private` is its name then).
fn leave_channel(leave: ServerAction<LeaveChannel>, channel_id: String, private: Option<String>) -> AnyView {
    let button_class = if private.is_some() { "danger" } else { "link" };
    let label = match &private {
        Some(name) => format!("Leave {name}"),
        None => "Leave channel".to_string(),
    };
    let form = view! {
        <ActionForm action=leave attr:class="inline">
            <input type="hidden" name="channel_id" value=channel_id />
            <button type="submit" class=button_class>{label}</button>
        </ActionForm>
    };
    match private {
        Some(name) => view! {
            <Confirm action="Leave channel" what=format!("{name} is private: only an invite from one of its members brings you back.")>
                {form}
            </Confirm>
        }
        .into_any(),
        None => form.into_any(),
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
