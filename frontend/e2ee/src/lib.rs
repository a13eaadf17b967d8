//! End-to-end encryption for Parley's clients.
//!
//! Each device (a browser, a bot) is a Messaging Layer Security client
//! (RFC 9420, through `openmls`): it has its own signature key, publishes
//! key packages through the server, and holds one MLS group per encrypted
//! conversation. The server only delivers: it stores key packages,
//! commits (one per epoch, in the order it accepted them), welcomes and
//! ciphertext, and never sees a key or a plaintext.
//!
//! A device's credential names it as `parley:<user id>:<device id>`; what
//! the server says about a device (its person, its signature key) is
//! checked against the key package it hands out ([`Device::add_devices`]),
//! so a server cannot slip another key into a conversation unseen.
//!
//! This crate is plain Rust: the browser uses it compiled to WebAssembly,
//! the server's tests and bots natively.

use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

mod call;
mod search;
pub use call::{CallCrypto, CallKeys, Media};
pub use search::{SearchKey, Searchable, words};

/// The one cipher suite Parley's devices speak: X25519, AES-128-GCM,
/// SHA-256 and Ed25519 (MLS's mandatory-to-implement suite).
pub const CIPHERSUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// A device of a person, as the server numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeviceRef {
    pub user: i64,
    pub device: i64,
}

impl DeviceRef {
    /// The identity in the device's MLS credential.
    fn identity(self) -> Vec<u8> {
        format!("parley:{}:{}", self.user, self.device).into_bytes()
    }

    fn from_identity(bytes: &[u8]) -> Option<DeviceRef> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut parts = text.strip_prefix("parley:")?.split(':');
        let user = parts.next()?.parse().ok()?;
        let device = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(DeviceRef { user, device })
    }

    fn of(credential: &Credential) -> Option<DeviceRef> {
        let basic = BasicCredential::try_from(credential.clone()).ok()?;
        DeviceRef::from_identity(basic.identity())
    }
}

/// Why something could not be encrypted or decrypted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// This device holds no keys for the conversation: it was not added to
    /// it (or not yet), or it was removed.
    #[error("this device has no keys for conversation {0}: it was not added to it, or not yet")]
    NotInConversation(i64),
    /// A key package the server handed out is not the device it was said to be.
    #[error("the key package offered for device {0:?} is not that device's: it was not used")]
    ForeignKeyPackage(DeviceRef),
    /// A device its person's identity key did not sign.
    #[error("device {0:?} is not signed by its person's identity key: it was not added")]
    UnsignedDevice(DeviceRef),
    /// A message was sent in an epoch this device never had or no longer keeps.
    #[error("sent with keys this device does not have (epoch {epoch}, this device is at {at})")]
    WrongEpoch { epoch: u64, at: u64 },
    /// The recovery key typed is not the one that sealed the backup (or not one at all).
    #[error("that is not the recovery key of this backup: check it, or reset your identity")]
    WrongRecoveryKey,
    /// A message's own copy does not open with this person's recovery key:
    /// it was sealed before they reset their keys (or for another conversation).
    #[error("its copy for you was sealed with an earlier recovery key, before your keys were reset")]
    OwnCopySealedElsewhere,
    /// A call's frame was sent with the keys of an epoch this device does
    /// not have (not yet, or no longer).
    #[error("a frame sent with call keys this device does not have")]
    NoCallKey,
    #[error("not a message of this protocol: {0}")]
    Malformed(String),
    #[error("encryption failed: {0}")]
    Mls(String),
}

pub type Result<T> = std::result::Result<T, Error>;

fn mls(e: impl std::fmt::Debug) -> Error {
    Error::Mls(format!("{e:?}"))
}

fn malformed(e: impl std::fmt::Debug) -> Error {
    Error::Malformed(format!("{e:?}"))
}

/// A device's signing key, made before the server gives the device its
/// number (the server is told the public half).
pub struct DeviceKeys {
    keys: SignatureKeyPair,
}

impl DeviceKeys {
    pub fn generate() -> Result<DeviceKeys> {
        Ok(DeviceKeys { keys: SignatureKeyPair::new(CIPHERSUITE.signature_algorithm()).map_err(mls)? })
    }

    /// The public signature key, as the server records it for the device.
    pub fn public(&self) -> Vec<u8> {
        self.keys.to_public_vec()
    }
}

/// What a message in an encrypted conversation says, inside the encryption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// What the author wrote (Markdown).
    pub text: String,
    /// The files sent with it, in the order the server lists the message's
    /// attachments: each uploaded encrypted with its own key, kept here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileKey>,
    /// The previews of pages it links to, made by the sender's browser (the
    /// server cannot read the links).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previews: Vec<PagePreview>,
}

