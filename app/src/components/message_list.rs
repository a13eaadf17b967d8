use crate::api::{DeleteMessage, EditMessage, PinMessage, React, RemoveLinkPreview};
use crate::components::errors::{FieldError, field_error, form_error};
use crate::components::time::Time;
use crate::wire::{LinkPreviewDto, MessageDto, ReactionDto, UserDto};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// What an end-to-end encrypted message shows away from its conversation
/// (where the page opens no keys): what to do to read it, never a blank.
pub const READ_IN_CONVERSATION: &str =
    "🔒 End-to-end encrypted: open the conversation to read it in this browser.";

/// Orders ids (decimal strings of 64-bit integers) numerically.
fn id_key(id: &str) -> (usize, &str) {
    (id.len(), id)
}

/// Adds `incoming` to `list` (oldest first), skipping ids already there.
pub fn merge_messages(list: &mut Vec<MessageDto>, incoming: impl IntoIterator<Item = MessageDto>) {
    for m in incoming {
        match list.binary_search_by(|x| id_key(&x.id).cmp(&id_key(&m.id))) {
            Ok(_) => {}
            Err(pos) => list.insert(pos, m),
        }
    }
}

/// Applies a reaction event to the message it concerns.
pub fn apply_reaction(list: &mut [MessageDto], message_id: &str, emoji: &str, user: Result<&UserDto, &str>) {
    let Some(m) = list.iter_mut().find(|m| m.id == message_id) else { return };
    match user {
        Ok(user) => match m.reactions.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) if r.users.iter().any(|u| u.id == user.id) => {}
            Some(r) => {
                r.users.push(user.clone());
                r.count = r.users.len();
            }
            None => m.reactions.push(ReactionDto {
                emoji: emoji.to_string(),
                count: 1,
                users: vec![user.clone()],
            }),
        },
        Err(user_id) => {
            if let Some(r) = m.reactions.iter_mut().find(|r| r.emoji == emoji) {
                r.users.retain(|u| u.id != user_id);
                r.count = r.users.len();
            }
            m.reactions.retain(|r| r.count > 0);
        }
    }
}

/// Counts a new reply in its parent's thread summary.
pub fn apply_reply(list: &mut [MessageDto], reply: &MessageDto) {
    let Some(parent) = reply.thread_id.as_ref().and_then(|t| list.iter_mut().find(|m| &m.id == t)) else {
        return;
    };
    let t = parent.thread.get_or_insert(crate::wire::ThreadSummaryDto {
        reply_count: 0,
        last_reply_at: 0,
        participants: Vec::new(),
    });
    t.reply_count += 1;
    t.last_reply_at = t.last_reply_at.max(reply.created_at);
    if t.participants.len() < 5 && !t.participants.iter().any(|u| u.id == reply.author.id) {
        t.participants.push(reply.author.clone());
    }
}

/// Applies a gateway event about messages already in `list` (edits, pins,
/// deletions, reactions, replies counted in their parent). New messages are
/// the caller's business: which ones belong in a list depends on the list.
pub fn apply_message_event(list: &mut Vec<MessageDto>, event: &crate::wire::GatewayEvent) {
    use crate::wire::GatewayEvent as G;
    match event {
        G::MessageUpdate { message } => {
            if let Some(m) = list.iter_mut().find(|m| m.id == message.id) {
                *m = message.clone();
            }
        }
        G::MessageDelete { message_id, thread_id, .. } => {
            if let Some(t) = thread_id
                && let Some(parent) = list.iter_mut().find(|m| &m.id == t)
                && let Some(summary) = parent.thread.as_mut()
            {
                summary.reply_count = (summary.reply_count - 1).max(0);
            }
            // A first message with replies stays as a placeholder.
            if let Some(m) = list.iter_mut().find(|m| &m.id == message_id)
                && m.thread.as_ref().is_some_and(|t| t.reply_count > 0)
            {
                m.deleted = true;
                m.body.clear();
                m.html.clear();
                m.reactions.clear();
                m.attachments.clear();
            } else {
                list.retain(|m| &m.id != message_id);
            }
        }
        G::MessagesPurge { message_ids, attachment_ids, .. } => {
            list.retain(|m| !message_ids.contains(&m.id));
            for m in list.iter_mut() {
                m.attachments.retain(|a| !attachment_ids.contains(&a.id));
            }
        }
        G::LinkPreviews { message_id, link_previews, .. } => {
            if let Some(m) = list.iter_mut().find(|m| &m.id == message_id) {
                m.link_previews = link_previews.clone();
            }
        }
        G::ReactionAdd { message_id, emoji, user, .. } => apply_reaction(list, message_id, emoji, Ok(user)),
        G::ReactionRemove { message_id, emoji, user_id, .. } => {
            apply_reaction(list, message_id, emoji, Err(user_id))
        }
        G::MessageCreate { message } if message.thread_id.is_some() => apply_reply(list, message),
        _ => {}
    }
}

