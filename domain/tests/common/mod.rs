//! Helpers shared by the store and hub tests.
#![allow(dead_code)]

use domain::hub::{NewWorkspace, Signup};
use domain::testing::TestDb;
use domain::{Hub, Id};

pub async fn hub(db: &TestDb) -> Hub {
    db.hub().await
}

pub async fn user(hub: &Hub, name: &str) -> Id {
    hub.signup(
        Signup {
            username: name.into(),
            display_name: format!("{name} Display"),
            email: format!("{name}@example.com"),
            password: "correct horse battery".into(),
        },
        None,
    )
    .await
    .expect("signup")
    .id
}

pub async fn workspace(hub: &Hub, owner: Id, private: bool) -> (Id, Id) {
    let (ws, general) = hub
        .create_workspace(
            owner,
            NewWorkspace { name: "Acme".into(), is_private: private, ..Default::default() },
        )
        .await
        .expect("create workspace");
    (ws.id, general.id)
}

/// Keeps apart the ids of messages [`posted_earlier`] at the same moment.
static NEXT_ID: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Messages with these `bodies` by `author`, posted `days_ago` (from noon,
/// UTC, a millisecond apart), stored as an import stores them.
pub async fn posted_earlier(hub: &Hub, channel: Id, author: Id, days_ago: i64, bodies: &[impl AsRef<str>]) {
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    let noon = (domain::now_ms().div_euclid(DAY_MS) - days_ago) * DAY_MS + DAY_MS / 2;
    let who = domain::model::UserSummary {
        id: author,
        username: String::new(),
        display_name: String::new(),
        is_bot: false,
    };
    let messages: Vec<domain::model::Message> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let at = noon + i as i64;
            let id = Id(Id::first_at(at).0 + NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
            domain::model::Message::imported(id, channel, who.clone(), body.as_ref().to_string(), at)
        })
        .collect();
    hub.store().import_messages(&messages).await.unwrap();
}
