//! The keyboard habits of Slack and Discord on every workspace page: a
//! quick switcher (Ctrl/Cmd+K), moving between channels (Alt+↑/↓, with
//! Shift only between unread ones), focusing search (Ctrl/Cmd+F), marking
//! the open channel read (Esc) and a list of the shortcuts (`?`). A key
//! press is first read into a [`Shortcut`], then carried out.

use crate::wire::{ChannelDto, ChannelKind, UserDto};
use leptos::prelude::*;

/// What a key press asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    QuickSwitcher,
    FocusSearch,
    Help,
    /// To the next channel of the sidebar (or the one before), or to the
    /// next unread one.
    MoveChannel {
        down: bool,
        unread_only: bool,
    },
    MarkRead,
}

/// A key press as the shortcuts see it.
#[derive(Debug, Clone, Copy)]
pub struct KeyPress<'a> {
    /// `KeyboardEvent.key`.
    pub key: &'a str,
    /// Ctrl, or ⌘ on a Mac.
    pub command: bool,
    pub alt: bool,
    pub shift: bool,
    /// Typed into a text field (where `?` is text, not a shortcut).
    pub in_field: bool,
}

impl Shortcut {
    /// The shortcut `k` asks for, if any.
    pub fn from_key(k: KeyPress<'_>) -> Option<Shortcut> {
        match k.key {
            "k" | "K" if k.command && !k.alt => Some(Shortcut::QuickSwitcher),
            "f" | "F" if k.command && !k.alt && !k.shift => Some(Shortcut::FocusSearch),
            "ArrowUp" | "ArrowDown" if k.alt && !k.command => {
                Some(Shortcut::MoveChannel { down: k.key == "ArrowDown", unread_only: k.shift })
            }
            "?" if !k.command && !k.alt && !k.in_field => Some(Shortcut::Help),
            "Escape" if !k.command && !k.alt && !k.shift => Some(Shortcut::MarkRead),
            _ => None,
        }
    }
}

/// The shortcuts as the `?` overlay lists them.
pub const SHORTCUTS: [(&str, &str); 8] = [
    ("Ctrl K / ⌘ K", "Jump to a channel, conversation or person"),
    ("Alt ↑ / Alt ↓", "Previous or next channel"),
    ("Alt Shift ↑ / Alt Shift ↓", "Previous or next unread channel"),
    ("↑ in an empty message box", "Edit your last message"),
    ("Esc", "Mark this channel read"),
    ("Ctrl F / ⌘ F", "Search messages"),
    ("Enter / Shift Enter", "Send / new line"),
    ("?", "Show these shortcuts"),
];

/// Marks the open channel read; provided by the channel page, so that Esc
/// does something only there.
#[derive(Clone, Copy)]
pub struct MarkReadShortcut(pub Callback<()>);

/// Something the quick switcher can open.
#[derive(Debug, Clone, PartialEq)]
pub enum Destination {
    /// A channel or conversation, by its page.
    Place { label: String, sigil: &'static str, href: String, unread: bool },
    /// A person, by username: opens (or starts) the conversation with them.
    Person { name: String, username: String },
}

impl Destination {
    fn label(&self) -> &str {
        match self {
            Destination::Place { label, .. } => label,
            Destination::Person { name, .. } => name,
        }
    }

