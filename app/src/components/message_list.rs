use crate::components::time::Time;
use crate::wire::MessageDto;
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

/// The channel's messages, oldest at the top; a link (a button, hydrated)
/// loads older history.
#[component]
pub fn MessageList(
    messages: RwSignal<Vec<MessageDto>>,
    older: RwSignal<Option<String>>,
    channel_id: String,
    channel_name: String,
) -> impl IntoView {
    let list_ref = NodeRef::<leptos::html::Div>::new();
    let loading = RwSignal::new(false);
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
            <ol class="message-list">
                <For each=move || messages.get() key=|m| m.id.clone() let:m>
                    <li class="message" data-id=m.id.clone()>
                        <div class="meta">
                            <span class="author" title=format!("@{}", m.author.username)>{m.author.display_name.clone()}</span>
                            <Time ms=m.created_at />
                        </div>
                        <div class="body">{m.body.clone()}</div>
                    </li>
                </For>
            </ol>
        </div>
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
            nonce: None,
            created_at: 0,
        }
    }

    #[test]
    fn merges_in_numeric_order_without_duplicates() {
        let mut list = vec![msg("9"), msg("100")];
        merge_messages(&mut list, [msg("10"), msg("100"), msg("1000"), msg("8")]);
        let ids: Vec<&str> = list.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["8", "9", "10", "100", "1000"]);
    }
}
