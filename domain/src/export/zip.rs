//! A zip archive written as it goes, with bounded memory however many
//! entries it holds, and resumable from a checkpoint.
//!
//! The `zip` crate keeps every entry's header in memory until the archive
//! is finished; an export of millions of messages (one EML entry each)
//! would hold hundreds of megabytes. Here the central directory is spooled
//! to a file beside the archive instead, and copied to its end when the
//! archive is finished. A [`Checkpoint`] records how long both files were
//! after a completed entry: resuming truncates them back to it.
//!
//! Entries are deflated (or stored, for files that are compressed
//! already); each must stay under 4 GiB (attachments are far smaller), and
//! the archive uses ZIP64 records once it passes 4 GiB or 65,535 entries.

use flate2::Compression;
use flate2::write::DeflateEncoder;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_END_OF_DIRECTORY: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
/// General purpose flag: names are UTF-8.
const UTF8_NAMES: u16 = 1 << 11;
/// Version needed to extract: 2.0 (deflate), 4.5 (ZIP64).
const VERSION_DEFLATE: u16 = 20;
const VERSION_ZIP64: u16 = 45;
/// Made by: Unix (3), spec 4.5, so that the permissions below are read.
const MADE_BY: u16 = (3 << 8) | VERSION_ZIP64;
/// A regular file, readable by all (`-rw-r--r--`).
const FILE_MODE: u32 = 0o100_644 << 16;

/// How far a [`ZipWriter`] had got at a moment between entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub archive_len: u64,
    pub directory_len: u64,
    pub entries: u64,
}

/// The entry being written.
struct Open {
    header_at: u64,
    name: String,
    dos_time: (u16, u16),
    deflate: Option<DeflateEncoder<Vec<u8>>>,
    crc: crc32fast::Hasher,
    size: u64,
    written: u64,
}

/// Writes a zip archive at `path`, its central directory spooled at
/// `path` + `.directory` until [`ZipWriter::finish`].
pub struct ZipWriter {
    archive: BufWriter<File>,
    directory: BufWriter<File>,
    directory_path: PathBuf,
    at: u64,
    directory_len: u64,
    entries: u64,
    open: Option<Open>,
}

fn directory_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".directory");
    PathBuf::from(name)
}

impl ZipWriter {
    /// Starts a new archive at `path` (replacing any file there).
    pub fn create(path: &Path) -> io::Result<ZipWriter> {
        ZipWriter::resume(path, Checkpoint::default())
    }