/// What identifies a message's rendering: it changes when the message does.
fn render_key(m: &MessageDto) -> String {
    let reactions: Vec<String> = m.reactions.iter().map(|r| format!("{}{}", r.emoji, r.count)).collect();
    let replies = m.thread.as_ref().map_or(0, |t| t.reply_count);
    let previews: Vec<String> = m.link_previews.iter().map(|p| p.position.to_string()).collect();
    format!(
        "{}:{}:{}:{replies}:{}:{}:{}",
        m.id,
        m.edited_at.unwrap_or(0),
        reactions.join(","),
        m.pinned,
        m.deleted,
        previews.join(",")
    )
}

/// How a list shows its messages: where it is, who reads, what they may do.
#[derive(Clone)]
pub struct ListContext {
    pub workspace_id: String,
    pub me_id: String,
    /// Members may react and pin.
    pub can_react: bool,
    /// Offer "Reply in thread" (not inside a thread panel).
    pub threads: bool,
    /// A message to show highlighted (opened from search).
    pub focus: Option<String>,
    /// Draw the "new messages" line above this message.
    pub first_unread: Option<String>,
}

/// The first message after `last_read` written by someone else: where the
/// "new messages" line goes.
pub fn first_unread(messages: &[MessageDto], last_read: Option<&str>, me_id: &str) -> Option<String> {
    let last = last_read?;
    messages.iter().find(|m| id_key(&m.id) > id_key(last) && m.author.id != me_id).map(|m| m.id.clone())
}

/// Emoji offered for a quick reaction.
const QUICK: [&str; 4] = ["👍", "❤️", "😂", "🎉"];

