//! Emoji: the list the release build writes to `/emoji.json` (names,
//! keywords and Slack's shortcodes; see `scripts/emoji.mjs`), fetched the
//! first time something needs it; `:shortcode:` completion for the
//! composer; the emoji picker (search, recently used, groups) for reactions
//! and the composer. Emoji are drawn by the font the site ships, so they
//! look the same everywhere.

use leptos::prelude::*;
use serde::Deserialize;
use std::sync::Arc;

/// One emoji of the list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "(String, String, Vec<String>, Vec<String>, u8)")]
pub struct Emoji {
    pub emoji: String,
    /// Unicode's name: "thumbs up".
    pub name: String,
    /// Slack's shortcodes, without colons: "+1", "thumbsup".
    pub shortcodes: Vec<String>,
    pub keywords: Vec<String>,
    pub group: u8,
}

impl From<(String, String, Vec<String>, Vec<String>, u8)> for Emoji {
    fn from(
        (emoji, name, shortcodes, keywords, group): (String, String, Vec<String>, Vec<String>, u8),
    ) -> Self {
        Emoji { emoji, name, shortcodes, keywords, group }
    }
}

/// The picker's groups, by the list's group numbers (2, skin tones and
/// hair, is not offered on its own).
pub const GROUPS: [(u8, &str); 9] = [
    (0, "Smileys & emotion"),
    (1, "People & body"),
    (3, "Animals & nature"),
    (4, "Food & drink"),
    (5, "Travel & places"),
    (6, "Activities"),
    (7, "Objects"),
    (8, "Symbols"),
    (9, "Flags"),
];

/// The shortcode being typed just before the caret (`:thu`): where its
/// colon is (in UTF-16 units, as the textarea counts) and what follows it,
/// in lower case. Two characters at least, so that "10:30" and ":)" are
/// left alone.
pub fn shortcode_at_caret(before_caret: &str) -> Option<(usize, String)> {
    let colon = before_caret.rfind(':')?;
    let partial = &before_caret[colon + 1..];
    let starts_word = before_caret[..colon].chars().next_back().is_none_or(|c| c.is_whitespace() || c == '(');
    let code_like = (2..=32).contains(&partial.chars().count())
        && partial.chars().all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c));
    (starts_word && code_like).then(|| (before_caret[..colon].encode_utf16().count(), partial.to_lowercase()))
}

/// Emoji whose shortcode starts with `partial` (then those whose shortcode
/// or name contains it), each with the shortcode that matched; at most `n`.
pub fn shortcode_candidates<'a>(list: &'a [Emoji], partial: &str, n: usize) -> Vec<(&'a Emoji, &'a str)> {
    let mut starts = Vec::new();
    let mut contains = Vec::new();
    for e in list {
        if let Some(code) = e.shortcodes.iter().find(|c| c.starts_with(partial)) {
            starts.push((e, code.as_str()));
        } else if let Some(code) = e.shortcodes.iter().find(|c| c.contains(partial)) {
            contains.push((e, code.as_str()));
        }
    }
    // Shorter codes first among those that start alike: `:smile` finds :smile: before :smiley_cat:.
    starts.sort_by_key(|(_, code)| code.len());
    starts.extend(contains);
    starts.truncate(n);
    starts
}

/// Emoji that match a search in the picker: every word of `query` begins
/// a word of the name, a keyword or a shortcode.
pub fn search<'a>(list: &'a [Emoji], query: &str) -> Vec<&'a Emoji> {
    let words: Vec<String> = query.split_whitespace().map(|w| w.trim_matches(':').to_lowercase()).collect();
    if words.is_empty() {
        return Vec::new();
    }
    list.iter()
        .filter(|e| {
            words.iter().all(|w| {
                e.name.split([' ', '-']).any(|n| n.to_lowercase().starts_with(w.as_str()))
                    || e.keywords.iter().any(|k| k.starts_with(w.as_str()))
                    || e.shortcodes.iter().any(|c| c.split('_').any(|p| p.starts_with(w.as_str())))
            })
        })
        .collect()
}

/// Most emoji kept as recently used.
pub const RECENT: usize = 24;

/// `recent` with `emoji` moved to the front.
pub fn used(mut recent: Vec<String>, emoji: &str) -> Vec<String> {
    recent.retain(|e| e != emoji);
    recent.insert(0, emoji.to_string());
    recent.truncate(RECENT);
    recent
}

