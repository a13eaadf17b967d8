//! What a person has typed but not yet sent: kept per conversation in the
//! browser's local storage (as Slack keeps drafts), so that a reload, moving
//! to another channel or a failed send never loses it.

/// Where the draft of one channel, or of one thread in it, is kept.
pub fn draft_key(channel_id: &str, thread_id: Option<&str>) -> String {
    match thread_id {
        Some(thread) => format!("parley.draft.{channel_id}.{thread}"),
        None => format!("parley.draft.{channel_id}"),
    }
}

/// The text to put back in the box after sends failed: what could not be
/// sent, oldest first, then whatever was typed since (each part once, blank
/// parts dropped).
pub fn restore(unsent: &[String], typed_since: &str) -> String {
    unsent
        .iter()
        .map(String::as_str)
        .chain(std::iter::once(typed_since))
        .map(str::trim_end)
        .filter(|part| !part.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The draft kept under `key`, if any (nothing outside the browser, or when
/// storage is unavailable).
pub fn load(key: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        storage()?.get_item(key).ok().flatten().filter(|text| !text.is_empty())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = key;
        None
    }
}

/// Keeps `text` as the draft under `key`; an empty text removes it.
pub fn save(key: &str, text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = storage() {
        // A full or refused storage only costs the draft, never the message.
        let _ = if text.trim().is_empty() { storage.remove_item(key) } else { storage.set_item(key, text) };
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (key, text);
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_has_its_own_draft() {
        assert_ne!(draft_key("c1", None), draft_key("c1", Some("t1")));
        assert_ne!(draft_key("c1", None), draft_key("c2", None));
    }

    #[test]
    fn unsent_text_comes_back_before_what_was_typed_since() {
        let unsent = vec!["first".to_string(), "second\n".to_string()];
        assert_eq!(restore(&unsent, "third"), "first\nsecond\nthird");
        assert_eq!(restore(&unsent, ""), "first\nsecond");
        assert_eq!(restore(&[], "typing"), "typing");
        assert_eq!(restore(&["  ".to_string()], ""), "");
    }
}
