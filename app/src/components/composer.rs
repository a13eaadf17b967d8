use crate::api::PostMessage;
use crate::components::commands::{CommandNotices, CommandReply, command_at_caret, command_candidates};
use crate::components::errors::{FieldError, field_error, form_error};
use crate::wire::{CommandListingDto, MessageDto, UserDto};
use leptos::prelude::*;

/// A fresh idempotency key for the next message.
pub fn new_nonce() -> String {
    #[cfg(feature = "hydrate")]
    {
        let a = (js_sys::Math::random() * 9.0e15) as u64;
        let b = js_sys::Date::now() as u64;
        format!("{b:x}-{a:x}")
    }
    #[cfg(not(feature = "hydrate"))]
    {
        #[cfg(feature = "ssr")]
        {
            format!("s-{}", domain::Id::new())
        }
        #[cfg(not(feature = "ssr"))]
        {
            String::from("n")
        }
    }
}

/// The `@partial` being typed just before the caret: where its `@` starts
/// (in UTF-16 units, as the textarea counts) and the partial name.
pub fn mention_at_caret(before_caret: &str) -> Option<(usize, String)> {
    let at = before_caret.rfind('@')?;
    let partial = &before_caret[at + 1..];
    let starts_word = before_caret[..at].chars().next_back().is_none_or(|c| c.is_whitespace() || c == '(');
    let name_like =
        partial.chars().count() <= 32 && partial.chars().all(|c| c.is_alphanumeric() || "_.-".contains(c));
    (starts_word && name_like).then(|| (before_caret[..at].encode_utf16().count(), partial.to_lowercase()))
}

/// Who to offer for `@partial`: usernames or display names starting with it,
/// then `@channel` and `@here`; at most six.
pub fn mention_candidates(people: &[UserDto], partial: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = people
        .iter()
        .filter(|u| {
            u.username.starts_with(partial)
                || u.display_name.to_lowercase().starts_with(partial)
                || u.display_name.to_lowercase().split_whitespace().any(|w| w.starts_with(partial))
        })
        .map(|u| (u.username.clone(), u.display_name.clone()))
        .collect();
    for (name, what) in [("channel", "Notify everyone in this channel"), ("here", "Notify everyone online")] {
        if name.starts_with(partial) {
            out.push((name.to_string(), what.to_string()));
        }
    }
    // A name typed out in full leaves nothing to complete: Enter sends.
    if out.len() == 1 && out[0].0 == partial {
        out.clear();
    }
    out.truncate(6);
    out
}

/// What `@` or `:` offers to complete.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// Replaces what was typed from the `@` or `:` on: "@ana", "👍".
    pub insert: String,
    /// Shown first: "@ana", "👍".
    pub label: String,
    /// Shown after it: "Ana Lima", ":thumbsup:".
    pub note: String,
}

/// What is being completed just before the caret: where it starts (in
/// UTF-16 units) and what was typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Completing {
    /// A slash command's name: the box holds only `/` and a partial name.
    Command(String),
    Mention(usize, String),
    Shortcode(usize, String),
}

impl Completing {
    pub fn at_caret(before_caret: &str) -> Option<Completing> {
        command_at_caret(before_caret)
            .map(Completing::Command)
            .or_else(|| mention_at_caret(before_caret).map(|(at, p)| Completing::Mention(at, p)))
            .or_else(|| {
                crate::components::emoji::shortcode_at_caret(before_caret)
                    .map(|(at, p)| Completing::Shortcode(at, p))
            })
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn start(&self) -> usize {
        match self {
            Completing::Command(_) => 0,
            Completing::Mention(at, _) | Completing::Shortcode(at, _) => *at,
        }
    }

    /// What the list of suggestions is called.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn list_label(&self) -> &'static str {
        match self {
            Completing::Command(_) => "Commands",
            Completing::Mention(..) => "People to mention",
            Completing::Shortcode(..) => "Emoji",
        }
    }
}

