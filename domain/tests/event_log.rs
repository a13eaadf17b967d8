//! The event log on both backends: what is committed is what is announced,
//! numbered in commit order, and another process's events reach this one.

use domain::events::{Audience, EventKind, NewEvent};
use domain::model::{Message, UserSummary};
use domain::store::NewMessage;
use domain::testing::TestDb;
use domain::{EventBusExt, Store};
use std::time::Duration;

mod common;
use common::{hub, user, workspace};

/// A posted message is in the log with the number the bus handed out; a
/// retry with the same nonce and a refused post add nothing.
async fn a_change_and_its_event_are_committed_together(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    let mut bus = hub.bus().subscribe();
    let before = hub.event_position().await.unwrap();
    let (posted, _) = hub.post_message(ana, general, "hello", Some("n-1")).await.unwrap();
    hub.post_message(ana, general, "hello", Some("n-1")).await.unwrap();
    assert!(hub.post_message(ana, general, "   ", None).await.is_err());

    let logged = hub.events_after(before).await.unwrap();
    assert_eq!(logged.len(), 1, "one event for one message: {logged:?}");
    assert_eq!(logged[0].seq, before + 1);
    assert_eq!(logged[0].audience, Audience::Channel(general));
    assert!(matches!(&logged[0].kind, EventKind::MessageCreated(m) if m.id == posted.id));
    let handed_out = bus.drain_now();
    assert_eq!(handed_out.len(), 1);
    assert_eq!(*handed_out[0], logged[0], "the bus hands out what the log holds");
}

/// Concurrent writers: the log's numbers have no gaps, and the bus hands
/// every event out once, in order.
async fn concurrent_changes_are_numbered_in_commit_order(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    let mut bus = hub.bus().subscribe();
    let before = hub.event_position().await.unwrap();
    let posts: Vec<_> = (0..40)
        .map(|i| {
            let hub = hub.clone();
            tokio::spawn(async move { hub.post_message(ana, general, &format!("m{i}"), None).await.unwrap() })
        })
        .collect();
    for p in posts {
        p.await.unwrap();
    }
    let logged = hub.events_after(before).await.unwrap();
    let seqs: Vec<i64> = logged.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (before + 1..=before + 40).collect::<Vec<_>>(), "no gaps, no repeats");
    let handed: Vec<i64> = tokio::time::timeout(Duration::from_secs(5), async {
        let mut out = Vec::new();
        while out.len() < 40 {
            out.push(bus.recv().await.unwrap().seq);
        }
        out
    })
    .await
    .expect("every event handed out within 5 s");
    assert_eq!(handed, seqs, "in log order, each once");
}

/// Another process on the same database (another node) writes an event:
/// this one's bus gets it when it catches up with the log.
async fn events_from_another_process_arrive_by_catching_up(db: &TestDb) {
    let here = hub(db).await;
    let ana = user(&here, "ana").await;
    let (_, general) = workspace(&here, ana, false).await;
    let elsewhere = domain::Hub::new(db.store().await, db.files());
    let mut bus = here.bus().subscribe();
    let (posted, _) = elsewhere.post_message(ana, general, "from the other node", None).await.unwrap();
    assert!(bus.drain_now().is_empty(), "not here until it is read back");
    assert_eq!(here.store().catch_up().await.unwrap(), 1);
    let arrived = bus.drain_now();
    assert!(
        matches!(&arrived[..], [e] if matches!(&e.kind, EventKind::MessageCreated(m) if m.id == posted.id))
    );
}

/// Pruning removes old entries but never reuses their numbers.
async fn pruning_keeps_the_numbering(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    hub.post_message(ana, general, "old", None).await.unwrap();
    let position = hub.event_position().await.unwrap();
    let store: &Store = hub.store();
    assert!(store.prune_events(domain::now_ms() + 1).await.unwrap() > 0);
    assert_eq!(store.oldest_event().await.unwrap(), None);
    hub.post_message(ana, general, "new", None).await.unwrap();
    let after = hub.events_after(0).await.unwrap();
    assert_eq!(after.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![position + 1]);
}

/// A post to store directly, as the hub makes it: announced in `channel`.
fn new_message(
    store_author: &domain::model::User,
    channel: domain::Id,
    body: &str,
    nonce: Option<&str>,
) -> NewMessage {
    let mut message = Message::new(channel, UserSummary::from(store_author), body.into(), None);
    message.nonce = nonce.map(str::to_string);
    let created = NewEvent::new(Audience::Channel(channel), EventKind::MessageCreated(message.clone()));
    NewMessage {
        message,
        mentioned: Default::default(),
        notifying: Default::default(),
        events: vec![created],
        links: Vec::new(),
    }
}

