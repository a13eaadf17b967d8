//! In an encrypted conversation's header: whether people added later read
//! its latest messages (shared with them, encrypted, by the member's device
//! that adds them), and the form that changes it (a form, so it works
//! without JavaScript; the server says who may change it).

use crate::api::SetHistorySharing;
use crate::components::errors::{FieldError, form_error};
use leptos::prelude::*;

/// How many of the latest messages the adding device shares.
pub const SHARED_MESSAGES: usize = 100;

#[component]
pub fn HistorySharing(
    channel_id: String,
    shares: bool,
    /// Bumped once it changed: the page is read again.
    reload: RwSignal<u32>,
) -> impl IntoView {
    let set = ServerAction::<SetHistorySharing>::new();
    Effect::new(move || {
        if matches!(set.value().get(), Some(Ok(()))) {
            reload.update(|n| *n += 1);
        }
    });
    let said = match shares {
        true => format!(
            "People added later read up to the latest {SHARED_MESSAGES} messages: the device that adds them shares \
             what it read, encrypted, and each shows who shared it."
        ),
        false => "People added later read from the moment they join.".to_string(),
    };
    view! {
        <div class="history-sharing" role="note" data-shares=if shares { "true" } else { "false" }>
            <p>{said}</p>
            <ActionForm action=set attr:class="inline" attr:aria-label="History for people added">
                <input type="hidden" name="channel_id" value=channel_id />
                <input type="hidden" name="share" value=if shares { "off" } else { "on" } />
                <button type="submit">{if shares { "Stop sharing history" } else { "Share history with people added" }}</button>
            </ActionForm>
            <FieldError id="history-sharing-error" message=form_error(set.value()) />
        </div>
    }
}
