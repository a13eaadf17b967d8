//! Compliance exports in the hub, on both backends: each format's layout
//! and content (JSON by channel and day, CSV by message event, EML by
//! message, attachments included); limits by people; an export stopped
//! midway and finished by another node equals one written at once; the
//! daily export; only deployment administrators export.

use domain::error::ErrorKind;
use domain::export::ExportFormat;
use domain::files::Upload;
use domain::hub::{ExportOutcome, ExportRequest, Post};
use domain::model::ComplianceExport;
use domain::testing::TestDb;
use domain::{Hub, Id};
use std::io::Read;

mod common;
use common::{posted_earlier, user, workspace};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const LEASE_MS: i64 = 5 * 60 * 1000;

fn day(ms: i64) -> String {
    domain::export::day_of(ms)
}

fn request(format: ExportFormat, from: i64, to: i64) -> ExportRequest {
    ExportRequest {
        format,
        from: day(from),
        to: day(to),
        workspaces: Vec::new(),
        channels: Vec::new(),
        users: Vec::new(),
        usernames: Vec::new(),
        channel_names: Vec::new(),
    }
}

async fn upload(hub: &Hub, name: &str, bytes: &[u8]) -> Upload {
    let tmp = hub.files().temp_path().await.unwrap();
    tokio::fs::write(&tmp, bytes).await.unwrap();
    Upload { tmp, file_name: name.into(), size: bytes.len() as u64 }
}

/// Runs the export worker until it has nothing left; returns the export as it ends.
async fn finished(hub: &Hub, admin: Id, export: &ComplianceExport) -> ComplianceExport {
    while hub.run_exports(domain::now_ms(), None).await.unwrap() != ExportOutcome::Idle {}
    let done = hub.compliance_export(admin, export.id).await.unwrap();
    assert_eq!((done.state.as_str(), done.error.as_str()), ("done", ""));
    done
}

/// The archive's entries, by name, in order.
async fn entries(hub: &Hub, admin: Id, export: &ComplianceExport) -> Vec<(String, Vec<u8>)> {
    let path = hub.export_archive(admin, export.id, false).await.unwrap().0;
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap();
            (f.name().unwrap().to_string(), bytes)
        })
        .collect()
}

fn entry<'a>(entries: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    let names: Vec<&String> = entries.iter().map(|(n, _)| n).collect();
    &entries.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name} in {names:?}")).1
}

#[derive(serde::Deserialize)]
struct JsonMessage {
    text: String,
    user_name: String,
    files: Vec<JsonFile>,
}

#[derive(serde::Deserialize)]
struct JsonFile {
    name: String,
    path: String,
}

/// JSON: a file per channel per day (only days with messages), attachments
/// beside, and the manifest files.
async fn a_json_export_has_a_file_per_channel_per_day(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    let random = hub.create_channel(ana, ws, "random", "", false).await.unwrap().id;
    posted_earlier(&hub, general, ana, 2, &["two days ago", "and again"]).await;
    posted_earlier(&hub, random, ana, 2, &["random, two days ago"]).await;
    let files = vec![upload(&hub, "notes.txt", b"the notes").await];
    let (today, _) =
        hub.post(ana, general, Post { body: "today", files, ..Default::default() }).await.unwrap();
    let now = domain::now_ms();

    let export = hub.request_export(ana, request(ExportFormat::Json, now - 3 * DAY_MS, now)).await.unwrap();
    assert_eq!(export.state, "pending");
    let done = finished(&hub, ana, &export).await;
    assert_eq!((done.messages, done.files), (4, 1));
    let all = entries(&hub, ana, &done).await;
    let folder = format!("Acme-{ws}");
    let mut names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    let attachment = format!("{folder}/general/files/{}-notes.txt", today.attachments[0].id);
    let mut expected = vec![
        format!("{folder}/general/{}.json", day(now - 2 * DAY_MS)),
        format!("{folder}/general/{}.json", day(now)),
        attachment.clone(),
        format!("{folder}/random/{}.json", day(now - 2 * DAY_MS)),
        "channels.json".to_string(),
        "export.json".to_string(),
        "users.json".to_string(),
    ];
    expected.sort();
    assert_eq!(names, expected);
    let earlier: Vec<JsonMessage> =
        serde_json::from_slice(entry(&all, &format!("{folder}/general/{}.json", day(now - 2 * DAY_MS))))
            .unwrap();
    assert_eq!(earlier.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["two days ago", "and again"]);
    let today_file: Vec<JsonMessage> =
        serde_json::from_slice(entry(&all, &format!("{folder}/general/{}.json", day(now)))).unwrap();
    assert_eq!((today_file[0].text.as_str(), today_file[0].user_name.as_str()), ("today", "ana"));
    assert_eq!(
        (today_file[0].files[0].name.as_str(), today_file[0].files[0].path.as_str()),
        ("notes.txt", attachment.as_str())
    );
    assert_eq!(entry(&all, &attachment), b"the notes");
    let size = std::fs::metadata(hub.export_archive(ana, done.id, false).await.unwrap().0).unwrap().len();
    assert_eq!(done.bytes as u64, size);
}

