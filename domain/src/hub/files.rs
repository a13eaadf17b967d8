use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::id::Id;
use crate::limits::Bucket;
use crate::model::Attachment;
use crate::permissions;
use std::path::PathBuf;

impl Hub {
    /// Checks, before an upload is received, that `actor` may post in
    /// `channel` (or reply there), so that nobody streams files in vain.
    /// Whether `actor` may send files to `channel` now: their permission,
    /// their upload rate, and a free upload slot, which the guard holds until
    /// the upload is over. Asked before any byte of a file is written.
    pub async fn may_upload(&self, actor: Id, channel: Id) -> Result<crate::limits::UploadGuard> {
        let (_, facts) = self.channel_facts(channel, actor).await?;
        permissions::attach_files(facts, false).or_else(|_| permissions::attach_files(facts, true))?;
        self.limits.check(Bucket::Upload, &actor.to_string())?;
        self.limits.upload_slot(actor)
    }

    /// An attachment and where its bytes are, if `actor` may see its
    /// channel now. Anything else is "not found": a file's existence does
    /// not leak.
    pub async fn attachment(&self, actor: Id, id: Id) -> Result<(Attachment, PathBuf)> {
        let (attachment, channel) = self.store.attachment(id).await?.ok_or(Error::NotFound(Thing::File))?;
        let (_, facts) = self.channel_facts(channel, actor).await?;
        permissions::view_channel(facts).map_err(|_| Error::NotFound(Thing::File))?;
        let path = self.files.path(attachment.id);
        Ok((attachment, path))
    }
}