    /// How well `query` (lower case) matches: `None` not at all, lower is better.
    fn rank(&self, query: &str) -> Option<u8> {
        if query.is_empty() {
            return Some(match self {
                Destination::Place { unread: true, .. } => 0,
                Destination::Place { .. } => 1,
                Destination::Person { .. } => 2,
            });
        }
        let words: Vec<String> = match self {
            Destination::Place { label, .. } => vec![label.to_lowercase()],
            Destination::Person { name, username } => vec![name.to_lowercase(), username.to_lowercase()],
        };
        if words.iter().any(|w| w.starts_with(query)) {
            Some(0)
        } else if words.iter().any(|w| w.split([' ', '-', '_', '.']).any(|part| part.starts_with(query))) {
            Some(1)
        } else if words.iter().any(|w| w.contains(query)) {
            Some(2)
        } else {
            None
        }
    }
}

/// Most destinations the switcher lists at once.
const MAX_SHOWN: usize = 10;

/// What the quick switcher offers for `query`, best first: the channels
/// and conversations in the sidebar, then people without a conversation
/// of their own with `me_id` in the list.
pub fn destinations(
    channels: &[ChannelDto],
    people: &[UserDto],
    me_id: &str,
    query: &str,
) -> Vec<Destination> {
    let query = query.trim().trim_start_matches(['#', '@']).to_lowercase();
    let places = channels.iter().filter(|c| !c.archived).map(|c| Destination::Place {
        label: match c.kind {
            ChannelKind::Direct => c.label(me_id),
            _ => c.name.clone(),
        },
        sigil: match c.kind {
            ChannelKind::Direct => "@",
            ChannelKind::Voice => "🔊",
            _ if c.is_private => "🔒",
            _ => "#",
        },
        href: crate::paths::channel(&c.workspace_id, &c.id),
        unread: c.unread > 0 && c.notify_level != "muted",
    });
    let talked_to = |u: &UserDto| {
        channels.iter().any(|c| {
            c.kind == ChannelKind::Direct && c.members.len() == 2 && c.members.iter().any(|m| m.id == u.id)
        })
    };
    let persons = people
        .iter()
        .filter(|u| u.id != me_id && !talked_to(u))
        .map(|u| Destination::Person { name: u.display_name.clone(), username: u.username.clone() });
    let mut ranked: Vec<(u8, Destination)> =
        places.chain(persons).filter_map(|d| d.rank(&query).map(|r| (r, d))).collect();
    // Stable: among equals, the sidebar's order.
    ranked.sort_by_key(|(r, _)| *r);
    ranked.into_iter().take(MAX_SHOWN).map(|(_, d)| d).collect()
}

/// Listens for the shortcuts while a workspace page is open, and draws the
/// quick switcher and the list of shortcuts when asked for.
#[component]
pub fn Shortcuts(workspace_id: String, channels: RwSignal<Vec<ChannelDto>>, me_id: String) -> impl IntoView {
    let switcher = RwSignal::new(false);
    let help = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    listen(switcher, help);
    // Shortcuts need the app running: the button shows once it is.
    let hydrated = use_context::<crate::Hydrated>().map(|h| h.0);
    view! {
        {move || hydrated.is_some_and(|h| h.get()).then(|| view! {
            <button type="button" class="link" aria-keyshortcuts="Shift+?" on:click=move |_| help.set(true)>
                "Keyboard shortcuts"
            </button>
        })}
        <Show when=move || switcher.get()>
            <QuickSwitcher workspace_id=workspace_id.clone() channels me_id=me_id.clone() open=switcher />
        </Show>
        <Show when=move || help.get()>
            <ShortcutHelp open=help />
        </Show>
    }
}

/// Reads each key press on the page into a shortcut and carries it out.
#[cfg(feature = "hydrate")]
fn listen(switcher: RwSignal<bool>, help: RwSignal<bool>) {
    use wasm_bindgen::JsCast;
    let navigate = leptos_router::hooks::use_navigate();
    let mark_read = use_context::<MarkReadShortcut>();
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.default_prevented() || ev.is_composing() || switcher.get_untracked() {
            return;
        }
        let in_field = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        let key = ev.key();
        let press = KeyPress {
            key: &key,
            command: ev.ctrl_key() || ev.meta_key(),
            alt: ev.alt_key(),
            shift: ev.shift_key(),
            in_field,
        };
        let Some(shortcut) = Shortcut::from_key(press) else { return };
        if help.get_untracked() {
            // The list of shortcuts is open: Esc (or `?` again) closes it.
            if matches!(shortcut, Shortcut::MarkRead | Shortcut::Help) {
                ev.prevent_default();
                help.set(false);
            }
            return;
        }
        match shortcut {
            Shortcut::QuickSwitcher => switcher.set(true),
            Shortcut::Help => help.set(true),
            Shortcut::FocusSearch => {
                let Some(field) = by_selector::<web_sys::HtmlElement>("#search-q") else { return };
                let _ = field.focus();
            }
            Shortcut::MoveChannel { down, unread_only } => {
                let Some(href) = neighbour(down, unread_only) else { return };
                navigate(&href, Default::default());
            }
            Shortcut::MarkRead => {
                let Some(MarkReadShortcut(mark)) = mark_read else { return };
                mark.try_run(());
                // Not prevented: Esc still does what it does in a field.
                return;
            }
        }
        ev.prevent_default();
    });
    on_cleanup(move || handle.remove());
}

#[cfg(feature = "hydrate")]
fn by_selector<T: wasm_bindgen::JsCast>(selector: &str) -> Option<T> {
    use wasm_bindgen::JsCast;
    document().query_selector(selector).ok().flatten().and_then(|el| el.dyn_into::<T>().ok())
}

