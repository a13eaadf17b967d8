//! Encryption at rest as the hub runs it ([`crate::crypto`]): re-sealing
//! with the current key what an older key sealed (after a rotation) or what
//! was stored before encryption (message text, kept versions, the event
//! log, attachments' files), and taking up a key that `parley rotate-key`
//! added while the server runs.

use super::Hub;
use crate::crypto::{KeyId, Keyring};
use crate::error::Result;
use crate::id::Id;
use crate::store::Sealed;

/// Rows re-sealed in one transaction.
const RESEAL_BATCH: i64 = 500;

impl Hub {
    /// Re-seals with the current key every row that another key (or none)
    /// sealed, in batches; returns how many. Nothing to do (the last pass
    /// was with this key) costs one read. Safe on any number of nodes: a
    /// row another node re-sealed or an edit sealed anew is left as it is.
    pub async fn reseal(&self) -> Result<u64> {
        if self.store.resealed().await? {
            return Ok(0);
        }
        let current = self.store.keys().current();
        let mut total = 0;
        for what in Sealed::ALL {
            let mut after = i64::MIN;
            while let (Some(last), done) = self.store.reseal(what, after, RESEAL_BATCH).await? {
                after = last;
                total += done;
            }
        }
        let mut after = Id(i64::MIN);
        loop {
            let ids = self.store.attachment_ids_after(after, RESEAL_BATCH).await?;
            let Some(last) = ids.last() else { break };
            after = *last;
            for id in ids {
                total += self.files.reseal(id, self.store.keys()).await? as u64;
            }
        }
        // Keys taken up meanwhile call for another pass.
        if self.store.keys().current() == current {
            self.store.mark_resealed(current).await?;
        }
        Ok(total)
    }

    /// Takes up keys that `parley rotate-key` added to the key file: when
    /// the deployment records a key that is not this node's current one,
    /// the keys are read again. Returns the new current key if it changed.
    /// (Keys given by `PARLEY_ENCRYPTION_KEY` change only with a restart.)
    pub async fn follow_key_rotation(&self) -> Result<Option<KeyId>> {
        let keys = self.store.keys();
        let Some(recorded) = self.store.recorded_key().await? else { return Ok(None) };
        if recorded == keys.current() {
            return Ok(None);
        }
        let reread: Option<Keyring> =
            keys.reread().map_err(|e| crate::error::Error::internal(e.to_string()))?;
        match reread {
            Some(ring) if ring.current() == recorded => {
                self.store.use_keys(ring).await?;
                Ok(Some(recorded))
            }
            _ => {
                tracing::warn!(
                    %recorded,
                    ours = %keys.current(),
                    source = %keys.source(),
                    "another node encrypts with a key this one does not put first; restart this one with it"
                );
                Ok(None)
            }
        }
    }
}
