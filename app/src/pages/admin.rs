//! The deployment's administration page (`/admin`), for its administrators:
//! how long messages and files are kept, compliance archiving, legal holds
//! (listed, made, released), compliance exports (asked for, followed,
//! downloaded, deleted; the daily export) and the deployment's audit log.
//! Every form works without JavaScript.

use crate::api::{
    AdminViewDto, CreateHold, DeleteExport, ReleaseHold, RequestExport, SetComplianceArchive, SetDailyExport,
    SetDeploymentRetention, admin_view,
};
use crate::components::confirm::Confirm;
use crate::components::errors::{FieldError, field_error, form_error};
use crate::components::retention::kept;
use crate::components::time::{DateTime, DateTimeOr};
use crate::wire::{ComplianceExportDto, DeploymentAuditEntryDto, LegalHoldDto, RetentionPolicyDto};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminPage() -> impl IntoView {
    let actions = Actions {
        retention: ServerAction::new(),
        archive: ServerAction::new(),
        create_hold: ServerAction::new(),
        release_hold: ServerAction::new(),
        request_export: ServerAction::new(),
        delete_export: ServerAction::new(),
        daily_export: ServerAction::new(),
    };
    // While an export is being written, the page reads its progress again
    // every two seconds (without JavaScript: its Refresh link).
    let tick = RwSignal::new(0usize);
    let data = crate::codec::page_data(move || (actions.versions(), tick.get()), |_| admin_view());
    #[cfg(feature = "hydrate")]
    if let Ok(timer) = leptos::prelude::set_interval_with_handle(
        move || {
            let busy = data.get_untracked().is_some_and(|d| {
                d.is_ok_and(|v| v.exports.iter().any(|e| matches!(e.state.as_str(), "pending" | "running")))
            });
            if busy {
                tick.update(|t| *t += 1);
            }
        },
        std::time::Duration::from_secs(2),
    ) {
        on_cleanup(move || timer.clear());
    }
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
    request_export: ServerAction<RequestExport>,
    delete_export: ServerAction<DeleteExport>,
    daily_export: ServerAction<SetDailyExport>,
}

impl Actions {
    fn versions(self) -> [usize; 7] {
        [
            self.retention.version().get(),
            self.archive.version().get(),
            self.create_hold.version().get(),
            self.release_hold.version().get(),
            self.request_export.version().get(),
            self.delete_export.version().get(),
            self.daily_export.version().get(),
        ]
    }
}

