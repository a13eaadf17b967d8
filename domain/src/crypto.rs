//! Encryption at rest: the deployment's keys, and text sealed with them.
//!
//! A master key is 32 random bytes, given by `PARLEY_ENCRYPTION_KEY` or
//! kept in `encryption.key` in the data directory (made on first start).
//! Each use has its own key derived from it with HKDF-SHA256 ([`Purpose`]),
//! so that what was sealed for one use can never be opened as another, and
//! each sealed value is bound to where it is stored (its associated data:
//! the row it belongs to), so that values cannot be swapped between rows
//! unnoticed. The cipher is AES-256-GCM with a random 96-bit nonce.
//!
//! Every sealed value is stored beside the [`KeyId`] of the master key it
//! was sealed under. A keyring holds the current key, which seals, and
//! older ones, which only open: rotating the key adds a new current key,
//! and a worker re-seals what older keys hold (see `Hub::reseal`).

use crate::error::{Error, Result};
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Which master key sealed a value; 0 for a value stored in the clear
/// (written before encryption, and not yet re-sealed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub i64);

impl KeyId {
    pub const CLEAR: KeyId = KeyId(0);
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// What a derived key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Messages' text and rendered HTML, and their kept versions.
    Text,
    /// The event log's entries.
    Events,
    /// Attachments and recordings on disk.
    Files,
}

impl Purpose {
    const ALL: [Purpose; 3] = [Purpose::Text, Purpose::Events, Purpose::Files];

    fn info(self) -> &'static [u8] {
        match self {
            Purpose::Text => b"parley at-rest v1: message text",
            Purpose::Events => b"parley at-rest v1: event log",
            Purpose::Files => b"parley at-rest v1: files",
        }
    }
}

/// One master key, as its derived ciphers.
struct MasterKey {
    id: KeyId,
    ciphers: [Aes256Gcm; 3],
}

impl MasterKey {
    fn new(secret: &[u8; 32]) -> Self {
        let ciphers = Purpose::ALL.map(|p| {
            let mut okm = [0u8; 32];
            hkdf::Hkdf::<Sha256>::new(Some(b"parley"), secret)
                .expand(p.info(), &mut okm)
                .expect("32 bytes is a valid HKDF-SHA256 output length");
            Aes256Gcm::new(&okm.into())
        });
        MasterKey { id: key_id(secret), ciphers }
    }

    fn cipher(&self, purpose: Purpose) -> &Aes256Gcm {
        &self.ciphers[purpose as usize]
    }
}

/// A key's id: the first four bytes of a hash of it (never 0).
fn key_id(secret: &[u8; 32]) -> KeyId {
    let digest = Sha256::new().chain_update(b"parley key id").chain_update(secret).finalize();
    let id = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    KeyId(i64::from(id.max(1)))
}

/// Where the keys came from, to say so in errors and to reload them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `PARLEY_ENCRYPTION_KEY`.
    Environment,
    /// A key file (`encryption.key` in the data directory).
    File(PathBuf),
    /// Made up for a test.
    Test,
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Environment => f.write_str("PARLEY_ENCRYPTION_KEY"),
            KeySource::File(path) => write!(f, "the key file {}", path.display()),
            KeySource::Test => f.write_str("the test keys"),
        }
    }
}

/// Why keys cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("a key in {0} is not 64 hexadecimal characters (32 bytes); make one with `parley generate-key`")]
    Malformed(KeySource),
    #[error("{0} holds no key; make one with `parley generate-key`")]
    Empty(KeySource),
    #[error("the key file {path} cannot be read or written: {source}")]
    File { path: PathBuf, source: std::io::Error },
}

/// The deployment's master keys: the first seals, every one opens.
pub struct Keyring {
    keys: Vec<MasterKey>,
    source: KeySource,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.keys.iter().map(|k| k.id.to_string()).collect();
        f.debug_struct("Keyring").field("keys", &ids).field("source", &self.source).finish()
    }
}

/// The key file's first lines.
const KEY_FILE_HEADER: &str = "# Parley's encryption keys, newest first: the first encrypts, every one decrypts.\n\
# Keep this file secret and back it up apart from the database: without it nothing\n\
# encrypted can be read. `parley rotate-key` adds a new key here.\n";