impl Content {
    /// A message of text only.
    pub fn of_text(text: impl Into<String>) -> Content {
        Content { text: text.into(), files: Vec::new(), previews: Vec::new() }
    }

    /// Sealed for its author alone, bound to `conversation`, with a key
    /// derived from their recovery key: what their devices restored from
    /// the key backup read of what they sent (no MLS member can decrypt its
    /// own messages, and the sending device's copy leaves with it).
    pub fn seal_own(&self, key: &RecoveryKey, conversation: i64) -> Result<Vec<u8>> {
        let plain = serde_json::to_vec(self).map_err(mls)?;
        seal_with_nonce(&key.own_copy_key()?, &own_copy_aad(conversation), &plain)
    }

    /// What [`Content::seal_own`] sealed for `conversation` with `key`.
    pub fn open_own(sealed: &[u8], key: &RecoveryKey, conversation: i64) -> Result<Content> {
        let plain = open_with_nonce(&key.own_copy_key()?, &own_copy_aad(conversation), sealed)
            .ok_or(Error::OwnCopySealedElsewhere)?;
        serde_json::from_slice(&plain).map_err(malformed)
    }
}

/// What binds an own copy's encryption to its use and its conversation.
fn own_copy_aad(conversation: i64) -> Vec<u8> {
    format!("parley-own-copy-v1:{conversation}").into_bytes()
}

/// What a linked page shows as a preview: its title, description and site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagePreview {
    pub url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub site_name: String,
}

/// An attachment of an encrypted message, as only its readers know it: its
/// name, type and size, and the key its bytes were encrypted with. The
/// server keeps the encrypted bytes under a name of its own.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileKey {
    pub name: String,
    /// Its media type, as the sender's browser gave it.
    pub mime: String,
    /// Its size before encryption, in bytes.
    pub size: u64,
    /// The AES-256-GCM key (base64), made for this one file.
    key: String,
}

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKey").field("name", &self.name).field("size", &self.size).finish_non_exhaustive()
    }
}

/// What binds a file's encryption to its use.
const FILE_AAD: &[u8] = b"parley-file-v1";

/// How much longer a file is encrypted: AES-GCM's tag.
pub const FILE_OVERHEAD: u64 = 16;

impl FileKey {
    /// Encrypts `bytes` with a new key (AES-256-GCM): the key as the
    /// message will carry it, and the bytes to upload. Each key encrypts
    /// one file only, so its nonce is fixed (zero).
    pub fn seal(name: &str, mime: &str, bytes: &[u8]) -> Result<(FileKey, Vec<u8>)> {
        use aes_gcm::aead::{Aead, KeyInit, Payload};
        use openmls_traits::random::OpenMlsRand;
        let key: [u8; 32] = OpenMlsRustCrypto::default().rand().random_array().map_err(mls)?;
        let cipher = aes_gcm::Aes256Gcm::new_from_slice(&key).map_err(mls)?;
        let sealed = cipher.encrypt(&[0u8; 12].into(), Payload { msg: bytes, aad: FILE_AAD }).map_err(mls)?;
        let file = FileKey { name: name.into(), mime: mime.into(), size: bytes.len() as u64, key: b64(&key) };
        Ok((file, sealed))
    }

    /// The file's bytes from what was uploaded; anything else (another
    /// file, changed bytes) is refused.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        use aes_gcm::aead::{Aead, KeyInit, Payload};
        let cipher = aes_gcm::Aes256Gcm::new_from_slice(&unb64(&self.key)?).map_err(malformed)?;
        cipher.decrypt(&[0u8; 12].into(), Payload { msg: sealed, aad: FILE_AAD }).map_err(|_| {
            Error::Malformed("the file's bytes are not the ones its message was sent with".into())
        })
    }
}

/// The latest messages of a conversation as one member's device read
/// them, shared with the devices it adds (when the conversation shares
/// its history): encrypted for the epoch that added them, so only the
/// conversation's devices then read it. Its content is what that device
/// says the messages said: a reader shows whose device shared it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedHistory {
    pub messages: Vec<SharedMessage>,
}

/// What encrypting a shared history adds to its JSON, at most (the MLS
/// framing and padding, its associated data, the authentication tag, the
/// sender's signature), with room to spare.
const SHARED_HISTORY_FRAMING: usize = 1024;

