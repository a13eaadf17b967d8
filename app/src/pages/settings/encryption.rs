//! The workspace's end-to-end encryption policy: whether direct
//! conversations opened in it are encrypted from the start.

use crate::api::SetDirectEncryption;
use crate::components::errors::{FieldError, form_error};
use leptos::prelude::*;

/// What the policy is, and for who manages the workspace a button that
/// turns it on or off.
pub fn encryption_section(
    ws_id: String,
    required: bool,
    can_change: bool,
    action: ServerAction<SetDirectEncryption>,
) -> impl IntoView {
    let status = if required {
        "Required: every direct conversation opened from now on is end-to-end encrypted from its first \
         message. Those opened before stay as they are; their members may encrypt them."
    } else {
        "Not required: the members of a direct conversation or private channel choose whether to encrypt it."
    };
    let toggle = can_change.then(|| {
        view! {
            <ActionForm action=action attr:class="inline" attr:aria-label="End-to-end encryption of direct conversations">
                <input type="hidden" name="workspace_id" value=ws_id />
                <input type="hidden" name="required" value=if required { "false" } else { "true" } />
                <button type="submit">
                    {if required { "Stop requiring encryption" } else { "Require encryption for direct conversations" }}
                </button>
            </ActionForm>
            <FieldError id="encryption-error" message=form_error(action.value()) />
        }
    });
    view! {
        <section aria-labelledby="encryption-title">
            <h2 id="encryption-title">"End-to-end encryption"</h2>
            <p class="hint" id="encryption-status">{status}</p>
            <p class="hint">"Encrypted conversations are read only on their members' devices: the server cannot \
                search them, quote them in notifications or export their text, and integrations do not see them."</p>
            {toggle}
        </section>
    }
}
