//! Analytics in the hub, on both backends: messages rolled up by day (a
//! few seconds behind, each once however many nodes roll up at once, still
//! counted after retention removed them); people who posted, bots left
//! out; the busiest channels, a private one's name kept from who cannot see
//! it; who may read which figures.

use domain::error::ErrorKind;
use domain::hub::{AnalyticsScope, NewBot, ROLL_UP_LAG_MS};
use domain::model::{Figure, RetentionPolicy};
use domain::testing::TestDb;

mod common;
use common::{posted_earlier, user, workspace};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// `n` messages' texts.
fn bodies(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("message {i}")).collect()
}

fn series<'a>(f: &'a Figure, name: &str) -> &'a [i64] {
    &f.series.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no series {name}")).values
}

/// Messages per day, zeros on days without; today's own only once they
/// are a few seconds old.
async fn messages_are_counted_by_day(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    posted_earlier(&hub, general, ana, 2, &bodies(3)).await;
    let (first, _) = hub.post_message(ana, general, "today", None).await.unwrap();
    let reply = domain::hub::Post { body: "a reply", thread: Some(first.id), ..Default::default() };
    hub.post(ana, general, reply).await.unwrap();
    let now = domain::now_ms();

    assert_eq!(hub.roll_up_activity(now).await.unwrap(), 3, "today's are too new yet");
    let f = hub.figure(ana, AnalyticsScope::Workspace(ws), "messages", 7, now).await.unwrap();
    assert_eq!(f.days.len(), 7);
    assert_eq!(
        (f.days[4].as_str(), f.days[6].clone()),
        (domain::export::day_of(now - 2 * DAY_MS).as_str(), f.to.clone())
    );
    assert_eq!(series(&f, "messages"), [0, 0, 0, 0, 3, 0, 0]);
    let later = now + ROLL_UP_LAG_MS + 1_000;
    assert_eq!(hub.roll_up_activity(later).await.unwrap(), 2);
    assert_eq!(hub.roll_up_activity(later).await.unwrap(), 0, "nothing is counted twice");
    let f = hub.figure(ana, AnalyticsScope::Workspace(ws), "messages", 7, later).await.unwrap();
    assert_eq!(series(&f, "messages")[6], 2);
    assert_eq!(series(&f, "thread replies")[6], 1);
    assert_eq!(f.to_csv().lines().next(), Some("day,messages,thread replies"));
}

/// Two nodes rolling up at the same moment count each message once.
async fn nodes_rolling_up_at_once_count_each_message_once(db: &TestDb) {
    let first = db.hub().await;
    let second = db.hub().await;
    let ana = user(&first, "ana").await;
    let (ws, general) = workspace(&first, ana, false).await;
    posted_earlier(&first, general, ana, 1, &bodies(12_000)).await;
    let now = domain::now_ms();
    let (a, b) = tokio::join!(first.roll_up_activity(now), second.roll_up_activity(now));
    assert_eq!(a.unwrap() + b.unwrap(), 12_000);
    let f = first.figure(ana, AnalyticsScope::Workspace(ws), "messages", 2, now).await.unwrap();
    assert_eq!(series(&f, "messages"), [12_000, 0]);
}

/// What retention removes still counts in the figures.
async fn purged_messages_still_count(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    posted_earlier(&hub, general, ana, 3, &bodies(4)).await;
    let now = domain::now_ms();
    hub.roll_up_activity(now).await.unwrap();
    let policy = RetentionPolicy { messages_days: Some(1), files_days: None };
    hub.set_workspace_retention(ana, ws, policy).await.unwrap();
    hub.run_retention(now, None).await.unwrap();
    assert!(hub.messages(ana, general, None, 10).await.unwrap().messages.is_empty());
    let f = hub.figure(ana, AnalyticsScope::Workspace(ws), "messages", 7, now).await.unwrap();
    assert_eq!(series(&f, "messages").iter().sum::<i64>(), 4);
}

