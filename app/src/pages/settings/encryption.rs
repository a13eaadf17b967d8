//! The workspace's end-to-end encryption policy: whether direct
//! conversations opened in it are encrypted from the start, and who
//! archives its encrypted conversations, if anyone.

use crate::api::{SetArchivist, SetDirectEncryption};
use crate::components::errors::{FieldError, form_error};
use crate::wire::UserDto;
use leptos::prelude::*;

/// What the policy is, and for who manages the workspace a button that
/// turns it on or off.
pub fn encryption_section(
    ws_id: String,
    required: bool,
    can_change: bool,
    action: ServerAction<SetDirectEncryption>,
    archivist: Option<UserDto>,
    name_archivist: ServerAction<SetArchivist>,
) -> impl IntoView {
    let status = if required {
        "Required: every direct conversation opened from now on is end-to-end encrypted from its first \
         message. Those opened before stay as they are; their members may encrypt them."
    } else {
        "Not required: the members of a direct conversation or private channel choose whether to encrypt it."
    };
    let archive_ws = ws_id.clone();
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
    let archive_status = match &archivist {
        Some(a) => format!(
            "Archived by @{} ({}): a member of every encrypted conversation here, who reads them on its own \
             devices. Each person agrees to it before sending in one.",
            a.username, a.display_name
        ),
        None => "Not archived: only the members of an encrypted conversation read it.".to_string(),
    };
    let archive_form = can_change.then(|| {
        let (ws_name, ws_stop) = (archive_ws.clone(), archive_ws);
        view! {
            <ActionForm action=name_archivist attr:class="inline" attr:aria-label="Archiving member">
                <input type="hidden" name="workspace_id" value=ws_name />
                <label>"Archiving member "
                    <input name="username" required placeholder="@username" autocomplete="off" />
                </label>
                <button type="submit">"Name archiving member"</button>
            </ActionForm>
            {archivist.is_some().then(|| view! {
                <ActionForm action=name_archivist attr:class="inline" attr:aria-label="Stop archiving">
                    <input type="hidden" name="workspace_id" value=ws_stop />
                    <input type="hidden" name="username" value="" />
                    <button type="submit">"Stop archiving"</button>
                </ActionForm>
            })}
            <FieldError id="archivist-error" message=form_error(name_archivist.value()) />
        }
    });
    view! {
        <section aria-labelledby="encryption-title">
            <h2 id="encryption-title">"End-to-end encryption"</h2>
            <p class="hint" id="encryption-status">{status}</p>
            <p class="hint">"Encrypted conversations are read only on their members' devices: the server cannot \
                search them, quote them in notifications or export their text, and integrations do not see them."</p>
            {toggle}
            <h3 id="archive-title">"Archiving encrypted conversations"</h3>
            <p class="hint">"A workspace that must keep its encrypted conversations names an archiving member: \
                an account shown among the members of each, whose own devices receive the keys and read them. \
                Nothing is hidden: everyone sees it and agrees before sending."</p>
            <p class="hint" id="archive-status">{archive_status}</p>
            {archive_form}
        </section>
    }
}
