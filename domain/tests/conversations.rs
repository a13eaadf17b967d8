//! Threads, direct conversations, read state, pins and attachments, on both backends.

use domain::events::{Audience, EventKind};
use domain::files::Upload;
use domain::hub::Post;
use domain::testing::TestDb;
use domain::{ErrorKind, EventBusExt, Hub, Id};

mod common;
use common::{hub, user, workspace};

async fn reply(hub: &Hub, who: Id, channel: Id, thread: Id, body: &str) -> domain::model::Message {
    hub.post(who, channel, Post { body, thread: Some(thread), ..Default::default() }).await.expect("reply").0
}

async fn threads(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let cat = user(&hub, "cat").await;
    let eve = user(&hub, "eve").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    hub.join_workspace(cat, ws).await.unwrap();
    let (parent, _) = hub.post_message(ana, general, "Lunch plans?", None).await.unwrap();

    let r1 = reply(&hub, bob, general, parent.id, "Pizza").await;
    let r2 = reply(&hub, cat, general, parent.id, "Sushi").await;
    // A reply to a reply lands in the same thread.
    let r3 = reply(&hub, bob, general, r1.id, "Or both").await;
    assert_eq!(r3.thread_id, Some(parent.id));
    assert_eq!(
        hub.post(eve, general, Post { body: "hi", thread: Some(parent.id), ..Default::default() })
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound,
        "an outsider cannot reply"
    );

    // Replies stay out of the channel; the parent carries the summary.
    let page = hub.messages(ana, general, None, 50).await.unwrap();
    assert_eq!(page.messages.len(), 1);
    let summary = page.messages[0].thread.as_ref().expect("a thread summary");
    assert_eq!(summary.reply_count, 3);
    assert_eq!(summary.last_reply_at, r3.created_at);
    let who: Vec<&str> = summary.participants.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(who, ["bob", "cat"]);

    // Replying follows; the parent's author follows; others do not.
    let view = hub.thread(bob, parent.id).await.unwrap();
    assert!(view.following);
    assert_eq!(view.replies.iter().map(|m| m.id).collect::<Vec<_>>(), [r1.id, r2.id, r3.id]);
    assert!(hub.thread(ana, parent.id).await.unwrap().following);
    let ws_threads = hub.followed_threads(cat, ws).await.unwrap();
    assert_eq!(ws_threads.len(), 1);
    assert_eq!(ws_threads[0].unread, 1, "cat has not seen bob's last reply");
    hub.thread(cat, parent.id).await.unwrap();
    assert_eq!(hub.followed_threads(cat, ws).await.unwrap()[0].unread, 0, "opening the thread reads it");
    assert_eq!(hub.thread(eve, parent.id).await.unwrap_err().kind(), ErrorKind::NotFound);

    // Unfollow, then a new reply re-follows.
    hub.follow_thread(cat, parent.id, false).await.unwrap();
    assert!(hub.followed_threads(cat, ws).await.unwrap().is_empty());
    reply(&hub, cat, general, parent.id, "Back in").await;
    assert_eq!(hub.followed_threads(cat, ws).await.unwrap().len(), 1);
    // Following by hand starts with everything read.
    let dan = user(&hub, "dan").await;
    hub.join_workspace(dan, ws).await.unwrap();
    hub.follow_thread(dan, r2.id, true).await.unwrap();
    assert_eq!(hub.followed_threads(dan, ws).await.unwrap()[0].unread, 0);

    // A deleted parent leaves a placeholder while replies remain.
    let mut events = hub.bus().subscribe();
    hub.delete_message(ana, parent.id).await.unwrap();
    let page = hub.messages(bob, general, None, 50).await.unwrap();
    assert_eq!(page.messages.len(), 1);
    assert!(page.messages[0].deleted && page.messages[0].body.is_empty());
    let view = hub.thread(bob, parent.id).await.unwrap();
    assert!(view.parent.deleted);
    assert_eq!(view.replies.len(), 4);
    hub.delete_message(bob, r3.id).await.unwrap();
    let deleted: Vec<Option<Id>> = events
        .drain_now()
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::MessageDeleted { thread_id, .. } => Some(thread_id),
            _ => None,
        })
        .collect();
    assert_eq!(deleted, [None, Some(parent.id)]);
    assert_eq!(hub.thread(bob, parent.id).await.unwrap().replies.len(), 3);
    assert_eq!(
        hub.post(bob, general, Post { body: "late", thread: Some(parent.id), ..Default::default() })
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound,
        "no new replies under a deleted message"
    );

    // A reply arriving while the panel is open is read without reloading the thread.
    let (other, _) = hub.post_message(ana, general, "Another topic", None).await.unwrap();
    reply(&hub, bob, general, other.id, "First").await;
    hub.follow_thread(dan, other.id, true).await.unwrap();
    reply(&hub, bob, general, other.id, "Second").await;
    let unread = |list: Vec<domain::model::FollowedThread>| {
        list.iter().find(|t| t.parent.id == other.id).unwrap().unread
    };
    assert_eq!(unread(hub.followed_threads(dan, ws).await.unwrap()), 1);
    hub.read_thread(dan, other.id).await.unwrap();
    assert_eq!(unread(hub.followed_threads(dan, ws).await.unwrap()), 0);
    assert_eq!(hub.read_thread(eve, other.id).await.unwrap_err().kind(), ErrorKind::NotFound);
}