/// The channel's messages, oldest at the top; a link (a button, hydrated)
/// loads older history. Every action on a message is a form, so it works
/// without JavaScript too.
#[component]
pub fn MessageList(
    messages: RwSignal<Vec<MessageDto>>,
    older: RwSignal<Option<String>>,
    channel_id: String,
    /// For people: "#general", "Ana, Bob", "Thread".
    label: String,
    cx: ListContext,
) -> impl IntoView {
    let list_ref = NodeRef::<leptos::html::Div>::new();
    let loading = RwSignal::new(false);
    let actions = Actions {
        react: ServerAction::<React>::new(),
        edit: ServerAction::<EditMessage>::new(),
        delete: ServerAction::<DeleteMessage>::new(),
        pin: ServerAction::<PinMessage>::new(),
        remove_preview: ServerAction::<RemoveLinkPreview>::new(),
        reacting_to: RwSignal::new(None),
        picker_open: RwSignal::new(false),
    };
    // One emoji picker for the list, for the message being reacted to.
    let Actions { react, edit, delete, pin, remove_preview, reacting_to, picker_open } = actions;
    let on_reaction = Callback::new(move |emoji: String| {
        if let Some(message_id) = reacting_to.get_untracked() {
            react.dispatch(React { message_id, emoji, remove: None });
        }
    });
    // Keep the newest message in view as messages arrive.
    Effect::new(move |_| {
        let _ = messages.with(|m| m.last().map(|m| m.id.clone()));
        if let Some(el) = list_ref.get() {
            el.set_scroll_top(el.scroll_height());
        }
    });
    let load_older = {
        let channel_id = channel_id.clone();
        move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            let Some(before) = older.get_untracked() else { return };
            let channel_id = channel_id.clone();
            loading.set(true);
            leptos::task::spawn_local(async move {
                if let Ok(page) = crate::api::message_page(channel_id, Some(before)).await {
                    messages.update(|list| merge_messages(list, page.messages));
                    older.set(page.next_cursor);
                }
                loading.set(false);
            });
        }
    };
    let action_error = move || {
        form_error(react.value())()
            .or_else(form_error(edit.value()))
            .or_else(field_error(edit.value(), "body"))
            .or_else(form_error(delete.value()))
            .or_else(form_error(pin.value()))
            .or_else(form_error(remove_preview.value()))
    };
    let error_id = if cx.threads { "message-action-error" } else { "thread-action-error" };
    view! {
        <div class="messages" node_ref=list_ref role="log" aria-live="polite" aria-label=format!("Messages in {label}")>
            {move || older.get().map(|cursor| view! {
                <a class="load-older" href=format!("?before={cursor}") on:click=load_older.clone()>
                    {move || if loading.get() { "Loading…" } else { "Load older messages" }}
                </a>
            })}
            {move || messages.with(|m| m.is_empty()).then(|| view! {
                <p class="empty">"No messages yet. Say hello!"</p>
            })}
            <FieldError id=error_id message=action_error />
            <ol class="message-list">
                <For each=move || messages.get() key=render_key let:m>
                    {message_item(m, &cx, actions)}
                </For>
            </ol>
            <Show when=move || picker_open.get()>
                <crate::components::emoji::EmojiPicker title="Add a reaction".to_string() open=picker_open on_pick=on_reaction />
            </Show>
        </div>
    }
    .into_any()
}

/// The forms every message offers.
#[derive(Clone, Copy)]
pub struct Actions {
    pub react: ServerAction<React>,
    pub edit: ServerAction<EditMessage>,
    pub delete: ServerAction<DeleteMessage>,
    pub pin: ServerAction<PinMessage>,
    pub remove_preview: ServerAction<RemoveLinkPreview>,
    /// The message the emoji picker chooses a reaction for, and whether it is open.
    pub reacting_to: RwSignal<Option<String>>,
    pub picker_open: RwSignal<bool>,
}