/// CSV: a row per event, the edit's and the delete's text kept when
/// compliance archiving is on.
async fn a_csv_export_has_a_row_per_posted_edited_and_deleted_event(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    hub.set_compliance_archive(ana, true).await.unwrap();
    let (m, _) = hub.post(ana, general, Post { body: "first, words", ..Default::default() }).await.unwrap();
    hub.edit_message(ana, m.id, "second \"words\"").await.unwrap();
    hub.delete_message(ana, m.id).await.unwrap();
    let now = domain::now_ms();

    let export = hub.request_export(ana, request(ExportFormat::Csv, now, now)).await.unwrap();
    let done = finished(&hub, ana, &export).await;
    let all = entries(&hub, ana, &done).await;
    let (_, csv) = all.iter().find(|(n, _)| n.ends_with(".csv")).expect("a CSV file");
    let text = String::from_utf8(csv.clone()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("event,at,workspace,channel_id,channel,channel_kind,message_id"));
    let events: Vec<&str> = lines[1..].iter().map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(events, ["posted", "edited", "deleted"]);
    assert!(lines[1].ends_with(",\"first, words\","), "{}", lines[1]);
    assert!(lines[2].ends_with(",\"second \"\"words\"\"\","), "{}", lines[2]);
    assert!(lines[3].contains(",general,public,"), "{}", lines[3]);
}

/// EML: an email per message, from its author, with its attachment.
async fn an_eml_export_has_an_email_per_message(db: &TestDb) {
    let hub = db.hub().await.with_public_url("https://chat.example.org");
    let ana = user(&hub, "ana").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    let files = vec![upload(&hub, "plan.txt", b"the plan").await];
    let (m, _) =
        hub.post(ana, general, Post { body: "see the plan", files, ..Default::default() }).await.unwrap();
    let now = domain::now_ms();

    let export = hub.request_export(ana, request(ExportFormat::Eml, now, now)).await.unwrap();
    let done = finished(&hub, ana, &export).await;
    assert_eq!((done.messages, done.files), (1, 1));
    let all = entries(&hub, ana, &done).await;
    let mail =
        String::from_utf8(entry(&all, &format!("Acme-{ws}/general/{}/{}.eml", day(now), m.id)).to_vec())
            .unwrap();
    for expected in [
        "From: \"ana Display\" <ana@example.com>",
        "Subject: #general: see the plan",
        &format!("Message-ID: <{}@chat.example.org>", m.id),
        "filename=\"plan.txt\"",
        "see the plan",
    ] {
        assert!(mail.contains(expected), "{expected} in\n{mail}");
    }
}

