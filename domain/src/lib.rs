//! Parley's server-side core, free of any UI or HTTP framework.
//!
//! - [`input`]: parsed user input (`Username::parse`, `MessageBody::parse`, ...);
//!   a value of these types is valid by construction.
//! - [`markdown`]: message bodies rendered to sanitised HTML.
//! - [`model`]: the entities the rest of the system talks about.
//! - [`store`]: the only code that runs SQL, over SQLite or PostgreSQL.
//! - [`permissions`]: the one place that decides who may do what.
//! - [`search`]: search queries as typed, and highlighted snippets.
//! - [`presence`]: who is online, away or offline (from gateway connections and activity).
//! - [`files`]: attachments' bytes on disk and what may be uploaded.
//! - [`events`]: what happened, published after commit for the gateway.
//! - [`hub`]: the operations (sign up, post a message, ...) that server
//!   functions, REST handlers and the gateway all call.
//! - [`limits`]: rate limits (token buckets per person, address and connection),
//!   failed sign-in back-off, and bounds on password hashing and uploads.
//! - [`outgoing`]: the one guard for requests the server makes (push, SMS):
//!   public addresses only, however written, unless the operator allows private ones.
//! - [`session_store`]: tower-sessions' storage, kept in the database.
//! - [`export`]: compliance exports' formats (JSON, CSV, EML) and the
//!   resumable zip writer they go into.

pub mod calendar;
pub mod crypto;
pub mod error;
pub mod events;
pub mod export;
pub mod files;
pub mod hub;
pub mod id;
pub mod input;
pub mod jitsi;
pub mod limits;
pub mod link_preview;
pub mod mail;
pub use ::markdown;
pub mod model;
pub mod notify;
pub mod outgoing;
pub mod password;
pub mod permissions;
pub mod presence;
pub mod search;
pub mod session_store;
pub mod slash;
pub mod store;
pub mod virus_scan;
pub mod voice;
pub mod webhook_call;
pub mod webhook_payload;

pub use error::{Error, ErrorKind, Result};
pub use events::EventBusExt;
pub use hub::Hub;
pub use id::Id;
pub use store::{Backend, Store};

/// Milliseconds since the Unix epoch: the one clock every stored timestamp uses.
pub fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

#[cfg(feature = "testing")]
pub mod testing;