fn message_item(m: MessageDto, cx: &ListContext, actions: Actions) -> AnyView {
    let react = actions.react;
    let (me_id, can_react) = (cx.me_id.as_str(), cx.can_react);
    let id = m.id.clone();
    let divider = (cx.first_unread.as_deref() == Some(id.as_str())).then(|| {
        view! { <li class="new-divider" role="separator" aria-label="New messages"><span>"New messages"</span></li> }
    });
    if m.deleted {
        return view! {
            {divider}
            <li class="message deleted" id=format!("m-{id}") data-id=id.clone()>
                <p class="placeholder">"This message was deleted."</p>
                {thread_summary(&m, cx)}
            </li>
        }
        .into_any();
    }
    let chips = m
        .reactions
        .iter()
        .map(|r| {
            let reacted = r.users.iter().any(|u| u.id == me_id);
            let names: Vec<&str> = r.users.iter().map(|u| u.display_name.as_str()).collect();
            let label = format!("{} {} — {}", r.emoji, r.count, names.join(", "));
            let (id, emoji, shown, count) = (id.clone(), r.emoji.clone(), r.emoji.clone(), r.count);
            view! {
                <ActionForm action=react attr:class="inline reaction-form">
                    <input type="hidden" name="message_id" value=id />
                    <input type="hidden" name="emoji" value=emoji />
                    <input type="hidden" name="remove" value=if reacted { "true" } else { "" } />
                    <button type="submit" class="reaction" class:mine=reacted aria-pressed=if reacted { "true" } else { "false" }
                        aria-label=label.clone() title=label disabled=!can_react>
                        <span class="emoji">{shown}</span> " " <span class="count">{count}</span>
                    </button>
                </ActionForm>
            }
        })
        .collect_view();
    let own = m.author.id == me_id;
    let form = (can_react || own).then(|| {
        actions_form(
            &id,
            m.pinned,
            can_react,
            own.then(|| match m.sent_from {
                None => Own::Plain(m.body.clone()),
                Some(_) => Own::Encrypted {
                    ciphertext: crate::e2ee::Ciphertext::of(&m),
                    edited_at: m.edited_at,
                    attachments: m.attachments.len(),
                },
            }),
            actions,
        )
    });
    let seen = (own && cx.threads).then(|| view! { <SeenBy message_id=id.clone() /> });
    let reply_link = (cx.threads && m.thread_id.is_none()).then(|| {
        let href = crate::paths::thread(&cx.workspace_id, &m.channel_id, &id);
        view! { <a class="reply-link" href=href>"Reply in thread"</a> }
    });
    let files = m.attachments.iter().map(attachment_view).collect_view();
    let previews = m
        .link_previews
        .iter()
        .map(|p| link_preview_view(&id, p, own.then_some(actions.remove_preview)))
        .collect_view();
    let focus = cx.focus.as_deref() == Some(id.as_str());
    let summary = thread_summary(&m, cx);
    view! {
        {divider}
        <li class="message" class:focus=focus class:pinned=m.pinned id=format!("m-{id}") data-id=id.clone()>
            <div class="meta">
                {(!m.shown_icon.is_empty()).then(|| view! { <span class="shown-icon" aria-hidden="true">{m.shown_icon.clone()}</span> })}
                <span class="author" title=author_title(&m)
                    style=(!m.author_colour.is_empty()).then(|| format!("--role: {}", m.author_colour))>{shown_name(&m)}</span>
                {m.author.is_bot.then(|| view! { <span class="bot-tag" title="Posted by an integration, not a person">"BOT"</span> })}
                <Time ms=m.created_at />
                {m.edited_at.map(|_| view! { <span class="edited">"(edited)"</span> })}
                {m.pinned.then(|| view! { <span class="pin-mark" title="Pinned">"📌 Pinned"</span> })}
            </div>
            {match m.sent_from.is_some() {
                true => view! { <crate::components::e2ee::EncryptedBody message_id=id.clone() edited_at=m.edited_at
                    author=shown_name(&m) at=m.created_at ciphertext=crate::e2ee::Ciphertext::of(&m) attachments=m.attachments.iter().map(|a| a.url.clone()).collect() /> }
                    .into_any(),
                false => view! { <div class="body markdown" inner_html=m.html></div> }.into_any(),
            }}
            // (An encrypted message's files are listed from what it says.)
            {(!m.attachments.is_empty() && m.sent_from.is_none()).then(|| view! { <ul class="attachments">{files}</ul> })}
            {(!m.link_previews.is_empty()).then(|| view! { <div class="link-previews">{previews}</div> })}
            <div class="reactions">{chips}</div>
            {summary}
            <div class="message-actions">{reply_link}{form}{seen}</div>
        </li>
    }
    .into_any()
}

/// A linked page's preview: its site, its title as the link, its
/// description and its image (served by Parley). Its message's author may
/// remove it (`remove`), with a form that works without the app too.
pub(crate) fn link_preview_view(
    message_id: &str,
    p: &LinkPreviewDto,
    remove: Option<ServerAction<RemoveLinkPreview>>,
) -> impl IntoView + use<> {
    let title = if p.title.is_empty() { p.url.clone() } else { p.title.clone() };
    let remove = remove.map(|action| {
        let label = format!("Remove the preview of {}", p.url);
        let (message_id, position) = (message_id.to_string(), p.position.to_string());
        view! {
            <ActionForm action=action attr:class="inline preview-remove">
                <input type="hidden" name="message_id" value=message_id />
                <input type="hidden" name="position" value=position />
                <button type="submit" class="link" aria-label=label.clone() title=label>"×"</button>
            </ActionForm>
        }
    });
    view! {
        <div class="link-preview" role="group" aria-label=format!("Preview of {}", p.url)>
            {p.image_url.clone().map(|src| view! {
                <img class="preview-image" src=src alt="" loading="lazy" />
            })}
            <div class="preview-text">
                {(!p.site_name.is_empty()).then(|| view! { <span class="preview-site">{p.site_name.clone()}</span> })}
                <a class="preview-title" href=p.url.clone() target="_blank" rel="noopener noreferrer nofollow ugc">{title}</a>
                {(!p.description.is_empty()).then(|| view! { <p class="preview-description">{p.description.clone()}</p> })}
            </div>
            {remove}
        </div>
    }
}

