//! Calls: signalling over the gateway and an SFU on the `webrtc` crate.
//!
//! Each gateway connection in a call has one peer connection to the server
//! ([`sfu::Sfu`]). The server always makes the offers (after joining, and
//! again whenever tracks come or go), so offers never cross. What a person
//! publishes is forwarded, packet by packet, to everyone else in the same
//! call: no mixing, no transcoding. Keyframe requests from receivers go back
//! to the publisher. Who may join, speak and mute others is the hub's
//! decision ([`domain::Hub::join_voice`]); the SFU only moves packets.
//!
//! A call runs on one node: with several nodes, [`relay`] carries a
//! connection's call commands to the node running its call ([`calls`]).

pub mod calls;
pub mod relay;
pub mod sfu;

/// Where the SFU listens and what it tells browsers.
#[derive(Debug, Clone, Default)]
pub struct RtcConfig {
    /// Addresses announced in the SFU's ICE candidates instead of those of
    /// its interfaces (its public address behind NAT; 127.0.0.1 in tests).
    pub announced_ips: Vec<String>,
    /// The UDP ports to use, inclusive; any when `None`.
    pub udp_ports: Option<(u16, u16)>,
    /// STUN servers the browsers use (`stun:host:port`).
    pub stun_urls: Vec<String>,
    /// TURN servers (`turn:host:3478?transport=udp`, `turns:...`) sharing
    /// `turn_secret` with this server (coturn's `use-auth-secret`).
    pub turn_urls: Vec<String>,
    pub turn_secret: Option<String>,
    /// How long TURN credentials stay valid.
    pub turn_ttl: std::time::Duration,
}

/// Short-lived TURN credentials for `user`, as coturn's `use-auth-secret`
/// checks them: the username is `<expiry, unix seconds>:<user id>` and the
/// password base64(HMAC-SHA1(secret, username)). Nothing is stored; the TURN
/// server recomputes the password and refuses it after the expiry.
pub fn turn_credentials(secret: &str, user: domain::Id, expires_unix: u64) -> (String, String) {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let username = format!("{expires_unix}:{user}");
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(username.as_bytes());
    let credential = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (username, credential)
}

impl RtcConfig {
    /// The ICE servers to give `user`'s browser now: STUN as configured, and
    /// TURN with fresh credentials when a secret is set.
    pub fn ice_servers_for(&self, user: domain::Id) -> Vec<app::wire::IceServerDto> {
        let mut out = Vec::new();
        if !self.stun_urls.is_empty() {
            out.push(app::wire::IceServerDto {
                urls: self.stun_urls.clone(),
                username: None,
                credential: None,
            });
        }
        if let (false, Some(secret)) = (self.turn_urls.is_empty(), &self.turn_secret) {
            let expires = (domain::now_ms() / 1000) as u64 + self.turn_ttl.as_secs();
            let (username, credential) = turn_credentials(secret, user, expires);
            out.push(app::wire::IceServerDto {
                urls: self.turn_urls.clone(),
                username: Some(username),
                credential: Some(credential),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_credentials_follow_coturn() {
        // Computed independently: base64(HMAC-SHA1("north-sea", "1700000000:42")).
        let (user, password) = turn_credentials("north-sea", domain::Id(42), 1_700_000_000);
        assert_eq!((user.as_str(), password.as_str()), ("1700000000:42", "WbP1qvHdm1037TuUYllnt2NgZNA="));
        let config = RtcConfig {
            stun_urls: vec!["stun:stun.example.org:3478".into()],
            turn_urls: vec!["turn:turn.example.org:3478".into()],
            turn_secret: Some("north-sea".into()),
            turn_ttl: std::time::Duration::from_secs(3600),
            ..Default::default()
        };
        let servers = config.ice_servers_for(domain::Id(42));
        assert_eq!(servers.len(), 2);
        let turn = &servers[1];
        let expiry: u64 = turn.username.as_ref().unwrap().split(':').next().unwrap().parse().unwrap();
        let now = (domain::now_ms() / 1000) as u64;
        assert!((now + 3590..=now + 3600).contains(&expiry), "valid for an hour from now");
        let again = turn_credentials("north-sea", domain::Id(42), expiry).1;
        assert_eq!(turn.credential.as_deref(), Some(again.as_str()));
        assert!(RtcConfig { turn_secret: None, ..config }.ice_servers_for(domain::Id(42)).len() == 1);
    }
}
