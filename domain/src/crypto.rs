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

/// Files are sealed in pieces of this many bytes, each with its own tag,
/// so that they are written and read in bounded memory.
const FILE_CHUNK: usize = 64 * 1024;
/// A sealed piece: the bytes and their tag.
const SEALED_CHUNK: usize = FILE_CHUNK + 16;
/// What a sealed file starts with; a file without it is in the clear (kept
/// before encryption).
const FILE_MAGIC: &[u8; 8] = b"PRLYSEAL";
/// The magic, the key's id (4 bytes) and the file's nonce prefix (8 bytes).
const FILE_HEADER: usize = 8 + 4 + 8;

/// A piece's nonce: the file's random prefix and the piece's number.
fn chunk_nonce(header: &[u8], index: u32) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[..8].copy_from_slice(&header[12..20]);
    nonce[8..].copy_from_slice(&index.to_be_bytes());
    nonce
}

/// What a piece is bound to: where the file belongs, its header, the
/// piece's number and whether it is the last (so a file cut short at a
/// piece's end does not open).
fn chunk_aad(place: &[u8], header: &[u8], index: u32, last: bool) -> Vec<u8> {
    let mut aad = Vec::with_capacity(place.len() + FILE_HEADER + 5);
    aad.extend_from_slice(place);
    aad.extend_from_slice(header);
    aad.extend_from_slice(&index.to_be_bytes());
    aad.push(last as u8);
    aad
}

/// Reads up to `want` bytes (fewer only at the end of `input`).
fn read_up_to(input: &mut impl std::io::Read, want: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::with_capacity(want);
    input.by_ref().take(want as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

impl Keyring {
    /// Seals the file at `from` into a new file at `to`, under the current
    /// key, bound to `place`; synced before it returns. Blocking: call it
    /// off the async threads.
    pub fn seal_file(&self, place: &[u8], from: &Path, to: &Path) -> std::io::Result<KeyId> {
        use std::io::Write;
        let key = &self.keys[0];
        let cipher = key.cipher(Purpose::Files);
        let mut header = Vec::with_capacity(FILE_HEADER);
        header.extend_from_slice(FILE_MAGIC);
        header.extend_from_slice(&(key.id.0 as u32).to_be_bytes());
        let mut prefix = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut prefix);
        header.extend_from_slice(&prefix);
        let mut input = std::io::BufReader::new(std::fs::File::open(from)?);
        let mut out = std::io::BufWriter::new(std::fs::File::create(to)?);
        out.write_all(&header)?;
        let mut piece = read_up_to(&mut input, FILE_CHUNK)?;
        for index in 0u32.. {
            let next =
                if piece.len() == FILE_CHUNK { read_up_to(&mut input, FILE_CHUNK)? } else { Vec::new() };
            let last = next.is_empty();
            let aad = chunk_aad(place, &header, index, last);
            let sealed = cipher
                .encrypt(Nonce::from_slice(&chunk_nonce(&header, index)), Payload { msg: &piece, aad: &aad })
                .map_err(|_| std::io::Error::other("a piece of a file could not be sealed"))?;
            out.write_all(&sealed)?;
            if last {
                break;
            }
            piece = next;
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(key.id)
    }
}

/// A stored file read in the clear a piece at a time: opened with the key
/// its header names, or read as it is when it was kept before encryption.
pub struct OpenedFile {
    file: tokio::fs::File,
    keys: std::sync::Arc<Keyring>,
    place: Vec<u8>,
    /// The sealed file's header, or `None` for a file in the clear.
    header: Option<Vec<u8>>,
    /// Bytes read to look for the header that belong to a clear file.
    first: Vec<u8>,
    index: u32,
    pieces: u32,
    done: bool,
}

impl std::fmt::Debug for OpenedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedFile").field("key", &self.key()).field("pieces", &self.pieces).finish()
    }
}

impl OpenedFile {
    /// Opens the file at `path`, stored for `place`.
    pub async fn open(keys: std::sync::Arc<Keyring>, place: Vec<u8>, path: &Path) -> std::io::Result<Self> {
        use tokio::io::AsyncReadExt;
        let mut file = tokio::fs::File::open(path).await?;
        let len = file.metadata().await?.len();
        let mut first = Vec::with_capacity(FILE_HEADER);
        (&mut file).take(FILE_HEADER as u64).read_to_end(&mut first).await?;
        let sealed = first.len() == FILE_HEADER && first.starts_with(FILE_MAGIC);
        let (header, pieces) = match sealed {
            true => {
                let body = len - FILE_HEADER as u64;
                (Some(std::mem::take(&mut first)), body.div_ceil(SEALED_CHUNK as u64).max(1) as u32)
            }
            false => (None, 0),
        };
        Ok(OpenedFile { file, keys, place, header, first, index: 0, pieces, done: false })
    }

    /// The key that sealed the file ([`KeyId::CLEAR`] for one in the clear).
    pub fn key(&self) -> KeyId {
        match &self.header {
            Some(h) => KeyId(i64::from(u32::from_be_bytes([h[8], h[9], h[10], h[11]]))),
            None => KeyId::CLEAR,
        }
    }

