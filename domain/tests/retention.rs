//! Retention and legal holds in the hub, on both backends: a policy
//! removes exactly what is old (with replies, reactions, files, search hits
//! and notifications) and nothing held; held messages keep what they said
//! when edited or deleted; a run stopped midway is finished by another
//! node without counting twice; only deployment administrators hold.

use domain::error::ErrorKind;
use domain::events::EventKind;
use domain::files::Upload;
use domain::hub::{ComplianceOptions, NewHold, Post, RETENTION_EVERY_MS, RetentionOutcome};
use domain::model::RetentionPolicy;
use domain::store::AuditFilter;
use domain::testing::TestDb;
use domain::{EventBusExt, Hub, Id};

mod common;
use common::{user, workspace};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn days(messages: i64) -> RetentionPolicy {
    RetentionPolicy { messages_days: Some(messages), files_days: None }
}

async fn upload(hub: &Hub, name: &str, bytes: &[u8]) -> Upload {
    let tmp = hub.files().temp_path().await.unwrap();
    tokio::fs::write(&tmp, bytes).await.unwrap();
    Upload { tmp, file_name: name.into(), size: bytes.len() as u64 }
}

/// Everything old in a channel with a policy goes, with what hangs on it;
/// a channel without one keeps everything; open clients are told.
async fn a_policy_removes_old_messages_and_what_hangs_on_them(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let kept = hub.create_channel(ana, ws, "kept", "", false).await.unwrap();
    let files = vec![upload(&hub, "notes.txt", b"hello").await];
    let (old, _) = hub
        .post(ana, general, Post { body: "quarterly zebra @bob", files, ..Default::default() })
        .await
        .unwrap();
    let (path, reply) = {
        let path = hub.files().path(old.attachments[0].id);
        assert!(path.exists());
        let post = Post { body: "a zebra reply", thread: Some(old.id), ..Default::default() };
        (path, hub.post(bob, general, post).await.unwrap().0)
    };
    hub.add_reaction(bob, old.id, "👍").await.unwrap();
    hub.post_message(ana, kept.id, "zebra kept forever", None).await.unwrap();
    assert!(!hub.notifications(bob, None, false).await.unwrap().is_empty(), "bob was mentioned");
    assert_eq!(hub.search(ana, "zebra", None).await.unwrap().len(), 3);
    hub.set_channel_retention(ana, general, days(30)).await.unwrap();
    let mut events = hub.bus().subscribe();

    // Nothing is 30 days old yet.
    let now = domain::now_ms();
    assert_eq!(
        hub.run_retention(now, None).await.unwrap(),
        RetentionOutcome::Finished { messages: 0, files: 0 }
    );
    // A month on (and the hour between runs passed), the old message and its reply go.
    let later = now + 31 * DAY_MS;
    assert_eq!(
        hub.run_retention(later, None).await.unwrap(),
        RetentionOutcome::Finished { messages: 2, files: 0 }
    );
    assert!(hub.messages(ana, general, None, 10).await.unwrap().messages.is_empty());
    assert_eq!(hub.messages(ana, kept.id, None, 10).await.unwrap().messages.len(), 1);
    assert_eq!(hub.search(ana, "zebra", None).await.unwrap().len(), 1, "only the kept channel's");
    let notes = hub.notifications(bob, None, false).await.unwrap();
    assert!(notes.iter().all(|n| n.message_id != Some(old.id)), "the mention's notification went");
    assert!(!path.exists(), "the attachment's file is deleted");
    let purged: Vec<Id> = events
        .drain_now()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::MessagesPurged { channel_id, message_ids, .. } if *channel_id == general => {
                Some(message_ids.clone())
            }
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(purged, vec![old.id, reply.id], "open clients hear of both");
    let audit = hub.audit_log(ana, ws, &AuditFilter::default()).await.unwrap();
    let entry = audit.iter().find(|e| e.action == "retention.purge").expect("the run is audited");
    assert!(entry.summary.contains("2 messages"), "{}", entry.summary);
}

