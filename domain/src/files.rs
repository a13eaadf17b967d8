//! Attachments' bytes on disk, and the rules for what may be uploaded.
//!
//! Files live under `<data dir>/files/`, named by attachment id (never by
//! anything a user typed), encrypted ([`crate::crypto`]). An upload is
//! first written to `files/tmp/` while its size is counted and it is
//! scanned; only a complete, allowed upload is sealed into place, in the
//! same step that records it ([`crate::Hub::post`]).

use crate::crypto::{Keyring, OpenedFile};
use crate::error::{Error, Result};
use crate::id::Id;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a stored file's sealed bytes are bound to: the attachment they are.
fn file_place(id: Id) -> Vec<u8> {
    format!("file {}", id.0).into_bytes()
}

/// The file types seed 000 allows by default (by extension).
pub const DEFAULT_TYPES: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "csv", "mp4",
    "mp3", "wav", "zip", "rar",
];

/// 25 MB, the default size limit of one file.
pub const DEFAULT_MAX_BYTES: u64 = 25 * 1024 * 1024;

/// The most files one message may carry.
pub const MAX_FILES_PER_MESSAGE: usize = 10;

/// The name the server gives the files of end-to-end encrypted messages
/// (their own names are inside the message, for its readers).
pub const ENCRYPTED_FILE_NAME: &str = "encrypted file";

/// How much longer a file encrypted in the browser is than the file: its
/// authentication tag (AES-GCM's 16 bytes).
pub const ENCRYPTED_FILE_OVERHEAD: u64 = 16;

/// What may be uploaded.
#[derive(Debug, Clone)]
pub struct FilePolicy {
    /// Lower-case extensions without the dot.
    pub allowed: Vec<String>,
    pub max_bytes: u64,
}

