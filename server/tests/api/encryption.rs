//! Encryption at rest as an operator runs it: `parley rotate-key` while
//! the server runs, which takes up the new key and re-encrypts what is
//! stored; `--status` afterwards; and keys given in the environment, which
//! the command leaves to the operator.

use crate::helpers::{TestApp, say, until, workspace};
use domain::Backend;
use domain::crypto::Keyring;
use domain::store::Sealed;
use server::config::Config;
use std::process::ExitCode;
use std::sync::Arc;

/// The server's configuration with its keys in the key file of its data
/// directory (the default), not the environment.
fn with_key_file(app: &TestApp) -> Config {
    let mut config = Config::for_tests(app.db.url.clone(), app.data.0.clone());
    config.encryption_key = None;
    config
}

async fn a_key_rotated_while_the_server_runs_reencrypts_what_is_stored(backend: Backend) {
    let app = TestApp::spawn_with(backend, Arc::new(|c: &mut Config| c.encryption_key = None)).await;
    let ana = app.user("ana").await;
    let (_, general) = workspace(&app, &ana, false).await;
    let before: domain::Id =
        say(&app, &ana, &general, "before the rotation").await["id"].as_str().unwrap().parse().unwrap();
    let first = Keyring::load(None, &app.data.0).unwrap().current();

    assert_eq!(server::cli::rotate_key(&with_key_file(&app)).await, ExitCode::SUCCESS);
    let keys = Keyring::load(None, &app.data.0).unwrap();
    assert_ne!(keys.current(), first);
    assert!(keys.holds(first), "the old key stays until nothing needs it");

    let store = app.store().await;
    until(30, "the running server re-encrypts everything with the new key", || async {
        store.unsealed_counts().await.unwrap().iter().all(|(_, n)| *n == 0)
    })
    .await;
    let counts = store.unsealed_counts().await.unwrap();
    assert_eq!(counts.iter().map(|(what, _)| *what).collect::<Vec<_>>(), Sealed::ALL);
    assert_eq!(store.message(before).await.unwrap().unwrap().body, "before the rotation");
    // The server seals with the new key from now on: only it opens what follows.
    let after: domain::Id =
        say(&app, &ana, &general, "after the rotation").await["id"].as_str().unwrap().parse().unwrap();
    let file = std::fs::read_to_string(domain::crypto::key_file(&app.data.0)).unwrap();
    let newest = file.lines().find(|l| !l.starts_with('#')).unwrap();
    let only_new = Keyring::parse(newest, domain::crypto::KeySource::Test).unwrap();
    assert_eq!(only_new.current(), keys.current());
    let reader = app.db.store_with(only_new).await;
    assert_eq!(reader.message(after).await.unwrap().unwrap().body, "after the rotation");
    assert_eq!(reader.message(before).await.unwrap().unwrap().body, "before the rotation");
    assert_eq!(server::cli::key_status(&with_key_file(&app)).await, ExitCode::SUCCESS);
    app.finish().await;
}

/// Keys from PARLEY_ENCRYPTION_KEY are the operator's to change: the
/// command says how and changes nothing.
async fn keys_from_the_environment_are_not_rotated_by_the_command(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let config = Config::for_tests(app.db.url.clone(), app.data.0.clone());
    assert_eq!(server::cli::rotate_key(&config).await, ExitCode::from(2));
    assert!(!domain::crypto::key_file(&app.data.0).exists());
    app.finish().await;
}

crate::on_each_backend!(
    a_key_rotated_while_the_server_runs_reencrypts_what_is_stored,
    keys_from_the_environment_are_not_rotated_by_the_command,
);