/// A file policy removes old attachments and keeps their messages.
async fn a_file_policy_keeps_the_messages(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    let files = vec![upload(&hub, "old.txt", b"old").await];
    let (msg, _) =
        hub.post(ana, general, Post { body: "see file", files, ..Default::default() }).await.unwrap();
    let path = hub.files().path(msg.attachments[0].id);
    assert!(path.exists());
    let policy = RetentionPolicy { messages_days: None, files_days: Some(7) };
    hub.set_workspace_retention(ana, ws, policy).await.unwrap();
    let outcome = hub.run_retention(domain::now_ms() + 8 * DAY_MS, None).await.unwrap();
    assert_eq!(outcome, RetentionOutcome::Finished { messages: 0, files: 1 });
    let page = hub.messages(ana, general, None, 10).await.unwrap();
    assert_eq!(page.messages.len(), 1);
    assert!(page.messages[0].attachments.is_empty());
    assert!(!path.exists());
}

/// Held messages survive retention and keep what they said when edited or
/// deleted; released, they follow the policy again.
async fn held_messages_survive_retention_and_keep_their_versions(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await; // the first account: a deployment administrator
    let bob = user(&hub, "bob").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let hold = NewHold {
        name: "Case 12".into(),
        reason: "Litigation".into(),
        users: vec![bob],
        ..Default::default()
    };
    let hold = hub.create_hold(ana, hold).await.unwrap();
    let (held, _) = hub.post_message(bob, general, "the original words", None).await.unwrap();
    hub.post_message(ana, general, "not held", None).await.unwrap();
    hub.edit_message(bob, held.id, "changed words").await.unwrap();
    hub.delete_message(bob, held.id).await.unwrap();
    assert!(hub.messages(ana, general, None, 10).await.unwrap().messages.iter().all(|m| m.id != held.id));
    let versions = hub.message_versions(ana, held.id).await.unwrap();
    let kept: Vec<(&str, &str)> = versions.iter().map(|(b, c, _)| (b.as_str(), c.as_str())).collect();
    assert_eq!(kept, vec![("the original words", "edited"), ("changed words", "deleted")]);

    hub.set_channel_retention(ana, general, days(1)).await.unwrap();
    let at = domain::now_ms() + 2 * DAY_MS;
    assert_eq!(
        hub.run_retention(at, None).await.unwrap(),
        RetentionOutcome::Finished { messages: 1, files: 0 }
    );
    assert_eq!(hub.message_versions(ana, held.id).await.unwrap().len(), 2, "held: kept");
    hub.release_hold(ana, hold.id).await.unwrap();
    let next = at + RETENTION_EVERY_MS;
    assert_eq!(
        hub.run_retention(next, None).await.unwrap(),
        RetentionOutcome::Finished { messages: 1, files: 0 }
    );
    assert!(
        hub.message_versions(ana, held.id).await.unwrap().is_empty(),
        "released: purged with its versions"
    );
    let log = hub.deployment_audit(ana, 50).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"hold.create") && actions.contains(&"hold.release"), "{actions:?}");
    assert_eq!(hub.release_hold(ana, hold.id).await.unwrap_err().kind(), ErrorKind::Conflict);
}

/// Without a hold or archiving, deleted means deleted.
async fn without_a_hold_nothing_is_kept(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    let (msg, _) = hub.post_message(ana, general, "gone for good", None).await.unwrap();
    hub.edit_message(ana, msg.id, "edited").await.unwrap();
    hub.delete_message(ana, msg.id).await.unwrap();
    assert!(hub.message_versions(ana, msg.id).await.unwrap().is_empty());
    // With compliance archiving on, the next ones are kept.
    hub.set_compliance_archive(ana, true).await.unwrap();
    let (msg, _) = hub.post_message(ana, general, "archived", None).await.unwrap();
    hub.delete_message(ana, msg.id).await.unwrap();
    assert_eq!(hub.message_versions(ana, msg.id).await.unwrap().len(), 1);
}

/// A run stopped after one batch (a restart) is finished by another node,
/// and its counts are audited once.
async fn a_stopped_run_is_finished_by_another_node(db: &TestDb) {
    let first = db.hub().await;
    let ana = user(&first, "ana").await;
    let (ws, general) = workspace(&first, ana, false).await;
    let other = first.create_channel(ana, ws, "other", "", false).await.unwrap();
    for n in 0..3 {
        first.post_message(ana, general, &format!("general {n}"), None).await.unwrap();
        first.post_message(ana, other.id, &format!("other {n}"), None).await.unwrap();
    }
    first.set_workspace_retention(ana, ws, days(30)).await.unwrap();
    let at = domain::now_ms() + 31 * DAY_MS;
    assert_eq!(first.run_retention(at, Some(1)).await.unwrap(), RetentionOutcome::Unfinished);

    let second = db.hub().await;
    // While the first node's claim lasts, the second leaves the run alone.
    assert_eq!(second.run_retention(at + 1000, None).await.unwrap(), RetentionOutcome::Idle);
    let lapsed = at + 6 * 60 * 1000;
    assert_eq!(
        second.run_retention(lapsed, None).await.unwrap(),
        RetentionOutcome::Finished { messages: 6, files: 0 }
    );
    let audit = second.audit_log(ana, ws, &AuditFilter::default()).await.unwrap();
    let runs: Vec<&str> =
        audit.iter().filter(|e| e.action == "retention.purge").map(|e| e.summary.as_str()).collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(runs[0].contains("6 messages") && runs[0].contains("#general: 3 messages"), "{}", runs[0]);
    assert!(second.messages(ana, other.id, None, 10).await.unwrap().messages.is_empty());
}

