//! Standard Web Push, with no vendor relay: the server's VAPID key (RFC 8292)
//! identifies it to whichever push service the browser chose, and each
//! payload is encrypted for the subscription's keys (RFC 8291, `aes128gcm`
//! from RFC 8188), so the push service sees only ciphertext.

use crate::outgoing::Guard;
use aes_gcm::aead::Aead;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hkdf::Hkdf;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;
use std::path::Path;
use std::time::Duration;

/// The record size announced in the header; one record holds the payload.
const RECORD_SIZE: u32 = 4096;
/// The most a payload may be: a record less its delimiter and tag.
pub const MAX_PAYLOAD: usize = RECORD_SIZE as usize - 86 - 17;

/// Why a push was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("the subscription is gone ({0})")]
    Gone(u16),
    #[error("the push service refused the message: {0}")]
    Rejected(String),
    #[error("the push service could not be reached or asked to retry: {0}")]
    Temporary(String),
    #[error("{0}")]
    Invalid(String),
}

impl PushError {
    pub fn is_permanent(&self) -> bool {
        !matches!(self, PushError::Temporary(_))
    }
}

/// The server's VAPID key pair.
pub struct Vapid {
    key: SigningKey,
    public: String,
    subject: String,
}

impl Vapid {
    /// Reads the private key from `path`, or makes one and writes it there
    /// (readable by the owner only). `subject` is a `mailto:` or `https:`
    /// contact for push services.
    pub fn load_or_create(path: &Path, subject: &str) -> std::io::Result<Self> {
        let secret = match std::fs::read_to_string(path) {
            Ok(text) => B64
                .decode(text.trim())
                .ok()
                .and_then(|b| SecretKey::from_slice(&b).ok())
                .ok_or_else(|| std::io::Error::other(format!("{} is not a VAPID key", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret = SecretKey::random(&mut rand::rngs::OsRng);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                write_private(path, &B64.encode(secret.to_bytes()))?;
                secret
            }
            Err(e) => return Err(e),
        };
        Ok(Self::from_secret(secret, subject))
    }

    pub fn from_secret(secret: SecretKey, subject: &str) -> Self {
        let public = B64.encode(secret.public_key().to_encoded_point(false).as_bytes());
        Vapid { key: SigningKey::from(secret), public, subject: subject.to_string() }
    }

    /// The public key as browsers take it (`applicationServerKey`): the
    /// uncompressed point, base64url.
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header for a push to `endpoint`: a JWT (ES256)
    /// for the endpoint's origin, valid 12 hours, and the public key.
    pub fn authorization(&self, endpoint: &url::Url, now_secs: i64) -> String {
        let header = B64.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({
            "aud": endpoint.origin().ascii_serialization(),
            "exp": now_secs + 12 * 3600,
            "sub": self.subject,
        });
        let input = format!("{header}.{}", B64.encode(claims.to_string()));
        let signature: Signature = self.key.sign(input.as_bytes());
        format!("vapid t={input}.{}, k={}", B64.encode(signature.to_bytes()), self.public)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

/// Encrypts `payload` for a subscription's `p256dh` key and `auth` secret
/// with a fresh key pair and salt.
pub fn encrypt(payload: &[u8], p256dh: &[u8], auth: &[u8]) -> Result<Vec<u8>, PushError> {
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut salt);
    encrypt_with(payload, p256dh, auth, &SecretKey::random(&mut rand::rngs::OsRng), salt)
}

/// RFC 8291 §3.4 with the sender's key pair and salt given: the header
/// (salt, record size, the sender's public key), then one record.
pub fn encrypt_with(
    payload: &[u8],
    p256dh: &[u8],
    auth: &[u8],
    sender: &SecretKey,
    salt: [u8; 16],
) -> Result<Vec<u8>, PushError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(PushError::Invalid(format!("a push payload is at most {MAX_PAYLOAD} bytes")));
    }
    let receiver = PublicKey::from_sec1_bytes(p256dh)
        .map_err(|_| PushError::Invalid("the subscription's p256dh key is not a P-256 point".into()))?;
    if auth.len() != 16 {
        return Err(PushError::Invalid("the subscription's auth secret is not 16 bytes".into()));
    }
    let sender_public = sender.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(sender.to_nonzero_scalar(), receiver.as_affine());
    // IKM = HKDF(auth, ecdh, "WebPush: info" 0 ua_public as_public)
    let mut info = b"WebPush: info\0".to_vec();
    info.extend_from_slice(p256dh);
    info.extend_from_slice(sender_public.as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes())
        .expand(&info, &mut ikm)
        .map_err(|_| PushError::Invalid("key derivation failed".into()))?;
    let prk = Hkdf::<Sha256>::new(Some(&salt), &ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .and_then(|_| prk.expand(b"Content-Encoding: nonce\0", &mut nonce))
        .map_err(|_| PushError::Invalid("key derivation failed".into()))?;
    let mut record = payload.to_vec();
    record.push(2); // the last (and only) record's delimiter
    let sealed = Aes128Gcm::new(&cek.into())
        .encrypt(Nonce::from_slice(&nonce), record.as_slice())
        .map_err(|_| PushError::Invalid("encryption failed".into()))?;
    let mut out = Vec::with_capacity(86 + sealed.len());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    out.push(sender_public.as_bytes().len() as u8);
    out.extend_from_slice(sender_public.as_bytes());
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// A browser's push subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub endpoint: String,
    /// base64url, as the browser gives them.
    pub p256dh: String,
    pub auth: String,
}

/// Checks a subscription's endpoint: https, and through the outgoing
/// guard (a push is a request the server makes for a person) unless
/// `allow_private` (tests, a push service inside the network).
pub fn check_endpoint(endpoint: &str, allow_private: bool) -> Result<url::Url, String> {
    let guard = if allow_private { Guard::allowing_private() } else { Guard::public_only() };
    let url = guard.check(endpoint).map_err(|e| format!("The push endpoint is refused: {e}"))?;
    if !allow_private && url.scheme() != "https" {
        return Err("The push endpoint must be an https address of a public push service.".into());
    }
    Ok(url)
}

/// A push to send: its JSON payload, a topic that replaces an undelivered
/// push with the same topic, and its urgency (`normal` or `high`).
#[derive(Debug, Clone)]
pub struct PushMessage {
    pub payload: Vec<u8>,
    pub topic: Option<String>,
    pub urgency: &'static str,
    /// How long the push service may hold it for an offline browser.
    pub ttl_secs: u32,
}

/// Sends pushes over HTTP.
#[derive(Clone)]
pub struct PushSender {
    client: reqwest::Client,
    vapid: std::sync::Arc<Vapid>,
    allow_private: bool,
}

impl PushSender {
    pub fn new(vapid: std::sync::Arc<Vapid>, allow_private: bool) -> Self {
        let guard = if allow_private { Guard::allowing_private() } else { Guard::public_only() };
        let client = guard.client(Duration::from_secs(30));
        PushSender { client, vapid, allow_private }
    }

    pub fn public_key(&self) -> &str {
        self.vapid.public_key()
    }

    pub async fn send(&self, sub: &Subscription, msg: &PushMessage) -> Result<(), PushError> {
        let url = check_endpoint(&sub.endpoint, self.allow_private).map_err(PushError::Invalid)?;
        let key = |s: &str, what: &str| {
            B64.decode(s.trim_end_matches('='))
                .map_err(|_| PushError::Invalid(format!("the subscription's {what} is not base64url")))
        };
        let body = encrypt(&msg.payload, &key(&sub.p256dh, "p256dh key")?, &key(&sub.auth, "auth secret")?)?;
        let mut req = self
            .client
            .post(url.clone())
            .header("Authorization", self.vapid.authorization(&url, crate::now_ms() / 1000))
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("TTL", msg.ttl_secs.to_string())
            .header("Urgency", msg.urgency)
            .body(body);
        if let Some(topic) = &msg.topic {
            req = req.header("Topic", topic);
        }
        let res = req.send().await.map_err(|e| PushError::Temporary(e.to_string()))?;
        let status = res.status().as_u16();
        match status {
            200..=299 => Ok(()),
            404 | 410 => Err(PushError::Gone(status)),
            429 | 500..=599 => Err(PushError::Temporary(format!("HTTP {status}"))),
            _ => {
                let text = res.text().await.unwrap_or_default();
                Err(PushError::Rejected(format!(
                    "HTTP {status} {}",
                    text.chars().take(200).collect::<String>()
                )))
            }
        }
    }
}

/// A topic (RFC 8030 §5.4: at most 32 base64url characters) from a group key.
pub fn topic(group_key: &str) -> String {
    group_key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .take(32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Vec<u8> {
        B64.decode(s).unwrap()
    }

    /// RFC 8291 Appendix A: the same keys and salt give the published message.
    #[test]
    fn encryption_reproduces_the_rfc_8291_example() {
        let sender = SecretKey::from_slice(&b("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        let body = encrypt_with(
            b"When I grow up, I want to be a watermelon",
            &b("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
            &b("BTBZMqHH6r4Tts7J_aSIgg"),
            &sender,
            b("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap(),
        )
        .unwrap();
        assert_eq!(
            B64.encode(body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn the_vapid_token_verifies_with_the_public_key() {
        use p256::ecdsa::VerifyingKey;
        use p256::ecdsa::signature::Verifier;
        let vapid = Vapid::from_secret(SecretKey::random(&mut rand::rngs::OsRng), "mailto:admin@example.com");
        let url = url::Url::parse("https://push.example.net:8443/send/abc").unwrap();
        let header = vapid.authorization(&url, 1_800_000_000);
        let (t, k) = header.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(k, vapid.public_key());
        let (input, sig) = t.rsplit_once('.').unwrap();
        let key = VerifyingKey::from_sec1_bytes(&b(k)).unwrap();
        key.verify(input.as_bytes(), &Signature::from_slice(&b(sig)).unwrap()).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&b(input.split('.').nth(1).unwrap())).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net:8443");
        assert_eq!(claims["exp"], 1_800_000_000i64 + 12 * 3600);
        assert_eq!(claims["sub"], "mailto:admin@example.com");
    }

    #[test]
    fn the_key_is_made_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("parley-vapid-{}", crate::id::Id::new()));
        let path = dir.join("vapid.key");
        let a = Vapid::load_or_create(&path, "mailto:a@b.c").unwrap();
        let b = Vapid::load_or_create(&path, "mailto:a@b.c").unwrap();
        assert_eq!(a.public_key(), b.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn endpoints_on_this_network_are_refused_unless_allowed() {
        assert!(check_endpoint("https://fcm.googleapis.com/fcm/send/x", false).is_ok());
        for bad in [
            "http://fcm.googleapis.com/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://localhost/x",
            "https://[::1]/x",
            "ftp://x.example/",
        ] {
            assert!(check_endpoint(bad, false).is_err(), "{bad}");
        }
        assert!(check_endpoint("http://127.0.0.1:9/x", true).is_ok());
        assert_eq!(topic("ch:123456"), "ch-123456");
    }
}