impl SharedHistory {
    /// The JSON of the newest of its messages (oldest first) that take at
    /// most `bytes`; `None` where not even the latest does.
    fn latest_within(&self, bytes: usize) -> Result<Option<Vec<u8>>> {
        let from = |first: usize| {
            serde_json::to_vec(&SharedHistory { messages: self.messages[first..].to_vec() }).map_err(mls)
        };
        let whole = serde_json::to_vec(self).map_err(mls)?;
        if whole.len() <= bytes {
            return Ok(Some(whole));
        }
        // Leaving out more messages never makes it larger: bisect for the
        // fewest to leave out, with `json(too_many) > bytes` all along.
        let (mut too_many, mut fits) = (0, self.messages.len());
        while fits - too_many > 1 {
            let mid = too_many + (fits - too_many) / 2;
            match from(mid)?.len() <= bytes {
                true => fits = mid,
                false => too_many = mid,
            }
        }
        match fits == self.messages.len() {
            true => Ok(None),
            false => from(fits).map(Some),
        }
    }
}

/// One message of a [`SharedHistory`]: its id, as of its edit `edited_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedMessage {
    pub id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    pub content: Content,
}

/// The device that sent a processed message.
fn sender(processed: &ProcessedMessage) -> Result<DeviceRef> {
    DeviceRef::of(processed.credential())
        .ok_or_else(|| Error::Malformed("a sender that is not a Parley device".into()))
}

/// Authenticated with a shared history (and with no message): one is never
/// read as the other.
const SHARED_HISTORY_AAD: &[u8] = b"parley shared history";

/// A change to a conversation's members (and so its keys), made by this
/// device and waiting for the server to accept it for `epoch`.
#[derive(Debug, Clone)]
pub struct Commit {
    /// The epoch it changes (the server accepts one commit per epoch).
    pub epoch: u64,
    pub commit: Vec<u8>,
    /// For the devices it adds: what lets them join.
    pub welcome: Option<Vec<u8>>,
    pub welcomed: Vec<DeviceRef>,
}

/// What a message delivered in a conversation turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Message {
        from: DeviceRef,
        content: Content,
    },
    /// A change of members: the conversation is now at `epoch`.
    Commit {
        epoch: u64,
        members: Vec<DeviceRef>,
    },
}

/// A change that brings a conversation's keys in line with its members' devices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub add: Vec<DeviceRef>,
    pub remove: Vec<DeviceRef>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

/// A key package as the server hands it out: for which device, with
/// what vouches for that device.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub device: DeviceRef,
    /// The signature key the server records for that device.
    pub signature_key: Vec<u8>,
    pub key_package: Vec<u8>,
    /// The identity key of the device's person.
    pub identity_key: Vec<u8>,
    /// That identity key's signature of the device ([`Identity::sign_device`]).
    pub identity_signature: Vec<u8>,
}

/// A person's identity: one signing key that vouches for each of their
/// devices. Its public half is what people compare ([`safety_number`]).
#[derive(Serialize, Deserialize)]
pub struct Identity {
    keys: SignatureKeyPair,
}

/// What an identity key signs for a device: its person and its signature key.
fn device_statement(user: i64, device_key: &[u8]) -> Vec<u8> {
    let mut statement = format!("parley-device\0{user}\0").into_bytes();
    statement.extend_from_slice(device_key);
    statement
}

impl Identity {
    pub fn generate() -> Result<Identity> {
        Ok(Identity { keys: SignatureKeyPair::new(CIPHERSUITE.signature_algorithm()).map_err(mls)? })
    }

    /// The public identity key (Ed25519), as the server keeps it.
    pub fn public(&self) -> Vec<u8> {
        self.keys.to_public_vec()
    }

    /// Vouches for `user`'s device whose signature key is `device_key`.
    pub fn sign_device(&self, user: i64, device_key: &[u8]) -> Result<Vec<u8>> {
        use openmls_traits::signatures::Signer;
        self.keys.sign(&device_statement(user, device_key)).map_err(mls)
    }

    /// The identity as kept (secret: it vouches for new devices).
    pub fn save(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(mls)
    }

    pub fn restore(bytes: &[u8]) -> Result<Identity> {
        serde_json::from_slice(bytes).map_err(malformed)
    }
}

/// Whether `identity_key` signed `user`'s device whose key is `device_key`.
pub fn device_signed(identity_key: &[u8], user: i64, device_key: &[u8], signature: &[u8]) -> bool {
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};
    let Ok(key) = <[u8; 32]>::try_from(identity_key) else { return false };
    let Ok(key) = VerifyingKey::from_bytes(&key) else { return false };
    let Ok(signature) = Signature::from_slice(signature) else { return false };
    key.verify(&device_statement(user, device_key), &signature).is_ok()
}