/// The name a message shows for its author: a webhook call's own name, if
/// it gave one, else the author's display name.
fn shown_name(m: &MessageDto) -> String {
    if m.shown_name.is_empty() { m.author.display_name.clone() } else { m.shown_name.clone() }
}

/// What hovering the author's name tells: a person's username, or for a
/// bot the name of the integration itself (which a webhook call's own name
/// could otherwise hide).
fn author_title(m: &MessageDto) -> String {
    if m.author.is_bot {
        format!("Bot: {}", m.author.display_name)
    } else {
        format!("@{}", m.author.username)
    }
}

/// One form for what can be done to a message: a quick reaction, pin or
/// unpin, edit and delete. The button pressed says which, as a browser sends
/// it without the app: a reaction sends its `emoji` to the form's action
/// (react); Pin, Save and Delete post to their own `formaction`. With the
/// app, the submit is dispatched to the action the pressed button names.
/// `own` is there when the message is the viewer's (they may edit and
/// delete it; an end-to-end encrypted one is edited in the browser).
fn actions_form(
    id: &str,
    pinned: bool,
    can_react: bool,
    own: Option<Own>,
    actions: Actions,
) -> impl IntoView + use<> {
    let react_and_pin = can_react.then(|| {
        let buttons = QUICK
            .iter()
            .map(|e| {
                let label = format!("React with {e}");
                view! {
                    <button type="submit" name="emoji" value=*e class="quick-react" aria-label=label.clone() title=label>{*e}</button>
                }
            })
            .collect_view();
        view! {
            {buttons}
            {more_reactions_button(id.to_string(), actions.reacting_to, actions.picker_open)}
            <button type="submit" class="link" formaction=PinMessage::url() name="unpin" value=if pinned { "true" } else { "" }>
                {if pinned { "Unpin" } else { "Pin" }}
            </button>
        }
    });
    let edit_and_delete = own.map(|own| {
        let edit_field = format!("edit-{id}");
        let edit = match own {
            Own::Plain(body) => view! {
                <details class="edit">
                    <summary>"Edit"</summary>
                    <div class="stack" role="group" aria-label="Edit message">
                        <label for=edit_field.clone() class="visually-hidden">"New text"</label>
                        <textarea id=edit_field name="body" rows="3">{body}</textarea>
                        <button type="submit" formaction=EditMessage::url()>"Save"</button>
                    </div>
                </details>
            }
            .into_any(),
            Own::Encrypted { ciphertext, edited_at, attachments } => view! {
                <crate::components::e2ee::EncryptedEdit message_id=id.to_string() edited_at ciphertext attachments />
            }
            .into_any(),
        };
        view! {
            {edit}
            <button type="submit" class="link danger" formaction=DeleteMessage::url() aria-label="Delete message">"Delete"</button>
        }
    });
    view! {
        <form class="actions" action=React::url() method="post" on:submit=move |ev| dispatch_action(&ev, actions)>
            <input type="hidden" name="message_id" value=id.to_string() />
            {react_and_pin}
            {edit_and_delete}
        </form>
    }
}

/// The viewer's own message, as its edit box starts from it.
enum Own {
    /// Its text.
    Plain(String),
    /// End-to-end encrypted: only ciphertext is here, read in the browser.
    /// (`attachments`: how many files it has, whose keys an edit keeps.)
    Encrypted { ciphertext: crate::e2ee::Ciphertext, edited_at: Option<i64>, attachments: usize },
}