    /// Goes on with the archive at `path` from `checkpoint`: what was
    /// written after it is cut off. Fails if the files are shorter than
    /// the checkpoint says (they were lost).
    pub fn resume(path: &Path, checkpoint: Checkpoint) -> io::Result<ZipWriter> {
        let directory_path = directory_path(path);
        let open = |p: &Path, len: u64| -> io::Result<File> {
            let fresh = len == 0;
            let file = OpenOptions::new().read(true).write(true).create(fresh).truncate(fresh).open(p)?;
            if file.metadata()?.len() < len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{} is shorter than its checkpoint", p.display()),
                ));
            }
            file.set_len(len)?;
            Ok(file)
        };
        let mut archive = open(path, checkpoint.archive_len)?;
        let mut directory = open(&directory_path, checkpoint.directory_len)?;
        archive.seek(SeekFrom::End(0))?;
        directory.seek(SeekFrom::End(0))?;
        Ok(ZipWriter {
            archive: BufWriter::with_capacity(64 * 1024, archive),
            directory: BufWriter::with_capacity(64 * 1024, directory),
            directory_path,
            at: checkpoint.archive_len,
            directory_len: checkpoint.directory_len,
            entries: checkpoint.entries,
            open: None,
        })
    }

    /// Where the archive stands now, between entries; its bytes are flushed
    /// to the operating system ([`ZipWriter::sync`] makes them durable).
    pub fn checkpoint(&mut self) -> io::Result<Checkpoint> {
        if self.open.is_some() {
            return Err(io::Error::other("a checkpoint is taken between entries"));
        }
        self.archive.flush()?;
        self.directory.flush()?;
        Ok(Checkpoint { archive_len: self.at, directory_len: self.directory_len, entries: self.entries })
    }

    /// Handles to make what was flushed durable (`sync_data` on each), for
    /// a blocking thread.
    pub fn sync_handles(&self) -> io::Result<[File; 2]> {
        Ok([self.archive.get_ref().try_clone()?, self.directory.get_ref().try_clone()?])
    }

    /// Begins an entry called `name` (a `/`-separated path), last changed at
    /// `modified` (milliseconds since the epoch, UTC); `deflate` compresses it.
    pub fn begin(&mut self, name: &str, modified: i64, deflate: bool) -> io::Result<()> {
        if self.open.is_some() {
            return Err(io::Error::other("an entry is still open"));
        }
        let name = name.trim_start_matches('/').to_string();
        let dos_time = dos_time(modified);
        let header_at = self.at;
        // Sizes and checksum are written when the entry ends.
        let mut h = Vec::with_capacity(30 + name.len());
        put32(&mut h, LOCAL_HEADER);
        put16(&mut h, VERSION_DEFLATE);
        put16(&mut h, UTF8_NAMES);
        put16(&mut h, if deflate { 8 } else { 0 });
        put16(&mut h, dos_time.0);
        put16(&mut h, dos_time.1);
        h.extend_from_slice(&[0; 12]);
        put16(&mut h, name_len(&name)?);
        put16(&mut h, 0);
        h.extend_from_slice(name.as_bytes());
        self.raw(&h)?;
        self.open = Some(Open {
            header_at,
            name,
            dos_time,
            deflate: deflate.then(|| DeflateEncoder::new(Vec::new(), Compression::default())),
            crc: crc32fast::Hasher::new(),
            size: 0,
            written: 0,
        });
        Ok(())
    }

    /// Writes the open entry's next bytes.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let open = self.open.as_mut().ok_or_else(|| io::Error::other("no entry is open"))?;
        open.crc.update(bytes);
        open.size += bytes.len() as u64;
        match &mut open.deflate {
            Some(encoder) => {
                encoder.write_all(bytes)?;
                if encoder.get_ref().len() >= 64 * 1024 {
                    let out = std::mem::take(encoder.get_mut());
                    open.written += out.len() as u64;
                    self.raw(&out)?;
                }
            }
            None => {
                open.written += bytes.len() as u64;
                self.raw(bytes)?;
            }
        }
        Ok(())
    }

    /// Ends the open entry: its checksum and sizes go into its header, and
    /// its record into the central directory.
    pub fn end(&mut self) -> io::Result<()> {
        let mut open = self.open.take().ok_or_else(|| io::Error::other("no entry is open"))?;
        let method = if open.deflate.is_some() { 8 } else { 0 };
        if let Some(encoder) = open.deflate.take() {
            let out = encoder.finish()?;
            open.written += out.len() as u64;
            self.raw(&out)?;
        }
        if open.size > u32::MAX as u64 || open.written > u32::MAX as u64 {
            return Err(io::Error::other(format!("“{}” is larger than 4 GiB", open.name)));
        }
        let crc = open.crc.finalize();
        let mut sums = Vec::with_capacity(12);
        put32(&mut sums, crc);
        put32(&mut sums, open.written as u32);
        put32(&mut sums, open.size as u32);
        self.archive.seek(SeekFrom::Start(open.header_at + 14))?;
        self.archive.write_all(&sums)?;
        self.archive.seek(SeekFrom::Start(self.at))?;

        let far = open.header_at >= u32::MAX as u64;
        let mut c = Vec::with_capacity(46 + open.name.len() + 12);
        put32(&mut c, CENTRAL_HEADER);
        put16(&mut c, MADE_BY);
        put16(&mut c, if far { VERSION_ZIP64 } else { VERSION_DEFLATE });
        put16(&mut c, UTF8_NAMES);
        put16(&mut c, method);
        put16(&mut c, open.dos_time.0);
        put16(&mut c, open.dos_time.1);
        put32(&mut c, crc);
        put32(&mut c, open.written as u32);
        put32(&mut c, open.size as u32);
        put16(&mut c, name_len(&open.name)?);
        put16(&mut c, if far { 12 } else { 0 });
        put16(&mut c, 0); // comment
        put16(&mut c, 0); // disk
        put16(&mut c, 0); // internal attributes
        put32(&mut c, FILE_MODE);
        put32(&mut c, if far { u32::MAX } else { open.header_at as u32 });
        c.extend_from_slice(open.name.as_bytes());
        if far {
            // ZIP64 extra field: the header's offset alone.
            put16(&mut c, 0x0001);
            put16(&mut c, 8);
            put64(&mut c, open.header_at);
        }
        self.directory.write_all(&c)?;
        self.directory_len += c.len() as u64;
        self.entries += 1;
        Ok(())
    }

    /// Writes a whole entry at once.
    pub fn add(&mut self, name: &str, modified: i64, deflate: bool, bytes: &[u8]) -> io::Result<()> {
        self.begin(name, modified, deflate)?;
        self.write(bytes)?;
        self.end()
    }

    /// Finishes the archive: the central directory is copied to its end,
    /// with the end records, and its spool removed. Returns the archive's size.
    pub fn finish(mut self) -> io::Result<u64> {
        if self.open.is_some() {
            return Err(io::Error::other("an entry is still open"));
        }
        self.directory.flush()?;
        let mut spool = self.directory.get_ref().try_clone()?;
        spool.seek(SeekFrom::Start(0))?;
        let directory_at = self.at;
        let copied = io::copy(&mut (&mut spool).take(self.directory_len), &mut self.archive)?;
        if copied != self.directory_len {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the central directory is cut short"));
        }
        self.at += copied;
        let (entries, size) = (self.entries, self.directory_len);
        let zip64 = entries >= u16::MAX as u64 || size >= u32::MAX as u64 || directory_at >= u32::MAX as u64;
        let mut end = Vec::with_capacity(98);
        if zip64 {
            let record_at = self.at;
            put32(&mut end, ZIP64_END_OF_DIRECTORY);
            put64(&mut end, 44);
            put16(&mut end, MADE_BY);
            put16(&mut end, VERSION_ZIP64);
            put32(&mut end, 0);
            put32(&mut end, 0);
            put64(&mut end, entries);
            put64(&mut end, entries);
            put64(&mut end, size);
            put64(&mut end, directory_at);
            put32(&mut end, ZIP64_LOCATOR);
            put32(&mut end, 0);
            put64(&mut end, record_at);
            put32(&mut end, 1);
        }
        put32(&mut end, END_OF_DIRECTORY);
        put16(&mut end, 0);
        put16(&mut end, 0);
        put16(&mut end, entries.min(u16::MAX as u64) as u16);
        put16(&mut end, entries.min(u16::MAX as u64) as u16);
        put32(&mut end, size.min(u32::MAX as u64) as u32);
        put32(&mut end, directory_at.min(u32::MAX as u64) as u32);
        put16(&mut end, 0);
        self.raw(&end)?;
        self.archive.flush()?;
        self.archive.get_ref().sync_all()?;
        drop(self.directory);
        // Gone already if the export was deleted meanwhile.
        remove_spool_at(&self.directory_path)?;
        Ok(self.at)
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.archive.write_all(bytes)?;
        self.at += bytes.len() as u64;
        Ok(())
    }
}