/// The safety number of two people: the same 60 digits for both, whoever
/// computes it, from their ids and identity keys; it changes when either
/// key does. People compare it (read aloud, or as a QR code of these digits).
pub fn safety_number(a: (i64, &[u8]), b: (i64, &[u8])) -> String {
    use sha2::{Digest, Sha512};
    let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    let half = |(user, key): (i64, &[u8])| {
        let mut digest =
            Sha512::digest([b"parley-safety-number\0".as_slice(), &user.to_be_bytes(), key].concat());
        for _ in 0..1023 {
            digest = Sha512::digest([digest.as_slice(), key].concat());
        }
        // Six groups of five digits from 30 bytes, five bytes each.
        (0..6)
            .map(|i| {
                let chunk = &digest[i * 5..i * 5 + 5];
                let n = chunk.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b));
                format!("{:05}", n % 100_000)
            })
            .collect::<Vec<_>>()
    };
    let mut groups = half(first);
    groups.extend(half(second));
    groups.join(" ")
}

/// A device as saved: who it is, and its storage's entries (base64).
#[derive(Serialize, Deserialize)]
struct Saved {
    user: i64,
    device: i64,
    signature_key: String,
    conversations: Vec<i64>,
    values: Vec<(String, String)>,
}

/// 32 random bytes, for a key.
fn random_key() -> Result<[u8; 32]> {
    use openmls_traits::random::OpenMlsRand;
    OpenMlsRustCrypto::default().rand().random_array().map_err(mls)
}

/// `plain` encrypted with `key` (AES-256-GCM) for the use `aad` names, a
/// random nonce first: for a key that seals many things.
fn seal_with_nonce(key: &[u8; 32], aad: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use openmls_traits::random::OpenMlsRand;
    let nonce: [u8; 12] = OpenMlsRustCrypto::default().rand().random_array().map_err(mls)?;
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(key).map_err(mls)?;
    let sealed = cipher.encrypt(&nonce.into(), Payload { msg: plain, aad }).map_err(mls)?;
    Ok([nonce.as_slice(), &sealed].concat())
}

/// What [`seal_with_nonce`] sealed with `key` for `aad`; `None` for
/// anything else.
fn open_with_nonce(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    if sealed.len() < 12 {
        return None;
    }
    let (nonce, body) = sealed.split_at(12);
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(key).ok()?;
    cipher.decrypt(nonce.into(), Payload { msg: body, aad }).ok()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(text: &str) -> Result<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).map_err(malformed)
}

/// The key that opens a person's key backup: 32 random bytes, made in the
/// browser and shown once as 13 groups of four letters and digits; the
/// server never sees it.
pub struct RecoveryKey([u8; 32]);

/// Crockford's base-32 alphabet: no I, L, O or U to misread.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl RecoveryKey {
    pub fn generate() -> Result<RecoveryKey> {
        random_key().map(RecoveryKey)
    }

    /// The key of its person's own copies ([`Content::seal_own`]): HKDF's
    /// expansion of the recovery key (uniformly random, so a key to expand
    /// as it is), apart from the key that seals the backup.
    fn own_copy_key(&self) -> Result<[u8; 32]> {
        use openmls_traits::crypto::OpenMlsCrypto;
        use openmls_traits::types::HashType;
        let crypto = openmls_rust_crypto::RustCrypto::default();
        let okm = crypto.hkdf_expand(HashType::Sha2_256, &self.0, b"parley own copies", 32).map_err(mls)?;
        okm.as_slice().try_into().map_err(mls)
    }

    /// As shown to the person: `ABCD EFGH …` (52 characters in groups of four).
    pub fn to_text(&self) -> String {
        let mut bits = 0u32;
        let mut held = 0;
        let mut out = String::new();
        for byte in self.0 {
            bits = (bits << 8) | u32::from(byte);
            held += 8;
            while held >= 5 {
                held -= 5;
                out.push(RECOVERY_ALPHABET[((bits >> held) & 31) as usize] as char);
            }
        }
        out.push(RECOVERY_ALPHABET[((bits << (5 - held)) & 31) as usize] as char);
        out.as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Reads a recovery key as typed: spaces and case do not matter, and
    /// O, I and L are read as 0, 1 and 1.
    pub fn parse(text: &str) -> Result<RecoveryKey> {
        let wrong = || Error::WrongRecoveryKey;
        let (mut bits, mut held, mut bytes) = (0u32, 0, Vec::with_capacity(33));
        let symbols: Vec<char> = text.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        if symbols.len() != 52 {
            return Err(wrong());
        }
        for c in symbols {
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            let value = RECOVERY_ALPHABET.iter().position(|a| *a as char == c).ok_or_else(wrong)?;
            bits = (bits << 5) | value as u32;
            held += 5;
            if held >= 8 {
                held -= 8;
                bytes.push((bits >> held) as u8);
            }
        }
        bytes.truncate(32);
        Ok(RecoveryKey(bytes.try_into().map_err(|_| wrong())?))
    }
}