/// A channel with held messages (a person's hold, or the channel's own)
/// cannot be deleted until the hold is released.
async fn a_channel_with_held_messages_is_not_deleted(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, _) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let talk = hub.create_channel(ana, ws, "talk", "", false).await.unwrap().id;
    let quiet = hub.create_channel(ana, ws, "quiet", "", false).await.unwrap().id;
    hub.join_channel(bob, talk).await.unwrap();
    hub.post_message(bob, talk, "held words", None).await.unwrap();
    let on_bob =
        NewHold { name: "Case 3".into(), reason: "Audit".into(), users: vec![bob], ..Default::default() };
    let hold = hub.create_hold(ana, on_bob).await.unwrap();
    let refused = hub.delete_channel(ana, talk).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Conflict);
    assert!(refused.to_string().contains("legal hold"), "{refused}");
    hub.release_hold(ana, hold.id).await.unwrap();
    hub.delete_channel(ana, talk).await.unwrap();

    let on_quiet = NewHold {
        name: "Case 4".into(),
        reason: "Audit".into(),
        channels: vec![quiet],
        ..Default::default()
    };
    hub.create_hold(ana, on_quiet).await.unwrap();
    assert_eq!(hub.delete_channel(ana, quiet).await.unwrap_err().kind(), ErrorKind::Conflict);
}

/// Only deployment administrators hold or set the deployment's policy;
/// the configuration may name more of them.
async fn only_deployment_administrators_hold(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    assert!(hub.is_deployment_admin(ana).await.unwrap(), "the first account");
    assert!(!hub.is_deployment_admin(bob).await.unwrap());
    let hold = NewHold { name: "x".into(), reason: "y".into(), users: vec![ana], ..Default::default() };
    assert_eq!(hub.create_hold(bob, hold.clone()).await.unwrap_err().kind(), ErrorKind::Forbidden);
    assert_eq!(hub.set_deployment_retention(bob, days(30)).await.unwrap_err().kind(), ErrorKind::Forbidden);
    assert_eq!(hub.holds(bob).await.unwrap_err().kind(), ErrorKind::Forbidden);
    assert_eq!(hub.set_deployment_retention(ana, days(-1)).await.unwrap_err().kind(), ErrorKind::Invalid);
    hub.set_deployment_retention(ana, days(90)).await.unwrap();
    assert_eq!(hub.deployment_retention(ana).await.unwrap().effective(), days(90));

    let named = db
        .hub()
        .await
        .with_compliance(ComplianceOptions { admins: vec!["BOB".into()], ..Default::default() });
    named.create_hold(bob, hold).await.unwrap();
    assert_eq!(named.holds(bob).await.unwrap().len(), 1);
    // A workspace member who does not manage it cannot set its retention.
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let err = hub.set_channel_retention(bob, general, days(1)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let view = hub.channel_retention(bob, general).await.unwrap();
    assert_eq!((view.own, view.effective, view.may_change), (RetentionPolicy::default(), days(90), false));
}

domain::both_backends! {
    a_policy_removes_old_messages_and_what_hangs_on_them => a_policy_removes_old_messages_and_what_hangs_on_them;
    a_file_policy_keeps_the_messages => a_file_policy_keeps_the_messages;
    held_messages_survive_retention_and_keep_their_versions => held_messages_survive_retention_and_keep_their_versions;
    without_a_hold_nothing_is_kept => without_a_hold_nothing_is_kept;
    a_stopped_run_is_finished_by_another_node => a_stopped_run_is_finished_by_another_node;
    only_deployment_administrators_hold => only_deployment_administrators_hold;
    a_channel_with_held_messages_is_not_deleted => a_channel_with_held_messages_is_not_deleted;
}