async fn direct_conversations(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let cat = user(&hub, "cat").await;
    let eve = user(&hub, "eve").await;
    let (ws, _) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    hub.join_workspace(cat, ws).await.unwrap();
    let mut events = hub.bus().subscribe();

    let dm = hub.open_direct(ana, ws, "@bob").await.unwrap();
    assert_eq!(hub.open_direct(bob, ws, "ana").await.unwrap().id, dm.id, "one conversation per pair");
    assert_eq!(hub.open_direct(ana, ws, "bob, @bob").await.unwrap().id, dm.id);
    let group = hub.open_direct(ana, ws, "bob cat").await.unwrap();
    assert_ne!(group.id, dm.id);
    assert_eq!(hub.open_direct(cat, ws, "@ana,@bob").await.unwrap().id, group.id);
    let notified: Vec<Id> = events
        .drain_now()
        .iter()
        .filter_map(|e| match (&e.audience, &e.kind) {
            (Audience::User(u), EventKind::ChannelMemberAdded { .. }) => Some(*u),
            _ => None,
        })
        .collect();
    assert_eq!(notified.len(), 5, "each member of each new conversation hears of it once");

    // Only its members see it; its members are fixed.
    hub.post_message(ana, dm.id, "psst", None).await.unwrap();
    assert_eq!(hub.messages(cat, dm.id, None, 10).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(hub.add_channel_member(ana, dm.id, "cat").await.unwrap_err().kind(), ErrorKind::Forbidden);
    assert_eq!(hub.leave_channel(bob, dm.id).await.unwrap_err().kind(), ErrorKind::Forbidden);
    let listed = hub.channels(bob, ws).await.unwrap();
    let entry = listed.iter().find(|l| l.channel.id == dm.id).expect("the DM is in bob's list");
    let names: Vec<&str> = entry.members.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["ana", "bob"]);
    assert!(!hub.channels(cat, ws).await.unwrap().iter().any(|l| l.channel.id == dm.id));
    assert!(hub.search(cat, "psst", None).await.unwrap().is_empty());

    // Bad input.
    let err = hub.open_direct(ana, ws, "eve").await.unwrap_err();
    assert_eq!((err.kind(), err.field()), (ErrorKind::Invalid, Some("usernames")));
    let _ = eve;
    assert_eq!(hub.open_direct(ana, ws, "nobody_here").await.unwrap_err().field(), Some("usernames"));
    assert_eq!(hub.open_direct(ana, ws, "b@d!").await.unwrap_err().field(), Some("usernames"));
    let mut many = Vec::new();
    for i in 0..8 {
        let u = user(&hub, &format!("user{i}")).await;
        hub.join_workspace(u, ws).await.unwrap();
        many.push(format!("user{i}"));
    }
    assert!(hub.open_direct(ana, ws, &many[..7].join(",")).await.is_ok(), "8 people with ana");
    let err = hub.open_direct(ana, ws, &many.join(",")).await.unwrap_err();
    assert!(err.to_string().contains("at most 8 people"), "{err}");
}