/// Limited to a person: what they wrote, and all of their direct conversations.
async fn a_person_limit_takes_what_they_wrote_and_their_direct_conversations(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    hub.post_message(ana, general, "ana in general", None).await.unwrap();
    hub.post_message(bob, general, "bob in general", None).await.unwrap();
    let dm = hub.open_direct(ana, ws, "bob").await.unwrap();
    hub.post_message(bob, dm.id, "bob to ana", None).await.unwrap();
    let now = domain::now_ms();

    let mut req = request(ExportFormat::Json, now, now);
    req.usernames = vec!["ana".into()];
    let done = finished(&hub, ana, &hub.request_export(ana, req).await.unwrap()).await;
    let all = entries(&hub, ana, &done).await;
    let texts = |name: String| -> Vec<String> {
        let messages: Vec<JsonMessage> = serde_json::from_slice(entry(&all, &name)).unwrap();
        messages.into_iter().map(|m| m.text).collect()
    };
    assert_eq!(texts(format!("Acme-{ws}/general/{}.json", day(now))), ["ana in general"]);
    assert_eq!(texts(format!("Acme-{ws}/direct-{}/{}.json", dm.id, day(now))), ["bob to ana"]);
    assert_eq!(done.user_ids, [ana]);
}

/// An export stopped after two of its days is finished by another node
/// (once the first's claim lapsed) into the same archive as one written at once.
async fn a_stopped_export_is_finished_by_another_node_as_if_never_stopped(db: &TestDb) {
    let first = db.hub().await;
    let ana = user(&first, "ana").await;
    let (_, general) = workspace(&first, ana, false).await;
    for days_ago in 1..=5 {
        let bodies: Vec<String> = (0..3).map(|i| format!("day -{days_ago}, message {i}")).collect();
        let bodies: Vec<&str> = bodies.iter().map(String::as_str).collect();
        posted_earlier(&first, general, ana, days_ago, &bodies).await;
    }
    let now = domain::now_ms();
    let req = request(ExportFormat::Json, now - 6 * DAY_MS, now);

    let whole = first.request_export(ana, req.clone()).await.unwrap();
    let whole = finished(&first, ana, &whole).await;
    let stopped = first.request_export(ana, req).await.unwrap();
    assert_eq!(first.run_exports(now, Some(2)).await.unwrap(), ExportOutcome::Unfinished(stopped.id));
    let midway = first.compliance_export(ana, stopped.id).await.unwrap();
    assert_eq!((midway.state.as_str(), midway.messages), ("running", 6));

    let second = db.hub().await;
    assert_eq!(
        second.run_exports(now, None).await.unwrap(),
        ExportOutcome::Idle,
        "the first node's claim holds"
    );
    // The first node's claim was renewed when it stopped (at its clock's now).
    let later = domain::now_ms() + LEASE_MS + 1;
    assert_eq!(
        second.run_exports(later, None).await.unwrap(),
        ExportOutcome::Finished { id: stopped.id, failed: false }
    );
    let resumed = second.compliance_export(ana, stopped.id).await.unwrap();
    assert_eq!((resumed.messages, resumed.state.as_str()), (15, "done"));
    let days = |all: Vec<(String, Vec<u8>)>| -> Vec<(String, Vec<u8>)> {
        all.into_iter().filter(|(n, _)| !n.ends_with("export.json")).collect()
    };
    assert_eq!(days(entries(&second, ana, &resumed).await), days(entries(&first, ana, &whole).await));
}

/// A channel whose id follows the last one's by one (made in the same
/// millisecond) is exported from its first day too.
async fn channels_with_neighbouring_ids_are_all_exported(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    let next = domain::model::Channel {
        id: Id(general.0 + 1),
        ..domain::model::Channel::new(ws, "next".into(), domain::model::ChannelKind::Text, ana)
    };
    hub.store().create_channel(&next, &[ana], &[]).await.unwrap();
    posted_earlier(&hub, general, ana, 2, &["in general"]).await;
    posted_earlier(&hub, next.id, ana, 2, &["in next"]).await;
    let now = domain::now_ms();

    let export = hub.request_export(ana, request(ExportFormat::Csv, now - 2 * DAY_MS, now)).await.unwrap();
    let done = finished(&hub, ana, &export).await;
    assert_eq!(done.messages, 2);
    let all = entries(&hub, ana, &done).await;
    entry(&all, &format!("Acme-{ws}/next/{}.csv", day(now - 2 * DAY_MS)));
}