/// Removes an unfinished archive's spooled directory, if there is one.
pub fn remove_spool(path: &Path) -> io::Result<()> {
    remove_spool_at(&directory_path(path))
}

fn remove_spool_at(spool: &Path) -> io::Result<()> {
    match std::fs::remove_file(spool) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn name_len(name: &str) -> io::Result<u16> {
    u16::try_from(name.len()).map_err(|_| io::Error::other(format!("the entry name “{name}” is too long")))
}

/// MS-DOS time and date of `ms` (UTC), as zip headers hold them; before 1980
/// is 1980.
fn dos_time(ms: i64) -> (u16, u16) {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    if t.year() < 1980 {
        return (0, (1 << 5) | 1);
    }
    let time = ((t.hour() as u16) << 11) | ((t.minute() as u16) << 5) | (t.second() as u16 / 2);
    let date = (((t.year() - 1980).min(127) as u16) << 9) | ((t.month() as u16) << 5) | t.day() as u16;
    (time, date)
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn put64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(path: &Path) -> Vec<(String, Vec<u8>)> {
        let mut archive = zip::ZipArchive::new(File::open(path).unwrap()).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut f = archive.by_index(i).unwrap();
                let mut bytes = Vec::new();
                f.read_to_end(&mut bytes).unwrap();
                (f.name().unwrap().to_string(), bytes)
            })
            .collect()
    }

    fn temp(name: &str) -> crate::testing::TempDir {
        crate::testing::TempDir::new(name)
    }

    #[test]
    fn entries_read_back_deflated_and_stored() {
        let dir = temp("zip-basic");
        let path = dir.0.join("a.zip");
        let mut zip = ZipWriter::create(&path).unwrap();
        zip.begin("général/2026-12-01.json", 1_764_547_200_000, true).unwrap();
        zip.write(b"[{\"text\":").unwrap();
        zip.write("\"héllo\"}]".as_bytes()).unwrap();
        zip.end().unwrap();
        zip.add("files/1-photo.png", 0, false, &[0u8, 1, 2, 255]).unwrap();
        zip.finish().unwrap();
        let entries = read_all(&path);
        assert_eq!(entries[0], ("général/2026-12-01.json".to_string(), "[{\"text\":\"héllo\"}]".into()));
        assert_eq!(entries[1], ("files/1-photo.png".to_string(), vec![0, 1, 2, 255]));
        assert!(!directory_path(&path).exists(), "the spooled directory is removed");
    }

    #[test]
    fn a_resumed_archive_drops_what_followed_its_checkpoint() {
        let dir = temp("zip-resume");
        let path = dir.0.join("a.zip");
        let mut zip = ZipWriter::create(&path).unwrap();
        zip.add("one.txt", 0, true, b"first").unwrap();
        let checkpoint = zip.checkpoint().unwrap();
        zip.add("lost.txt", 0, true, b"written after the checkpoint").unwrap();
        zip.begin("cut.txt", 0, true).unwrap();
        zip.write(&[7; 100_000]).unwrap();
        drop(zip); // a restart, mid-entry
        let mut zip = ZipWriter::resume(&path, checkpoint).unwrap();
        zip.add("two.txt", 0, true, b"second").unwrap();
        zip.finish().unwrap();
        let names: Vec<String> = read_all(&path).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["one.txt", "two.txt"]);
    }

    #[test]
    fn resuming_refuses_files_shorter_than_the_checkpoint() {
        let dir = temp("zip-lost");
        let path = dir.0.join("a.zip");
        let mut zip = ZipWriter::create(&path).unwrap();
        zip.add("one.txt", 0, true, b"first").unwrap();
        let checkpoint = zip.checkpoint().unwrap();
        drop(zip);
        std::fs::remove_file(&path).unwrap();
        File::create(&path).unwrap();
        assert!(ZipWriter::resume(&path, checkpoint).is_err());
    }

    #[test]
    fn more_than_65535_entries_use_zip64_records() {
        let dir = temp("zip-many");
        let path = dir.0.join("a.zip");
        let mut zip = ZipWriter::create(&path).unwrap();
        for i in 0..70_000u32 {
            zip.add(&format!("m/{i}.eml"), 0, false, &i.to_le_bytes()).unwrap();
        }
        zip.finish().unwrap();
        let mut archive = zip::ZipArchive::new(File::open(&path).unwrap()).unwrap();
        assert_eq!(archive.len(), 70_000);
        let mut last = Vec::new();
        archive.by_name("m/69999.eml").unwrap().read_to_end(&mut last).unwrap();
        assert_eq!(last, 69_999u32.to_le_bytes());
    }

    #[test]
    fn dos_times_are_utc_calendar_fields() {
        // 2026-12-04 13:45:30 UTC
        let (time, date) = dos_time(1_796_391_930_000);
        assert_eq!((time >> 11, (time >> 5) & 63, (time & 31) * 2), (13, 45, 30));
        assert_eq!(((date >> 9) + 1980, (date >> 5) & 15, date & 31), (2026, 12, 4));
    }
}
