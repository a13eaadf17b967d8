//! Sharing an encrypted conversation's recent history with the devices it
//! adds, where its members turned that on.
//!
//! Without it, a device added to an encrypted conversation reads from the
//! epoch that added it: MLS gives it no key of the epochs before. With it,
//! the member's device that commits the addition then encrypts the latest
//! messages it has read as one MLS application message of the new epoch
//! (authenticated as a shared history, never read as a message) and sends
//! it here for the devices it added; each takes it once
//! ([`Hub::dismiss_shared_history`]). The server stores and hands it out
//! like a welcome and reads none of it. What it says is what the sharing
//! device says the messages said: the reader's page shows whose device
//! shared it.

use super::Hub;
use super::e2ee::{MAX_KEY_PACKAGES, wanted_devices};
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind, NewEvent};
use crate::id::Id;
use crate::input::Blob;
use crate::model::{Channel, SharedHistory};
use crate::permissions;

/// Largest shared history, in bytes (ciphertext; base64 in a request of
/// at most 1 MiB).
pub const SHARED_HISTORY_BYTES: usize = 640 << 10;

/// A history a member's device shares, as it sends it.
#[derive(Debug)]
pub struct NewSharedHistory<'a> {
    /// The sharing device (the caller's).
    pub device: Id,
    /// The epoch it is encrypted for: the conversation's current one.
    pub epoch: i64,
    /// The MLS application message, base64.
    pub history: &'a str,
    /// The devices it is for (added by the commit that began the epoch).
    pub devices: &'a [Id],
}

impl Hub {
    /// Turns the sharing of an encrypted conversation's history with the
    /// devices it adds on or off (who may make it encrypted); its members
    /// are told (the conversation's header says which it is).
    pub async fn set_history_sharing(&self, actor: Id, channel: Id, on: bool) -> Result<Channel> {
        let (mut ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::share_history(facts)?;
        if !ch.end_to_end {
            return Err(Error::conflict(
                "channel",
                "Only an end-to-end encrypted conversation shares its history this way: \
                 anyone added to another reads all of it already.",
            ));
        }
        if ch.shares_history != on {
            ch.shares_history = on;
            self.store.set_shares_history(ch.id, on, &[super::channels::channel_updated(&ch)]).await?;
        }
        Ok(ch)
    }

    /// Keeps a history one of `actor`'s devices shares with devices of the
    /// conversation's members, and tells their people. Refused (a
    /// conflict) where the conversation does not share its history, or
    /// when its keys changed since the epoch it was encrypted for.
    pub async fn share_history(&self, actor: Id, channel: Id, new: NewSharedHistory<'_>) -> Result<usize> {
        let ch = self.keys_member(actor, channel).await?;
        let from = self.own_device(actor, new.device).await?;
        if !ch.shares_history {
            return Err(Error::conflict(
                "channel",
                "This conversation does not share its history with people added: its members may turn \
                 that on in its header.",
            ));
        }
        let data = Blob::parse("history", new.history, SHARED_HISTORY_BYTES)?.into_inner();
        if new.devices.is_empty() || new.devices.len() > MAX_KEY_PACKAGES {
            return Err(Error::invalid("device_ids", format!("Share with 1 to {MAX_KEY_PACKAGES} devices.")));
        }
        let members = self.store.devices_in(ch.id).await?;
        let to = wanted_devices(&members, new.devices)?;
        let epoch = self.store.epoch(ch.id).await?;
        if new.epoch != epoch {
            return Err(Error::conflict(
                "epoch",
                format!(
                    "This conversation's keys changed since (it is at epoch {epoch}, not {}): \
                     the devices added then read from that epoch on.",
                    new.epoch
                ),
            ));
        }
        let events: Vec<NewEvent> = to
            .iter()
            .map(|d| {
                let kind = EventKind::HistoryShared { channel_id: ch.id, device_id: d.id };
                NewEvent::new(Audience::User(d.user_id), kind)
            })
            .collect();
        let devices: Vec<Id> = to.iter().map(|d| d.id).collect();
        self.store.add_shared_histories(ch.id, from.id, epoch, &data, &devices, &events).await?;
        Ok(devices.len())
    }

    /// The histories shared with one of `actor`'s devices, oldest first.
    pub async fn shared_histories(&self, actor: Id, device: Id) -> Result<Vec<SharedHistory>> {
        self.own_device(actor, device).await?;
        self.store.shared_histories_for(device).await
    }

    /// Drops a shared history one of `actor`'s devices has taken.
    pub async fn dismiss_shared_history(&self, actor: Id, device: Id, shared: Id) -> Result<()> {
        self.own_device(actor, device).await?;
        match self.store.drop_shared_history(device, shared).await? {
            true => Ok(()),
            false => Err(Error::NotFound(Thing::SharedHistory)),
        }
    }
}
