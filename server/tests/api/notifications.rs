//! In-app notifications: who gets one for what (mentions, direct messages,
//! replies in followed threads, reactions, meeting invitations), live over
//! the gateway, and seed 000's routes to list, count and mark them read.

use crate::gateway::{connect_as, next_of};
use crate::helpers::{TestApp, channel, join, json_of, say, workspace};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn unread(app: &TestApp, who: &crate::helpers::User) -> i64 {
    let n =
        json_of(who.get(app, "/api/communication/notifications/unread_count/").await, StatusCode::OK).await;
    n["unread_count"].as_i64().unwrap()
}

async fn list(app: &TestApp, who: &crate::helpers::User) -> Vec<Value> {
    let all = json_of(who.get(app, "/api/communication/notifications/").await, StatusCode::OK).await;
    all.as_array().unwrap().clone()
}

async fn people_hear_of_what_concerns_them(app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let carl = app.user("carl").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;
    join(&app, &carl, &ws).await;
    let mut bob_ws = connect_as(&app, &bob).await;

    // A mention: Bob's page hears of it at once, with where it leads.
    let said = say(&app, &ana, &general, "@bob can you look at this?\nIt is urgent").await;
    let live = next_of(&mut bob_ws, "NOTIFICATION_CREATE").await;
    let n = &live["notification"];
    assert_eq!(n["type"], "mention");
    assert_eq!(n["title"], "ana D mentioned you in #general");
    assert_eq!(n["content"], "@bob can you look at this?");
    assert_eq!(n["is_read"], false);
    assert_eq!(n["url"], format!("/w/{ws}/c/{general}?at={}", said["id"].as_str().unwrap()));
    assert_eq!(unread(&app, &bob).await, 1);
    // Not to its author, nor to the people it does not name.
    assert_eq!(unread(&app, &ana).await, 0);
    assert_eq!(unread(&app, &carl).await, 0);

    // A mention in a private channel Carl cannot see reaches nobody.
    let secret = channel(&app, &ana, &ws, "secret", true).await;
    say(&app, &ana, &secret, "@carl psst").await;
    assert_eq!(unread(&app, &carl).await, 0);

    // A reaction to Bob's message; a reply in the thread he started; a direct message.
    let his = say(&app, &bob, &general, "Lunch?").await;
    let his_id = his["id"].as_str().unwrap();
    let react = format!("/api/communication/messages/{his_id}/add_reaction/");
    assert!(ana.post(&app, &react, json!({"emoji": "👍"})).await.status().is_success());
    assert_eq!(next_of(&mut bob_ws, "NOTIFICATION_CREATE").await["notification"]["type"], "reaction");
    let reply = json!({"channel_id": general, "body": "Yes!", "thread_id": his_id});
    json_of(ana.post(&app, "/api/communication/messages/", reply).await, StatusCode::CREATED).await;
    let replied = next_of(&mut bob_ws, "NOTIFICATION_CREATE").await;
    assert_eq!(replied["notification"]["type"], "thread_reply");
    assert_eq!(replied["notification"]["url"], format!("/w/{ws}/c/{general}?thread={his_id}"));
    let dm = json!({"workspace_id": ws, "usernames": ["bob"]});
    let dm =
        json_of(ana.post(&app, "/api/communication/channels/create_direct/", dm).await, StatusCode::OK).await;
    say(&app, &ana, dm["id"].as_str().unwrap(), "Hi Bob").await;
    let direct = next_of(&mut bob_ws, "NOTIFICATION_CREATE").await;
    assert_eq!(direct["notification"]["type"], "direct_message");
    assert_eq!(direct["notification"]["title"], "ana D sent you a message");

    // A meeting invitation.
    let meeting = json!({"workspace_id": ws, "title": "Retro", "participants": ["bob"],
        "scheduled_start": "2099-01-01T09:00:00Z", "scheduled_end": "2099-01-01T10:00:00Z"});
    json_of(ana.post(&app, "/api/communication/meetings/", meeting).await, StatusCode::CREATED).await;
    let invited = next_of(&mut bob_ws, "NOTIFICATION_CREATE").await;
    assert_eq!(invited["notification"]["title"], "ana D invited you to Retro");
    assert_eq!(unread(&app, &bob).await, 5);

    // Newest first; marking one read counts down and tells his other pages.
    let all = list(&app, &bob).await;
    let kinds: Vec<&str> = all.iter().map(|n| n["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["meeting_invitation", "direct_message", "thread_reply", "reaction", "mention"]);
    let first = all[4]["id"].as_str().unwrap();
    let mark = format!("/api/communication/notifications/{first}/mark_read/");
    assert_eq!(carl.post(&app, &mark, json!({})).await.status(), StatusCode::NOT_FOUND, "not Carl's");
    let read = json_of(bob.post(&app, &mark, json!({})).await, StatusCode::OK).await;
    assert_eq!(read["is_read"], true);
    assert_eq!(next_of(&mut bob_ws, "NOTIFICATIONS_READ").await["ids"][0], first);
    assert_eq!(unread(&app, &bob).await, 4);
    let unread_only =
        json_of(bob.get(&app, "/api/communication/notifications/?unread_only=true").await, StatusCode::OK)
            .await;
    assert_eq!(unread_only.as_array().unwrap().len(), 4);

    // All read at once.
    json_of(
        bob.post(&app, "/api/communication/notifications/mark_all_read/", json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(unread(&app, &bob).await, 0);
    assert!(list(&app, &bob).await.iter().all(|n| n["is_read"] == true));

    // Sent through the API by who manages the workspace: in-app and by email; clear refusals.
    let custom = |extra: Value| {
        let mut body = json!({"workspace_id": ws, "recipients": ["bob"], "type": "deploy",
            "title": "Deploy at 5", "content": "Expect a short outage.", "priority": "high",
            "channels": ["in_app", "email"]});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let path = "/api/communication/notifications/";
    let refused = json_of(bob.post(&app, path, custom(json!({}))).await, StatusCode::FORBIDDEN).await;
    assert!(refused["message"].as_str().unwrap().contains("send notifications"), "{refused}");
    for (extra, field) in [
        (json!({"priority": "asap"}), "priority"),
        (json!({"channels": ["sms"]}), "channels"),
        (json!({"recipients": ["nobody"]}), "recipients"),
        (json!({"template_id": "welcome"}), "template_id"),
    ] {
        let err = json_of(ana.post(&app, path, custom(extra)).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(err["field"], field, "{err}");
    }
    let sent = json_of(ana.post(&app, path, custom(json!({}))).await, StatusCode::CREATED).await;
    assert_eq!(sent.as_array().unwrap().len(), 1);
    let live = next_of(&mut bob_ws, "NOTIFICATION_CREATE").await;
    assert_eq!(live["notification"]["type"], "deploy");
    assert_eq!(live["notification"]["priority"], "high");
    assert_eq!(live["notification"]["content"], "Expect a short outage.");
    // The email is written from the type's template into the outbox (no SMTP here).
    let mail = crate::delivery::outbox_email(&app, "Subject: Deploy at 5").await;
    assert!(mail.contains("To: bob@example.com"), "{mail}");
    assert!(mail.contains("Expect a short outage."), "{mail}");
    app
}

/// An earlier version stored a follow-up with each message and told people
/// after the commit; one whose server stopped in between left the follow-up
/// due: the next start tells them, once.
async fn a_follow_up_left_by_an_earlier_version_still_notifies(mut app: TestApp) -> TestApp {
    let ana = app.user("ana").await;
    let bob = app.user("bob").await;
    let (ws, general) = workspace(&app, &ana, false).await;
    join(&app, &bob, &ws).await;

    // What an earlier version's post stored in its transaction, with the crash right after it.
    let store = app.store().await;
    let author = store.user(ana.id.parse().unwrap()).await.unwrap().unwrap();
    let msg = domain::model::Message::new(
        general.parse().unwrap(),
        domain::model::UserSummary::from(&author),
        "@bob did you see the report?".into(),
        None,
    );
    let mentioned = domain::store::Mentioned { users: vec![bob.id.parse().unwrap()], ..Default::default() };
    let follow_up = domain::Hub::message_follow_up(&msg);
    let new = domain::store::NewMessage {
        message: msg,
        mentioned,
        notifying: Default::default(),
        events: vec![],
        links: vec![],
    };
    store.insert_message(new).await.unwrap();
    store.schedule_notification(&follow_up).await.unwrap();
    store.close().await;
    assert_eq!(unread(&app, &bob).await, 0, "nobody was told yet");

    app.restart().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while unread(&app, &bob).await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "bob hears of the mention within 10 s");
        tokio::task::yield_now().await;
    }
    let told: Vec<app::wire::NotificationDto> =
        serde_json::from_value(Value::Array(list(&app, &bob).await)).unwrap();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(
        (told[0].kind.as_str(), told[0].title.as_str()),
        ("mention", "ana D mentioned you in #general")
    );

    // A normal post tells at once, and its follow-up never fires again.
    say(&app, &ana, &general, "@bob and this one").await;
    assert_eq!(unread(&app, &bob).await, 2);
    app.restart().await;
    assert_eq!(unread(&app, &bob).await, 2, "nothing is told twice");
    app
}

crate::on_both_backends! {
    people_hear_of_what_concerns_them => people_hear_of_what_concerns_them;
    a_follow_up_left_by_an_earlier_version_still_notifies => a_follow_up_left_by_an_earlier_version_still_notifies;
}
