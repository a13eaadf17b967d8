//! Jitsi Meet as an optional video provider for meetings: each meeting gets
//! a room on the operator's Jitsi server whose name cannot be guessed (an
//! HMAC of the meeting's id with a key kept in the data directory), and,
//! when the server checks tokens (Prosody's `token` authentication with an
//! app id and secret), a link carrying a JWT signed HS256 as Jitsi expects:
//! `aud` `jitsi`, `iss` the app id, `sub` the server's domain, `room` the
//! room, `exp`/`nbf`, the person in `context.user`, and `moderator` for the
//! organizer.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use std::path::Path;

/// How the operator's Jitsi server is reached, and how its rooms are named
/// and entered.
#[derive(Clone)]
pub struct Jitsi {
    /// `https://meet.example.com`, no trailing slash.
    url: String,
    /// The key room names are made with.
    room_key: Vec<u8>,
    /// The app id and secret of token authentication, when the server uses it.
    token: Option<(String, String)>,
}

impl std::fmt::Debug for Jitsi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jitsi").field("url", &self.url).field("tokens", &self.token.is_some()).finish()
    }
}

/// Who enters a room.
pub struct Guest<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub moderator: bool,
}

impl Jitsi {
    /// Jitsi at `url`, with the room key in `key_path` (made the first time),
    /// and `token` (app id, secret) when the server checks tokens.
    pub fn load_or_create(
        url: &str,
        key_path: &Path,
        token: Option<(String, String)>,
    ) -> std::io::Result<Self> {
        let room_key = match std::fs::read(key_path) {
            Ok(key) if key.len() >= 32 => key,
            _ => {
                let key: [u8; 32] = rand::random();
                if let Some(dir) = key_path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(key_path, key)?;
                key.to_vec()
            }
        };
        Ok(Jitsi { url: url.trim_end_matches('/').to_string(), room_key, token })
    }

    /// The room of meeting `meeting`: `parley-<id>-<20 hex of an HMAC>`.
    pub fn room(&self, meeting: &str) -> String {
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(&self.room_key).expect("HMAC takes any key length");
        mac.update(meeting.as_bytes());
        let digest = hex::encode(mac.finalize().into_bytes());
        format!("parley-{meeting}-{}", &digest[..20])
    }

    /// The link that takes `guest` into `meeting`'s room until `until`
    /// (seconds since 1970); with a token when the server checks them.
    pub fn link(&self, meeting: &str, guest: &Guest<'_>, now: i64, until: i64) -> String {
        let room = self.room(meeting);
        match &self.token {
            None => format!("{}/{room}", self.url),
            Some((app_id, secret)) => {
                let jwt = self.jwt(app_id, secret, &room, guest, now, until);
                format!("{}/{room}?jwt={jwt}", self.url)
            }
        }
    }

    /// The server's domain, as Jitsi's tokens name it in `sub`.
    fn domain(&self) -> &str {
        let rest = self.url.split_once("://").map_or(self.url.as_str(), |(_, r)| r);
        rest.split(['/', ':']).next().unwrap_or(rest)
    }

    fn jwt(&self, app_id: &str, secret: &str, room: &str, guest: &Guest<'_>, now: i64, until: i64) -> String {
        let header = serde_json::json!({"alg": "HS256", "typ": "JWT"});
        let claims = serde_json::json!({
            "aud": "jitsi",
            "iss": app_id,
            "sub": self.domain(),
            "room": room,
            "nbf": now - 60,
            "exp": until,
            "moderator": guest.moderator,
            "context": {"user": {"id": guest.id, "name": guest.name, "email": guest.email, "moderator": guest.moderator}},
        });
        let input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(input.as_bytes());
        format!("{input}.{}", B64.encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jitsi(token: Option<(String, String)>) -> Jitsi {
        Jitsi { url: "https://meet.example.com/".trim_end_matches('/').into(), room_key: vec![7; 32], token }
    }

    #[test]
    fn rooms_are_one_per_meeting_and_not_guessable_from_its_id() {
        let j = jitsi(None);
        assert_eq!(j.room("42"), j.room("42"));
        assert_ne!(j.room("42"), j.room("43"));
        assert!(j.room("42").starts_with("parley-42-") && j.room("42").len() == "parley-42-".len() + 20);
        let other = Jitsi { room_key: vec![8; 32], ..jitsi(None) };
        assert_ne!(j.room("42"), other.room("42"), "another key, another room");
    }

    #[test]
    fn the_domain_is_the_urls_host() {
        assert_eq!(jitsi(None).domain(), "meet.example.com");
        let local = Jitsi { url: "http://127.0.0.1:8443/jitsi".into(), ..jitsi(None) };
        assert_eq!(local.domain(), "127.0.0.1");
    }
}
