//! Bot accounts as the rest of the product treats them, on both backends.

use domain::hub::{CustomNotification, NewBot};
use domain::testing::TestDb;

mod common;
use common::{hub, user, workspace};

/// A bot is told in the app (it reads its notifications through the API)
/// but never emailed: its address is a made-up one.
async fn a_bot_is_notified_in_the_app_but_never_emailed(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, _) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let new = NewBot { username: "mail-bot", display_name: "Mail Bot", ..Default::default() };
    let bot = hub.create_bot(ana, ws, new).await.unwrap();
    let sent = hub
        .send_notification(
            ana,
            ws,
            CustomNotification {
                recipients: vec!["bob".into(), "mail-bot".into()],
                kind: "deploy",
                title: "Deploy at 5",
                content: "Expect a short outage.",
                priority: "high",
                channels: vec!["in_app".into(), "email".into()],
                template_id: None,
                template_data: None,
                send_at: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(sent.len(), 2, "both are notified in the app");
    assert_eq!(hub.store().deliveries_to("bob@example.com").await.unwrap().len(), 1);
    let to_bot = hub.store().deliveries_to("bot-mail-bot@bots.parley.invalid").await.unwrap();
    assert!(to_bot.is_empty(), "no email for {}: {to_bot:?}", bot.user.username);
}

/// Nobody can give a bot a password: a reset asked for its address sends
/// nothing, and answers as for an unknown address.
async fn a_password_reset_for_a_bot_sends_nothing(db: &TestDb) {
    let hub = hub(db).await;
    let ana = user(&hub, "ana").await;
    let (ws, _) = workspace(&hub, ana, false).await;
    let new = NewBot { username: "reset-bot", display_name: "Reset Bot", ..Default::default() };
    hub.create_bot(ana, ws, new).await.unwrap();
    let address = "bot-reset-bot@bots.parley.invalid";
    hub.request_password_reset(address, None).await.unwrap();
    assert!(hub.store().deliveries_to(address).await.unwrap().is_empty());
    // As for a person, whose reset is queued.
    hub.request_password_reset("ana@example.com", None).await.unwrap();
    assert_eq!(hub.store().deliveries_to("ana@example.com").await.unwrap().len(), 1);
}

domain::both_backends! {
    a_password_reset_for_a_bot_sends_nothing => a_password_reset_for_a_bot_sends_nothing;
    a_bot_is_notified_in_the_app_but_never_emailed => a_bot_is_notified_in_the_app_but_never_emailed;
}
