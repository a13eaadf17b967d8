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
