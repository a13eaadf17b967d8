//! Slash commands in the message box: suggestions while `/name` is typed,
//! and what a command says to the person alone, shown above the box it was
//! typed in ("Only visible to you") until dismissed or replaced. A later
//! answer of a workspace's command arrives over the gateway
//! (`COMMAND_ANSWER`) and shows in the same place.

use crate::wire::CommandListingDto;
use leptos::prelude::*;

/// What a command said, for one message box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub channel_id: String,
    /// The thread's box, or the channel's (`None`).
    pub thread_id: Option<String>,
    /// Sanitised HTML, made by the server.
    pub html: String,
}

/// The notice on screen, shared by the message boxes and the gateway.
#[derive(Debug, Clone, Copy)]
pub struct CommandNotices(pub RwSignal<Option<Notice>>);

impl CommandNotices {
    pub fn new() -> Self {
        CommandNotices(RwSignal::new(None))
    }

    /// The page's notices (a fresh signal where none was provided).
    pub fn current() -> Self {
        use_context::<CommandNotices>().unwrap_or_default()
    }

    pub fn show(self, channel_id: &str, thread_id: Option<&str>, html: String) {
        self.0.set(Some(Notice {
            channel_id: channel_id.to_string(),
            thread_id: thread_id.map(str::to_string),
            html,
        }));
    }
}

impl Default for CommandNotices {
    fn default() -> Self {
        Self::new()
    }
}

/// The `/partial` being typed: the box holds only a slash and a name so far.
pub fn command_at_caret(before_caret: &str) -> Option<String> {
    let name = before_caret.strip_prefix('/')?;
    let name_like =
        name.chars().count() <= 32 && name.chars().all(|c| c.is_alphanumeric() || "_-".contains(c));
    name_like.then(|| name.to_lowercase())
}

/// The commands whose names start with `partial`, at most eight: built-ins
/// first, as listed.
pub fn command_candidates<'a>(listed: &'a [CommandListingDto], partial: &str) -> Vec<&'a CommandListingDto> {
    let mut found: Vec<&CommandListingDto> = listed.iter().filter(|c| c.name.starts_with(partial)).collect();
    // A name typed out in full leaves nothing to complete: Enter runs it.
    if found.len() == 1 && found[0].name == partial {
        found.clear();
    }
    found.truncate(8);
    found
}

/// Shows each later answer of a command where it was typed: follows the
/// gateway once per page, from the first message box on.
pub fn listen_for_answers(notices: CommandNotices) {
    #[cfg(feature = "hydrate")]
    {
        thread_local! {
            static LISTENING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        }
        if LISTENING.with(|l| l.replace(true)) {
            return;
        }
        // Never cancelled: it lives as long as the page.
        let _ = crate::live::subscribe(move |event| {
            if let crate::live::LiveEvent::Gateway(crate::wire::GatewayEvent::CommandAnswer {
                channel_id,
                thread_id,
                html,
                ..
            }) = event
            {
                notices.show(channel_id, thread_id.as_deref(), html.clone());
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = notices;
}

/// Joins the call of the page's channel (`/call`), as its Join call button
/// does; `false` when the page offers none.
#[cfg(feature = "hydrate")]
pub fn join_call_on_page() -> bool {
    use wasm_bindgen::JsCast;
    let button = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("button.join-call:not([disabled])").ok().flatten())
        .and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok());
    match button {
        Some(b) => {
            b.click();
            true
        }
        None => false,
    }
}

/// The notice for the box of `channel_id` (and `thread_id`), with a button
/// that dismisses it.
#[component]
pub fn CommandReply(channel_id: String, thread_id: Option<String>) -> impl IntoView {
    let notices = CommandNotices::current();
    let mine = move || {
        notices.0.with(|n| {
            n.as_ref()
                .filter(|n| n.channel_id == channel_id && n.thread_id == thread_id)
                .map(|n| n.html.clone())
        })
    };
    view! {
        <div class="command-reply-slot" aria-live="polite">
            {move || mine().map(|html| view! {
                <div class="command-reply" role="status">
                    <p class="command-reply-label">"Only visible to you"</p>
                    <div class="command-reply-text" inner_html=html></div>
                    <button type="button" class="link" on:click=move |_| notices.0.set(None)>"Dismiss"</button>
                </div>
            })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(names: &[&str]) -> Vec<CommandListingDto> {
        names
            .iter()
            .map(|n| CommandListingDto {
                name: n.to_string(),
                usage: String::new(),
                description: String::new(),
                custom: false,
            })
            .collect()
    }

    #[test]
    fn a_command_is_completed_only_at_the_start_of_the_box() {
        assert_eq!(command_at_caret("/rem"), Some("rem".into()));
        assert_eq!(command_at_caret("/"), Some(String::new()));
        assert_eq!(command_at_caret("/remind me"), None, "the name is finished");
        assert_eq!(command_at_caret("see /rem"), None);
    }

    #[test]
    fn offers_the_commands_starting_with_what_was_typed() {
        let all = listed(&["me", "msg", "mute", "remind", "deploy"]);
        let names = |p: &str| command_candidates(&all, p).iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        assert_eq!(names("m"), ["me", "msg", "mute"]);
        assert_eq!(names("dep"), ["deploy"]);
        assert!(names("remind").is_empty(), "nothing to offer for a finished name");
    }
}