/// What a key backup holds: the person's identity and their device.
#[derive(Serialize, Deserialize)]
pub struct Backup {
    /// [`Identity::save`].
    pub identity: Vec<u8>,
    /// [`Device::save`], if the person had one to keep.
    pub device: Option<Vec<u8>>,
}

/// What binds a backup's encryption to its use.
const BACKUP_AAD: &[u8] = b"parley-key-backup-v1";

impl Backup {
    /// Encrypted with `key` (AES-256-GCM, a random nonce first): what the
    /// server keeps.
    pub fn seal(&self, key: &RecoveryKey) -> Result<Vec<u8>> {
        let plain =
            serde_json::to_vec(&(b64(&self.identity), self.device.as_deref().map(b64))).map_err(mls)?;
        seal_with_nonce(&key.0, BACKUP_AAD, &plain)
    }

    /// Opens what [`Backup::seal`] made; another key does not open it.
    pub fn open(sealed: &[u8], key: &RecoveryKey) -> Result<Backup> {
        if sealed.len() < 12 {
            return Err(Error::Malformed("a key backup too short".into()));
        }
        let plain = open_with_nonce(&key.0, BACKUP_AAD, sealed).ok_or(Error::WrongRecoveryKey)?;
        let (identity, device): (String, Option<String>) =
            serde_json::from_slice(&plain).map_err(malformed)?;
        Ok(Backup { identity: unb64(&identity)?, device: device.as_deref().map(unb64).transpose()? })
    }
}

/// One device: its keys, and its state in each encrypted conversation.
pub struct Device {
    me: DeviceRef,
    provider: OpenMlsRustCrypto,
    keys: SignatureKeyPair,
    credential: CredentialWithKey,
    groups: HashMap<i64, MlsGroup>,
}

fn group_id(conversation: i64) -> GroupId {
    GroupId::from_slice(format!("parley-conversation:{conversation}").as_bytes())
}

fn conversation_of(id: &GroupId) -> Option<i64> {
    std::str::from_utf8(id.as_slice()).ok()?.strip_prefix("parley-conversation:")?.parse().ok()
}

/// Messages may arrive out of order by a few, and a reader may skip many.
fn sender_ratchet() -> SenderRatchetConfiguration {
    SenderRatchetConfiguration::new(20, 5000)
}

/// Old epochs' keys are kept a while, for messages sent just before a change.
const PAST_EPOCHS: usize = 5;

/// How a device keeps a conversation it joins (the same as one it starts:
/// [`Device::start`]); the group's tree travels in its welcome.
fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .sender_ratchet_configuration(sender_ratchet())
        .max_past_epochs(PAST_EPOCHS)
        .use_ratchet_tree_extension(true)
        .build()
}

impl Device {
    /// The device `me`, signing with `keys` (whose public half the server
    /// recorded when it numbered the device).
    pub fn new(me: DeviceRef, keys: DeviceKeys) -> Result<Device> {
        let provider = OpenMlsRustCrypto::default();
        keys.keys.store(provider.storage()).map_err(mls)?;
        let credential = CredentialWithKey {
            credential: BasicCredential::new(me.identity()).into(),
            signature_key: keys.keys.to_public_vec().into(),
        };
        Ok(Device { me, provider, keys: keys.keys, credential, groups: HashMap::new() })
    }

    pub fn me(&self) -> DeviceRef {
        self.me
    }

    /// Everything the device holds (its signing key, its conversations'
    /// keys and the key packages it made), to keep where it lives (the
    /// browser's storage, a bot's disk) and [`Device::restore`] later. It is
    /// secret: whoever has it reads what this device reads.
    pub fn save(&self) -> Result<Vec<u8>> {
        let values = self.provider.storage().values.read().map_err(|_| Error::Mls("storage lock".into()))?;
        let saved = Saved {
            user: self.me.user,
            device: self.me.device,
            signature_key: b64(&self.keys.to_public_vec()),
            conversations: self.groups.keys().copied().collect(),
            values: values.iter().map(|(k, v)| (b64(k), b64(v))).collect(),
        };
        serde_json::to_vec(&saved).map_err(mls)
    }