impl Default for FilePolicy {
    fn default() -> Self {
        FilePolicy {
            allowed: DEFAULT_TYPES.iter().map(|s| s.to_string()).collect(),
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

impl FilePolicy {
    /// Cleans an uploaded file's name and checks its type; returns the name
    /// to keep. Only the last path segment is kept, control characters go.
    pub fn check_name(&self, raw: &str) -> Result<String> {
        let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
        let name: String = base.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_string();
        // Long names are shortened in the middle: the extension stays.
        let name = match name.rsplit_once('.') {
            Some((stem, ext)) if name.chars().count() > 200 && ext.chars().count() < 20 => {
                format!("{}….{ext}", stem.chars().take(190).collect::<String>())
            }
            _ => name.chars().take(200).collect(),
        };
        if name.is_empty() || name == "." || name == ".." {
            return Err(Error::invalid("file", "The file has no name. Rename it and upload it again."));
        }
        let ext = extension(&name);
        if !ext.as_deref().is_some_and(|e| self.allowed.iter().any(|a| a == e)) {
            return Err(Error::UnsupportedType(format!(
                "“{name}” cannot be uploaded: allowed file types are {}.",
                self.allowed.join(", ")
            )));
        }
        Ok(name)
    }

    /// The most bytes one upload may hold: a file encrypted in the browser
    /// (`encrypted`) may be as large as the limit allows its content to be.
    pub fn max_upload(&self, encrypted: bool) -> u64 {
        match encrypted {
            true => self.max_bytes + ENCRYPTED_FILE_OVERHEAD,
            false => self.max_bytes,
        }
    }

    /// The error for a file that went over the limit.
    pub fn too_large(&self, name: &str) -> Error {
        Error::TooLarge(format!(
            "“{name}” is larger than {}, the most one file may be. Compress or split it.",
            human_size(self.max_bytes)
        ))
    }
}

/// The lower-case extension of a file name.
fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// The media type a file is served as, from its extension (never from what
/// the uploader claimed).
pub fn content_type_for(name: &str) -> &'static str {
    match extension(name).as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        Some("mp4") => "video/mp4",
        Some("mp3") => "audio/mpeg",
        Some("wav") => "audio/wav",
        Some("ogg" | "opus") => "audio/ogg",
        Some("ivf") => "video/x-ivf",
        Some("webm") => "video/webm",
        Some("zip") => "application/zip",
        Some("doc") => "application/msword",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("xls") => "application/vnd.ms-excel",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("ppt") => "application/vnd.ms-powerpoint",
        Some("pptx") => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ => "application/octet-stream",
    }
}

/// "25 MB", "1.5 KB", "300 bytes".
pub fn human_size(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if bytes >= MB {
        let v = bytes as f64 / MB as f64;
        if bytes.is_multiple_of(MB) { format!("{} MB", bytes / MB) } else { format!("{v:.1} MB") }
    } else if bytes >= 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

/// An upload received and counted, waiting in `files/tmp/`.
#[derive(Debug)]
pub struct Upload {
    pub tmp: PathBuf,
    /// Already cleaned by [`FilePolicy::check_name`].
    pub file_name: String,
    pub size: u64,
}

/// Whose call a recording is of, as its files' names in `files/tmp/` carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordingOf {
    pub workspace: Id,
    pub channel: Id,
    pub started_at: i64,
    pub by: Id,
}

impl RecordingOf {
    /// Reads `rec~<workspace>~<channel>~<started_at>~<by>~<file name>.part`.
    fn parse(name: &str) -> Option<(RecordingOf, String)> {
        let rest = name.strip_prefix("rec~")?.strip_suffix(".part")?;
        let mut parts = rest.splitn(5, '~');
        let mut id = || parts.next()?.parse::<i64>().ok();
        let (workspace, channel, started_at, by) = (Id(id()?), Id(id()?), id()?, Id(id()?));
        let file_name = parts.next().filter(|n| !n.is_empty())?.to_string();
        Some((RecordingOf { workspace, channel, started_at, by }, file_name))
    }
}

/// Something a stopped server left behind ([`Files::leftovers`]).
#[derive(Debug, PartialEq, Eq)]
pub enum Leftover {
    /// Part of an upload that never finished: nobody sent it.
    Upload(PathBuf),
    /// One track of a recording the server was making.
    Recording { of: RecordingOf, file_name: String, path: PathBuf },
    /// A file moved into place whose message was never stored.
    Orphan(PathBuf),
}

/// Where attachments' bytes live.
#[derive(Debug, Clone)]
pub struct Files {
    root: PathBuf,
    policy: FilePolicy,
    /// Scans each upload before it is kept, when configured.
    scanner: Option<crate::virus_scan::Scanner>,
}

impl Files {
    pub fn new(root: impl Into<PathBuf>, policy: FilePolicy) -> Self {
        Files { root: root.into(), policy, scanner: None }
    }

    /// Scans every upload with `scanner` before it is kept.
    pub fn with_scanner(mut self, scanner: crate::virus_scan::Scanner) -> Self {
        self.scanner = Some(scanner);
        self
    }

    pub fn scanner(&self) -> Option<&crate::virus_scan::Scanner> {
        self.scanner.as_ref()
    }

    pub fn policy(&self) -> &FilePolicy {
        &self.policy
    }

    /// A fresh path in `files/tmp/` to receive an upload.
    pub async fn temp_path(&self) -> Result<PathBuf> {
        let dir = self.root.join("tmp");
        tokio::fs::create_dir_all(&dir).await?;
        Ok(dir.join(format!("{}.part", Id::new().0)))
    }

    /// A path in `files/tmp/` for one track of a call recording: its name
    /// says whose call it was, so a server stopped mid-recording can post it
    /// at the next start ([`Files::leftovers`]).
    pub async fn recording_path(&self, of: &RecordingOf, file_name: &str) -> Result<PathBuf> {
        let dir = self.root.join("tmp");
        tokio::fs::create_dir_all(&dir).await?;
        let RecordingOf { workspace, channel, started_at, by } = of;
        Ok(dir.join(format!("rec~{workspace}~{channel}~{started_at}~{by}~{file_name}.part")))
    }

