//! The server binary's commands besides serving.

use crate::config::Config;
use std::process::ExitCode;

/// `parley create-default-templates`: stores the built-in notification
/// templates in every workspace that lacks them, so admins can edit them
/// (seed 000's `create_default_templates()`). Safe to run again.
pub async fn create_default_templates(config: &Config) -> ExitCode {
    let store = match domain::Store::open(&config.database_url()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("parley: cannot open the database: {e}");
            return ExitCode::FAILURE;
        }
    };
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