    /// The device as [`Device::save`] left it.
    pub fn restore(bytes: &[u8]) -> Result<Device> {
        let saved: Saved = serde_json::from_slice(bytes).map_err(malformed)?;
        let provider = OpenMlsRustCrypto::default();
        provider.storage().values.write().map_err(|_| Error::Mls("storage lock".into()))?.extend(
            saved.values.iter().map(|(k, v)| Ok((unb64(k)?, unb64(v)?))).collect::<Result<Vec<_>>>()?,
        );
        let keys = SignatureKeyPair::read(
            provider.storage(),
            &unb64(&saved.signature_key)?,
            CIPHERSUITE.signature_algorithm(),
        )
        .ok_or_else(|| Error::Malformed("a saved device without its signing key".into()))?;
        let me = DeviceRef { user: saved.user, device: saved.device };
        let credential = CredentialWithKey {
            credential: BasicCredential::new(me.identity()).into(),
            signature_key: keys.to_public_vec().into(),
        };
        let mut groups = HashMap::new();
        for conversation in saved.conversations {
            let group =
                MlsGroup::load(provider.storage(), &group_id(conversation)).map_err(mls)?.ok_or_else(
                    || Error::Malformed(format!("a saved device without conversation {conversation}")),
                )?;
            groups.insert(conversation, group);
        }
        Ok(Device { me, provider, keys, credential, groups })
    }

    /// The public signature key the server records for this device.
    pub fn signature_key(&self) -> Vec<u8> {
        self.keys.to_public_vec()
    }

    /// `n` key packages, each usable once by someone adding this device.
    pub fn key_packages(&self, n: usize) -> Result<Vec<Vec<u8>>> {
        (0..n).map(|_| self.key_package(false)).collect()
    }

    /// The key package used when the others have run out (it may be used
    /// more than once).
    pub fn last_resort_key_package(&self) -> Result<Vec<u8>> {
        self.key_package(true)
    }

    fn key_package(&self, last_resort: bool) -> Result<Vec<u8>> {
        let mut builder = KeyPackage::builder();
        if last_resort {
            builder = builder.mark_as_last_resort();
        }
        let bundle =
            builder.build(CIPHERSUITE, &self.provider, &self.keys, self.credential.clone()).map_err(mls)?;
        bundle.key_package().tls_serialize_detached().map_err(mls)
    }

    /// Whether this device holds keys for `conversation`.
    pub fn is_in(&self, conversation: i64) -> bool {
        self.groups.contains_key(&conversation)
    }

    /// The epoch this device is at in `conversation`.
    pub fn epoch(&self, conversation: i64) -> Result<u64> {
        Ok(self.group(conversation)?.epoch().as_u64())
    }

    /// The devices in `conversation`, as this device's keys say.
    pub fn members(&self, conversation: i64) -> Result<Vec<DeviceRef>> {
        let mut members: Vec<DeviceRef> =
            self.group(conversation)?.members().filter_map(|m| DeviceRef::of(&m.credential)).collect();
        members.sort();
        Ok(members)
    }

    /// What to change for `conversation`'s keys to include exactly
    /// `expected` (its members' devices, as the server lists them): the
    /// devices to add, and those to remove.
    pub fn plan(&self, conversation: i64, expected: &[DeviceRef]) -> Result<Plan> {
        let members = self.members(conversation)?;
        Ok(Plan {
            add: expected.iter().filter(|d| !members.contains(d)).copied().collect(),
            remove: members.iter().filter(|d| !expected.contains(d) && **d != self.me).copied().collect(),
        })
    }

    fn group(&self, conversation: i64) -> Result<&MlsGroup> {
        self.groups.get(&conversation).ok_or(Error::NotInConversation(conversation))
    }

    /// Starts `conversation`'s keys with this device alone in it, at epoch 0.
    /// (Should another device's first commit be accepted before this one's,
    /// [`Device::commit_refused`] drops them, and this device waits to be
    /// welcomed.)
    pub fn start(&mut self, conversation: i64) -> Result<()> {
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(CIPHERSUITE)
            .sender_ratchet_configuration(sender_ratchet())
            .max_past_epochs(PAST_EPOCHS)
            .use_ratchet_tree_extension(true)
            .build();
        let group = MlsGroup::new_with_group_id(
            &self.provider,
            &self.keys,
            &config,
            group_id(conversation),
            self.credential.clone(),
        )
        .map_err(mls)?;
        self.groups.insert(conversation, group);
        Ok(())
    }