fn admin_screen(view: AdminViewDto, actions: Actions) -> impl IntoView {
    let AdminViewDto { retention, archive, holds, exports, daily_export, workspaces, audit } = view;
    view! {
        <main class="settings admin" aria-labelledby="admin-title">
            <p><a href="/">"← Home"</a></p>
            <h1 id="admin-title">"Administration"</h1>
            <p><a href=crate::paths::deployment_analytics()>"Analytics"</a></p>
            {retention_section(retention.set, retention.configured, retention.effective, actions.retention)}
            {archive_section(archive, actions.archive)}
            {holds_section(holds, &workspaces, actions)}
            {exports_section(exports, workspaces, daily_export, actions)}
            {audit_section(audit)}
        </main>
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
        "On: every edit keeps the text before it and every deleted message its content, shown to no one but exports. \
         End-to-end encrypted messages are kept as the server holds them, ciphertext it cannot read."
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

/// An `<option>` for each of the deployment's workspaces.
fn workspace_options(workspaces: &[(String, String)]) -> impl IntoView + use<> {
    workspaces
        .iter()
        .map(|(id, name)| view! { <option value=id.clone()>{name.clone()}</option> })
        .collect_view()
}

fn holds_section(
    holds: Vec<LegalHoldDto>,
    workspaces: &[(String, String)],
    actions: Actions,
) -> impl IntoView {
    let made = actions.create_hold.value();
    let workspaces = workspace_options(workspaces);
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
                "What the people and channels on a hold post is never removed by retention, and when it is "
                "edited or deleted the earlier text is kept, until the hold is released. A channel holding "
                "held messages cannot be deleted."
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
                <label for="hold-workspace">"Workspace of the channels"</label>
                <select id="hold-workspace" name="workspace">
                    <option value="">"None"</option>
                    {workspaces}
                </select>
                <label for="hold-channels">"Channels (of that workspace)"</label>
                <input id="hold-channels" name="channels" placeholder="#legal #sales" />
                <FieldError id="hold-channels-error" message=field_error(made, "channels") />
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

fn exports_section(
    exports: Vec<ComplianceExportDto>,
    workspaces: Vec<(String, String)>,
    daily: String,
    actions: Actions,
) -> impl IntoView {
    let asked = actions.request_export.value();
    let list = if exports.is_empty() {
        view! { <p class="hint">"No exports yet."</p> }.into_any()
    } else {
        let items = exports.into_iter().map(|e| export_item(e, actions.delete_export)).collect_view();
        view! { <ul class="exports">{items}</ul> }.into_any()
    };
    let options = workspace_options(&workspaces);
    let today = crate::components::time::today();
    view! {
        <section aria-labelledby="exports-title">
            <h2 id="exports-title">"Compliance exports"</h2>
            <p class="hint">
                "An export holds the messages posted on the days chosen (UTC), with their edits and deletes as far "
                "as they were kept, and their attachments. JSON writes a file per channel per day (as Slack's "
                "export does), CSV a row per message event, EML an email per message."
            </p>
            <p class="hint" id="exports-encrypted">
                "End-to-end encrypted conversations are exported as metadata only: each message's author, times, "
                "thread and edits, with the text replaced by a note, and their files listed by size without their "
                "bytes. The server holds only ciphertext it cannot read, and exports none of it. For the same "
                "reason the virus scanner does not see files sent there. A workspace that must keep them names an "
                "archiving member in its settings (End-to-end encryption): a visible member of each encrypted "
                "conversation, which reads them on its own devices once the people there agree."
            </p>
            {list}
            <p><a href="/admin">"Refresh"</a></p>
            <ActionForm action=actions.request_export attr:class="stack" attr:aria-label="New export">
                <label for="export-format">"Format"</label>
                <select id="export-format" name="format">
                    <option value="json">"JSON (Slack's layout)"</option>
                    <option value="csv">"CSV"</option>
                    <option value="eml">"EML (emails)"</option>
                </select>
                <label for="export-from">"First day"</label>
                <input id="export-from" name="from" type="date" required value=today.clone() />
                <FieldError id="export-from-error" message=field_error(asked, "from") />
                <label for="export-to">"Last day"</label>
                <input id="export-to" name="to" type="date" required value=today />
                <FieldError id="export-to-error" message=field_error(asked, "to") />
                <label for="export-workspace">"Workspace"</label>
                <select id="export-workspace" name="workspace">
                    <option value="">"All workspaces"</option>
                    {options}
                </select>
                <label for="export-channels">"Only these channels (of that workspace; empty: all)"</label>
                <input id="export-channels" name="channels" placeholder="#general #sales" />
                <FieldError id="export-channels-error" message=field_error(asked, "channels") />
                <label for="export-people">"Only these people (what they wrote, and their direct conversations; empty: everyone)"</label>
                <input id="export-people" name="people" placeholder="@ana @bob" />
                <FieldError id="export-people-error" message=field_error(asked, "usernames") />
                <button type="submit">"Export"</button>
                <FieldError id="export-error" message=form_error(asked) />
            </ActionForm>
            {daily_form(daily, actions.daily_export)}
        </section>
    }
}

fn daily_form(daily: String, action: ServerAction<SetDailyExport>) -> impl IntoView {
    let status = match daily.as_str() {
        "off" => "The daily export is off.".to_string(),
        format => format!(
            "Each day after midnight (UTC) the day before is exported as {}, everywhere, into the server's data directory and this list.",
            format.to_uppercase()
        ),
    };
    let option = move |value: &'static str, label: &'static str| {
        let selected = daily == value;
        view! { <option value=value selected=selected>{label}</option> }
    };
    view! {
        <h3>"Daily export"</h3>
        <p class="hint" id="daily-export-status">{status}</p>
        <ActionForm action=action attr:class="inline" attr:aria-label="Daily export">
            <label for="daily-export-format">"Daily export"</label>
            <select id="daily-export-format" name="format">
                {option("off", "Off")}
                {option("json", "JSON")}
                {option("csv", "CSV")}
                {option("eml", "EML")}
            </select>
            <button type="submit">"Save"</button>
        </ActionForm>
        <FieldError id="daily-export-error" message=form_error(action.value()) />
    }
}

/// "1 message", "2 messages".
fn counted(n: i64, one: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") }
}

fn export_item(e: ComplianceExportDto, delete: ServerAction<DeleteExport>) -> impl IntoView {
    let range = if e.from == e.to { e.from.clone() } else { format!("{} to {}", e.from, e.to) };
    let who = if e.daily {
        "Daily export".to_string()
    } else {
        format!("Asked for by {}", e.requested_by.display_name)
    };
    let progress = match e.state.as_str() {
        "pending" => "Waiting to start".to_string(),
        "running" => format!("Writing: {} so far", counted(e.messages, "message")),
        "done" => format!(
            "Ready: {}, {}, {}",
            counted(e.messages, "message"),
            counted(e.files, "file"),
            crate::components::message_list::human_size(e.bytes)
        ),
        _ => format!("Failed: {}", e.error),
    };
    let download = (e.state == "done").then(|| {
        let href = format!("/api/admin/exports/{}/archive", e.id);
        view! { <a href=href download=e.file_name.clone() rel="external">"Download"</a> }
    });
    let what = format!("Delete the export of {range}? Its archive is removed from the server.");
    view! {
        <li class="export" data-state=e.state.clone()>
            <strong>{e.format.to_uppercase()} " · " {range}</strong>
            <p class="hint">{who} " " <DateTime ms=e.created_at /></p>
            <p class="export-progress">{progress}</p>
            {download}
            <Confirm action="Delete" what=what>
                <ActionForm action=delete attr:class="inline">
                    <input type="hidden" name="export_id" value=e.id.clone() />
                    <button type="submit" class="danger">"Delete"</button>
                </ActionForm>
            </Confirm>
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