async fn read_state(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.post_message(ana, general, "before bob joined", None).await.unwrap();
    hub.join_workspace(bob, ws).await.unwrap();
    let counts = |who| {
        let hub = hub.clone();
        async move {
            let list = hub.channels(who, ws).await.unwrap();
            let g = list.iter().find(|l| l.channel.name == "general").unwrap();
            (g.unread, g.mentions)
        }
    };
    assert_eq!(counts(bob).await, (0, 0), "history before joining is not unread");

    let (m1, _) = hub.post_message(ana, general, "hello all", None).await.unwrap();
    let (m2, _) = hub.post_message(ana, general, "@bob look", None).await.unwrap();
    hub.post_message(ana, general, "@here standup", None).await.unwrap();
    reply(&hub, ana, general, m1.id, "a reply is not unread in the channel").await;
    assert_eq!(counts(bob).await, (3, 2));
    assert_eq!(counts(ana).await, (0, 0), "one's own messages are read");

    let mut events = hub.bus().subscribe();
    assert_eq!(hub.mark_read(bob, general, Some(m2.id)).await.unwrap(), m2.id);
    assert_eq!(counts(bob).await, (1, 1));
    assert_eq!(hub.mark_read(bob, general, Some(m1.id)).await.unwrap(), m2.id, "the mark as it stays");
    assert_eq!(counts(bob).await, (1, 1), "a read mark never moves back");
    let read_events: Vec<(Audience, Id)> = events
        .drain_now()
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::ReadUpdated { last_read_id, .. } => Some((e.audience, last_read_id)),
            _ => None,
        })
        .collect();
    assert_eq!(read_events, [(Audience::User(bob), m2.id)], "in a channel, only bob's own pages hear it");
    hub.mark_read(bob, general, None).await.unwrap();
    assert_eq!(counts(bob).await, (0, 0));

    // Read receipts, and a DM where every message counts as a mention.
    let dm = hub.open_direct(ana, ws, "bob").await.unwrap();
    let (hi, _) = hub.post_message(ana, dm.id, "hi bob", None).await.unwrap();
    let dm_counts = hub.channels(bob, ws).await.unwrap().into_iter().find(|l| l.channel.id == dm.id).unwrap();
    assert_eq!((dm_counts.unread, dm_counts.mentions), (1, 1));
    assert!(hub.readers(ana, hi.id).await.unwrap().is_empty());
    hub.mark_read(bob, dm.id, None).await.unwrap();
    let readers: Vec<String> =
        hub.readers(ana, hi.id).await.unwrap().into_iter().map(|u| u.username).collect();
    assert_eq!(readers, ["bob"]);
    let marks = hub.read_marks(ana, dm.id).await.unwrap();
    assert!(marks.iter().any(|m| m.user_id == bob && m.last_read_id == hi.id));
    assert!(
        events.drain_now().iter().any(|e| e.audience == Audience::Channel(dm.id)
            && matches!(e.kind, EventKind::ReadUpdated { user_id, .. } if user_id == bob)),
        "in a DM the other side sees the receipt live"
    );
}

async fn pins_and_channel_management(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let (m, _) = hub.post_message(ana, general, "Read the handbook", None).await.unwrap();
    let pinned = hub.set_pinned(bob, m.id, true).await.unwrap();
    assert!(pinned.pinned);
    assert_eq!(hub.pinned(ana, general).await.unwrap().iter().map(|m| m.id).collect::<Vec<_>>(), [m.id]);
    assert!(hub.messages(ana, general, None, 5).await.unwrap().messages[0].pinned);
    hub.set_pinned(ana, m.id, false).await.unwrap();
    assert!(hub.pinned(ana, general).await.unwrap().is_empty());

    let ops = hub.create_channel(bob, ws, "ops", "", false).await.unwrap();
    let renamed = hub.update_channel(bob, ops.id, Some("Ops Team"), Some("Deploys & pages")).await.unwrap();
    assert_eq!((renamed.name.as_str(), renamed.topic.as_str()), ("ops-team", "Deploys & pages"));
    assert_eq!(
        hub.update_channel(bob, ops.id, Some("general"), None).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );
    hub.join_channel(ana, ops.id).await.unwrap();
    let cat = user(&hub, "cat").await;
    hub.join_workspace(cat, ws).await.unwrap();
    hub.join_channel(cat, ops.id).await.unwrap();
    assert_eq!(hub.delete_channel(cat, ops.id).await.unwrap_err().kind(), ErrorKind::Forbidden);
    let (parent, _) = hub.post_message(cat, ops.id, "bye", None).await.unwrap();
    reply(&hub, bob, ops.id, parent.id, "bye too").await;
    hub.delete_channel(ana, ops.id).await.unwrap(); // the workspace owner may
    assert_eq!(hub.channel(bob, ops.id).await.unwrap_err().kind(), ErrorKind::NotFound);
}