    /// What a stopped server left behind: files in `files/tmp/` (uploads cut
    /// off, and recordings), and files in `files/` that no attachment names.
    pub async fn leftovers(&self, store: &crate::Store) -> Result<Vec<Leftover>> {
        let mut found = Vec::new();
        if let Ok(mut dir) = tokio::fs::read_dir(self.root.join("tmp")).await {
            while let Some(entry) = dir.next_entry().await? {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                found.push(match RecordingOf::parse(&name) {
                    Some((of, file_name)) => Leftover::Recording { of, file_name, path },
                    None => Leftover::Upload(path),
                });
            }
        }
        let mut stored = Vec::new();
        if let Ok(mut dir) = tokio::fs::read_dir(&self.root).await {
            while let Some(entry) = dir.next_entry().await? {
                if let Ok(id) = entry.file_name().to_string_lossy().parse::<i64>() {
                    stored.push(Id(id));
                }
            }
        }
        for chunk in stored.chunks(500) {
            let known = store.attachments_known(chunk).await?;
            found.extend(
                chunk.iter().filter(|id| !known.contains(id)).map(|id| Leftover::Orphan(self.path(*id))),
            );
        }
        Ok(found)
    }

    /// Keeps a file nobody can be given (a recording whose channel is gone)
    /// in `files/unclaimed/`; returns where.
    pub async fn unclaim(&self, path: &Path) -> Result<PathBuf> {
        let dir = self.root.join("unclaimed");
        tokio::fs::create_dir_all(&dir).await?;
        let to = dir.join(path.file_name().unwrap_or_default());
        tokio::fs::rename(path, &to).await?;
        Ok(to)
    }

    /// Where attachment `id`'s bytes are.
    pub fn path(&self, id: Id) -> PathBuf {
        self.root.join(id.0.to_string())
    }

    /// Seals a received upload into place as attachment `id`, under the
    /// current key of `keys`. The upload stays where it was received: once
    /// its message is stored, whoever posted it removes it; if not, they
    /// take back the file ([`Files::unkeep`]) and decide what becomes of it.
    /// The sealed bytes are written beside their place, synced, then put in
    /// it at once.
    pub(crate) async fn keep(&self, tmp: &Path, id: Id, keys: Arc<Keyring>) -> Result<()> {
        let from = tmp.to_path_buf();
        let to = self.path(id);
        let partial = self.root.join(format!("{}.sealing", id.0));
        let place = file_place(id);
        tokio::task::spawn_blocking(move || {
            keys.seal_file(&place, &from, &partial)?;
            std::fs::rename(&partial, &to)
        })
        .await
        .map_err(|e| Error::internal(format!("sealing a file stopped: {e}")))??;
        Ok(())
    }

    /// Removes what [`Files::keep`] put in place for a message that could
    /// not be stored.
    pub(crate) async fn unkeep(&self, id: Id) {
        self.remove_attachments(&[id]).await;
    }

    /// Attachment `id`'s bytes, to be read in the clear.
    pub async fn open(&self, id: Id, keys: Arc<Keyring>) -> std::io::Result<OpenedFile> {
        OpenedFile::open(keys, file_place(id), &self.path(id)).await
    }

