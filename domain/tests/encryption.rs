//! Encryption at rest, on both backends: message text, its kept versions,
//! the event log and attachments' files are stored encrypted (read here
//! straight from the database and the disk) and read back in the clear; a rotated key re-encrypts
//! everything while what older keys encrypted stays readable; rows from
//! before encryption are encrypted too; a store refuses keys that cannot
//! read its data. Sensitive channels stay out of search and notifications.

use domain::crypto::{KeyId, Keyring};
use domain::events::EventKind;
use domain::files::Upload;
use domain::hub::{ChannelSettings, NewChannel, Post};
use domain::model::ChannelKind;
use domain::testing::TestDb;
use domain::{Hub, Id};

mod common;
use common::{user, workspace};

/// The database itself, to see what is stored.
async fn raw(db: &TestDb) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(&db.url).await.unwrap()
}

/// A message's body, rendered HTML and key as stored.
async fn stored(pool: &sqlx::AnyPool, id: Id) -> (String, String, i64) {
    sqlx::query_as("SELECT body, body_html, sealed_with FROM messages WHERE id = $1")
        .bind(id.0)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The keys of the messages stored, each once.
async fn keys_in_use(pool: &sqlx::AnyPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT DISTINCT sealed_with FROM messages WHERE body <> '' ORDER BY sealed_with")
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn found(hub: &Hub, who: Id, query: &str) -> Vec<String> {
    hub.search(who, query, None).await.unwrap().into_iter().map(|h| h.message.body).collect()
}

async fn message_text_is_stored_encrypted_and_read_in_the_clear(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    let (msg, _) = hub.post_message(ana, general, "the **merger** closes friday", None).await.unwrap();

    let (body, html, with) = stored(&raw(db).await, msg.id).await;
    assert!(!body.contains("merger") && !html.contains("merger"), "{body} / {html}");
    assert_eq!(KeyId(with), hub.store().keys().current());
    let page = hub.messages(ana, general, None, 10).await.unwrap();
    assert_eq!(page.messages[0].body, "the **merger** closes friday");
    assert!(page.messages[0].html.contains("<strong>merger</strong>"), "{}", page.messages[0].html);
    assert_eq!(found(&hub, ana, "merger").await, ["the **merger** closes friday"]);
}

async fn edits_and_kept_versions_are_encrypted(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    hub.set_compliance_archive(ana, true).await.unwrap();
    let (msg, _) = hub.post_message(ana, general, "first draft", None).await.unwrap();
    hub.edit_message(ana, msg.id, "second draft").await.unwrap();

    let pool = raw(db).await;
    let (body, _, _) = stored(&pool, msg.id).await;
    assert!(!body.contains("draft"), "{body}");
    let kept: Vec<(String, i64)> =
        sqlx::query_as("SELECT body, sealed_with FROM message_versions WHERE message_id = $1")
            .bind(msg.id.0)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(kept.len(), 1);
    assert!(!kept[0].0.contains("draft") && kept[0].1 != 0, "{kept:?}");
    let versions = hub.message_versions(ana, msg.id).await.unwrap();
    assert_eq!(versions[0].0, "first draft");
    assert_eq!(hub.store().message(msg.id).await.unwrap().unwrap().body, "second draft");
    assert_eq!(found(&hub, ana, "second").await, ["second draft"]);
    assert!(found(&hub, ana, "first").await.is_empty(), "search reads the message as it is now");
}

async fn event_log_entries_are_encrypted(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    let from = hub.event_position().await.unwrap();
    hub.post_message(ana, general, "logged in secret", None).await.unwrap();

    let bodies: Vec<String> =
        sqlx::query_scalar("SELECT body FROM events").fetch_all(&raw(db).await).await.unwrap();
    assert!(!bodies.is_empty() && bodies.iter().all(|b| !b.contains("secret")), "{bodies:?}");
    let replayed = hub.events_after(from).await.unwrap();
    let posted = replayed.iter().find_map(|e| match &e.kind {
        EventKind::MessageCreated(m) => Some(m.body.clone()),
        _ => None,
    });
    assert_eq!(posted.as_deref(), Some("logged in secret"));
}

/// A new key seals from the moment it is taken up; what the old one
/// sealed reads meanwhile, and re-sealing moves everything to the new one.
async fn a_rotated_key_reencrypts_everything_while_old_rows_stay_readable(db: &TestDb) {
    let before = db.hub_with(Keyring::for_tests(&[1])).await;
    let ana = user(&before, "ana").await;
    let (_, general) = workspace(&before, ana, false).await;
    before.set_compliance_archive(ana, true).await.unwrap();
    let (old, _) = before.post_message(ana, general, "under the old key", None).await.unwrap();
    before.edit_message(ana, old.id, "edited under the old key").await.unwrap();
    let old_key = before.store().keys().current().0;

    let after = db.hub_with(Keyring::for_tests(&[2, 1])).await;
    let new_key = after.store().keys().current().0;
    let (new, _) = after.post_message(ana, general, "under the new key", None).await.unwrap();
    let pool = raw(db).await;
    assert_eq!(keys_in_use(&pool).await, {
        let mut both = vec![old_key, new_key];
        both.sort();
        both
    });
    assert_eq!(after.store().message(old.id).await.unwrap().unwrap().body, "edited under the old key");

    assert!(after.reseal().await.unwrap() >= 2, "the message, its kept version and events");
    assert_eq!(keys_in_use(&pool).await, [new_key]);
    assert_eq!(after.reseal().await.unwrap(), 0, "nothing is left for another pass");
    let only_new = db.hub_with(Keyring::for_tests(&[2])).await;
    assert_eq!(only_new.store().message(old.id).await.unwrap().unwrap().body, "edited under the old key");
    assert_eq!(only_new.store().message(new.id).await.unwrap().unwrap().body, "under the new key");
    assert_eq!(only_new.message_versions(ana, old.id).await.unwrap()[0].0, "under the old key");
    assert_eq!(found(&only_new, ana, "old key").await, ["edited under the old key"]);
}

/// Rows written before encryption (in the clear) read as they are, and
/// re-sealing encrypts them.
async fn rows_from_before_encryption_are_encrypted_by_resealing(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    let (msg, _) = hub.post_message(ana, general, "placeholder", None).await.unwrap();
    let pool = raw(db).await;
    sqlx::query(
        "UPDATE messages SET body = 'written in the clear', body_html = '', sealed_with = 0 WHERE id = $1",
    )
    .bind(msg.id.0)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM deployment_settings WHERE name = 'encryption_resealed_with'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(hub.store().message(msg.id).await.unwrap().unwrap().body, "written in the clear");

    assert!(hub.reseal().await.unwrap() >= 1);
    let (body, _, with) = stored(&pool, msg.id).await;
    assert!(!body.contains("clear") && KeyId(with) == hub.store().keys().current(), "{body} {with}");
    let read = hub.store().message(msg.id).await.unwrap().unwrap();
    assert_eq!(
        (read.body.as_str(), read.html.as_str()),
        ("written in the clear", "<p>written in the clear</p>\n")
    );
}

/// Keys that lack the one the database records cannot open it, and say
/// which key is missing.
async fn a_store_refuses_keys_that_cannot_read_it(db: &TestDb) {
    let first = db.store_with(Keyring::for_tests(&[1])).await;
    let recorded = first.keys().current();
    let err = domain::Store::open(&db.url, Keyring::for_tests(&[3])).await.unwrap_err();
    assert!(err.to_string().contains(&recorded.to_string()), "{err}");
    assert!(err.to_string().contains("PARLEY_ENCRYPTION_KEY"), "{err}");
    // With the recorded key among them, they open it (and the newest seals).
    let both = domain::Store::open(&db.url, Keyring::for_tests(&[3, 1])).await.unwrap();
    assert_eq!(both.recorded_key().await.unwrap(), Some(both.keys().current()));
}

/// A key added to the key file while a server runs (`parley rotate-key`)
/// is taken up by that server, which then re-seals with it.
async fn a_key_added_to_the_key_file_is_taken_up_while_running(db: &TestDb) {
    let dir = domain::testing::TempDir::new("parley-keys");
    let running = db.hub_with(Keyring::load(None, &dir.0).unwrap()).await;
    let ana = user(&running, "ana").await;
    let (_, general) = workspace(&running, ana, false).await;
    let (msg, _) = running.post_message(ana, general, "before the rotation", None).await.unwrap();
    assert_eq!(running.follow_key_rotation().await.unwrap(), None, "nothing changed");

    // What `parley rotate-key` does: a new key first in the file, recorded.
    let added = domain::crypto::add_key_to_file(&dir.0).unwrap();
    db.store_with(Keyring::load(None, &dir.0).unwrap()).await;

    assert_eq!(running.follow_key_rotation().await.unwrap(), Some(added));
    assert_eq!(running.store().keys().current(), added);
    running.reseal().await.unwrap();
    assert_eq!(stored(&raw(db).await, msg.id).await.2, added.0);
    assert_eq!(running.store().message(msg.id).await.unwrap().unwrap().body, "before the rotation");
}

/// An attachment's file is stored encrypted (and its upload gone), reads
/// back in the clear, and is encrypted again with a rotated key; one kept
/// before encryption reads as it is until re-sealing encrypts it.
async fn attachments_are_stored_encrypted_and_reencrypted_after_rotation(db: &TestDb) {
    let before = db.hub_with(Keyring::for_tests(&[1])).await;
    let ana = user(&before, "ana").await;
    let (_, general) = workspace(&before, ana, false).await;
    let tmp = before.files().temp_path().await.unwrap();
    let clear = b"minutes of the board meeting".repeat(5000);
    tokio::fs::write(&tmp, &clear).await.unwrap();
    let files = vec![Upload { tmp: tmp.clone(), file_name: "minutes.txt".into(), size: clear.len() as u64 }];
    let (msg, _) =
        before.post(ana, general, Post { body: "the minutes", files, ..Default::default() }).await.unwrap();
    let id = msg.attachments[0].id;
    assert!(!tmp.exists(), "the upload is removed once kept");

    let on_disk = tokio::fs::read(before.files().path(id)).await.unwrap();
    assert!(!on_disk.windows(5).any(|w| w == b"board"), "the file is stored encrypted");
    let (_, opened) = before.attachment(ana, id).await.unwrap();
    assert_eq!(opened.key(), before.store().keys().current());
    assert_eq!(opened.read_to_end().await.unwrap(), clear);

    let after = db.hub_with(Keyring::for_tests(&[2, 1])).await;
    after.reseal().await.unwrap();
    let (_, opened) = after.attachment(ana, id).await.unwrap();
    assert_eq!(opened.key(), after.store().keys().current());
    let only_new = db.hub_with(Keyring::for_tests(&[2])).await;
    assert_eq!(only_new.attachment(ana, id).await.unwrap().1.read_to_end().await.unwrap(), clear);

    // A file from before encryption.
    tokio::fs::write(only_new.files().path(id), b"kept in the clear").await.unwrap();
    sqlx::query("DELETE FROM deployment_settings WHERE name = 'encryption_resealed_with'")
        .execute(&raw(db).await)
        .await
        .unwrap();
    let (_, opened) = only_new.attachment(ana, id).await.unwrap();
    assert_eq!(
        (opened.key(), opened.read_to_end().await.unwrap()),
        (KeyId::CLEAR, b"kept in the clear".to_vec())
    );
    assert_eq!(only_new.reseal().await.unwrap(), 1);
    let (_, opened) = only_new.attachment(ana, id).await.unwrap();
    assert_eq!(opened.key(), only_new.store().keys().current());
    assert_eq!(opened.read_to_end().await.unwrap(), b"kept in the clear");
}

async fn sensitive_channel(hub: &Hub, owner: Id, ws: Id) -> Id {
    let mut new = NewChannel::text("legal", "", false);
    new.sensitive = true;
    hub.create_channel_with(owner, ws, new).await.unwrap().id
}

fn settings(sensitive: bool) -> ChannelSettings {
    ChannelSettings {
        kind: ChannelKind::Text,
        is_private: false,
        is_external: false,
        auto_join: false,
        archived: false,
        sensitive,
        user_limit: 0,
    }
}

/// A sensitive channel's messages are not found by search (nor is their
/// text stored for it); making it ordinary brings them back, and sensitive
/// again takes them out.
async fn sensitive_channels_are_kept_out_of_search(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    let legal = sensitive_channel(&hub, ana, ws).await;
    let (msg, _) = hub.post_message(ana, legal, "quarterly settlement", None).await.unwrap();
    hub.post_message(ana, general, "quarterly picnic", None).await.unwrap();

    assert_eq!(found(&hub, ana, "quarterly").await, ["quarterly picnic"]);
    let pool = raw(db).await;
    let search_text: String = sqlx::query_scalar("SELECT search_text FROM messages WHERE id = $1")
        .bind(msg.id.0)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(search_text, "");
    if hub.store().backend() == domain::Backend::Postgres {
        let learned: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM search_words WHERE word = 'settlement'")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(learned, 0, "the search vocabulary does not learn a sensitive channel's words");
    }
    // Edits stay out too.
    hub.edit_message(ana, msg.id, "quarterly settlement, revised").await.unwrap();
    assert_eq!(found(&hub, ana, "revised").await, Vec::<String>::new());

    hub.configure_channel(ana, legal, settings(false)).await.unwrap();
    assert_eq!(found(&hub, ana, "settlement").await, ["quarterly settlement, revised"]);
    hub.configure_channel(ana, legal, settings(true)).await.unwrap();
    assert!(found(&hub, ana, "settlement").await.is_empty());
    assert!(hub.channel(ana, legal).await.unwrap().channel.sensitive);
}

/// A mention in a sensitive channel notifies without quoting the message.
async fn notifications_do_not_quote_sensitive_channels(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    let invite = hub.create_invite(ana, ws, None, Default::default()).await.unwrap();
    hub.accept_invite(bob, &invite.code).await.unwrap();
    let legal = sensitive_channel(&hub, ana, ws).await;
    hub.add_channel_member(ana, legal, "bob").await.unwrap();
    hub.post_message(ana, legal, "@bob the settlement figure is 4M", None).await.unwrap();
    hub.post_message(ana, general, "@bob lunch?", None).await.unwrap();

    let told = hub.notifications(bob, None, false).await.unwrap();
    let contents: Vec<&str> = told.iter().map(|n| n.content.as_str()).collect();
    assert_eq!(contents.len(), 2, "{contents:?}");
    assert!(contents.contains(&"@bob lunch?"), "{contents:?}");
    assert!(contents.iter().all(|c| !c.contains("settlement")), "{contents:?}");
    assert!(contents.iter().any(|c| c.contains("#legal is a sensitive channel")), "{contents:?}");
}

domain::both_backends! {
    message_text_is_stored_encrypted_and_read_in_the_clear => message_text_is_stored_encrypted_and_read_in_the_clear;
    edits_and_kept_versions_are_encrypted => edits_and_kept_versions_are_encrypted;
    event_log_entries_are_encrypted => event_log_entries_are_encrypted;
    a_rotated_key_reencrypts_everything_while_old_rows_stay_readable => a_rotated_key_reencrypts_everything_while_old_rows_stay_readable;
    rows_from_before_encryption_are_encrypted_by_resealing => rows_from_before_encryption_are_encrypted_by_resealing;
    a_store_refuses_keys_that_cannot_read_it => a_store_refuses_keys_that_cannot_read_it;
    a_key_added_to_the_key_file_is_taken_up_while_running => a_key_added_to_the_key_file_is_taken_up_while_running;
    attachments_are_stored_encrypted_and_reencrypted_after_rotation => attachments_are_stored_encrypted_and_reencrypted_after_rotation;
    sensitive_channels_are_kept_out_of_search => sensitive_channels_are_kept_out_of_search;
    notifications_do_not_quote_sensitive_channels => notifications_do_not_quote_sensitive_channels;
}
