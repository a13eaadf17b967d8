//! The deployment's administration page (`/admin`), for its administrators:
//! how long messages and files are kept, compliance archiving, legal holds
//! (listed, made, released) and the deployment's audit log. Every form
//! works without JavaScript.

use crate::api::{
    AdminViewDto, CreateHold, ReleaseHold, SetComplianceArchive, SetDeploymentRetention, admin_view,
};
use crate::components::confirm::Confirm;
use crate::components::errors::{FieldError, field_error, form_error};
use crate::components::time::{DateTime, DateTimeOr};
use crate::wire::{DeploymentAuditEntryDto, LegalHoldDto, RetentionPolicyDto};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminPage() -> impl IntoView {
    let actions = Actions {
        retention: ServerAction::new(),
        archive: ServerAction::new(),
        create_hold: ServerAction::new(),
        release_hold: ServerAction::new(),
    };
    let data = crate::codec::page_data(move || actions.versions(), |_| admin_view());
    view! {
        <Title text="Administration" />
        {super::page_screen(data, move |view| admin_screen(view, actions))}
    }
}

/// The page's forms; when any completes, the page reads its data again.
#[derive(Clone, Copy)]
struct Actions {
    retention: ServerAction<SetDeploymentRetention>,
    archive: ServerAction<SetComplianceArchive>,
    create_hold: ServerAction<CreateHold>,
    release_hold: ServerAction<ReleaseHold>,
}

impl Actions {
    fn versions(self) -> [usize; 4] {
        [
            self.retention.version().get(),
            self.archive.version().get(),
            self.create_hold.version().get(),
            self.release_hold.version().get(),
        ]
    }
}

fn admin_screen(view: AdminViewDto, actions: Actions) -> impl IntoView {
    let AdminViewDto { retention, archive, holds, audit } = view;
    view! {
        <main class="settings admin" aria-labelledby="admin-title">
            <p><a href="/">"← Home"</a></p>
            <h1 id="admin-title">"Administration"</h1>
            {retention_section(retention.set, retention.configured, retention.effective, actions.retention)}
            {archive_section(archive, actions.archive)}
            {holds_section(holds, actions)}
            {audit_section(audit)}
        </main>
    }
}

/// "30 days", "forever", or what `none` says.
fn kept(days: Option<i64>, none: &'static str) -> String {
    match days {
        None => none.to_string(),
        Some(0) => "forever".to_string(),
        Some(1) => "1 day".to_string(),
        Some(d) => format!("{d} days"),
    }
}

fn retention_section(
    set: RetentionPolicyDto,
    configured: RetentionPolicyDto,
    effective: RetentionPolicyDto,
    action: ServerAction<SetDeploymentRetention>,
) -> impl IntoView {
    let value = |d: Option<i64>| d.map(|d| d.to_string()).unwrap_or_default();
    let status = format!(
        "Messages are kept {}; files {}. A workspace or channel may set its own.",
        kept(effective.messages_days, "forever"),
        kept(effective.files_days, "forever")
    );
    let defaults = format!(
        "Left empty, the server's configuration applies: messages {}, files {}.",
        kept(configured.messages_days, "forever"),
        kept(configured.files_days, "forever")
    );
    view! {
        <section aria-labelledby="retention-title">
            <h2 id="retention-title">"Retention"</h2>
            <p class="hint" id="retention-status">{status}</p>
            <ActionForm action=action attr:class="stack" attr:aria-label="Deployment retention">
                <label for="retention-messages">"Keep messages for (days; 0 keeps forever)"</label>
                <input id="retention-messages" name="messages_days" inputmode="numeric" value=value(set.messages_days) />
                <FieldError id="retention-messages-error" message=field_error(action.value(), "messages_days") />
                <label for="retention-files">"Keep files for (days; 0 keeps forever)"</label>
                <input id="retention-files" name="files_days" inputmode="numeric" value=value(set.files_days) />
                <FieldError id="retention-files-error" message=field_error(action.value(), "files_days") />
                <p class="hint">{defaults}</p>
                <button type="submit">"Save retention"</button>
                <FieldError id="retention-error" message=form_error(action.value()) />
            </ActionForm>
        </section>
    }
}