    /// The next piece of the file in the clear, or `None` at its end. A
    /// piece that does not open (altered, cut short, or sealed for another
    /// file) is an error.
    pub async fn next_piece(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        use tokio::io::AsyncReadExt;
        if self.done {
            return Ok(None);
        }
        let Some(header) = &self.header else {
            let mut piece = std::mem::take(&mut self.first);
            let had = piece.len();
            (&mut self.file).take((FILE_CHUNK - had.min(FILE_CHUNK)) as u64).read_to_end(&mut piece).await?;
            self.done = piece.is_empty();
            return Ok((!piece.is_empty()).then_some(piece));
        };
        let mut sealed = Vec::with_capacity(SEALED_CHUNK);
        (&mut self.file).take(SEALED_CHUNK as u64).read_to_end(&mut sealed).await?;
        let last = self.index + 1 >= self.pieces;
        let id = self.key();
        let cipher =
            self.keys.key(id).map_err(|e| std::io::Error::other(e.to_string()))?.cipher(Purpose::Files);
        let aad = chunk_aad(&self.place, header, self.index, last);
        let piece = cipher
            .decrypt(Nonce::from_slice(&chunk_nonce(header, self.index)), Payload { msg: &sealed, aad: &aad })
            .map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "a piece of a file sealed with key {id} does not open: altered, cut short or moved"
                    ),
                )
            })?;
        self.index += 1;
        self.done = last;
        Ok(Some(piece))
    }

    /// The whole file in the clear (for files small enough to hold).
    pub async fn read_to_end(mut self) -> std::io::Result<Vec<u8>> {
        let mut all = Vec::new();
        while let Some(piece) = self.next_piece().await? {
            all.extend_from_slice(&piece);
        }
        Ok(all)
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

    /// A file of `len` bytes sealed for `place` and opened again, piece by piece.
    async fn round_trip(len: usize) -> (Vec<u8>, Vec<u8>, u64) {
        let dir = std::env::temp_dir().join(format!("parley-seal-{}", crate::id::Id::new().0));
        std::fs::create_dir_all(&dir).unwrap();
        let clear: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.join("clear"), &clear).unwrap();
        let keys = std::sync::Arc::new(Keyring::for_tests(&[1]));
        keys.seal_file(b"file 1", &dir.join("clear"), &dir.join("sealed")).unwrap();
        let sealed_len = std::fs::metadata(dir.join("sealed")).unwrap().len();
        let opened = OpenedFile::open(keys, b"file 1".to_vec(), &dir.join("sealed")).await.unwrap();
        let back = opened.read_to_end().await.unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        (clear, back, sealed_len)
    }

    #[tokio::test]
    async fn files_of_any_size_open_to_what_was_sealed() {
        for len in [0, 1, FILE_CHUNK - 1, FILE_CHUNK, FILE_CHUNK + 1, 3 * FILE_CHUNK + 7] {
            let (clear, back, sealed_len) = round_trip(len).await;
            assert_eq!(back, clear, "{len} bytes");
            let pieces = len.div_ceil(FILE_CHUNK).max(1);
            assert_eq!(sealed_len as usize, FILE_HEADER + len + 16 * pieces, "{len} bytes");
        }
    }

    /// Sealed `clear` in a fresh folder: (folder, keys).
    fn sealed(clear: &[u8]) -> (std::path::PathBuf, std::sync::Arc<Keyring>) {
        let dir = std::env::temp_dir().join(format!("parley-seal-{}", crate::id::Id::new().0));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("clear"), clear).unwrap();
        let keys = std::sync::Arc::new(Keyring::for_tests(&[1]));
        keys.seal_file(b"file 1", &dir.join("clear"), &dir.join("sealed")).unwrap();
        (dir, keys)
    }

    #[tokio::test]
    async fn a_sealed_file_holds_none_of_its_bytes_in_the_clear() {
        let (dir, _) = sealed(b"a confidential contract, word for word");
        let stored = std::fs::read(dir.join("sealed")).unwrap();
        assert!(!stored.windows(12).any(|w| w == b"confidential"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_sealed_file_does_not_open_as_another_file() {
        let (dir, keys) = sealed(b"meant for file 1");
        let opened = OpenedFile::open(keys, b"file 2".to_vec(), &dir.join("sealed")).await.unwrap();
        assert!(opened.read_to_end().await.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_sealed_file_cut_at_a_pieces_end_does_not_open() {
        let (dir, keys) = sealed(&vec![7u8; 2 * FILE_CHUNK + 10]);
        let path = dir.join("sealed");
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len((FILE_HEADER + SEALED_CHUNK) as u64).unwrap();
        let opened = OpenedFile::open(keys, b"file 1".to_vec(), &path).await.unwrap();
        assert!(opened.read_to_end().await.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_file_kept_before_encryption_reads_as_it_is() {
        let dir = std::env::temp_dir().join(format!("parley-seal-{}", crate::id::Id::new().0));
        std::fs::create_dir_all(&dir).unwrap();
        let clear: Vec<u8> = (0..FILE_CHUNK + 5).map(|i| (i % 7) as u8).collect();
        std::fs::write(dir.join("old"), &clear).unwrap();
        let keys = std::sync::Arc::new(Keyring::for_tests(&[1]));
        let opened = OpenedFile::open(keys, b"file 1".to_vec(), &dir.join("old")).await.unwrap();
        assert_eq!(opened.key(), KeyId::CLEAR);
        assert_eq!(opened.read_to_end().await.unwrap(), clear);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