    /// A commit adding the devices of `claimed` to `conversation` (and
    /// removing `removed`). Each key package must be the device the server
    /// said it is, with the signature key it records for it.
    pub fn change_members(
        &mut self,
        conversation: i64,
        claimed: &[Claimed],
        removed: &[DeviceRef],
    ) -> Result<Commit> {
        let mut packages = Vec::with_capacity(claimed.len());
        for c in claimed {
            let package = KeyPackageIn::tls_deserialize_exact(c.key_package.as_slice())
                .map_err(malformed)?
                .validate(self.provider.crypto(), ProtocolVersion::Mls10)
                .map_err(|_| Error::ForeignKeyPackage(c.device))?;
            let leaf = package.leaf_node();
            if DeviceRef::of(leaf.credential()) != Some(c.device)
                || leaf.signature_key().as_slice() != c.signature_key
            {
                return Err(Error::ForeignKeyPackage(c.device));
            }
            if !device_signed(&c.identity_key, c.device.user, &c.signature_key, &c.identity_signature) {
                return Err(Error::UnsignedDevice(c.device));
            }
            packages.push(package);
        }
        let leaves: Vec<LeafNodeIndex> = {
            let group = self.group(conversation)?;
            group
                .members()
                .filter(|m| DeviceRef::of(&m.credential).is_some_and(|d| removed.contains(&d)))
                .map(|m| m.index)
                .collect()
        };
        let (provider, keys) = (&self.provider, &self.keys);
        let group = self.groups.get_mut(&conversation).ok_or(Error::NotInConversation(conversation))?;
        let epoch = group.epoch().as_u64();
        let mut builder = group.commit_builder();
        if !packages.is_empty() {
            builder = builder.propose_adds(packages);
        }
        if !leaves.is_empty() {
            builder = builder.propose_removals(leaves);
        }
        let bundle = builder
            .load_psks(provider.storage())
            .map_err(mls)?
            .build(provider.rand(), provider.crypto(), keys, |_| true)
            .map_err(mls)?
            .stage_commit(provider)
            .map_err(mls)?;
        let (commit, welcome, _) = bundle.into_contents();
        Ok(Commit {
            epoch,
            commit: commit.tls_serialize_detached().map_err(mls)?,
            welcome: welcome
                .map(|w| MlsMessageOut::from_welcome(w, ProtocolVersion::Mls10))
                .map(|w| w.tls_serialize_detached().map_err(mls))
                .transpose()?,
            welcomed: claimed.iter().map(|c| c.device).collect(),
        })
    }

    /// The server accepted this device's commit: its change takes effect here.
    pub fn commit_accepted(&mut self, conversation: i64) -> Result<()> {
        let provider = &self.provider;
        let group = self.groups.get_mut(&conversation).ok_or(Error::NotInConversation(conversation))?;
        group.merge_pending_commit(provider).map_err(mls)
    }

    /// The server took another device's commit for this epoch first: this
    /// one is dropped. A conversation this device only started (epoch 0,
    /// alone) is dropped with it: this device will be welcomed instead.
    pub fn commit_refused(&mut self, conversation: i64) -> Result<()> {
        let provider = &self.provider;
        let group = self.groups.get_mut(&conversation).ok_or(Error::NotInConversation(conversation))?;
        group.clear_pending_commit(provider.storage()).map_err(mls)?;
        if group.epoch().as_u64() == 0 {
            self.forget(conversation)?;
        }
        Ok(())
    }

    /// Drops this device's keys for `conversation`.
    fn forget(&mut self, conversation: i64) -> Result<()> {
        if let Some(mut group) = self.groups.remove(&conversation) {
            group.delete(self.provider.storage()).map_err(mls)?;
        }
        Ok(())
    }

    /// Joins a conversation from a welcome; returns which conversation.
    pub fn join(&mut self, welcome: &[u8]) -> Result<i64> {
        let message = MlsMessageIn::tls_deserialize_exact(welcome).map_err(malformed)?;
        let MlsMessageBodyIn::Welcome(welcome) = message.extract() else {
            return Err(Error::Malformed("not a welcome".into()));
        };
        let staged =
            StagedWelcome::new_from_welcome(&self.provider, &join_config(), welcome, None).map_err(mls)?;
        let group = staged.into_group(&self.provider).map_err(mls)?;
        let conversation = conversation_of(group.group_id()).ok_or_else(|| {
            Error::Malformed("a welcome to something that is not a Parley conversation".into())
        })?;
        self.groups.insert(conversation, group);
        Ok(conversation)
    }

