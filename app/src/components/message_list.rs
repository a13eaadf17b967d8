use crate::api::{DeleteMessage, EditMessage, React};
use crate::components::errors::{FieldError, field_error, form_error};
use crate::components::time::Time;
use crate::wire::{MessageDto, ReactionDto, UserDto};
use leptos::prelude::*;

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

/// What identifies a message's rendering: it changes when the message does.
fn render_key(m: &MessageDto) -> String {
    let reactions: Vec<String> = m.reactions.iter().map(|r| format!("{}{}", r.emoji, r.count)).collect();
    format!("{}:{}:{}", m.id, m.edited_at.unwrap_or(0), reactions.join(","))
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
    channel_name: String,
    me_id: String,
    can_react: bool,
    /// A message to show highlighted (opened from search).
    focus: Option<String>,
) -> impl IntoView {
    let list_ref = NodeRef::<leptos::html::Div>::new();
    let loading = RwSignal::new(false);
    let react = ServerAction::<React>::new();
    let edit = ServerAction::<EditMessage>::new();
    let delete = ServerAction::<DeleteMessage>::new();
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
    };
    view! {
        <div class="messages" node_ref=list_ref role="log" aria-live="polite" aria-label=format!("Messages in #{channel_name}")>
            {move || older.get().map(|cursor| view! {
                <a class="load-older" href=format!("?before={cursor}") on:click=load_older.clone()>
                    {move || if loading.get() { "Loading…" } else { "Load older messages" }}
                </a>
            })}
            {move || messages.with(|m| m.is_empty()).then(|| view! {
                <p class="empty">"No messages yet. Say hello!"</p>
            })}
            <FieldError id="message-action-error" message=action_error />
            <ol class="message-list">
                <For each=move || messages.get() key=render_key let:m>
                    {message_item(m, &me_id, focus.as_deref(), can_react, react, edit, delete)}
                </For>
            </ol>
        </div>
    }
}

fn message_item(
    m: MessageDto,
    me_id: &str,
    focus: Option<&str>,
    can_react: bool,
    react: ServerAction<React>,
    edit: ServerAction<EditMessage>,
    delete: ServerAction<DeleteMessage>,
) -> impl IntoView + use<> {
    let id = m.id.clone();
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
    let quick = can_react.then(|| {
        QUICK
            .iter()
            .map(|e| {
                let label = format!("React with {e}");
                let id = id.clone();
                view! {
                    <ActionForm action=react attr:class="inline">
                        <input type="hidden" name="message_id" value=id />
                        <input type="hidden" name="emoji" value=*e />
                        <button type="submit" class="quick-react" aria-label=label.clone() title=label>{*e}</button>
                    </ActionForm>
                }
            })
            .collect_view()
    });
    let own = (m.author.id == me_id).then(|| {
        let edit_field = format!("edit-{id}");
        let (edit_id, delete_id, body) = (id.clone(), id.clone(), m.body.clone());
        view! {
            <details class="edit">
                <summary>"Edit"</summary>
                <ActionForm action=edit attr:class="stack" attr:aria-label="Edit message">
                    <input type="hidden" name="message_id" value=edit_id />
                    <label for=edit_field.clone() class="visually-hidden">"New text"</label>
                    <textarea id=edit_field name="body" rows="3">{body}</textarea>
                    <button type="submit">"Save"</button>
                </ActionForm>
            </details>
            <ActionForm action=delete attr:class="inline">
                <input type="hidden" name="message_id" value=delete_id />
                <button type="submit" class="link danger" aria-label="Delete message">"Delete"</button>
            </ActionForm>
        }
    });
    view! {
        <li class="message" class:focus=focus == Some(id.as_str()) id=format!("m-{id}") data-id=id.clone()>
            <div class="meta">
                <span class="author" title=format!("@{}", m.author.username)>{m.author.display_name}</span>
                <Time ms=m.created_at />
                {m.edited_at.map(|_| view! { <span class="edited">"(edited)"</span> })}
            </div>
            <div class="body markdown" inner_html=m.html></div>
            <div class="reactions">{chips}</div>
            <div class="message-actions">{quick}{own}</div>
        </li>
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
            author: UserDto { id: "1".into(), username: "a".into(), display_name: "A".into() },
            body: id.into(),
            html: String::new(),
            nonce: None,
            created_at: 0,
            edited_at: None,
            reactions: Vec::new(),
        }
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
        let ana = UserDto { id: "1".into(), username: "ana".into(), display_name: "Ana".into() };
        let bob = UserDto { id: "2".into(), username: "bob".into(), display_name: "Bob".into() };
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