/// The page of the sidebar entry after (or before) the open one, in the
/// order the sidebar shows them; with `unread_only`, of the next unread one.
#[cfg(feature = "hydrate")]
fn neighbour(down: bool, unread_only: bool) -> Option<String> {
    use wasm_bindgen::JsCast;
    let items = document().query_selector_all("nav.sidebar li[data-channel]").ok()?;
    let entries: Vec<web_sys::Element> =
        (0..items.length()).filter_map(|i| items.item(i)?.dyn_into::<web_sys::Element>().ok()).collect();
    let current = entries.iter().position(|li| li.class_list().contains("active"));
    let eligible = |li: &web_sys::Element| {
        !unread_only
            || li.class_list().contains("unread")
            || li.query_selector(".mention-count").ok().flatten().is_some()
    };
    let n = entries.len();
    let order: Vec<usize> = match (current, down) {
        (Some(at), true) => (1..n).map(|k| (at + k) % n).collect(),
        (Some(at), false) => (1..n).map(|k| (at + n - k) % n).collect(),
        (None, true) => (0..n).collect(),
        (None, false) => (0..n).rev().collect(),
    };
    let li = order.into_iter().map(|i| &entries[i]).find(|li| eligible(li))?;
    li.query_selector("a").ok().flatten()?.get_attribute("href")
}