/// The daily export writes yesterday once, even after it is deleted.
async fn the_daily_export_writes_the_day_before_once(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    posted_earlier(&hub, general, ana, 1, &["yesterday"]).await;
    hub.set_daily_export(ana, Some(ExportFormat::Csv)).await.unwrap();
    assert_eq!(hub.daily_export(ana).await.unwrap(), Some(ExportFormat::Csv));
    let now = domain::now_ms();

    let outcome = hub.run_exports(now, None).await.unwrap();
    let exports = hub.compliance_exports(ana).await.unwrap();
    assert_eq!(exports.len(), 1);
    let daily = &exports[0];
    assert_eq!(outcome, ExportOutcome::Finished { id: daily.id, failed: false });
    assert!(daily.daily);
    assert_eq!(
        (daily.from.clone(), daily.to.clone(), daily.messages),
        (day(now - DAY_MS), day(now - DAY_MS), 1)
    );
    assert_eq!(hub.run_exports(now, None).await.unwrap(), ExportOutcome::Idle);
    hub.delete_export(ana, daily.id).await.unwrap();
    assert_eq!(hub.run_exports(now, None).await.unwrap(), ExportOutcome::Idle);
    assert!(hub.compliance_exports(ana).await.unwrap().is_empty(), "a deleted day is not made again");
}

/// Deleting an export removes its archive, and it is audited.
async fn deleting_an_export_removes_its_archive(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    hub.post_message(ana, general, "hello", None).await.unwrap();
    let now = domain::now_ms();
    let done =
        finished(&hub, ana, &hub.request_export(ana, request(ExportFormat::Json, now, now)).await.unwrap())
            .await;
    let (path, _) = hub.export_archive(ana, done.id, true).await.unwrap();
    assert!(path.exists());
    hub.delete_export(ana, done.id).await.unwrap();
    assert!(!path.exists());
    assert_eq!(hub.compliance_export(ana, done.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    let actions: Vec<String> =
        hub.deployment_audit(ana, 10).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions[..4], ["export.delete", "export.download", "export.finish", "export.create"]);
}

/// Only deployment administrators export; bad dates are refused with a reason.
async fn only_deployment_administrators_export(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let now = domain::now_ms();
    let req = request(ExportFormat::Json, now, now);
    assert_eq!(hub.request_export(bob, req.clone()).await.unwrap_err().kind(), ErrorKind::Forbidden);
    assert_eq!(hub.compliance_exports(bob).await.unwrap_err().kind(), ErrorKind::Forbidden);
    let mut backwards = req.clone();
    backwards.from = day(now + DAY_MS);
    assert_eq!(hub.request_export(ana, backwards).await.unwrap_err().kind(), ErrorKind::Invalid);
    let mut garbled = req;
    garbled.from = "31/01/2026".into();
    assert_eq!(hub.request_export(ana, garbled).await.unwrap_err().kind(), ErrorKind::Invalid);
}

domain::both_backends! {
    a_json_export_has_a_file_per_channel_per_day => a_json_export_has_a_file_per_channel_per_day;
    a_csv_export_has_a_row_per_posted_edited_and_deleted_event => a_csv_export_has_a_row_per_posted_edited_and_deleted_event;
    an_eml_export_has_an_email_per_message => an_eml_export_has_an_email_per_message;
    a_person_limit_takes_what_they_wrote_and_their_direct_conversations => a_person_limit_takes_what_they_wrote_and_their_direct_conversations;
    a_stopped_export_is_finished_by_another_node_as_if_never_stopped => a_stopped_export_is_finished_by_another_node_as_if_never_stopped;
    the_daily_export_writes_the_day_before_once => the_daily_export_writes_the_day_before_once;
    channels_with_neighbouring_ids_are_all_exported => channels_with_neighbouring_ids_are_all_exported;
    deleting_an_export_removes_its_archive => deleting_an_export_removes_its_archive;
    only_deployment_administrators_export => only_deployment_administrators_export;
}
