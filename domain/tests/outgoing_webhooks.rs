//! How the event log becomes calls to outgoing webhooks, on both backends:
//! a meeting starting, and each event turned into its calls once however
//! many readers there are.

use domain::hub::{NewMeeting, NewOutgoingWebhook};
use domain::model::{CallState, PayloadFormat, WebhookEvent};
use domain::testing::TestDb;
use domain::{Hub, Id};

mod common;
use common::{hub, user, workspace};

async fn webhook(hub: &Hub, maker: Id, ws: Id, events: &[WebhookEvent], channels: &[Id]) -> Id {
    let new = NewOutgoingWebhook {
        name: "Listener",
        url: "https://hooks.example.com/parley",
        format: PayloadFormat::Json,
        events,
        channels,
        trigger_words: "",
    };
    hub.create_outgoing_webhook(maker, ws, new).await.unwrap().webhook.id
}

/// The first one into a meeting's call starts it: one call, naming the
/// meeting; the second one in starts nothing.
async fn a_meeting_starting_is_one_call_naming_it(db: &TestDb) {
    let hub = hub(db).await;
    let (ana, bob) = (user(&hub, "ana").await, user(&hub, "bob").await);
    let (ws, _) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let new = NewMeeting {
        title: "Weekly planning",
        description: "",
        participants: vec!["bob".into()],
        starts_at: 0,
        ends_at: 0,
        enable_recording: false,
        instant: true,
    };
    let meeting = hub.schedule_meeting(ana, ws, new).await.unwrap();
    let id = webhook(&hub, ana, ws, &[WebhookEvent::MeetingStarted], &[meeting.channel_id]).await;

    hub.join_voice(bob, meeting.channel_id, 1).await.unwrap();
    hub.join_voice(ana, meeting.channel_id, 2).await.unwrap();
    assert_eq!(hub.dispatch_outgoing_webhooks().await.unwrap(), 1);
    let (_, calls) = hub.outgoing_webhook_log(ana, id).await.unwrap();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!((calls[0].event, calls[0].state), (WebhookEvent::MeetingStarted, CallState::Pending));
    let payload: serde_json::Value = serde_json::from_str(&calls[0].payload).unwrap();
    assert_eq!(payload["event"]["type"], "meeting_started");
    assert_eq!(payload["event"]["meeting"]["title"], "Weekly planning");
    assert_eq!(payload["user_name"], "bob");
}

/// Two nodes read the log at once: each event still becomes its call once.
async fn each_event_becomes_its_calls_once_whoever_reads_it(db: &TestDb) {
    let (first, second) = (hub(db).await, hub(db).await);
    let ana = user(&first, "ana").await;
    let (ws, general) = workspace(&first, ana, false).await;
    let id = webhook(&first, ana, ws, &[WebhookEvent::MessagePosted], &[]).await;
    for i in 0..40 {
        first.post_message(ana, general, &format!("message {i}"), None).await.unwrap();
    }
    let (a, b) = tokio::join!(first.dispatch_outgoing_webhooks(), second.dispatch_outgoing_webhooks());
    assert_eq!(a.unwrap() + b.unwrap(), 40);
    let (_, calls) = first.outgoing_webhook_log(ana, id).await.unwrap();
    let mut texts: Vec<String> = calls
        .iter()
        .map(|c| {
            serde_json::from_str::<serde_json::Value>(&c.payload).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), 40, "every message once");
    assert_eq!(first.dispatch_outgoing_webhooks().await.unwrap(), 0, "nothing is read twice");
}

/// A webhook hears what happens after it was made, not before.
async fn a_new_webhook_hears_nothing_from_before_it(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.post_message(ana, general, "before", None).await.unwrap();
    let id = webhook(&hub, ana, ws, &[WebhookEvent::MessagePosted], &[]).await;
    hub.post_message(ana, general, "after", None).await.unwrap();
    assert_eq!(hub.dispatch_outgoing_webhooks().await.unwrap(), 1);
    let (_, calls) = hub.outgoing_webhook_log(ana, id).await.unwrap();
    assert!(calls[0].payload.contains("\"after\""), "{}", calls[0].payload);
}

domain::both_backends! {
    a_meeting_starting_is_one_call_naming_it => a_meeting_starting_is_one_call_naming_it;
    each_event_becomes_its_calls_once_whoever_reads_it => each_event_becomes_its_calls_once_whoever_reads_it;
    a_new_webhook_hears_nothing_from_before_it => a_new_webhook_hears_nothing_from_before_it;
}