/// A dialog with a search box: typing narrows the channels, conversations
/// and people; ↑/↓ choose, Enter opens, Esc closes.
#[component]
fn QuickSwitcher(
    workspace_id: String,
    channels: RwSignal<Vec<ChannelDto>>,
    me_id: String,
    open: RwSignal<bool>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let selected = RwSignal::new(0usize);
    let people: RwSignal<Vec<UserDto>> = RwSignal::new(Vec::new());
    let open_dm = ServerAction::<crate::api::OpenDirect>::new();
    let input = NodeRef::<leptos::html::Input>::new();
    #[cfg(feature = "hydrate")]
    {
        let ws = workspace_id.clone();
        leptos::task::spawn_local(async move {
            if let Ok(list) = crate::api::workspace_people(ws).await {
                people.set(list);
            }
        });
        Effect::new(move |_| {
            if let Some(el) = input.get() {
                let _ = el.focus();
            }
        });
    }
    let shown = Memo::new(move |_| {
        let q = query.get();
        channels.with(|c| people.with(|p| destinations(c, p, &me_id, &q)))
    });
    let navigate = leptos_router::hooks::use_navigate();
    let choose = move |d: Destination| {
        open.set(false);
        match d {
            Destination::Place { href, .. } => navigate(&href, Default::default()),
            Destination::Person { username, .. } => {
                open_dm.dispatch(crate::api::OpenDirect {
                    workspace_id: workspace_id.clone(),
                    usernames: username,
                });
            }
        }
    };
    let choose_selected = {
        let choose = choose.clone();
        move || {
            let picked = shown.with_untracked(|list| list.get(selected.get_untracked()).cloned());
            if let Some(d) = picked {
                choose(d);
            }
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let n = shown.with_untracked(Vec::len);
        match ev.key().as_str() {
            "ArrowDown" if n > 0 => selected.update(|i| *i = (*i + 1) % n),
            "ArrowUp" if n > 0 => selected.update(|i| *i = (*i + n - 1) % n),
            "Enter" => choose_selected(),
            "Escape" => open.set(false),
            _ => return,
        }
        ev.prevent_default();
    };
    let options = move || {
        shown
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                let (sigil, kind) = match &d {
                    Destination::Place { sigil, unread, .. } => (*sigil, if *unread { "unread" } else { "" }),
                    Destination::Person { .. } => ("👤", "person"),
                };
                let extra = match &d {
                    Destination::Person { username, .. } => format!("@{username}"),
                    _ => String::new(),
                };
                let label = d.label().to_string();
                let choose = choose.clone();
                view! {
                    <li role="option" id=format!("switcher-{i}") class=kind
                        aria-selected=move || if selected.get() == i { "true" } else { "false" }
                        on:mousedown=move |ev| { ev.prevent_default(); choose(d.clone()); }>
                        <span class="sigil" aria-hidden="true">{sigil}</span>
                        <span class="destination">{label}</span>
                        <span class="username">{extra}</span>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <div class="overlay" on:mousedown=move |ev| {
            if event_target_is_self(&ev) { open.set(false) }
        }>
            <div class="dialog switcher" role="dialog" aria-modal="true" aria-label="Jump to">
                <label for="switcher-input" class="visually-hidden">"Jump to a channel, conversation or person"</label>
                <input id="switcher-input" node_ref=input type="text" autocomplete="off" role="combobox"
                    aria-expanded="true" aria-controls="switcher-list" aria-autocomplete="list"
                    aria-activedescendant=move || format!("switcher-{}", selected.get())
                    placeholder="Jump to…" prop:value=move || query.get()
                    on:input=move |ev| { query.set(event_target_value(&ev)); selected.set(0); }
                    on:keydown=on_keydown />
                <ul id="switcher-list" role="listbox" aria-label="Destinations">{options}</ul>
                {move || shown.with(Vec::is_empty).then(|| view! { <p class="empty">"Nothing matches."</p> })}
            </div>
        </div>
    }
}

/// Whether a mouse event happened on the element that listens, not inside it.
pub(crate) fn event_target_is_self(ev: &leptos::ev::MouseEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        ev.target() == ev.current_target()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}

/// The list of shortcuts (`?`).
#[component]
fn ShortcutHelp(open: RwSignal<bool>) -> impl IntoView {
    let close = NodeRef::<leptos::html::Button>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(el) = close.get() {
            let _ = el.focus();
        }
    });
    let rows = SHORTCUTS
        .iter()
        .map(|(keys, what)| view! { <dt><kbd>{*keys}</kbd></dt><dd>{*what}</dd> })
        .collect_view();
    view! {
        <div class="overlay" on:mousedown=move |ev| {
            if event_target_is_self(&ev) { open.set(false) }
        }>
            <div class="dialog shortcut-help" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title">
                <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
                <dl>{rows}</dl>
                <button type="button" node_ref=close on:click=move |_| open.set(false)>"Close"</button>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(key: &str) -> KeyPress<'_> {
        KeyPress { key, command: false, alt: false, shift: false, in_field: false }
    }

    #[test]
    fn ctrl_or_cmd_k_opens_the_quick_switcher_even_while_typing() {
        let k = KeyPress { command: true, in_field: true, ..press("k") };
        assert_eq!(Shortcut::from_key(k), Some(Shortcut::QuickSwitcher));
    }

    #[test]
    fn alt_arrows_move_between_channels_and_shift_between_unread_ones() {
        let down = KeyPress { alt: true, ..press("ArrowDown") };
        assert_eq!(Shortcut::from_key(down), Some(Shortcut::MoveChannel { down: true, unread_only: false }));
        let up_unread = KeyPress { alt: true, shift: true, ..press("ArrowUp") };
        assert_eq!(
            Shortcut::from_key(up_unread),
            Some(Shortcut::MoveChannel { down: false, unread_only: true })
        );
        assert_eq!(Shortcut::from_key(press("ArrowDown")), None);
    }

    #[test]
    fn a_question_mark_typed_into_a_field_is_text() {
        assert_eq!(Shortcut::from_key(press("?")), Some(Shortcut::Help));
        assert_eq!(Shortcut::from_key(KeyPress { in_field: true, ..press("?") }), None);
    }

    #[test]
    fn ctrl_f_focuses_search_and_escape_marks_read() {
        assert_eq!(Shortcut::from_key(KeyPress { command: true, ..press("f") }), Some(Shortcut::FocusSearch));
        assert_eq!(Shortcut::from_key(press("f")), None);
        assert_eq!(Shortcut::from_key(press("Escape")), Some(Shortcut::MarkRead));
    }

    fn channel(id: &str, name: &str, kind: ChannelKind, members: Vec<UserDto>) -> ChannelDto {
        let mut c: ChannelDto = serde_json::from_value(serde_json::json!({
            "id": id, "workspace_id": "1", "name": name, "topic": "", "is_private": false,
        }))
        .expect("a channel");
        c.kind = kind;
        c.members = members;
        c
    }

    fn person(id: &str, username: &str, name: &str) -> UserDto {
        UserDto { id: id.into(), username: username.into(), display_name: name.into(), is_bot: false }
    }

    #[test]
    fn the_switcher_puts_names_that_start_with_the_query_first() {
        let channels = vec![
            channel("10", "team-design", ChannelKind::Text, vec![]),
            channel("11", "design", ChannelKind::Text, vec![]),
            channel("12", "random", ChannelKind::Text, vec![]),
        ];
        let found = destinations(&channels, &[], "1", "#des");
        let labels: Vec<&str> = found.iter().map(Destination::label).collect();
        assert_eq!(labels, ["design", "team-design"]);
    }

    #[test]
    fn the_switcher_offers_people_by_name_or_username_unless_a_conversation_with_them_is_listed() {
        let me = person("1", "ana", "Ana");
        let bob = person("2", "bob", "Bob Stone");
        let cy = person("3", "cy", "Cyrus");
        let channels = vec![channel("20", "", ChannelKind::Direct, vec![me.clone(), bob.clone()])];
        let people = [me, bob, cy];
        let stone = destinations(&channels, &people, "1", "stone");
        assert_eq!(
            stone,
            [Destination::Place {
                label: "Bob Stone".into(),
                sigil: "@",
                href: crate::paths::channel("1", "20"),
                unread: false
            }]
        );
        let cy = destinations(&channels, &people, "1", "@cy");
        assert_eq!(cy, [Destination::Person { name: "Cyrus".into(), username: "cy".into() }]);
    }
}