/// The emoji list once fetched, shared by every part of the page.
#[derive(Clone, Copy)]
pub struct EmojiList(RwSignal<Option<Arc<Vec<Emoji>>>>);

impl Default for EmojiList {
    fn default() -> Self {
        EmojiList::new()
    }
}

impl EmojiList {
    /// An empty list, for the app to provide once (so that it outlives
    /// every page that uses it).
    pub fn new() -> Self {
        EmojiList(RwSignal::new(None))
    }

    /// The app's list (provided once by the app: a list provided by a page
    /// would be disposed with it while its context stayed reachable).
    pub fn current() -> Self {
        expect_context::<EmojiList>()
    }

    /// The list, if it has arrived (tracked); the first call starts fetching it.
    pub fn get(self) -> Option<Arc<Vec<Emoji>>> {
        self.fetched(self.0.get())
    }

    /// The list, if it has arrived, for an event handler (not tracked);
    /// the first call starts fetching it.
    pub fn get_untracked(self) -> Option<Arc<Vec<Emoji>>> {
        self.fetched(self.0.get_untracked())
    }

    /// `now`, after starting the fetch if the list has not arrived.
    fn fetched(self, now: Option<Arc<Vec<Emoji>>>) -> Option<Arc<Vec<Emoji>>> {
        #[cfg(feature = "hydrate")]
        if now.is_none() {
            self.fetch();
        }
        now
    }

    /// Whether the list has arrived (tracked; starts nothing).
    pub fn arrived(self) -> bool {
        self.0.with(Option::is_some)
    }

    #[cfg(feature = "hydrate")]
    fn fetch(self) {
        thread_local! {
            static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        }
        if STARTED.with(|s| s.replace(true)) {
            return;
        }
        let signal = self.0;
        leptos::task::spawn_local(async move {
            let answer = gloo_net::http::Request::get("/emoji.json").send().await;
            match answer {
                Ok(r) if r.ok() => match r.json::<Vec<Emoji>>().await {
                    Ok(list) => signal.set(Some(Arc::new(list))),
                    Err(e) => leptos::logging::warn!("the emoji list could not be read: {e}"),
                },
                _ => {
                    leptos::logging::warn!("the emoji list could not be fetched");
                    STARTED.with(|s| s.set(false));
                }
            }
        });
    }
}

