//! End-to-end encryption in the browser: each browser is a device of its
//! person's, with keys that never leave it (but sealed, in the key backup,
//! with a recovery key the server never sees). The cryptography is the
//! `e2ee` crate (MLS); this module is what the pages ask of it.
//!
//! - What pages see, on the server and in the browser: [`Unreadable`] (why a
//!   message shows no text, and what to do), [`ENCRYPTED_WITHOUT_SCRIPT`].
//! - `qr` (in the browser only): safety numbers as QR codes, drawn and read.
//! - `client` (in the browser only): the operations ([`client::Op`]) and the
//!   one function that runs them, `#[lazy]`: the release build splits it and
//!   everything only it reaches (the cryptography, IndexedDB, the calls to
//!   the delivery service) into WebAssembly fetched the first time an
//!   encrypted conversation is opened.
//! - `search` (in the browser only): search of encrypted conversations on
//!   this device, where the person turned it on.
//! - `media` (in the browser only): calls in encrypted conversations, their
//!   sound and pictures encrypted frame by frame in a worker (SFrame).
//!
//! Invariant: no plaintext of an encrypted conversation and no private key
//! is sent to the server; the only requests made from here are the
//! delivery service's (`/api/communication/...`: public keys, signatures,
//! ciphertext and own copies, sealed backups, the names a message
//! mentions), the addresses of the pages a message being
//! sent links to (asked for their previews), and messages asked for by id
//! (a pushed one's ciphertext; whether one found by search is still there).

use serde::{Deserialize, Serialize};

#[cfg(feature = "hydrate")]
pub mod client;
#[cfg(feature = "hydrate")]
mod idb;
#[cfg(feature = "hydrate")]
mod lock;
#[cfg(feature = "hydrate")]
pub mod media;
#[cfg(feature = "hydrate")]
pub mod pushed;
#[cfg(any(feature = "hydrate", test))]
pub mod qr;
#[cfg(feature = "hydrate")]
pub mod search;

/// An encrypted message as the server holds it: the MLS message (base64),
/// and its content sealed for its author alone (their devices restored
/// from the key backup read that one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ciphertext {
    pub mls: String,
    pub own_copy: Option<String>,
}

impl Ciphertext {
    pub fn of(m: &crate::wire::MessageDto) -> Ciphertext {
        Ciphertext { mls: m.body.clone(), own_copy: m.own_copy.clone() }
    }
}

/// What an encrypted message shows until the browser has read it, and
/// where it cannot (without JavaScript, the server's page is all there is).
pub const ENCRYPTED_WITHOUT_SCRIPT: &str = "🔒 End-to-end encrypted: this message is decrypted in \
     the browser. Turn JavaScript on, on a device that takes part in this conversation, to read it.";

/// Where an encrypted conversation is, as the page showing it knows it
/// (what search in the browser keeps of its messages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    pub workspace: String,
    /// What the conversation is called (`#name`, or the other people's names).
    pub label: String,
}

/// Where this browser notes that search of encrypted conversations is on
/// for a person (their id), so that pages can tell without loading the
/// cryptography (the key and the index are in IndexedDB).
#[cfg(feature = "hydrate")]
const SEARCH_ON: &str = "parley-search-encrypted";

/// Whether `me` turned search of encrypted conversations on in this browser.
#[cfg(feature = "hydrate")]
pub fn search_on_here(me: i64) -> bool {
    local_storage().and_then(|s| s.get_item(SEARCH_ON).ok().flatten()) == Some(me.to_string())
}

/// Notes that search of encrypted conversations is on (or off) for `me` here.
#[cfg(feature = "hydrate")]
pub fn note_search_here(me: i64, on: bool) {
    if let Some(storage) = local_storage() {
        let _ = match on {
            true => storage.set_item(SEARCH_ON, &me.to_string()),
            false => storage.remove_item(SEARCH_ON),
        };
    }
}

#[cfg(feature = "hydrate")]
fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Why this browser cannot show a message of an encrypted conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unreadable {
    /// This browser holds no keys yet: the person's recovery key brings
    /// them (their identity is set up on another device).
    NoKeysHere,
    /// Sent before this device took part in the conversation (it joined
    /// later, and the key backup held no keys from then).
    BeforeJoined,
    /// This device is not (or no longer) among the conversation's devices:
    /// the others have not added it yet.
    Withheld,
    /// Not a message this device can read: damaged, or not of this
    /// conversation's protocol.
    Damaged(String),
}

impl Unreadable {
    /// The sentence shown in the message's place: what went wrong and what to do.
    pub fn explain(&self) -> String {
        let text = match self {
            Unreadable::NoKeysHere => {
                "🔒 Unable to decrypt: this browser has no keys yet. Enter your recovery key above to read \
                 your encrypted conversations here."
            }
            Unreadable::BeforeJoined => {
                "🔒 Unable to decrypt: sent before this device took part in the conversation. Read it on a \
                 device you had then, or ask its members to share history with people added."
            }
            Unreadable::Withheld => {
                "🔒 Unable to decrypt: this device has not been given the conversation's keys yet. They \
                 arrive when another member's device is online; keep this page open."
            }
            Unreadable::Damaged(why) => {
                return format!("🔒 Unable to decrypt: the message is damaged or not readable ({why}).");
            }
        };
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_says_what_to_do() {
        for reason in [Unreadable::NoKeysHere, Unreadable::BeforeJoined, Unreadable::Withheld] {
            let text = reason.explain();
            assert!(text.starts_with("🔒 Unable to decrypt: "), "{text}");
            assert!(text.contains(". "), "a reason and then what to do: {text}");
        }
        assert!(Unreadable::Damaged("bad".into()).explain().contains("(bad)"));
    }
}
