//! The server binary's commands besides serving.

use crate::config::Config;
use std::process::ExitCode;

/// `parley create-default-templates`: stores the built-in notification
/// templates in every workspace that lacks them, so admins can edit them
/// (seed 000's `create_default_templates()`). Safe to run again.
pub async fn create_default_templates(config: &Config) -> ExitCode {
    let Some(store) = open_store(config).await else { return ExitCode::FAILURE };
    let files = domain::files::Files::new(config.data_dir.join("files"), config.uploads.clone());
    let hub = domain::Hub::new(store.clone(), files);
    let result = hub.create_default_templates_everywhere().await;
    store.close().await;
    match result {
        Ok((workspaces, added)) => {
            println!("Stored {added} notification templates in {workspaces} workspaces.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("parley: could not store the templates: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The database with the configured keys, or `None` once it has said why not.
async fn open_store(config: &Config) -> Option<domain::Store> {
    let keys = match config.keyring() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("parley: {e}");
            return None;
        }
    };
    match domain::Store::open(&config.database_url(), keys).await {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("parley: cannot open the database: {e}");
            None
        }
    }
}

/// `parley generate-key`: prints a new master key, for `PARLEY_ENCRYPTION_KEY`.
pub fn generate_key() -> ExitCode {
    println!("{}", domain::crypto::new_key());
    ExitCode::SUCCESS
}

/// `parley rotate-key`: puts a new key first in the key file (the old ones
/// stay, to read what they encrypted) and records it in the database.
/// Servers using the key file take it up within ten seconds and
/// re-encrypt in the background. Keys given by `PARLEY_ENCRYPTION_KEY`
/// are the operator's to change; this says how.
pub async fn rotate_key(config: &Config) -> ExitCode {
    if config.encryption_key.is_some() {
        eprintln!(
            "parley: the keys come from PARLEY_ENCRYPTION_KEY, which this command cannot change. Make a key \
             with `parley generate-key`, add it to PARLEY_ENCRYPTION_KEY after the current one (separated by \
             a comma) on every server and restart them, then move it first and restart them again: they \
             re-encrypt with it on their own. When `parley rotate-key --status` shows nothing left under \
             older keys, remove the old key."
        );
        return ExitCode::from(2);
    }
    // Made with a first key if there is none yet.
    if let Err(e) = config.keyring() {
        eprintln!("parley: {e}");
        return ExitCode::FAILURE;
    }
    let added = match domain::crypto::add_key_to_file(&config.data_dir) {
        Ok(id) => id,
        Err(e) => {
            eprintln!("parley: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(store) = open_store(config).await else { return ExitCode::FAILURE };
    store.close().await;
    println!(
        "Added key {added} to {}; it encrypts from now on. Servers using this data directory take it up \
         within ten seconds and re-encrypt what older keys encrypted in the background (`parley rotate-key \
         --status` shows how far they are). Keep the older keys in the file until then, and back the file \
         up: without it nothing encrypted can be read.",
        domain::crypto::key_file(&config.data_dir).display()
    );
    ExitCode::SUCCESS
}

/// `parley rotate-key --status`: the keys, and what is still encrypted with
/// an older key (or stored before encryption).
pub async fn key_status(config: &Config) -> ExitCode {
    let Some(store) = open_store(config).await else { return ExitCode::FAILURE };
    let keys = store.keys();
    let counts = store.unsealed_counts().await;
    store.close().await;
    let counts = match counts {
        Ok(c) => c,
        Err(e) => {
            eprintln!("parley: cannot count: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ids: Vec<String> = keys.ids().iter().map(|k| k.to_string()).collect();
    println!("Keys (from {}): {} (current first)", keys.source(), ids.join(", "));
    for (what, n) in counts {
        let name = match what {
            domain::store::Sealed::Messages => "messages",
            domain::store::Sealed::Versions => "kept versions of messages",
            domain::store::Sealed::Events => "event log entries",
        };
        println!("{name} not yet encrypted with {}: {n}", keys.current());
    }
    ExitCode::SUCCESS
}