/// The recently used emoji, kept in the browser.
fn recent() -> Vec<String> {
    #[cfg(feature = "hydrate")]
    {
        let stored =
            window().local_storage().ok().flatten().and_then(|s| s.get_item(RECENT_KEY).ok().flatten());
        stored.and_then(|s| crate::codec::from_json(&s).ok()).unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    Vec::new()
}

#[cfg(feature = "hydrate")]
const RECENT_KEY: &str = "parley.emoji.recent";

fn remember(emoji: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = window().local_storage().ok().flatten() {
        let list = used(recent(), emoji);
        let _ = storage.set_item(RECENT_KEY, &serde_json::to_string(&list).unwrap_or_default());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = emoji;
}

/// The emoji picker, as a dialog: a search box, the recently used, then
/// every group. Choosing one calls `on_pick` and closes it; Esc closes it.
#[component]
pub fn EmojiPicker(
    /// Says what the choice is for: "React to Ana's message", "Add an emoji".
    title: String,
    open: RwSignal<bool>,
    on_pick: Callback<String>,
) -> impl IntoView {
    let list = EmojiList::current();
    let query = RwSignal::new(String::new());
    let recent = recent();
    let search_ref = NodeRef::<leptos::html::Input>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(el) = search_ref.get() {
            let _ = el.focus();
        }
    });
    let pick = move |emoji: String| {
        remember(&emoji);
        open.set(false);
        on_pick.run(emoji);
    };
    let button = move |e: &Emoji| {
        let (emoji, label) =
            (e.emoji.clone(), format!("{} :{}:", e.name, e.shortcodes.first().map_or("", |c| c)));
        let name = e.name.clone();
        view! {
            <button type="button" class="emoji-choice" title=label aria-label=name
                on:click=move |_| pick(emoji.clone())>{e.emoji.clone()}</button>
        }
    };
    let body = move || {
        let Some(all) = list.get() else {
            return view! { <p class="loading">"Loading emoji…"</p> }.into_any();
        };
        let q = query.get();
        if !q.trim().is_empty() {
            let found = search(&all, &q);
            if found.is_empty() {
                return view! { <p class="empty">"No emoji match."</p> }.into_any();
            }
            let buttons = found.into_iter().take(120).map(button).collect_view();
            return view! {
                <section aria-label="Search results"><div class="emoji-grid">{buttons}</div></section>
            }
            .into_any();
        }
        let recent_buttons =
            recent.iter().filter_map(|r| all.iter().find(|e| &e.emoji == r)).map(button).collect_view();
        let groups = GROUPS
            .iter()
            .map(|(g, name)| {
                let buttons = all.iter().filter(|e| e.group == *g).map(button).collect_view();
                view! { <section aria-label=*name><h3>{*name}</h3><div class="emoji-grid">{buttons}</div></section> }
            })
            .collect_view();
        view! {
            {(!recent.is_empty()).then(|| view! {
                <section aria-label="Recently used"><h3>"Recently used"</h3><div class="emoji-grid">{recent_buttons}</div></section>
            })}
            {groups}
        }
        .into_any()
    };
    view! {
        <div class="overlay" on:mousedown=move |ev| {
            if crate::components::shortcuts::event_target_is_self(&ev) { open.set(false) }
        } on:keydown=move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Escape" { ev.prevent_default(); ev.stop_propagation(); open.set(false) }
        }>
            <div class="dialog emoji-picker" role="dialog" aria-modal="true" aria-label=title>
                <label for="emoji-search" class="visually-hidden">"Search emoji"</label>
                <input id="emoji-search" type="search" node_ref=search_ref placeholder="Search emoji" autocomplete="off"
                    prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev)) />
                <div class="emoji-sections">{body}</div>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emoji(e: &str, name: &str, codes: &[&str], keywords: &[&str]) -> Emoji {
        Emoji {
            emoji: e.into(),
            name: name.into(),
            shortcodes: codes.iter().map(|c| c.to_string()).collect(),
            keywords: keywords.iter().map(|c| c.to_string()).collect(),
            group: 0,
        }
    }

    fn list() -> Vec<Emoji> {
        vec![
            emoji("😺", "grinning cat", &["smiley_cat"], &["cat", "face"]),
            emoji("😄", "grinning face with smiling eyes", &["smile"], &["happy"]),
            emoji("👍", "thumbs up", &["+1", "thumbsup"], &["like", "yes"]),
        ]
    }

    #[test]
    fn a_shortcode_is_completed_after_two_characters_at_the_start_of_a_word() {
        assert_eq!(shortcode_at_caret("well :thu"), Some((5, "thu".into())));
        assert_eq!(shortcode_at_caret("well :t"), None);
        assert_eq!(shortcode_at_caret("at 10:30"), None);
        assert_eq!(shortcode_at_caret("see http://ex"), None);
        assert_eq!(shortcode_at_caret("héllo :Smi"), Some((6, "smi".into())));
    }

    #[test]
    fn shortcodes_that_start_with_the_text_come_first_shortest_first() {
        let all = list();
        let found: Vec<&str> = shortcode_candidates(&all, "smi", 5).iter().map(|(_, c)| *c).collect();
        assert_eq!(found, ["smile", "smiley_cat"]);
        let inside: Vec<&str> = shortcode_candidates(&all, "cat", 5).iter().map(|(_, c)| *c).collect();
        assert_eq!(inside, ["smiley_cat"]);
    }

    #[test]
    fn the_picker_finds_emoji_by_name_keyword_or_shortcode_words() {
        let all = list();
        let by = |q: &str| search(&all, q).iter().map(|e| e.emoji.clone()).collect::<Vec<_>>();
        assert_eq!(by("thumbs"), ["👍"]);
        assert_eq!(by("happy"), ["😄"]);
        assert_eq!(by("grinning cat"), ["😺"]);
        assert_eq!(by(":+1:"), ["👍"]);
        assert!(by("zebra").is_empty());
    }

    #[test]
    fn a_used_emoji_moves_to_the_front_of_the_recent_ones() {
        let recent = used(vec!["👍".into(), "😄".into()], "😄");
        assert_eq!(recent, ["😄", "👍"]);
        let full = (0..RECENT).map(|i| i.to_string()).collect();
        assert_eq!(used(full, "x").len(), RECENT);
    }
}