impl Keyring {
    /// Keys from their text: hexadecimal keys of 32 bytes, newest first,
    /// separated by commas or lines (`#` starts a comment line).
    pub fn parse(text: &str, source: KeySource) -> Result<Self, KeyError> {
        let mut keys: Vec<MasterKey> = Vec::new();
        for part in text.lines().filter(|l| !l.trim_start().starts_with('#')).flat_map(|l| l.split(',')) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let Some(secret) = parse_key(part) else { return Err(KeyError::Malformed(source)) };
            let key = MasterKey::new(&secret);
            if !keys.iter().any(|k| k.id == key.id) {
                keys.push(key);
            }
        }
        if keys.is_empty() {
            return Err(KeyError::Empty(source));
        }
        Ok(Keyring { keys, source })
    }

    /// The keys `PARLEY_ENCRYPTION_KEY` gives (`env`, when set), or else
    /// those of the key file in `data_dir`, which is made with a new key
    /// if there is none.
    pub fn load(env: Option<&str>, data_dir: &Path) -> Result<Self, KeyError> {
        if let Some(text) = env.filter(|t| !t.trim().is_empty()) {
            return Keyring::parse(text, KeySource::Environment);
        }
        let path = key_file(data_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => Keyring::parse(&text, KeySource::File(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let text = format!("{KEY_FILE_HEADER}{}\n", new_key());
                write_key_file(&path, &text)?;
                tracing::info!(path = %path.display(), "made a new encryption key");
                Keyring::parse(&text, KeySource::File(path))
            }
            Err(source) => Err(KeyError::File { path, source }),
        }
    }

    /// A keyring for tests: one made-up key per seed, newest first.
    pub fn for_tests(seeds: &[u8]) -> Self {
        let keys = seeds.iter().map(|s| MasterKey::new(&[*s; 32])).collect();
        Keyring { keys, source: KeySource::Test }
    }

    /// The key that seals.
    pub fn current(&self) -> KeyId {
        self.keys[0].id
    }

    /// Every key's id, newest first.
    pub fn ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(|k| k.id).collect()
    }

    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// The keys read again from their key file (another process may have
    /// added one); `None` when they come from elsewhere, which cannot
    /// change while the server runs.
    pub fn reread(&self) -> Result<Option<Keyring>, KeyError> {
        match &self.source {
            KeySource::File(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| KeyError::File { path: path.clone(), source })?;
                Keyring::parse(&text, self.source.clone()).map(Some)
            }
            KeySource::Environment | KeySource::Test => Ok(None),
        }
    }

    pub fn holds(&self, id: KeyId) -> bool {
        self.keys.iter().any(|k| k.id == id)
    }

    fn key(&self, id: KeyId) -> Result<&MasterKey> {
        self.keys.iter().find(|k| k.id == id).ok_or_else(|| {
            Error::internal(format!("data is encrypted with key {id}, which {} does not hold", self.source))
        })
    }

    /// `text` sealed under the current key for `purpose`, bound to `place`
    /// (what it is and which row), as base64. Empty text stays empty.
    pub fn seal(&self, purpose: Purpose, place: &[u8], text: &str) -> (String, KeyId) {
        if text.is_empty() {
            return (String::new(), self.current());
        }
        let key = &self.keys[0];
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = key
            .cipher(purpose)
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: text.as_bytes(), aad: place })
            .expect("AES-GCM seals any text shorter than 64 GiB");
        let mut out = Vec::with_capacity(12 + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        (STANDARD_NO_PAD.encode(out), key.id)
    }

    /// What [`Self::seal`] sealed with key `id` (the clear text itself when
    /// `id` is [`KeyId::CLEAR`]).
    #[track_caller]
    pub fn open(&self, purpose: Purpose, place: &[u8], id: KeyId, stored: String) -> Result<String> {
        if id == KeyId::CLEAR || stored.is_empty() {
            return Ok(stored);
        }
        let key = self.key(id)?;
        let bytes = STANDARD_NO_PAD
            .decode(stored.as_bytes())
            .map_err(|_| Error::internal(format!("a value sealed with key {id} is not base64")))?;
        if bytes.len() < 12 + 16 {
            return Err(Error::internal(format!("a value sealed with key {id} is too short")));
        }
        let (nonce, sealed) = bytes.split_at(12);
        let clear = key
            .cipher(purpose)
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: place })
            .map_err(|_| {
                Error::internal(format!(
                    "a value sealed with key {id} does not open: altered, or moved from another row"
                ))
            })?;
        String::from_utf8(clear).map_err(|_| Error::internal("an opened value is not UTF-8"))
    }
}

fn parse_key(text: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(text).ok()?;
    bytes.try_into().ok()
}

/// A new random master key, in hexadecimal.
pub fn new_key() -> String {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    hex::encode(secret)
}

/// The key file in `data_dir`.
pub fn key_file(data_dir: &Path) -> PathBuf {
    data_dir.join("encryption.key")
}