async fn attachments(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let eve = user(&hub, "eve").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let secret = hub.create_channel(ana, ws, "secret", "", true).await.unwrap();
    let upload = |name: &str, bytes: &[u8]| {
        let hub = hub.clone();
        let (name, bytes) = (name.to_string(), bytes.to_vec());
        async move {
            let tmp = hub.files().temp_path().await.unwrap();
            tokio::fs::write(&tmp, &bytes).await.unwrap();
            Upload { tmp, file_name: name, size: bytes.len() as u64 }
        }
    };

    let files = vec![upload("notes.txt", b"hello").await, upload("chart.png", b"\x89PNG").await];
    let (msg, _) = hub.post(ana, secret.id, Post { body: "", files, ..Default::default() }).await.unwrap();
    assert_eq!(msg.attachments.len(), 2);
    assert_eq!(msg.attachments[1].content_type, "image/png");
    let (a, file) = hub.attachment(ana, msg.attachments[0].id).await.unwrap();
    assert_eq!((a.file_name.as_str(), a.size), ("notes.txt", 5));
    assert_eq!(file.read_to_end().await.unwrap(), b"hello");
    // Someone who cannot see the channel cannot tell that the file exists.
    assert_eq!(hub.attachment(bob, a.id).await.err().unwrap().kind(), ErrorKind::NotFound);
    assert_eq!(hub.attachment(eve, a.id).await.err().unwrap().kind(), ErrorKind::NotFound);
    assert_eq!(hub.may_upload(bob, secret.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    // has:file finds it; only for those who may see it.
    assert_eq!(hub.search(ana, "has:file", None).await.unwrap().len(), 1);
    assert!(hub.search(bob, "has:file", None).await.unwrap().is_empty());

    // Forbidden types and oversize files are refused, and nothing is left behind.
    let bad = upload("tool.exe", b"MZ").await;
    let bad_tmp = bad.tmp.clone();
    let err = hub.post(ana, general, Post { files: vec![bad], ..Default::default() }).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedType);
    assert!(!bad_tmp.exists(), "a refused upload is removed");
    let mut big = upload("big.zip", b"PK").await;
    big.size = domain::files::DEFAULT_MAX_BYTES + 1;
    let err = hub.post(ana, general, Post { files: vec![big], ..Default::default() }).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    assert!(err.to_string().contains("25 MB"), "{err}");
    let err = hub.post(ana, general, Post::default()).await.unwrap_err();
    assert_eq!(err.field(), Some("body"), "a message needs text or a file");

    // Deleting the message deletes its files.
    hub.delete_message(ana, msg.id).await.unwrap();
    assert!(!hub.files().path(a.id).exists());
    assert_eq!(hub.attachment(ana, a.id).await.unwrap_err().kind(), ErrorKind::NotFound);
}

async fn posts_sharing_a_commit_leave_each_author_read_up_to_their_last(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    // Concurrent posts are written in shared commits, several by one author in one.
    let posts = (0..40).map(|i| {
        let hub = hub.clone();
        let who = if i % 2 == 0 { ana } else { bob };
        async move { hub.post_message(who, general, &format!("post {i}"), None).await.unwrap().0 }
    });
    let posted = futures::future::join_all(posts).await;
    for who in [ana, bob] {
        let last = posted.iter().filter(|m| m.author.id == who).map(|m| m.id).max().unwrap();
        let list = hub.channels(who, ws).await.unwrap();
        let g = list.iter().find(|l| l.channel.name == "general").unwrap();
        assert_eq!(
            g.unread,
            posted.iter().filter(|m| m.id > last).count() as i64,
            "read up to their last post"
        );
    }
}

/// Opening a channel read already (most page loads) changes nothing and
/// tells no one; a new message makes the next reading count again.
async fn reading_again_what_was_read_announces_nothing(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let (first, _) = hub.post_message(ana, general, "one", None).await.unwrap();
    assert_eq!(hub.mark_read(bob, general, None).await.unwrap(), first.id);
    let mut events = hub.bus().subscribe();
    assert_eq!(hub.mark_read(bob, general, None).await.unwrap(), first.id);
    assert_eq!(hub.mark_read(bob, general, Some(first.id)).await.unwrap(), first.id);
    let (second, _) = hub.post_message(ana, general, "two", None).await.unwrap();
    assert_eq!(hub.mark_read(bob, general, None).await.unwrap(), second.id);
    let read: Vec<Id> = events
        .drain_now()
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::ReadUpdated { last_read_id, .. } => Some(last_read_id),
            _ => None,
        })
        .collect();
    assert_eq!(read, [second.id], "only the reading that moved the mark is announced");
}