/// People who posted, each once a day; bots are not people.
async fn active_people_are_people_once_a_day(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, general) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let helper = NewBot { username: "helper", display_name: "Helper", emoji: "", description: "" };
    let bot = hub.create_bot(ana, ws, helper).await.unwrap();
    posted_earlier(&hub, general, ana, 1, &bodies(5)).await;
    posted_earlier(&hub, general, bob, 1, &bodies(1)).await;
    posted_earlier(&hub, general, bot.user.id, 1, &bodies(9)).await;
    let now = domain::now_ms();
    hub.roll_up_activity(now).await.unwrap();
    let f = hub.figure(ana, AnalyticsScope::Workspace(ws), "active_people", 3, now).await.unwrap();
    assert_eq!(series(&f, "people"), [0, 2, 0]);
}

/// The busiest channels, most first; a private channel's name is shown only
/// to who can see it, and the deployment's administrators see every workspace's.
async fn busiest_channels_keep_private_names_private(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, general) = workspace(&hub, bob, false).await;
    hub.join_workspace(ana, ws).await.unwrap();
    let secret = hub.create_channel(bob, ws, "secret", "", true).await.unwrap().id;
    let busy = hub.create_channel(bob, ws, "busy", "", false).await.unwrap().id;
    posted_earlier(&hub, secret, bob, 1, &bodies(9)).await;
    posted_earlier(&hub, busy, bob, 1, &bodies(5)).await;
    posted_earlier(&hub, general, bob, 1, &bodies(2)).await;
    let now = domain::now_ms();
    hub.roll_up_activity(now).await.unwrap();
    let ranked = |f: Figure| f.ranking.into_iter().map(|r| (r.label, r.value)).collect::<Vec<_>>();
    let owner = hub.figure(bob, AnalyticsScope::Workspace(ws), "channels", 7, now).await.unwrap();
    assert_eq!(ranked(owner), [("#secret".into(), 9), ("#busy".into(), 5), ("#general".into(), 2)]);
    // Ana, the deployment's first account, administers it: she sees every
    // channel there; in the workspace she does not manage, she sees nothing.
    let everywhere = hub.figure(ana, AnalyticsScope::Deployment, "channels", 7, now).await.unwrap();
    assert_eq!(everywhere.ranking[0].label, "#secret (Acme)");
    let refused = hub.figure(ana, AnalyticsScope::Workspace(ws), "channels", 7, now).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Forbidden);
    let csv = hub.figure(bob, AnalyticsScope::Workspace(ws), "channels", 7, now).await.unwrap().to_csv();
    assert!(csv.starts_with("channel,messages\r\n#secret,9\r\n"), "{csv}");
}

/// Only who manages a workspace reads its figures, only the deployment's
/// administrators the deployment's; periods and names are checked.
async fn figures_are_for_who_manages_them(db: &TestDb) {
    let hub = db.hub().await;
    let ana = user(&hub, "ana").await;
    let bob = user(&hub, "bob").await;
    let (ws, _) = workspace(&hub, ana, false).await;
    hub.join_workspace(bob, ws).await.unwrap();
    let now = domain::now_ms();
    let kind = |r: domain::Result<Figure>| r.unwrap_err().kind();
    assert_eq!(
        kind(hub.figure(bob, AnalyticsScope::Workspace(ws), "messages", 30, now).await),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(hub.figure(bob, AnalyticsScope::Deployment, "messages", 30, now).await),
        ErrorKind::Forbidden
    );
    assert_eq!(
        kind(hub.figure(ana, AnalyticsScope::Workspace(ws), "messages", 0, now).await),
        ErrorKind::Invalid
    );
    assert_eq!(
        kind(hub.figure(ana, AnalyticsScope::Workspace(ws), "messages", 367, now).await),
        ErrorKind::Invalid
    );
    assert_eq!(
        kind(hub.figure(ana, AnalyticsScope::Workspace(ws), "weather", 30, now).await),
        ErrorKind::Invalid
    );
    let all = hub.analytics(ana, AnalyticsScope::Deployment, 30, now).await.unwrap();
    assert_eq!(
        all.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["messages", "active_people", "channels"]
    );
}

domain::both_backends! {
    messages_are_counted_by_day => messages_are_counted_by_day;
    nodes_rolling_up_at_once_count_each_message_once => nodes_rolling_up_at_once_count_each_message_once;
    purged_messages_still_count => purged_messages_still_count;
    active_people_are_people_once_a_day => active_people_are_people_once_a_day;
    busiest_channels_keep_private_names_private => busiest_channels_keep_private_names_private;
    figures_are_for_who_manages_them => figures_are_for_who_manages_them;
}
