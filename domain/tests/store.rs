//! The store and the hub on both backends: every case runs on SQLite and on PostgreSQL.

use domain::events::{Audience, EventKind};
use domain::hub::Signup;
use domain::testing::TestDb;
use domain::{ErrorKind, EventBusExt, Id};

mod common;
use common::{hub, user, workspace};

async fn accounts(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let again = hub
        .signup(
            Signup {
                username: "ANA".into(),
                email: "other@example.com".into(),
                password: "long enough".into(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!((again.kind(), again.field()), (ErrorKind::Conflict, Some("username")));
    let same_mail = hub
        .signup(
            Signup {
                username: "bob".into(),
                email: "Ana@Example.com".into(),
                password: "long enough".into(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!((same_mail.kind(), same_mail.field()), (ErrorKind::Conflict, Some("email")));

    assert_eq!(hub.login("Ana", "correct horse battery", None).await.unwrap().id, ana);
    assert_eq!(
        hub.login("ana", "wrong password", None).await.unwrap_err().kind(),
        ErrorKind::Unauthenticated
    );
    assert_eq!(
        hub.login("nobody", "wrong password", None).await.unwrap_err().kind(),
        ErrorKind::Unauthenticated
    );

    let token = hub.issue_token(ana).await.unwrap();
    assert_eq!(hub.user_for_token(&token).await.unwrap().unwrap().id, ana);
    hub.sign_out(Some(&token), None).await.unwrap();
    assert!(hub.user_for_token(&token).await.unwrap().is_none());
}

async fn sessions(db: &TestDb) {
    let store = db.store().await;
    let now = domain::now_ms();
    assert!(store.create_session("s1", "{}", now + 60_000, None).await.unwrap());
    assert!(!store.create_session("s1", "{}", now + 60_000, None).await.unwrap(), "ids are unique");
    store.save_session("s1", r#"{"user":1}"#, now + 60_000, None).await.unwrap();
    assert_eq!(store.load_session("s1", now).await.unwrap().unwrap().0, r#"{"user":1}"#);
    store.save_session("old", "{}", now - 1, None).await.unwrap();
    assert!(store.load_session("old", now).await.unwrap().is_none(), "expired sessions do not load");
    assert_eq!(store.delete_expired_sessions(now).await.unwrap(), 1);
    store.delete_session("s1").await.unwrap();
    assert!(store.load_session("s1", now).await.unwrap().is_none());
}

async fn workspaces_and_invites(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, general) = workspace(&hub, ana, true).await;

    // Private: not discoverable, not joinable openly, invisible to outsiders.
    assert!(hub.discover_workspaces(bob).await.unwrap().is_empty());
    assert_eq!(hub.join_workspace(bob, ws).await.unwrap_err().kind(), ErrorKind::Forbidden);
    assert_eq!(hub.channels(bob, ws).await.unwrap_err().kind(), ErrorKind::NotFound);

    let secret = hub.create_channel(ana, ws, "Secret Plans", "", true).await.unwrap();
    assert_eq!(secret.name, "secret-plans");
    let dup = hub.create_channel(ana, ws, "secret-plans", "", false).await.unwrap_err();
    assert_eq!((dup.kind(), dup.field()), (ErrorKind::Conflict, Some("name")));

    let invite = hub.create_invite(ana, ws, Some(secret.id), Default::default()).await.unwrap();
    let (w, opened) = hub.accept_invite(bob, &invite.code).await.unwrap();
    assert_eq!((w.id, opened.id), (ws, secret.id));
    let names: Vec<String> =
        hub.members(bob, ws).await.unwrap().into_iter().map(|m| m.user.username).collect();
    assert_eq!(names, ["ana", "bob"]);
    let listing = hub.channels(bob, ws).await.unwrap();
    assert!(listing.iter().all(|l| l.is_member), "bob joined #general (auto-join) and the invite's channel");
    assert_eq!(listing.len(), 2);
    assert_eq!(hub.first_channel(bob, ws).await.unwrap().id, general);

    // Owner cannot leave; a member can, and loses the private channel.
    assert_eq!(hub.leave_workspace(ana, ws).await.unwrap_err().kind(), ErrorKind::Forbidden);
    hub.leave_workspace(bob, ws).await.unwrap();
    assert_eq!(hub.channel(bob, secret.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert!(hub.store().channel_ids_of(bob).await.unwrap().is_empty());

    // Public workspaces are listed and joinable.
    let (public, _) = workspace(&hub, ana, false).await;
    let found: Vec<Id> = hub.discover_workspaces(bob).await.unwrap().into_iter().map(|w| w.id).collect();
    assert_eq!(found, [public]);
    hub.join_workspace(bob, public).await.unwrap();
    assert!(hub.discover_workspaces(bob).await.unwrap().is_empty());
    assert_eq!(hub.my_workspaces(bob).await.unwrap().len(), 1);

    assert_eq!(hub.accept_invite(bob, "nosuchcode").await.unwrap_err().kind(), ErrorKind::NotFound);
}

async fn private_channels(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, _) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let secret = hub.create_channel(ana, ws, "secret", "", true).await.unwrap();
    let open = hub.create_channel(ana, ws, "open", "", false).await.unwrap();

    let seen: Vec<String> =
        hub.channels(bob, ws).await.unwrap().into_iter().map(|l| l.channel.name).collect();
    assert_eq!(seen, ["general", "open"], "bob does not see the private channel");
    assert_eq!(hub.join_channel(bob, secret.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(hub.messages(bob, secret.id, None, 50).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(hub.post_message(bob, open.id, "hi", None).await.unwrap_err().kind(), ErrorKind::Forbidden);
    hub.join_channel(bob, open.id).await.unwrap();
    hub.post_message(bob, open.id, "hi", None).await.unwrap();

    let nobody = hub.add_channel_member(ana, secret.id, "carol").await.unwrap_err();
    assert_eq!(nobody.field(), Some("username"));
    assert_eq!(hub.add_channel_member(bob, secret.id, "bob").await.unwrap_err().kind(), ErrorKind::NotFound);
    hub.add_channel_member(ana, secret.id, "@Bob").await.unwrap();
    assert!(hub.channel(bob, secret.id).await.unwrap().is_member);
    hub.leave_channel(bob, secret.id).await.unwrap();
    assert_eq!(hub.channel(bob, secret.id).await.unwrap_err().kind(), ErrorKind::NotFound);
}

async fn messages_and_pagination(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    for i in 0..25 {
        hub.post_message(ana, general, &format!("message {i}"), None).await.unwrap();
    }
    let first = hub.messages(ana, general, None, 10).await.unwrap();
    let bodies: Vec<&str> = first.messages.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies[0], "message 24");
    assert_eq!(bodies[9], "message 15");
    let mut all = first.messages.clone();
    let mut cursor = first.next_before;
    while let Some(before) = cursor {
        let page = hub.messages(ana, general, Some(before), 10).await.unwrap();
        all.extend(page.messages);
        cursor = page.next_before;
    }
    assert_eq!(all.len(), 25);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first, no repeats");
    assert_eq!(all[24].body, "message 0");
    assert_eq!(all[0].author.display_name, "ana Display");

    let empty = hub.post_message(ana, general, "  \n ", None).await.unwrap_err();
    assert_eq!(empty.field(), Some("body"));
    let long = hub.post_message(ana, general, &"x".repeat(4001), None).await.unwrap_err();
    assert_eq!(long.field(), Some("body"));
    hub.post_message(ana, general, &"x".repeat(4000), None).await.unwrap();
}

async fn nonce_makes_posting_idempotent(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let mut events = hub.bus().subscribe();

    let (first, created) = hub.post_message(ana, general, "once", Some("n-1")).await.unwrap();
    assert!(created);
    let (again, created) = hub.post_message(ana, general, "once, retried", Some("n-1")).await.unwrap();
    assert_eq!((&again, created), (&first, false), "the same author and nonce return the first message");
    let (other, created) = hub.post_message(bob, general, "bob's", Some("n-1")).await.unwrap();
    assert!(created, "nonces are per author");
    assert_ne!(other.id, first.id);
    assert_eq!(hub.messages(ana, general, None, 50).await.unwrap().messages.len(), 2);

    let created: Vec<Id> = events
        .drain_now()
        .into_iter()
        .filter_map(|e| match (&e.audience, &e.kind) {
            (Audience::Channel(c), EventKind::MessageCreated(m)) if *c == general => Some(m.id),
            _ => None,
        })
        .collect();
    assert_eq!(created, [first.id, other.id], "a retried nonce publishes nothing");
}

async fn edits_deletes_and_reactions(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let eve = user(&hub, "eve").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let (msg, _) = hub.post_message(ana, general, "**hi** :tada:", Some("e-1")).await.unwrap();
    assert_eq!(msg.html, "<p><strong>hi</strong> 🎉</p>\n");

    let mut events = hub.bus().subscribe();
    let edited = hub.edit_message(ana, msg.id, "_hello_").await.unwrap();
    assert_eq!((edited.body.as_str(), edited.html.as_str()), ("_hello_", "<p><em>hello</em></p>\n"));
    assert!(edited.edited_at.is_some());
    assert_eq!(hub.edit_message(bob, msg.id, "mine now").await.unwrap_err().kind(), ErrorKind::Forbidden);
    assert_eq!(hub.edit_message(eve, msg.id, "hi").await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(hub.edit_message(ana, msg.id, " ").await.unwrap_err().field(), Some("body"));

    hub.add_reaction(bob, msg.id, "👍").await.unwrap();
    hub.add_reaction(bob, msg.id, ":+1:").await.unwrap(); // the same emoji: no change
    hub.add_reaction(ana, msg.id, "👍").await.unwrap();
    hub.add_reaction(ana, msg.id, ":tada:").await.unwrap();
    assert_eq!(hub.add_reaction(bob, msg.id, "nope").await.unwrap_err().field(), Some("emoji"));
    assert_eq!(hub.add_reaction(eve, msg.id, "👍").await.unwrap_err().kind(), ErrorKind::NotFound);
    let page = hub.messages(ana, general, None, 10).await.unwrap();
    let reactions = &page.messages[0].reactions;
    assert_eq!(reactions.len(), 2);
    assert_eq!(reactions[0].emoji, "👍");
    let who: Vec<&str> = reactions[0].users.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(who, ["bob", "ana"], "in the order they reacted");
    assert_eq!(reactions[1].emoji, "🎉");
    hub.remove_reaction(bob, msg.id, "👍").await.unwrap();
    hub.remove_reaction(bob, msg.id, "👍").await.unwrap(); // already gone: no change
    let page = hub.messages(ana, general, None, 10).await.unwrap();
    assert_eq!(page.messages[0].reactions[0].users.len(), 1);

    assert_eq!(hub.delete_message(bob, msg.id).await.unwrap_err().kind(), ErrorKind::Forbidden);
    hub.delete_message(ana, msg.id).await.unwrap();
    assert!(hub.messages(ana, general, None, 10).await.unwrap().messages.is_empty());
    assert_eq!(hub.edit_message(ana, msg.id, "back?").await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(hub.delete_message(ana, msg.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    let (retry, created) = hub.post_message(ana, general, "**hi** :tada:", Some("e-1")).await.unwrap();
    assert!(!created && retry.id == msg.id, "a retried nonce does not resurrect or duplicate");
    assert!(hub.messages(ana, general, None, 10).await.unwrap().messages.is_empty());

    let kinds: Vec<&'static str> = events
        .drain_now()
        .iter()
        .map(|e| match e.kind {
            EventKind::MessageUpdated(_) => "updated",
            EventKind::ReactionAdded { .. } => "reaction+",
            EventKind::ReactionRemoved { .. } => "reaction-",
            EventKind::MessageDeleted { .. } => "deleted",
            EventKind::NotificationCreated(ref n) if n.kind == "reaction" && n.user_id == ana => {
                "ana notified"
            }
            _ => "other",
        })
        .collect();
    // Bob's reaction tells Ana (the author); her own do not.
    let want = ["updated", "reaction+", "ana notified", "reaction+", "reaction+", "reaction-", "deleted"];
    assert_eq!(kinds, want);
}

async fn search_finds_what_one_may_see(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let eve = user(&hub, "eve").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let secret = hub.create_channel(ana, ws, "secret", "", true).await.unwrap();
    let post = |who, ch, body: &'static str| {
        let hub = hub.clone();
        async move { hub.post_message(who, ch, body, None).await.unwrap().0 }
    };
    let redeploy = post(ana, general, "The redeployment finished at noon").await;
    let ja = post(bob, general, "明日の会議は10時からです").await;
    let zh = post(ana, general, "我们今天讨论项目进度").await;
    let hidden = post(ana, secret.id, "The secret deployment plan").await;
    let typo = post(ana, general, "100% done_ok").await;
    let texts =
        |hits: Vec<domain::model::SearchHit>| hits.into_iter().map(|h| h.message.id).collect::<Vec<_>>();

    // Partial words, case-insensitive; several terms all must occur.
    assert_eq!(texts(hub.search(bob, "DEPLOY", Some(ws)).await.unwrap()), [redeploy.id]);
    assert_eq!(texts(hub.search(ana, "deploy", Some(ws)).await.unwrap()), [hidden.id, redeploy.id]);
    assert_eq!(texts(hub.search(ana, "deploy noon", None).await.unwrap()), [redeploy.id]);
    assert!(hub.search(ana, "deploy midnight", None).await.unwrap().is_empty());
    // Japanese and Chinese, with two- and three-character terms.
    assert_eq!(texts(hub.search(ana, "会議", None).await.unwrap()), [ja.id]);
    assert_eq!(texts(hub.search(ana, "10時から", None).await.unwrap()), [ja.id]);
    assert_eq!(texts(hub.search(bob, "项目", None).await.unwrap()), [zh.id]);
    // LIKE wildcards are literal.
    assert_eq!(texts(hub.search(ana, "0%", None).await.unwrap()), [typo.id]);
    assert_eq!(texts(hub.search(ana, "e_o", None).await.unwrap()), [typo.id]);
    // Filters.
    assert_eq!(texts(hub.search(ana, "deploy in:#secret", None).await.unwrap()), [hidden.id]);
    assert_eq!(texts(hub.search(ana, "from:@bob", None).await.unwrap()), [ja.id]);
    assert!(hub.search(ana, "deploy before:2000-01-01", None).await.unwrap().is_empty());
    assert_eq!(texts(hub.search(ana, "noon after:2000-01-01", None).await.unwrap()), [redeploy.id]);
    // The highlight marks what matched.
    let hit = &hub.search(bob, "deploy", None).await.unwrap()[0];
    assert_eq!(hit.highlight, "The re<mark>deploy</mark>ment finished at noon");
    assert_eq!(hit.channel_name, "general");

    // Never a private channel's message for a non-member, nor anything for an outsider.
    assert!(hub.search(bob, "secret", None).await.unwrap().is_empty());
    assert!(hub.search(bob, "in:#secret", None).await.unwrap().is_empty());
    assert!(hub.search(eve, "deploy", None).await.unwrap().is_empty());
    assert_eq!(hub.search(eve, "deploy", Some(ws)).await.unwrap_err().kind(), ErrorKind::NotFound);

    // Edits and deletes reach the index.
    hub.edit_message(ana, redeploy.id, "rollback finished").await.unwrap();
    assert!(hub.search(bob, "deploy", None).await.unwrap().is_empty());
    assert_eq!(texts(hub.search(bob, "rollback", None).await.unwrap()), [redeploy.id]);
    hub.delete_message(bob, ja.id).await.unwrap();
    assert!(hub.search(ana, "会議", None).await.unwrap().is_empty());
    assert!(hub.search(ana, "has:file", None).await.unwrap().is_empty(), "no files yet");
}

/// A term is found inside addresses, links and compound words as well as
/// plain ones, and a term no message holds finds nothing.
async fn search_finds_terms_inside_addresses_and_compounds(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    let body =
        "Mail bob@example.com about the re-deploy at https://example.com/releases, O'Brien's café-au-lait";
    let (posted, _) = hub.post_message(ana, general, body, None).await.unwrap();
    for term in ["EXAMPLE", "releases", "deploy", "brien", "Café", "u-l", "au", "s://ex", "bob@"] {
        let found: Vec<_> =
            hub.search(ana, term, None).await.unwrap().into_iter().map(|h| h.message.id).collect();
        assert_eq!(found, [posted.id], "{term}");
    }
    for term in ["redeploy", "nowhere", "exampl3"] {
        assert!(hub.search(ana, term, None).await.unwrap().is_empty(), "{term}");
    }
}

/// More history than PostgreSQL's recent-first window: a page filled by
/// recent messages, and an old message found past the window.
async fn search_past_the_recent_window(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    let (old, _) = hub.post_message(ana, general, "the old needle", None).await.unwrap();
    let author = hub.store().user(ana).await.unwrap().map(|u| domain::model::UserSummary::from(&u)).unwrap();
    let filler: Vec<domain::model::Message> = (0..50_100)
        .map(|i| {
            let mut m = domain::model::Message::new(general, author.clone(), format!("filler {i}"), None);
            m.html = String::new();
            m
        })
        .collect();
    hub.store().import_messages(&filler).await.unwrap();
    let found = hub.search(ana, "needle", None).await.unwrap();
    assert_eq!(found.iter().map(|h| h.message.id).collect::<Vec<_>>(), [old.id], "found beyond the window");
    let page = hub.search(ana, "filler", None).await.unwrap();
    assert_eq!(page.len(), 50);
    assert_eq!(page[0].message.body, "filler 50099", "newest first");
}

async fn reopening_keeps_data(db: &TestDb) {
    let hub1 = hub(db).await;
    let ana = user(&hub1, "ana").await;
    if let Some(path) = db.url.strip_prefix("sqlite://") {
        let file = path.split('?').next().unwrap();
        assert!(std::path::Path::new(&format!("{file}-wal")).exists(), "SQLite runs in WAL mode");
    }
    hub1.store().close().await;
    let hub2 = hub(db).await;
    assert_eq!(hub2.login("ana", "correct horse battery", None).await.unwrap().id, ana);
    hub2.store().close().await;
}

/// An invite past its expiry admits no one and is no longer listed.
async fn expired_invites_admit_no_one(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, _) = workspace(&hub, ana, true).await;
    let hour = domain::input::InviteTerms::parse(Some(1), None).unwrap();
    let mut invite = hub.create_invite(ana, ws, None, hour).await.unwrap();
    assert_eq!(invite.expires_at, Some(invite.created_at + 3_600_000));
    assert_eq!(hub.invites(ana, ws).await.unwrap().len(), 1);
    // The same invite, made a minute past its expiry.
    invite.code = format!("{}x", invite.code);
    invite.created_at -= 3_660_000;
    invite.expires_at = Some(invite.created_at + 3_600_000);
    hub.store().create_invite(&invite).await.unwrap();
    let refused = hub.accept_invite(bob, &invite.code).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Forbidden);
    assert!(refused.to_string().contains("expired"), "{refused}");
    assert!(hub.invites(ana, ws).await.unwrap().iter().all(|i| i.code != invite.code));
    assert!(hub.my_workspaces(bob).await.unwrap().is_empty());
}

/// A write cancelled at any point (a request whose client hung up, a
/// worker stopping) leaves no transaction open behind it: each write after
/// it is neither kept waiting for the database's lock nor swallowed by a
/// transaction no one commits (another store sees it).
async fn a_cancelled_write_leaves_no_transaction_open(db: &TestDb) {
    use domain::crypto::KeyId;
    use std::time::Duration;
    let store = db.store().await;
    for step in 0..300u64 {
        // Cancelled somewhere from before it begins to after it has ended.
        let write = store.roll_up_activity(Id::new(), 100);
        let _ = tokio::time::timeout(Duration::from_micros(step * 5), write).await;
        tokio::time::timeout(Duration::from_secs(3), store.mark_resealed(KeyId(step as i64)))
            .await
            .unwrap_or_else(|_| {
                panic!("a write after a write cancelled at {} µs waited for a lock", step * 5)
            })
            .expect("the write after it is stored");
    }
    store.mark_resealed(store.keys().current()).await.unwrap();
    let other = db.store().await;
    assert!(other.resealed().await.unwrap(), "the last write is committed, seen by another store");
}

domain::both_backends! {
    a_cancelled_write_leaves_no_transaction_open => a_cancelled_write_leaves_no_transaction_open;
    expired_invites_admit_no_one => expired_invites_admit_no_one;
    accounts_are_unique_and_passwords_checked => accounts;
    sessions_save_load_expire => sessions;
    workspaces_invites_and_leaving => workspaces_and_invites;
    private_channels_stay_private => private_channels;
    messages_page_newest_first => messages_and_pagination;
    nonce_makes_posting_idempotent => nonce_makes_posting_idempotent;
    data_survives_reopening => reopening_keeps_data;
    edits_deletes_and_reactions => edits_deletes_and_reactions;
    search_finds_what_one_may_see => search_finds_what_one_may_see;
    search_past_the_recent_window => search_past_the_recent_window;
    search_finds_terms_inside_addresses_and_compounds => search_finds_terms_inside_addresses_and_compounds;
}