/// The channel page read at once shows what each operation it stands for
/// shows on its own, reads the newest messages (not an older page), and is
/// refused as they are: to outsiders, and for a channel of another workspace.
async fn a_channel_page_shows_what_its_parts_show(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let eve = user(&hub, "eve").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    let (other_ws, _) = workspace(&hub, eve, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let mut posted = Vec::new();
    for n in 0..5 {
        posted.push(hub.post_message(ana, general, &format!("note {n}"), None).await.unwrap().0);
    }
    hub.set_pinned(ana, posted[1].id, true).await.unwrap();
    hub.open_direct(ana, ws, "bob").await.unwrap();

    // An older page first: it reads nothing.
    let older = hub.channel_page(bob, ws, general, Some(posted[3].id), 2).await.unwrap();
    let ids: Vec<Id> = older.messages.messages.iter().map(|m| m.id).collect();
    assert_eq!(ids, [posted[2].id, posted[1].id]);
    let unread = |list: &[domain::model::ChannelListing]| {
        list.iter().find(|l| l.channel.id == general).map(|l| l.unread).unwrap()
    };
    assert_eq!(unread(&older.channels), 5);

    let marks_before = hub.read_marks(bob, general).await.unwrap();
    let page = hub.channel_page(bob, ws, general, None, 50).await.unwrap();
    assert_eq!(page.workspace, hub.workspace(bob, ws).await.unwrap());
    assert_eq!(page.channel, hub.channel(bob, general).await.unwrap());
    assert_eq!(page.messages, hub.messages(bob, general, None, 50).await.unwrap());
    assert_eq!(page.pinned, hub.pinned(bob, general).await.unwrap());
    assert_eq!(page.categories, hub.categories(bob, ws).await.unwrap());
    assert_eq!(page.channels, hub.channels(bob, ws).await.unwrap());
    assert_eq!(page.members, hub.members(bob, ws).await.unwrap());
    assert_eq!(page.read_marks, marks_before, "the marks as they were before this reading");
    assert_eq!(unread(&page.channels), 0, "the newest page reads the channel, and the sidebar shows it");
    let mark = hub.read_marks(bob, general).await.unwrap().into_iter().find(|m| m.user_id == bob).unwrap();
    assert_eq!(mark.last_read_id, posted[4].id);

    assert_eq!(hub.channel_page(eve, ws, general, None, 50).await.unwrap_err().kind(), ErrorKind::NotFound);
    let err = hub.channel_page(ana, other_ws, general, None, 50).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

domain::both_backends! {
    a_channel_page_shows_what_its_parts_show => a_channel_page_shows_what_its_parts_show;
    reading_again_what_was_read_announces_nothing => reading_again_what_was_read_announces_nothing;
    posts_sharing_a_commit_leave_each_author_read_up_to_their_last => posts_sharing_a_commit_leave_each_author_read_up_to_their_last;
    threads_summaries_follows_and_placeholders => threads;
    direct_and_group_conversations => direct_conversations;
    unread_mentions_and_receipts => read_state;
    pins_renames_and_deletes => pins_and_channel_management;
    attachments_are_checked_and_cleaned_up => attachments;
}