/// The suggestions for the command being typed.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn command_suggestions(listed: &[CommandListingDto], partial: &str) -> Vec<Suggestion> {
    command_candidates(listed, partial)
        .into_iter()
        .map(|c| Suggestion {
            insert: format!("/{}", c.name),
            label: match c.usage.is_empty() {
                true => format!("/{}", c.name),
                false => format!("/{} {}", c.name, c.usage),
            },
            note: c.description.clone(),
        })
        .collect()
}

/// The message box. Enter sends, Shift+Enter starts a new line; `@` offers
/// people to mention. Files can be attached by button or dropped on it
/// (once the page is hydrated: uploads need JavaScript); they are sent with
/// the message, with a progress bar. Without JavaScript it is a plain form
/// that posts and comes back to the channel.
#[component]
pub fn Composer(
    channel_id: String,
    /// What the box is for: "#general", "Ana", "thread".
    label: String,
    /// Post replies in this thread.
    #[prop(optional)]
    thread_id: Option<String>,
    /// People offered after `@`.
    people: Signal<Vec<UserDto>>,
    on_sent: Callback<MessageDto>,
) -> impl IntoView {
    let post = ServerAction::<PostMessage>::new();
    let body_ref = NodeRef::<leptos::html::Textarea>::new();
    let value = post.value();
    let prefix = if thread_id.is_some() { "thread-composer" } else { "composer" };
    let error_id: &'static str = if thread_id.is_some() { "thread-composer-error" } else { "composer-error" };
    let (body_id, list_id) = (format!("{prefix}-body"), format!("{prefix}-mentions"));
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);

    // Files waiting to be sent (names and sizes; the File objects live in the browser).
    let pending: RwSignal<Vec<(String, i64)>> = RwSignal::new(Vec::new());
    let progress: RwSignal<Option<f64>> = RwSignal::new(None);
    let upload_error: RwSignal<Option<String>> = RwSignal::new(None);
    #[cfg(feature = "hydrate")]
    let files = StoredValue::new_local(Vec::<web_sys::File>::new());

    // What commands typed here say, and their later answers.
    let notices = CommandNotices::current();
    crate::components::commands::listen_for_answers(notices);
    // The draft of this conversation, kept in the browser.
    let draft = crate::components::drafts::draft_key(&channel_id, thread_id.as_deref());
    let send_error: RwSignal<Option<String>> = RwSignal::new(None);
    // The box shows this conversation's draft. Moving to another channel
    // may reuse the same text box (the page is rebuilt in place), so the box
    // remembers whose text it holds; text typed before the page was hydrated
    // (the box remembers nothing yet) is kept.
    #[cfg(feature = "hydrate")]
    {
        let draft = draft.clone();
        Effect::new(move |_| {
            let Some(el) = body_ref.get() else { return };
            let holds = el.get_attribute("data-draft");
            if holds.is_some_and(|k| k != draft) || el.value().is_empty() {
                el.set_value(&crate::components::drafts::load(&draft).unwrap_or_default());
            } else {
                crate::components::drafts::save(&draft, &el.value());
            }
            let _ = el.set_attribute("data-draft", &draft);
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = on_sent;
    #[cfg(feature = "hydrate")]
    let outbox = StoredValue::new_local(Outbox::new(OutboxTarget {
        channel_id: channel_id.clone(),
        thread_id: thread_id.clone(),
        draft: draft.clone(),
        body: body_ref,
        error: send_error,
        on_sent,
        notices,
        keys: use_context::<crate::components::e2ee::Keys>()
            .filter(|k| k.conversation.to_string() == channel_id),
    }));

    // Completions of `@name` and `:shortcode:`, and the highlighted one.
    let suggestions: RwSignal<Vec<Suggestion>> = RwSignal::new(Vec::new());
    let list_label = RwSignal::new("People to mention");
    // The commands that can be typed here, fetched when `/` is first typed.
    let commands: RwSignal<Option<Vec<CommandListingDto>>> = RwSignal::new(None);
    let commands_asked = StoredValue::new(false);
    let commands_channel = StoredValue::new(channel_id.clone());

    let selected = RwSignal::new(0usize);
    let emoji_list = crate::components::emoji::EmojiList::current();
    let draft_after_pick = StoredValue::new(draft.clone());
    // Puts `text` in the box in place of what is being completed (or at the
    // caret), followed by a space.
    let insert = move |text: String| {
        #[cfg(feature = "hydrate")]
        if let Some(el) = body_ref.get_untracked() {
            let value = el.value();
            let units: Vec<u16> = value.encode_utf16().collect();
            let caret =
                (el.selection_start().ok().flatten().unwrap_or(units.len() as u32) as usize).min(units.len());
            let before = String::from_utf16_lossy(&units[..caret]);
            let after = String::from_utf16_lossy(&units[caret..]);
            let start = Completing::at_caret(&before).map_or(caret, |c| c.start());
            let head = String::from_utf16_lossy(&units[..start]);
            let inserted = format!("{head}{text} ");
            let pos = inserted.encode_utf16().count() as u32;
            el.set_value(&format!("{inserted}{after}"));
            draft_after_pick.with_value(|key| crate::components::drafts::save(key, &el.value()));
            let _ = el.set_selection_range(pos, pos);
            let _ = el.focus();
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (text, draft_after_pick);
    };
    let pick = move |i: usize| {
        let Some(chosen) = suggestions.with_untracked(|s| s.get(i).cloned()) else { return };
        suggestions.set(Vec::new());
        insert(chosen.insert);
    };
    let emoji_open = RwSignal::new(false);
    let on_emoji = Callback::new(move |emoji: String| insert(emoji));

    // Files go with the text in the box; the text is taken out while they
    // upload (what is typed meanwhile stays) and comes back if it fails.
    // In an encrypted conversation they are encrypted here first, and sent
    // in one request (its progress is not shown).
    #[cfg(feature = "hydrate")]
    let upload = {
        let (channel_id, thread_id, draft) = (channel_id.clone(), thread_id.clone(), draft.clone());
        let keys = outbox.with_value(|o| o.to.keys);
        move || {
            if progress.get_untracked().is_some() {
                return;
            }
            let Some(body) = body_ref.get_untracked() else { return };
            let text = body.value();
            body.set_value("");
            crate::components::drafts::save(&draft, "");
            let chosen = files.get_value();
            upload_error.set(None);
            progress.set(Some(0.0));
            let draft = draft.clone();
            let sending = text.clone();
            let finish = move |result: Result<MessageDto, String>| {
                let _ = progress.try_set(None);
                match result {
                    Ok(msg) => {
                        let _ = pending.try_set(Vec::new());
                        files.try_set_value(Vec::new());
                        on_sent.try_run(msg);
                    }
                    Err(e) => {
                        put_back(body_ref, &draft, &[text]);
                        let _ = upload_error.try_set(Some(e));
                    }
                }
            };
            match keys {
                Some(keys) => {
                    let thread_id = thread_id.clone();
                    leptos::task::spawn_local(async move {
                        let sent = send_encrypted(keys, sending, new_nonce(), thread_id, chosen).await;
                        finish(sent.map_err(|e| e.message));
                    });
                }
                None => {
                    let fields = [
                        ("channel_id", channel_id.clone()),
                        ("body", sending),
                        ("nonce", new_nonce()),
                        ("thread_id", thread_id.clone().unwrap_or_default()),
                    ];
                    send_with_files(&fields, &chosen, progress, finish);
                }
            }
        }
    };
    // Enter and the Send button: with files, upload them; otherwise take the
    // text out of the box and queue it (the box is free for the next one).
    #[cfg(feature = "hydrate")]
    let send = move || {
        if !pending.with_untracked(Vec::is_empty) {
            upload();
        } else if let Some(body) = body_ref.get_untracked() {
            suggestions.set(Vec::new());
            outbox.with_value(|o| o.push(body.value()));
            body.set_value("");
            let _ = body.focus();
        }
    };

    let on_keydown = {
        #[cfg(feature = "hydrate")]
        let send = send.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            let open = suggestions.with_untracked(|s| s.len());
            if open > 0 {
                match ev.key().as_str() {
                    "ArrowDown" => {
                        ev.prevent_default();
                        selected.update(|i| *i = (*i + 1) % open);
                        return;
                    }
                    "ArrowUp" => {
                        ev.prevent_default();
                        selected.update(|i| *i = (*i + open - 1) % open);
                        return;
                    }
                    "Enter" | "Tab" => {
                        ev.prevent_default();
                        pick(selected.get_untracked());
                        return;
                    }
                    "Escape" => {
                        ev.prevent_default();
                        suggestions.set(Vec::new());
                        return;
                    }
                    _ => {}
                }
            }
            if ev.key() == "ArrowUp" && !(ev.shift_key() || ev.alt_key() || ev.ctrl_key() || ev.meta_key()) {
                #[cfg(feature = "hydrate")]
                if body_ref.get_untracked().is_some_and(|b| b.value().is_empty()) && edit_last_message(&ev) {
                    ev.prevent_default();
                }
                return;
            }
            if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                ev.prevent_default();
                #[cfg(feature = "hydrate")]
                send();
            }
        }
    };
    // Offers completions for the `@name` or `:shortcode` before the caret.
    #[cfg(feature = "hydrate")]
    let complete = move || {
        let Some(el) = body_ref.get_untracked() else { return };
        let caret = el.selection_start().ok().flatten().unwrap_or(0) as usize;
        let units: Vec<u16> = el.value().encode_utf16().collect();
        let before = String::from_utf16_lossy(&units[..caret.min(units.len())]);
        let completing = Completing::at_caret(&before);
        let found = match &completing {
            Some(Completing::Command(partial)) => match commands.get_untracked() {
                Some(listed) => command_suggestions(&listed, partial),
                None => {
                    if !commands_asked.get_value() {
                        commands_asked.set_value(true);
                        let channel_id = commands_channel.get_value();
                        leptos::task::spawn_local(async move {
                            if let Ok(listed) = crate::api::command_list(channel_id).await {
                                let _ = commands.try_set(Some(listed));
                            }
                        });
                    }
                    Vec::new()
                }
            },
            Some(Completing::Mention(_, partial)) => people.with_untracked(|p| {
                mention_candidates(p, partial)
                    .into_iter()
                    .map(|(name, who)| Suggestion {
                        insert: format!("@{name}"),
                        label: format!("@{name}"),
                        note: who,
                    })
                    .collect()
            }),
            Some(Completing::Shortcode(_, partial)) => match emoji_list.get_untracked() {
                Some(list) => crate::components::emoji::shortcode_candidates(&list, partial, 6)
                    .into_iter()
                    .map(|(e, code)| Suggestion {
                        insert: e.emoji.clone(),
                        label: e.emoji.clone(),
                        note: format!(":{code}:"),
                    })
                    .collect(),
                None => Vec::new(),
            },
            None => Vec::new(),
        };
        if let Some(c) = &completing {
            list_label.set(c.list_label());
        }
        selected.set(0);
        suggestions.set(found);
    };
    // The emoji list arrives after the first `:`, the commands after the
    // first `/`; what was typed meanwhile is then offered.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let (emoji, listed) = (emoji_list.arrived(), commands.with(Option::is_some));
        if emoji || listed {
            complete();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (people, emoji_list, commands, commands_asked, commands_channel);
    // Tell the channel we are typing, at most every 3 seconds; offer mentions.
    let last_typing = StoredValue::new(0.0_f64);
    let typing_channel = channel_id.clone();
    let draft_on_input = draft.clone();
    let on_input = move |_ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let now = js_sys::Date::now();
            if now - last_typing.get_value() > 3000.0 {
                last_typing.set_value(now);
                crate::live::send(&crate::wire::GatewayCommand::Typing {
                    channel_id: typing_channel.clone(),
                });
            }
            if let Some(el) = body_ref.get_untracked() {
                crate::components::drafts::save(&draft_on_input, &el.value());
            }
            complete();
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&typing_channel, &draft_on_input, last_typing);
    };

    // Choosing or dropping files.
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    let add_files = move |list: Option<web_sys_shim::FileList>| {
        #[cfg(feature = "hydrate")]
        if let Some(list) = list {
            let mut chosen = files.get_value();
            for i in 0..list.length() {
                if let Some(f) = list.get(i) {
                    pending.update(|p| p.push((f.name(), f.size() as i64)));
                    chosen.push(f);
                }
            }
            files.set_value(chosen);
            upload_error.set(None);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = list;
    };
    let on_file_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let input: Option<web_sys::HtmlInputElement> = ev.target().and_then(|t| t.dyn_into().ok());
            if let Some(input) = input {
                add_files(input.files());
                input.set_value("");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let dragging = RwSignal::new(false);
    let on_dragover = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(true);
    };
    let on_dragleave = move |_ev: leptos::ev::DragEvent| dragging.set(false);
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        #[cfg(feature = "hydrate")]
        add_files(ev.data_transfer().and_then(|d| d.files()));
    };
    let remove_file = move |i: usize| {
        pending.update(|p| {
            if i < p.len() {
                p.remove(i);
            }
        });
        #[cfg(feature = "hydrate")]
        files.update_value(|f| {
            if i < f.len() {
                f.remove(i);
            }
        });
    };
    // Once hydrated the form is never submitted: sends are queued instead.
    let on_send_click = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            send();
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };

    let placeholder = format!("Message {label}");
    let file_input_id = format!("{prefix}-file");
    let show_upload = move || hydrated.is_some_and(|h| h.get());
    let list_id_for_textarea = list_id.clone();
    view! {
        <ActionForm action=post attr:class="composer" attr:aria-label=format!("Send a message to {label}")>
            <CommandReply channel_id=channel_id.clone() thread_id=thread_id.clone() />
            <div class="drop-zone" class:dragging=move || dragging.get()
                on:dragover=on_dragover on:dragleave=on_dragleave on:drop=on_drop>
                <input type="hidden" name="channel_id" value=channel_id />
                // New on every rendering; a page's ETag leaves it out (server::http::site).
                <input type="hidden" name="nonce" value=new_nonce() />
                {thread_id.clone().map(|t| view! { <input type="hidden" name="thread_id" value=t /> })}
                <label for=body_id.clone() class="visually-hidden">{placeholder.clone()}</label>
                <textarea id=body_id name="body" rows="2" placeholder=placeholder node_ref=body_ref
                    on:keydown=on_keydown on:input=on_input aria-describedby=error_id
                    aria-autocomplete="list"
                    aria-controls=move || (!suggestions.with(Vec::is_empty)).then(|| list_id_for_textarea.clone())></textarea>
                {move || (!suggestions.with(Vec::is_empty)).then(|| view! {
                    <ul class="mention-suggestions" role="listbox" id=list_id.clone()
                        aria-label=move || list_label.get()>
                        {suggestions.get().into_iter().enumerate().map(|(i, s)| view! {
                            <li role="option" aria-selected=move || if selected.get() == i { "true" } else { "false" }
                                class:selected=move || selected.get() == i
                                on:mousedown=move |ev| { ev.prevent_default(); pick(i); }>
                                <span class="mention-name">{s.label}</span> " " <span class="mention-who">{s.note}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                })}
                {move || show_upload().then(|| view! {
                    <label class="attach" for=file_input_id.clone() title="Attach files">
                        <span aria-hidden="true">"📎"</span><span class="visually-hidden">"Attach files"</span>
                    </label>
                    <input type="file" id=file_input_id.clone() multiple class="visually-hidden" on:change=on_file_change />
                    <button type="button" class="emoji-button" aria-label="Add an emoji" title="Add an emoji"
                        on:click=move |_| emoji_open.set(true)>"😀"</button>
                })}
                <Show when=move || emoji_open.get()>
                    <crate::components::emoji::EmojiPicker title="Add an emoji".to_string() open=emoji_open on_pick=on_emoji />
                </Show>
                <button type="submit" disabled=move || progress.get().is_some()
                    on:click=on_send_click>"Send"</button>
            </div>
            {move || (!pending.with(Vec::is_empty)).then(|| view! {
                <ul class="pending-files" aria-label="Files to send">
                    {pending.get().into_iter().enumerate().map(|(i, (name, size))| {
                        let label = format!("Remove {name}");
                        view! {
                            <li>
                                <span class="file-name">{name}</span> " "
                                <span class="file-size">{crate::components::message_list::human_size(size)}</span>
                                <button type="button" class="link" aria-label=label on:click=move |_| remove_file(i)>"×"</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
            {move || progress.get().map(|p| view! {
                <progress class="upload-progress" max="100" value=p aria-label="Upload progress">{format!("{p:.0}%")}</progress>
            })}
            <FieldError id="upload-error" message=move || upload_error.get() />
            <FieldError id=error_id
                message=move || send_error.get().or_else(field_error(value, "body")).or_else(field_error(value, "content")).or_else(form_error(value)) />
        </ActionForm>
    }
}

/// Messages taken out of the box and waiting their turn: sent one at a time,
/// in the order they were written, each with its own idempotency key. When
/// one fails, it and every one after it go back into the box (before what was
/// typed since) with the error. The queue lives as long as its sends, not
/// as long as the composer: moving to another channel loses nothing.
#[cfg(feature = "hydrate")]
#[derive(Clone)]
struct Outbox {
    to: std::rc::Rc<OutboxTarget>,
    waiting: std::rc::Rc<std::cell::RefCell<std::collections::VecDeque<(String, String)>>>,
    sending: std::rc::Rc<std::cell::Cell<bool>>,
}

#[cfg(feature = "hydrate")]
struct OutboxTarget {
    channel_id: String,
    thread_id: Option<String>,
    draft: String,
    body: NodeRef<leptos::html::Textarea>,
    error: RwSignal<Option<String>>,
    on_sent: Callback<MessageDto>,
    notices: CommandNotices,
    /// In an end-to-end encrypted conversation: its keys, which encrypt
    /// what is sent (slash commands too: the server reads nothing there).
    keys: Option<crate::components::e2ee::Keys>,
}

#[cfg(feature = "hydrate")]
impl Outbox {
    fn new(to: OutboxTarget) -> Self {
        Outbox { to: std::rc::Rc::new(to), waiting: Default::default(), sending: Default::default() }
    }

    /// Queues `text` and starts sending unless a send is under way.
    fn push(&self, text: String) {
        crate::components::drafts::save(&self.to.draft, "");
        self.to.error.set(None);
        self.waiting.borrow_mut().push_back((text, new_nonce()));
        if !self.sending.replace(true) {
            leptos::task::spawn_local(self.clone().drain());
        }
    }

    async fn drain(self) {
        loop {
            let next = self.waiting.borrow_mut().pop_front();
            let Some((text, nonce)) = next else { break };
            let to = &self.to;
            let sent = match to.keys {
                Some(keys) => send_encrypted(keys, text.clone(), nonce, to.thread_id.clone(), Vec::new())
                    .await
                    .map(crate::wire::SentDto::Message),
                None => {
                    crate::api::post_message(
                        to.channel_id.clone(),
                        text.clone(),
                        Some(nonce),
                        to.thread_id.clone(),
                    )
                    .await
                }
            };
            match sent {
                Ok(crate::wire::SentDto::Message(msg)) => {
                    to.on_sent.try_run(msg);
                }
                Ok(crate::wire::SentDto::Command(reply)) => self.replied(reply),
                Err(e) => {
                    let mut unsent = vec![text];
                    unsent.extend(self.waiting.borrow_mut().drain(..).map(|(text, _)| text));
                    put_back(to.body, &to.draft, &unsent);
                    let _ = to.error.try_set(Some(e.message));
                    break;
                }
            }
        }
        self.sending.set(false);
    }

    /// Shows what a command did: what it posted here, what it said (also
    /// when the page has no call to join). Where it leads, the server's
    /// redirect has already taken the page.
    fn replied(&self, reply: crate::wire::CommandReplyDto) {
        let to = &self.to;
        if let Some(msg) = reply.message.filter(|m| m.channel_id == to.channel_id) {
            to.on_sent.try_run(msg);
        }
        let mut said = reply.ephemeral_html;
        if reply.join_call.is_some() && !crate::components::commands::join_call_on_page() {
            said = Some("<p>There is no call to join on this page.</p>".to_string());
        }
        if let Some(html) = said {
            to.notices.show(&to.channel_id, to.thread_id.as_deref(), html);
        }
    }
}

/// Encrypts `text` and `files` in this browser and posts the ciphertext.
#[cfg(feature = "hydrate")]
async fn send_encrypted(
    keys: crate::components::e2ee::Keys,
    text: String,
    nonce: String,
    thread_id: Option<String>,
    files: Vec<web_sys::File>,
) -> Result<MessageDto, crate::wire::ApiError> {
    use crate::e2ee::client::{Done, Op, run};
    use crate::wire::{ApiError, ErrorCode};
    let place = keys.place.get_value();
    let op = Op::Send { me: keys.me, conversation: keys.conversation, text, nonce, thread_id, files, place };
    match run(op).await {
        Ok(Done::Sent(message)) => Ok(*message),
        Ok(_) => {
            Err(ApiError::new(ErrorCode::Internal, "The message was encrypted but not sent: try again."))
        }
        Err(p) => Err(ApiError::new(ErrorCode::Conflict, p.explain())),
    }
}

/// Puts text that could not be sent back in front of what the box holds now
/// (or of the kept draft, when the box is gone), and keeps it as the draft.
#[cfg(feature = "hydrate")]
fn put_back(body: NodeRef<leptos::html::Textarea>, draft: &str, unsent: &[String]) {
    use crate::components::drafts;
    match body.try_get_untracked().flatten() {
        Some(el) => {
            let text = drafts::restore(unsent, &el.value());
            el.set_value(&text);
            drafts::save(draft, &text);
        }
        None => drafts::save(draft, &drafts::restore(unsent, &drafts::load(draft).unwrap_or_default())),
    }
}

/// The browser's `FileList`, or nothing on the server.
mod web_sys_shim {
    #[cfg(feature = "hydrate")]
    pub use web_sys::FileList;
    #[cfg(not(feature = "hydrate"))]
    pub struct FileList;
}

/// Posts a message with files as `multipart/form-data` through
/// XMLHttpRequest (the one browser API that reports upload progress).
#[cfg(feature = "hydrate")]
fn send_with_files(
    fields: &[(&str, String)],
    files: &[web_sys::File],
    progress: RwSignal<Option<f64>>,
    done: impl FnOnce(Result<MessageDto, String>) + 'static,
) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let fail = "The upload failed. Check your connection and try again.";
    let Ok(form) = web_sys::FormData::new() else { return done(Err(fail.into())) };
    for (k, v) in fields {
        let _ = form.append_with_str(k, v);
    }
    for f in files {
        let _ = form.append_with_blob_and_filename("file", f, &f.name());
    }
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else { return done(Err(fail.into())) };
    if xhr.open("POST", "/api/communication/messages/").is_err() {
        return done(Err(fail.into()));
    }
    let _ = xhr.set_request_header("Accept", "application/json");
    if let Ok(upload) = xhr.upload() {
        let on_progress =
            Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
                if e.length_computable() && e.total() > 0.0 {
                    progress.set(Some((e.loaded() / e.total() * 100.0).min(100.0)));
                }
            });
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        on_progress.forget();
    }
    let done = std::rc::Rc::new(std::cell::RefCell::new(Some(done)));
    let finish = {
        let done = done.clone();
        move |r: Result<MessageDto, String>| {
            if let Some(f) = done.borrow_mut().take() {
                f(r);
            }
        }
    };
    let on_load = {
        let xhr = xhr.clone();
        let finish = finish.clone();
        Closure::<dyn FnMut()>::new(move || {
            let text = xhr.response_text().ok().flatten().unwrap_or_default();
            let status = xhr.status().unwrap_or(0);
            if (200..300).contains(&status) {
                match crate::codec::from_json::<MessageDto>(&text) {
                    Ok(m) => finish(Ok(m)),
                    Err(_) => finish(Err(fail.into())),
                }
            } else {
                let message = crate::codec::from_json::<crate::wire::ApiError>(&text)
                    .map(|e| e.message)
                    .unwrap_or_else(|_| format!("The upload failed (HTTP {status}). Try again."));
                finish(Err(message));
            }
        })
    };
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    on_load.forget();
    let on_error = Closure::<dyn FnMut()>::new(move || finish(Err(fail.into())));
    xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    if xhr.send_with_opt_form_data(Some(&form)).is_err()
        && let Some(f) = done.borrow_mut().take()
    {
        f(Err(fail.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_completes_a_mention_or_a_shortcode_whichever_is_being_typed() {
        assert_eq!(Completing::at_caret("hi @an"), Some(Completing::Mention(3, "an".into())));
        assert_eq!(Completing::at_caret("nice :tad"), Some(Completing::Shortcode(5, "tad".into())));
        assert_eq!(Completing::at_caret("at 10:30"), None);
    }

    #[test]
    fn finds_the_mention_being_typed() {
        assert_eq!(mention_at_caret("hi @an"), Some((3, "an".into())));
        assert_eq!(mention_at_caret("@"), Some((0, String::new())));
        assert_eq!(mention_at_caret("mail me at ana@example"), None, "an @ inside a word is not a mention");
        assert_eq!(mention_at_caret("@ana hello"), None, "the mention is finished");
        assert_eq!(mention_at_caret("日本 @Bo"), Some((3, "bo".into())), "positions count UTF-16 units");
    }

    #[test]
    fn offers_people_then_everyone() {
        let people = vec![
            UserDto {
                id: "1".into(),
                username: "ana".into(),
                display_name: "Ana Lima".into(),
                is_bot: false,
            },
            UserDto {
                id: "2".into(),
                username: "bob".into(),
                display_name: "Bob Chen".into(),
                is_bot: false,
            },
            UserDto {
                id: "3".into(),
                username: "hector".into(),
                display_name: "Héctor".into(),
                is_bot: false,
            },
        ];
        let names = |p: &str| mention_candidates(&people, p).into_iter().map(|c| c.0).collect::<Vec<_>>();
        assert_eq!(names("a"), ["ana"]);
        assert_eq!(names("chen"), ["bob"], "any word of the display name");
        assert_eq!(names("h"), ["hector", "here"]);
        assert_eq!(names("").len(), 5);
        assert!(names("bob").is_empty(), "nothing to offer for a finished name");
    }
}

/// Opens the edit form of the last message of one's own above the composer
/// that `ev` was typed in (the channel's, or the thread's), with its text
/// focused: ↑ in an empty composer. `false` when there is none.
#[cfg(feature = "hydrate")]
fn edit_last_message(ev: &leptos::ev::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    let Some(field) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return false };
    let Some(area) = field.closest(".thread-panel, main").ok().flatten() else { return false };
    let Ok(forms) = area.query_selector_all("li.message details.edit") else { return false };
    let Some(last) = forms
        .item(forms.length().wrapping_sub(1))
        .and_then(|n| n.dyn_into::<web_sys::HtmlDetailsElement>().ok())
    else {
        return false;
    };
    last.set_open(true);
    let Some(text) = last
        .query_selector("textarea")
        .ok()
        .flatten()
        .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
    else {
        return false;
    };
    let _ = text.focus();
    let end = text.value().encode_utf16().count() as u32;
    let _ = text.set_selection_range(end, end);
    true
}
