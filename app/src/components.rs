//! Pieces the pages share.

pub mod archive_notice;
pub mod bell;
pub mod call;
pub mod chart;
pub mod commands;
pub mod composer;
pub mod confirm;
pub mod deferred;
pub mod drafts;
pub mod e2ee;
pub mod emoji;
pub mod errors;
pub mod history_sharing;
pub mod message_list;
pub mod retention;
pub mod shortcuts;
pub mod sidebar;
pub mod thread_panel;
pub mod time;

/// Selects a read-only field's whole text when it gets focus (invite and
/// feed links), so that one copy takes it all.
pub fn select_all(ev: leptos::ev::FocusEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
            input.select();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ev;
}