    /// Encrypts `content` for everyone in `conversation` now.
    pub fn encrypt(&mut self, conversation: i64, content: &Content) -> Result<Vec<u8>> {
        let plain = serde_json::to_vec(content).map_err(mls)?;
        let (provider, keys) = (&self.provider, &self.keys);
        let group = self.groups.get_mut(&conversation).ok_or(Error::NotInConversation(conversation))?;
        let message = group.create_message(provider, keys, &plain).map_err(mls)?;
        message.tls_serialize_detached().map_err(mls)
    }

    /// Encrypts the latest messages this device read of `conversation`
    /// for everyone in it now: the devices its last commit added read
    /// them ([`Device::read_history`]). Where the whole `history` would
    /// take more than `max_bytes` encrypted, its oldest messages are left
    /// out; `None` where not even the latest fits.
    pub fn share_history(
        &mut self,
        conversation: i64,
        history: &SharedHistory,
        max_bytes: usize,
    ) -> Result<Option<Vec<u8>>> {
        let Some(plain) = history.latest_within(max_bytes.saturating_sub(SHARED_HISTORY_FRAMING))? else {
            return Ok(None);
        };
        let (provider, keys) = (&self.provider, &self.keys);
        let group = self.groups.get_mut(&conversation).ok_or(Error::NotInConversation(conversation))?;
        group.set_aad(SHARED_HISTORY_AAD.to_vec());
        let message = group.create_message(provider, keys, &plain).map_err(mls)?;
        message.tls_serialize_detached().map(Some).map_err(mls)
    }

    /// Reads a history another device of `conversation` shared with this
    /// one: which device shared it, and the messages.
    pub fn read_history(&mut self, conversation: i64, bytes: &[u8]) -> Result<(DeviceRef, SharedHistory)> {
        let processed = self.process(conversation, bytes)?;
        if processed.aad() != SHARED_HISTORY_AAD {
            return Err(Error::Malformed("a message, not a shared history".into()));
        }
        let from = sender(&processed)?;
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(app) => {
                Ok((from, serde_json::from_slice(&app.into_bytes()).map_err(malformed)?))
            }
            _ => Err(Error::Malformed("a change of keys, not a shared history".into())),
        }
    }

    /// Checks and decrypts a message or commit delivered in `conversation`.
    fn process(&mut self, conversation: i64, bytes: &[u8]) -> Result<ProcessedMessage> {
        let message = MlsMessageIn::tls_deserialize_exact(bytes).map_err(malformed)?;
        let message: ProtocolMessage = message.try_into_protocol_message().map_err(malformed)?;
        let provider = &self.provider;
        let group = self.groups.get_mut(&conversation).ok_or(Error::NotInConversation(conversation))?;
        let at = group.epoch().as_u64();
        let epoch = message.epoch().as_u64();
        if epoch > at {
            return Err(Error::WrongEpoch { epoch, at });
        }
        group.process_message(provider, message).map_err(|e| match e {
            ProcessMessageError::ValidationError(ValidationError::WrongEpoch) => {
                Error::WrongEpoch { epoch, at }
            }
            other => mls(other),
        })
    }

    /// Reads a message or commit delivered in `conversation` (commits in
    /// the order the server accepted them).
    pub fn receive(&mut self, conversation: i64, bytes: &[u8]) -> Result<Received> {
        let processed = self.process(conversation, bytes)?;
        let (from, plain) = (sender(&processed), processed.aad().is_empty());
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(_) if !plain => {
                Err(Error::Malformed("a shared history, not a message".into()))
            }
            ProcessedMessageContent::ApplicationMessage(app) => {
                let from = from?;
                let content = serde_json::from_slice(&app.into_bytes()).map_err(malformed)?;
                Ok(Received::Message { from, content })
            }
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                let provider = &self.provider;
                let group =
                    self.groups.get_mut(&conversation).ok_or(Error::NotInConversation(conversation))?;
                group.merge_staged_commit(provider, *staged).map_err(mls)?;
                let epoch = group.epoch().as_u64();
                let mut members: Vec<DeviceRef> =
                    group.members().filter_map(|m| DeviceRef::of(&m.credential)).collect();
                members.sort();
                if !group.is_active() {
                    // This device was removed: its keys for the conversation go.
                    self.forget(conversation)?;
                }
                Ok(Received::Commit { epoch, members })
            }
            _ => Err(Error::Malformed("proposals are not used in Parley's conversations".into())),
        }
    }
}
