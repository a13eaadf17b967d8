use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::id::Id;
use crate::limits::Bucket;
use crate::model::Attachment;
use crate::permissions;

/// What [`Hub::recover_leftovers`] found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// Parts of uploads cut off by the stop, removed.
    pub uploads_removed: usize,
    /// Files moved into place whose message was never stored, removed.
    pub orphans_removed: usize,
    /// Recordings posted in their channels.
    pub recordings_posted: usize,
    /// Files of recordings whose channel is gone, kept in `files/unclaimed/`
    /// and reported in their workspace's audit log.
    pub recordings_unclaimed: usize,
}

impl Hub {
    /// Run at start-up, before anything else touches the files: what the
    /// last run of the server left half-done is finished. Uploads cut off
    /// and files without a message are removed; recordings that were running
    /// are posted in their channels (cut short); a recording whose channel is
    /// gone is kept aside and reported to its workspace's admins.
    pub async fn recover_leftovers(&self) -> Result<Recovered> {
        use crate::files::{Leftover, RecordingOf, Upload};
        let mut done = Recovered::default();
        let mut recordings: std::collections::HashMap<RecordingOf, Vec<Upload>> = Default::default();
        for leftover in self.files.leftovers(&self.store).await? {
            match leftover {
                Leftover::Upload(path) => {
                    self.files.remove(vec![path]).await;
                    done.uploads_removed += 1;
                }
                Leftover::Orphan(path) => {
                    self.files.remove(vec![path]).await;
                    done.orphans_removed += 1;
                }
                Leftover::Recording { of, file_name, path } => {
                    let size = tokio::fs::metadata(&path).await.map(|m| m.len()).unwrap_or(0);
                    recordings.entry(of).or_default().push(Upload { tmp: path, file_name, size });
                }
            }
        }
        for (of, mut files) in recordings {
            files.sort_by(|a, b| a.file_name.cmp(&b.file_name));
            let by = match self.store.user(of.by).await? {
                Some(u) => crate::model::UserSummary::from(&u),
                None => crate::model::UserSummary::person(of.by, "someone".into(), "someone".into()),
            };
            let recording = crate::voice::Recording { by, started_at: of.started_at };
            match self.store.channel(of.channel).await? {
                Some(ch) => {
                    self.post_recording(&ch, &recording, files, true).await?;
                    done.recordings_posted += 1;
                }
                None => {
                    let mut kept = Vec::new();
                    for f in &files {
                        kept.push(self.files.unclaim(&f.tmp).await?.display().to_string());
                    }
                    tracing::error!(files = ?kept, "a call recording's channel is gone; its files are kept");
                    if self.store.workspace(of.workspace).await?.is_some() {
                        let summary = format!(
                            "A recording started by {} was cut short and its channel is gone; its {} file(s) are kept on the server: {}",
                            recording.by.display_name,
                            kept.len(),
                            kept.join(", ")
                        );
                        self.audit(
                            of.workspace,
                            crate::model::SYSTEM_USER,
                            "recording.unclaimed",
                            Some(of.by),
                            None,
                            summary,
                        )
                        .await?;
                    }
                    done.recordings_unclaimed += 1;
                }
            }
        }
        Ok(done)
    }

    /// Checks, before an upload is received, that `actor` may post in
    /// `channel` (or reply there), so that nobody streams files in vain.
    /// Whether `actor` may send files to `channel` now: their permission,
    /// their upload rate, and a free upload slot, which the guard holds until
    /// the upload is over. Asked before any byte of a file is written.
    pub async fn may_upload(&self, actor: Id, channel: Id) -> Result<crate::limits::UploadGuard> {
        let (_, facts) = self.channel_facts(channel, actor).await?;
        permissions::attach_files(facts, false).or_else(|_| permissions::attach_files(facts, true))?;
        self.limits.check(Bucket::Upload, &actor.to_string()).await?;
        self.limits.upload_slot(actor)
    }

    /// An attachment and its bytes, opened to be read in the clear, if
    /// `actor` may see its channel now. Anything else is "not found": a
    /// file's existence does not leak.
    pub async fn attachment(&self, actor: Id, id: Id) -> Result<(Attachment, crate::crypto::OpenedFile)> {
        let (attachment, channel) = self.store.attachment(id).await?.ok_or(Error::NotFound(Thing::File))?;
        let (_, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts).map_err(|_| Error::NotFound(Thing::File))?;
        let opened = self.files.open(attachment.id, self.store.keys()).await.map_err(|e| {
            tracing::error!(attachment = %attachment.id, error = %e, "an attachment's file cannot be read");
            Error::NotFound(Thing::File)
        })?;
        Ok((attachment, opened))
    }
}