/// Sends a message's actions form to the action its pressed button names
/// (see [`actions_form`]).
fn dispatch_action(ev: &leptos::ev::SubmitEvent, actions: Actions) {
    use leptos::form::FromFormData;
    ev.prevent_default();
    let target = ev.submitter().and_then(|button| button.get_attribute("formaction"));
    let dispatched = match target.as_deref() {
        Some(url) if url == PinMessage::url() => {
            PinMessage::from_event(ev).map(|a| drop(actions.pin.dispatch(a)))
        }
        Some(url) if url == EditMessage::url() => {
            EditMessage::from_event(ev).map(|a| drop(actions.edit.dispatch(a)))
        }
        Some(url) if url == DeleteMessage::url() => {
            DeleteMessage::from_event(ev).map(|a| drop(actions.delete.dispatch(a)))
        }
        _ => React::from_event(ev).map(|a| drop(actions.react.dispatch(a))),
    };
    if let Err(e) = dispatched {
        leptos::logging::error!("a message's actions form could not be read: {e}");
    }
}

/// Opens the emoji picker for any reaction (it needs the app running).
fn more_reactions_button(
    id: String,
    reacting_to: RwSignal<Option<String>>,
    picker_open: RwSignal<bool>,
) -> impl IntoView + use<> {
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    move || {
        let id = id.clone();
        hydrated.is_some_and(|h| h.get()).then(|| {
            view! {
                <button type="button" class="add-reaction" aria-label="Add a reaction" title="Add a reaction"
                    on:click=move |_| {
                        reacting_to.set(Some(id.clone()));
                        picker_open.set(true);
                    }>"😀+"</button>
            }
        })
    }
}

/// Read receipts on request: who has read one's own message.
#[component]
fn SeenBy(message_id: String) -> impl IntoView {
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    let who: RwSignal<Option<Result<Vec<UserDto>, String>>> = RwSignal::new(None);
    let load = move |_| {
        if who.get_untracked().is_some() {
            return;
        }
        let id = message_id.clone();
        leptos::task::spawn_local(async move {
            who.set(Some(crate::api::readers(id).await.map_err(|e| e.message)));
        });
    };
    move || {
        hydrated.is_some_and(|h| h.get()).then(|| {
            view! {
                <details class="seen-by" on:toggle=load.clone()>
                    <summary>"Seen by…"</summary>
                    {move || match who.get() {
                        None => "Loading…".to_string(),
                        Some(Err(e)) => e,
                        Some(Ok(list)) if list.is_empty() => "Nobody yet".to_string(),
                        Some(Ok(list)) => list.iter().map(|u| u.display_name.as_str()).collect::<Vec<_>>().join(", "),
                    }}
                </details>
            }
        })
    }
}

/// "3 replies · Ana, Bob · last reply 10:42", linking to the thread.
fn thread_summary(m: &MessageDto, cx: &ListContext) -> Option<impl IntoView + use<>> {
    let t = m.thread.as_ref().filter(|t| t.reply_count > 0 && cx.threads)?;
    let href = crate::paths::thread(&cx.workspace_id, &m.channel_id, &m.id);
    let who: Vec<&str> = t.participants.iter().map(|u| u.display_name.as_str()).collect();
    let count = if t.reply_count == 1 { "1 reply".to_string() } else { format!("{} replies", t.reply_count) };
    let (who, last) = (who.join(", "), t.last_reply_at);
    Some(view! {
        <a class="thread-summary" href=href>
            <span class="reply-count">{count}</span>
            <span class="participants">{who}</span>
            <span class="last-reply">"last reply " <Time ms=last /></span>
        </a>
    })
}

/// What an attachment shows when the virus scanner did not look at it
/// (never said of a file that was not scanned that it is clean).
fn not_scanned(scan: &str) -> Option<&'static str> {
    match scan {
        "too_large" => Some("Not scanned for viruses: too large for the scanner"),
        "unavailable" => Some("Not scanned for viruses: the scanner was unavailable"),
        _ => None,
    }
}