/// Writes the key file whole or not at all, readable by its owner only.
fn write_key_file(path: &Path, text: &str) -> Result<(), KeyError> {
    use std::io::Write;
    let fail = |source: std::io::Error| KeyError::File { path: path.to_path_buf(), source };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let partial = path.with_extension("key.new");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&partial).map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    std::fs::rename(&partial, path).map_err(fail)?;
    Ok(())
}

/// Puts a new key first in the key file in `data_dir`; returns its id.
/// The keys already there stay, to open what they sealed until it has been
/// re-sealed.
pub fn add_key_to_file(data_dir: &Path) -> Result<KeyId, KeyError> {
    let path = key_file(data_dir);
    let old =
        std::fs::read_to_string(&path).map_err(|source| KeyError::File { path: path.clone(), source })?;
    let kept: Vec<&str> =
        old.lines().filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty()).collect();
    let key = new_key();
    let text = format!("{KEY_FILE_HEADER}{key}\n{}\n", kept.join("\n"));
    let ring = Keyring::parse(&text, KeySource::File(path.clone()))?;
    write_key_file(&path, &text)?;
    Ok(ring.current())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_to_itself() {
        let ring = Keyring::for_tests(&[1]);
        let (sealed, id) = ring.seal(Purpose::Text, b"message 7 body", "héllo");
        assert_ne!(sealed, "héllo");
        assert_eq!(ring.open(Purpose::Text, b"message 7 body", id, sealed).unwrap(), "héllo");
    }

    #[test]
    fn sealed_text_does_not_open_in_another_row() {
        let ring = Keyring::for_tests(&[1]);
        let (sealed, id) = ring.seal(Purpose::Text, b"message 7 body", "secret");
        assert!(ring.open(Purpose::Text, b"message 8 body", id, sealed).is_err());
    }

    #[test]
    fn sealed_text_does_not_open_for_another_purpose() {
        let ring = Keyring::for_tests(&[1]);
        let (sealed, id) = ring.seal(Purpose::Text, b"7", "secret");
        assert!(ring.open(Purpose::Events, b"7", id, sealed).is_err());
    }

    #[test]
    fn an_older_key_still_opens_what_it_sealed() {
        let old = Keyring::for_tests(&[1]);
        let (sealed, id) = old.seal(Purpose::Text, b"7", "before the rotation");
        let rotated = Keyring::for_tests(&[2, 1]);
        assert_ne!(rotated.current(), id);
        assert_eq!(rotated.open(Purpose::Text, b"7", id, sealed).unwrap(), "before the rotation");
    }

    #[test]
    fn a_key_the_ring_lacks_is_named_in_the_error() {
        let (sealed, id) = Keyring::for_tests(&[1]).seal(Purpose::Text, b"7", "x");
        let err = Keyring::for_tests(&[2]).open(Purpose::Text, b"7", id, sealed).unwrap_err();
        assert!(format!("{err:?}").contains(&id.to_string()), "{err:?}");
    }

    #[test]
    fn clear_values_are_read_as_they_are() {
        let ring = Keyring::for_tests(&[1]);
        assert_eq!(ring.open(Purpose::Text, b"7", KeyId::CLEAR, "plain".into()).unwrap(), "plain");
    }

    #[test]
    fn keys_parse_from_commas_or_lines_and_refuse_bad_ones() {
        let a = "11".repeat(32);
        let b = "22".repeat(32);
        let ring = Keyring::parse(&format!("# comment\n{a}\n{b}\n"), KeySource::Test).unwrap();
        assert_eq!(ring.ids(), Keyring::parse(&format!("{a}, {b}"), KeySource::Test).unwrap().ids());
        assert_eq!(ring.ids().len(), 2);
        assert!(Keyring::parse("abc", KeySource::Environment).is_err());
        assert!(Keyring::parse("", KeySource::Environment).is_err());
    }

    #[test]
    fn a_missing_key_file_is_made_once_and_then_kept() {
        let dir = std::env::temp_dir().join(format!("parley-keys-{}", crate::id::Id::new().0));
        let first = Keyring::load(None, &dir).unwrap();
        let again = Keyring::load(None, &dir).unwrap();
        assert_eq!(first.ids(), again.ids());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key_file(&dir)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let added = add_key_to_file(&dir).unwrap();
        let rotated = Keyring::load(None, &dir).unwrap();
        assert_eq!(rotated.current(), added);
        assert!(rotated.holds(first.current()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_environment_wins_over_the_key_file() {
        let dir = std::env::temp_dir().join(format!("parley-keys-{}", crate::id::Id::new().0));
        let ring = Keyring::load(Some(&"33".repeat(32)), &dir).unwrap();
        assert_eq!(ring.source(), &KeySource::Environment);
        assert!(!key_file(&dir).exists());
    }
}
