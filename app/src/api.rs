//! Server functions: the typed calls the UI makes. Each one finds out who
//! is asking ([`crate::ssr::auth`]), calls the hub and converts the result
//! into wire types. Called from a plain HTML form (no JavaScript), they answer
//! with a redirect back, carrying any error in the URL for the form to show.

pub mod account;
pub mod admin;
pub mod analytics;
pub mod auth;
pub mod channels;
pub mod integrations;
pub mod meetings;
pub mod notifications;
pub mod outgoing_webhooks;
pub mod settings;
pub mod slash_commands;
pub mod workspaces;

pub use account::*;
pub use admin::*;
pub use analytics::*;
pub use auth::*;
pub use channels::*;
pub use integrations::*;
pub use meetings::*;
pub use notifications::*;
pub use outgoing_webhooks::*;
pub use settings::*;
pub use slash_commands::*;
pub use workspaces::*;