fn attachment_view(a: &crate::wire::AttachmentDto) -> impl IntoView + use<> {
    let note = not_scanned(&a.scan).map(|n| view! { <span class="scan-note" role="note">{n}</span> });
    let size = human_size(a.size);
    let (url, name) = (a.url.clone(), a.file_name.clone());
    if a.is_image {
        let (img_src, alt, download, shown) = (url.clone(), name.clone(), name.clone(), name.clone());
        view! {
            <li class="attachment image">
                <a href=url download=download title=format!("Download {name} ({size})")>
                    <img src=img_src alt=alt loading="lazy" />
                </a>
                <span class="file-name">{shown}</span>
                {note}
            </li>
        }
        .into_any()
    } else {
        let download = name.clone();
        view! {
            <li class="attachment file">
                <a href=url download=download>
                    <span aria-hidden="true">"📎 "</span><span class="file-name">{name}</span>
                </a>
                <span class="file-size">{size}</span>
                {note}
            </li>
        }
        .into_any()
    }
}

/// "25 MB", "1.5 KB", "300 bytes".
pub fn human_size(bytes: i64) -> String {
    const MB: i64 = 1024 * 1024;
    if bytes >= MB {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    } else if bytes >= 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else if bytes == 1 {
        "1 byte".to_string()
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::UserDto;

    fn msg(id: &str) -> MessageDto {
        MessageDto {
            id: id.into(),
            channel_id: "1".into(),
            author: UserDto { id: "1".into(), username: "a".into(), display_name: "A".into(), is_bot: false },
            author_colour: String::new(),
            body: id.into(),
            html: String::new(),
            nonce: None,
            created_at: 0,
            edited_at: None,
            reactions: Vec::new(),
            thread_id: None,
            thread: None,
            deleted: false,
            pinned: false,
            attachments: Vec::new(),
            mentions: Vec::new(),
            shown_name: String::new(),
            shown_icon: String::new(),
            link_previews: Vec::new(),
            sent_from: None,
            own_copy: None,
        }
    }

    #[test]
    fn divider_goes_above_the_first_unread_message_by_someone_else() {
        let mut list = vec![msg("5"), msg("9"), msg("10"), msg("11")];
        list[2].author.id = "me".into();
        assert_eq!(first_unread(&list, Some("9"), "me").as_deref(), Some("11"));
        assert_eq!(first_unread(&list, Some("11"), "me"), None);
        assert_eq!(first_unread(&list, None, "me"), None);
    }

    #[test]
    fn replies_count_in_their_parent() {
        let mut list = vec![msg("9")];
        let mut r = msg("12");
        r.thread_id = Some("9".into());
        apply_reply(&mut list, &r);
        apply_reply(&mut list, &r);
        let t = list[0].thread.as_ref().unwrap();
        assert_eq!((t.reply_count, t.participants.len()), (2, 1));
    }

    #[test]
    fn merges_in_numeric_order_without_duplicates() {
        let mut list = vec![msg("9"), msg("100")];
        merge_messages(&mut list, [msg("10"), msg("100"), msg("1000"), msg("8")]);
        let ids: Vec<&str> = list.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["8", "9", "10", "100", "1000"]);
    }

    #[test]
    fn reactions_apply_idempotently() {
        let ana =
            UserDto { id: "1".into(), username: "ana".into(), display_name: "Ana".into(), is_bot: false };
        let bob =
            UserDto { id: "2".into(), username: "bob".into(), display_name: "Bob".into(), is_bot: false };
        let mut list = vec![msg("9")];
        apply_reaction(&mut list, "9", "👍", Ok(&ana));
        apply_reaction(&mut list, "9", "👍", Ok(&ana));
        apply_reaction(&mut list, "9", "👍", Ok(&bob));
        apply_reaction(&mut list, "8", "👍", Ok(&bob));
        assert_eq!(list[0].reactions[0].count, 2);
        apply_reaction(&mut list, "9", "👍", Err("1"));
        apply_reaction(&mut list, "9", "👍", Err("2"));
        assert!(list[0].reactions.is_empty(), "an emoji nobody uses any more goes away");
    }
}