/// Posts written together share one commit, yet each is its own: one that
/// cannot be stored (its channel does not exist) fails alone, a retry in
/// the same commit returns the first, and only what was stored is logged.
async fn a_post_that_fails_in_a_shared_commit_fails_alone(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    let store: &Store = hub.store();
    let author = store.user(ana).await.unwrap().unwrap();
    let before = hub.event_position().await.unwrap();
    let posts = vec![
        new_message(&author, general, "one", Some("a")),
        new_message(&author, domain::Id(424242), "nowhere", None),
        new_message(&author, general, "two", None),
        new_message(&author, general, "one, again", Some("a")),
    ];
    // Started together, they are queued before the writer runs: one batch.
    let outcomes = futures::future::join_all(posts.into_iter().map(|p| store.insert_message(p))).await;
    let [one, nowhere, two, again]: [_; 4] = outcomes.try_into().unwrap();
    let (one, two, again) = (one.unwrap(), two.unwrap(), again.unwrap());
    assert!(nowhere.is_err(), "a message in no channel is refused");
    assert!(one.1 && two.1, "the others are stored");
    assert_eq!((again.0.id, again.1), (one.0.id, false), "the retry returns the first");
    let logged: Vec<domain::Id> = hub
        .events_after(before)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::MessageCreated(m) => Some(m.id),
            _ => None,
        })
        .collect();
    assert_eq!(logged, [one.0.id, two.0.id], "only what was stored is announced, in order");
    let bodies: Vec<String> =
        hub.messages(ana, general, None, 10).await.unwrap().messages.into_iter().map(|m| m.body).collect();
    assert_eq!(bodies, ["two", "one"]);
}

/// A message's notifications are committed with it: once the post returns,
/// the person mentioned has theirs, whatever happens to the server next.
async fn a_message_and_its_notifications_are_committed_together(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let before = hub.event_position().await.unwrap();
    let (posted, _) = hub.post_message(ana, general, "@bob see this", None).await.unwrap();
    // Read through another connection, as after a crash and restart.
    let reopened = domain::Hub::new(db.store().await, db.files());
    let told = reopened.notifications(bob, None, false).await.unwrap();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].message_id, Some(posted.id));
    let logged = reopened.events_after(before).await.unwrap();
    let kinds: Vec<&str> = logged
        .iter()
        .map(|e| match &e.kind {
            EventKind::MessageCreated(_) => "message",
            EventKind::NotificationCreated(_) => "notification",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["message", "notification"], "in one commit, the message first");
}

/// An announcement (typing) written in the same commit as a post that
/// cannot be stored is logged all the same, and the failed post is not.
async fn an_announcement_sharing_a_commit_with_a_failed_post_is_logged(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let (_, general) = workspace(&hub, ana, false).await;
    let store: &Store = hub.store();
    let author = store.user(ana).await.unwrap().unwrap();
    let before = hub.event_position().await.unwrap();
    let typing = NewEvent::new(
        Audience::Channel(general),
        EventKind::Typing { channel_id: general, user: UserSummary::from(&author) },
    );
    // Started together, they are queued before the writer runs: one batch.
    let nowhere = store.insert_message(new_message(&author, domain::Id(424242), "nowhere", None));
    let (posted, announced) = futures::join!(nowhere, store.announce(std::slice::from_ref(&typing)));
    assert!(posted.is_err(), "a message in no channel is refused");
    announced.expect("the announcement is committed");
    let logged: Vec<EventKind> =
        hub.events_after(before).await.unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(logged, [typing.kind], "the typing alone is logged");
}

domain::both_backends! {
    a_post_that_fails_in_a_shared_commit_fails_alone => a_post_that_fails_in_a_shared_commit_fails_alone;
    an_announcement_sharing_a_commit_with_a_failed_post_is_logged => an_announcement_sharing_a_commit_with_a_failed_post_is_logged;
    a_message_and_its_notifications_are_committed_together => a_message_and_its_notifications_are_committed_together;
    a_change_and_its_event_are_committed_together => a_change_and_its_event_are_committed_together;
    concurrent_changes_are_numbered_in_commit_order => concurrent_changes_are_numbered_in_commit_order;
    events_from_another_process_arrive_by_catching_up => events_from_another_process_arrive_by_catching_up;
    pruning_keeps_the_numbering => pruning_keeps_the_numbering;
}
