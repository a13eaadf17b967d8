//! The settings page's retention section: how long the workspace keeps
//! messages and files, and the channels that keep theirs longer or shorter.
//! Who manages the workspace changes them; everyone else reads them.

use crate::api::SetRetention;
use crate::components::errors::{FieldError, field_error, form_error};
use crate::components::retention::{kept, policy};
use crate::wire::{ChannelDto, RetentionDto, RetentionPolicyDto};
use leptos::prelude::*;

pub fn retention_section(
    ws: String,
    retention: RetentionDto,
    overrides: Vec<(String, RetentionPolicyDto, RetentionPolicyDto)>,
    channels: &[ChannelDto],
    action: ServerAction<SetRetention>,
) -> impl IntoView {
    let name_of = |id: &str| channels.iter().find(|c| c.id == id).map(|c| c.name.clone()).unwrap_or_default();
    let status = format!(
        "This workspace keeps {}. A channel may set its own.",
        policy(retention.effective, "forever")
    );
    let listed = if overrides.is_empty() {
        view! { <p class="hint">"No channel sets its own retention."</p> }.into_any()
    } else {
        let rows = overrides
            .into_iter()
            .map(|(id, own, effective)| {
                let own = policy(own, "as the workspace");
                let effective = policy(effective, "forever");
                view! { <li>"#" {name_of(&id)} ": " {own} " (so " {effective} ")"</li> }
            })
            .collect_view();
        view! { <ul class="channel-retention" id="channel-retention">{rows}</ul> }.into_any()
    };
    let forms = retention.may_change.then(|| {
        let value = |d: Option<i64>| d.map(|d| d.to_string()).unwrap_or_default();
        let options = channels
            .iter()
            .filter(|c| !c.archived)
            .map(|c| view! { <option value=c.id.clone()>"#" {c.name.clone()}</option> })
            .collect_view();
        let set = action.value();
        view! {
            <ActionForm action=action attr:class="stack" attr:aria-label="Retention">
                <input type="hidden" name="workspace_id" value=ws />
                <label for="retention-of">"Keep, in"</label>
                <select id="retention-of" name="channel_id">
                    <option value="">"The whole workspace"</option>
                    {options}
                </select>
                <label for="retention-messages">"Messages for (days; 0 keeps forever; empty: as the level above)"</label>
                <input id="retention-messages" name="messages_days" inputmode="numeric" value=value(retention.own.messages_days) />
                <FieldError id="retention-messages-error" message=field_error(set, "messages_days") />
                <label for="retention-files">"Files for (days; 0 keeps forever; empty: as the level above)"</label>
                <input id="retention-files" name="files_days" inputmode="numeric" value=value(retention.own.files_days) />
                <FieldError id="retention-files-error" message=field_error(set, "files_days") />
                <button type="submit">"Save retention"</button>
                <FieldError id="retention-error" message=form_error(set) />
            </ActionForm>
        }
    });
    let own = format!(
        "Set here: messages {}, files {}.",
        kept(retention.own.messages_days, "as the deployment"),
        kept(retention.own.files_days, "as the deployment")
    );
    view! {
        <section class="settings-retention" aria-labelledby="retention-title">
            <h2 id="retention-title">"Retention"</h2>
            <p class="hint" id="retention-status">{status}</p>
            <p class="hint">{own}</p>
            {listed}
            {forms}
        </section>
    }
}