fn archive_section(on: bool, action: ServerAction<SetComplianceArchive>) -> impl IntoView {
    let status = if on {
        "On: every edit keeps the text before it and every deleted message its content, shown to no one but exports."
    } else {
        "Off: deleted means deleted, except what a legal hold keeps."
    };
    view! {
        <section aria-labelledby="archive-title">
            <h2 id="archive-title">"Compliance archiving"</h2>
            <p class="hint" id="archive-status">{status}</p>
            <ActionForm action=action attr:class="inline" attr:aria-label="Compliance archiving">
                <input type="hidden" name="enabled" value=if on { "false" } else { "true" } />
                <button type="submit">{if on { "Turn archiving off" } else { "Turn archiving on" }}</button>
            </ActionForm>
            <FieldError id="archive-error" message=form_error(action.value()) />
        </section>
    }
}

fn holds_section(holds: Vec<LegalHoldDto>, actions: Actions) -> impl IntoView {
    let made = actions.create_hold.value();
    let list = if holds.is_empty() {
        view! { <p class="hint">"No legal holds."</p> }.into_any()
    } else {
        let items = holds.into_iter().map(|h| hold_item(h, actions.release_hold)).collect_view();
        view! { <ul class="holds">{items}</ul> }.into_any()
    };
    view! {
        <section aria-labelledby="holds-title">
            <h2 id="holds-title">"Legal holds"</h2>
            <p class="hint">
                "What the people on a hold post is never removed by retention, and when they edit or delete it "
                "the earlier text is kept, until the hold is released."
            </p>
            {list}
            <ActionForm action=actions.create_hold attr:class="stack" attr:aria-label="New legal hold">
                <label for="hold-name">"Name"</label>
                <input id="hold-name" name="name" required maxlength="100" />
                <FieldError id="hold-name-error" message=field_error(made, "name") />
                <label for="hold-reason">"Reason"</label>
                <input id="hold-reason" name="reason" required maxlength="1000" />
                <FieldError id="hold-reason-error" message=field_error(made, "reason") />
                <label for="hold-people">"People (usernames)"</label>
                <input id="hold-people" name="usernames" placeholder="@ana @bob" />
                <FieldError id="hold-people-error" message=field_error(made, "usernames") />
                <button type="submit">"Put on hold"</button>
                <FieldError id="hold-error" message=form_error(made) />
            </ActionForm>
        </section>
    }
}

fn hold_item(h: LegalHoldDto, release: ServerAction<ReleaseHold>) -> impl IntoView {
    let people: Vec<String> = h.users.iter().map(|u| format!("@{}", u.username)).collect();
    let channels: Vec<String> = h.channels.iter().map(|c| format!("#{}", c.name)).collect();
    let held = [people, channels].concat().join(", ");
    let released = h.released_at.is_some();
    let release_form = (!released).then(|| {
        let what = format!("Release “{}”? What it kept follows the retention policies again.", h.name);
        view! {
            <Confirm action="Release" what=what>
                <ActionForm action=release attr:class="inline">
                    <input type="hidden" name="hold_id" value=h.id.clone() />
                    <button type="submit" class="danger">"Release"</button>
                </ActionForm>
            </Confirm>
        }
    });
    view! {
        <li class="hold">
            <strong>{h.name.clone()}</strong> " · " {held}
            <p class="hint">{h.reason.clone()}</p>
            <p class="hint">
                "Made by " {h.created_by.display_name.clone()} " " <DateTime ms=h.created_at />
                {released.then_some(" · released ")}
                {released.then(|| view! { <DateTimeOr ms=h.released_at none="" /> })}
            </p>
            {release_form}
        </li>
    }
}

fn audit_section(audit: Vec<DeploymentAuditEntryDto>) -> impl IntoView {
    let rows = audit
        .into_iter()
        .map(|e| {
            view! {
                <li>
                    <DateTime ms=e.created_at /> " · " {e.actor.display_name} " · " {e.summary}
                </li>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="admin-audit-title">
            <h2 id="admin-audit-title">"Audit log"</h2>
            <ul class="audit">{rows}</ul>
        </section>
    }
}