    /// Seals attachment `id`'s bytes again with the current key of `keys`
    /// if another key (or none) sealed them; returns whether it did. The
    /// clear bytes pass through a file in `files/tmp/` on the way.
    pub(crate) async fn reseal(&self, id: Id, keys: Arc<Keyring>) -> Result<bool> {
        use tokio::io::AsyncWriteExt;
        let mut opened = match self.open(id, keys.clone()).await {
            Ok(o) => o,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        if opened.key() == keys.current() {
            return Ok(false);
        }
        let clear = self.temp_path().await?;
        let mut out = tokio::fs::File::create(&clear).await?;
        let copied = async {
            while let Some(piece) = opened.next_piece().await? {
                out.write_all(&piece).await?;
            }
            out.flush().await
        }
        .await;
        let sealed = match copied {
            Ok(()) => self.keep(&clear, id, keys).await,
            Err(e) => Err(e.into()),
        };
        self.remove(vec![clear]).await;
        sealed.map(|_| true)
    }

    /// Keeps a link preview's image in `files/previews/`, named by the
    /// SHA-256 digest of its bytes (an image shown by many previews is kept
    /// once); returns the digest.
    pub async fn keep_preview_image(&self, bytes: &[u8]) -> Result<String> {
        use sha2::Digest;
        let digest = hex::encode(sha2::Sha256::digest(bytes));
        let path = self.preview_image_path(&digest);
        if tokio::fs::try_exists(&path).await? {
            return Ok(digest);
        }
        let dir = self.root.join("previews");
        tokio::fs::create_dir_all(&dir).await?;
        let part = dir.join(format!("{}.part", Id::new().0));
        tokio::fs::write(&part, bytes).await?;
        tokio::fs::rename(&part, &path).await?;
        Ok(digest)
    }

    /// The preview images kept, by digest, with when each was written.
    pub async fn preview_images(&self) -> Result<Vec<(String, std::time::SystemTime)>> {
        let mut found = Vec::new();
        let Ok(mut dir) = tokio::fs::read_dir(self.root.join("previews")).await else { return Ok(found) };
        while let Some(entry) = dir.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                found.push((name, entry.metadata().await?.modified()?));
            }
        }
        Ok(found)
    }

    /// Where the preview image with `digest` is kept.
    pub fn preview_image_path(&self, digest: &str) -> PathBuf {
        self.root.join("previews").join(digest)
    }

    /// Deletes attachments' files.
    pub async fn remove_attachments(&self, ids: &[Id]) {
        self.remove(ids.iter().map(|id| self.path(*id)).collect()).await;
    }

    /// Deletes files; ones already gone are fine.
    pub async fn remove(&self, paths: Vec<PathBuf>) {
        for p in paths {
            if let Err(e) = tokio::fs::remove_file(&p).await
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(path = %p.display(), error = %e, "could not remove a file");
            }
        }
    }
}

#[cfg(test)]
mod leftover_tests {
    use super::*;

    #[test]
    fn a_recordings_file_name_says_whose_call_it_was() {
        let of = RecordingOf { workspace: Id(7), channel: Id(8), started_at: 9, by: Id(10) };
        assert_eq!(
            RecordingOf::parse("rec~7~8~9~10~ana-audio.ogg.part"),
            Some((of, "ana-audio.ogg".to_string()))
        );
        assert_eq!(RecordingOf::parse("rec~7~8~9~10~.part"), None);
        assert_eq!(RecordingOf::parse("rec~x~8~9~10~a.ogg.part"), None);
        assert_eq!(RecordingOf::parse("123.part"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_types_checked() {
        let p = FilePolicy::default();
        assert_eq!(p.check_name("../../etc/report.PDF").unwrap(), "report.PDF");
        assert_eq!(p.check_name("C:\\Users\\ana\\photo.jpg").unwrap(), "photo.jpg");
        assert_eq!(p.check_name("a\u{0}b\n.png").unwrap(), "ab.png");
        assert!(matches!(p.check_name("run.exe"), Err(Error::UnsupportedType(_))));
        assert!(matches!(p.check_name("noextension"), Err(Error::UnsupportedType(_))));
        assert!(matches!(p.check_name(".png"), Err(Error::UnsupportedType(_))), "a dot file has no type");
        assert!(matches!(p.check_name("../"), Err(Error::Invalid { .. })));
        let long = p.check_name(&format!("{}.pdf", "a".repeat(300))).unwrap();
        assert!(long.ends_with("….pdf") && long.chars().count() == 195, "{long}");
        let msg = p.check_name("x.svg").unwrap_err().to_string();
        assert!(msg.contains("allowed file types are jpg, jpeg, png"), "{msg}");
    }

    #[test]
    fn served_types_come_from_the_extension() {
        assert_eq!(content_type_for("a.JPG"), "image/jpeg");
        assert_eq!(content_type_for("a.html"), "application/octet-stream");
        assert_eq!(human_size(DEFAULT_MAX_BYTES), "25 MB");
        assert_eq!(human_size(1536), "1.5 KB");
        assert!(FilePolicy::default().too_large("big.zip").to_string().contains("25 MB"));
    }
}
