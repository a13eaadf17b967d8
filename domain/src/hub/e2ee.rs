//! End-to-end encrypted conversations: the server as delivery service.
//!
//! Devices (browsers, bots) register with a public signature key and
//! publish key packages; a member's device adds the others' devices to a
//! conversation by claiming one key package of each and committing the
//! change, which the server accepts once per epoch (the first to arrive
//! wins; the others apply it and try again), fanning out the commit to the
//! members and a welcome to each added device. Messages are ciphertext
//! posted by a device (see [`super::messages`]). Nothing here can decrypt
//! anything: the keys never leave the devices (see `frontend/e2ee`).

use super::Hub;
use crate::error::{Error, Result, Thing};
use crate::events::{Audience, EventKind, NewEvent};
use crate::id::Id;
use crate::input::{Blob, device_name};
use crate::model::{Channel, ClaimedKeyPackage, Device, GroupCommit, IdentityKey, KeyBackup, Welcome};
use crate::permissions;
use crate::store::NewCommit;

/// Most devices a person may have at once.
pub const MAX_DEVICES: usize = 20;
/// Most key packages given at once.
pub const MAX_KEY_PACKAGES: usize = 100;
/// Largest key package, in bytes.
const KEY_PACKAGE_BYTES: usize = 16 << 10;
/// Largest commit or welcome, in bytes (a welcome carries the group's tree).
pub const HANDSHAKE_BYTES: usize = 512 << 10;
/// Largest encrypted message, in bytes.
pub const CIPHERTEXT_BYTES: usize = 64 << 10;
/// Largest key backup, in bytes (sealed; base64 in a request of at most 1 MiB).
pub const BACKUP_BYTES: usize = 768 << 10;
/// An Ed25519 public key's length, and a signature's.
const ED25519_KEY: usize = 32;
const ED25519_SIGNATURE: usize = 64;
/// Commits read at a time.
const COMMIT_PAGE: i64 = 100;

/// A device as its person registers it (its key packages, which name the
/// device by the number it gets, follow: [`Hub::add_key_packages`]).
#[derive(Debug)]
pub struct NewDevice<'a> {
    pub name: &'a str,
    /// The device's Ed25519 public key, base64.
    pub signature_key: &'a str,
    /// Its person's identity key's signature of it, base64.
    pub identity_signature: &'a str,
}

/// Where an encrypted conversation's keys stand: [`Hub::conversation_devices`].
#[derive(Debug)]
pub struct ConversationKeys {
    pub epoch: i64,
    pub devices: Vec<Device>,
    pub shares_history: bool,
}

/// A change of a conversation's keys, as a device sends it.
#[derive(Debug)]
pub struct NewGroupCommit<'a> {
    pub device: Id,
    /// The epoch it changes: the conversation's current one.
    pub epoch: i64,
    pub commit: &'a str,
    /// For the devices it adds.
    pub welcome: Option<&'a str>,
    pub welcomed: &'a [Id],
}

impl Hub {
    /// Registers one of `actor`'s devices.
    pub async fn register_device(&self, actor: Id, new: NewDevice<'_>) -> Result<Device> {
        let name = device_name(new.name)?;
        let signature_key = Blob::parse_exact("signature_key", new.signature_key, ED25519_KEY)?.into_inner();
        let identity_signature =
            Blob::parse_exact("identity_signature", new.identity_signature, ED25519_SIGNATURE)?;
        if self.store.identity_key(actor).await?.is_none() {
            return Err(Error::conflict(
                "identity_signature",
                "Set your identity key first (PUT /api/communication/identity/): it signs your devices.",
            ));
        }
        if self.store.devices_of(actor).await?.len() >= MAX_DEVICES {
            return Err(Error::conflict(
                "name",
                format!(
                    "You have {MAX_DEVICES} devices with keys already: remove one you no longer use first."
                ),
            ));
        }
        let id = Id::new();
        let device = Device {
            id,
            user_id: actor,
            name,
            signature_key,
            identity_signature: identity_signature.into_inner(),
            created_at: id.timestamp_ms(),
        };
        let events = self.to_encrypted_channels_of(actor, devices_changed(actor)).await?;
        self.store.add_device(&device, &events).await?;
        Ok(device)
    }

    /// `user`'s devices, for `actor` who shares a workspace with them (or is them).
    pub async fn devices(&self, actor: Id, user: Id) -> Result<Vec<Device>> {
        self.may_know_keys_of(actor, user).await?;
        self.store.devices_of(user).await
    }

    /// Sets `actor`'s identity key. Replacing it (after losing every device
    /// and the recovery key) removes their devices, and the members of
    /// their encrypted conversations are told that their keys changed.
    pub async fn set_identity_key(&self, actor: Id, public_key: &str) -> Result<IdentityKey> {
        let public_key = Blob::parse_exact("public_key", public_key, ED25519_KEY)?.into_inner();
        let key = IdentityKey { user_id: actor, public_key, created_at: crate::now_ms() };
        let changed = |ch| EventKind::IdentityChanged { channel_id: ch, user_id: actor };
        let events = self.to_encrypted_channels_of(actor, changed).await?;
        self.store.set_identity_key(&key, &events).await?;
        self.store.identity_key(actor).await?.ok_or(Error::NotFound(Thing::User))
    }

    /// `actor`'s key backup (sealed with their recovery key).
    pub async fn key_backup(&self, actor: Id) -> Result<KeyBackup> {
        self.store.key_backup(actor).await?.ok_or(Error::NotFound(Thing::KeyBackup))
    }

    /// Replaces `actor`'s key backup, if it is still at `version` (0 when
    /// they have none): two devices backing up at once do not overwrite
    /// each other unseen (the second is told to read the new one first).
    pub async fn replace_key_backup(&self, actor: Id, version: i64, backup: &str) -> Result<KeyBackup> {
        let data = Blob::parse("backup", backup, BACKUP_BYTES)?.into_inner();
        if version < 0 {
            return Err(Error::invalid("version", "A version is 0 (no backup yet) or more."));
        }
        match self.store.replace_key_backup(actor, version, &data, crate::now_ms()).await? {
            Some(b) => Ok(b),
            None => {
                let now = self.store.key_backup(actor).await?.map_or(0, |b| b.version);
                Err(Error::conflict(
                    "version",
                    format!(
                        "Your key backup changed since (it is at version {now}, not {version}): \
                         read it, merge, and save again."
                    ),
                ))
            }
        }
    }

    /// Deletes `actor`'s key backup (with a new identity, the old backup opens nothing useful).
    pub async fn delete_key_backup(&self, actor: Id) -> Result<()> {
        match self.store.delete_key_backup(actor).await? {
            true => Ok(()),
            false => Err(Error::NotFound(Thing::KeyBackup)),
        }
    }

    /// `user`'s identity key, for `actor` who shares a workspace with them (or is them).
    pub async fn identity_key(&self, actor: Id, user: Id) -> Result<IdentityKey> {
        self.may_know_keys_of(actor, user).await?;
        self.store.identity_key(user).await?.ok_or(Error::NotFound(Thing::IdentityKey))
    }

    /// Whether `actor` may read `user`'s public keys: they are `user`, or
    /// share a workspace with them (anyone else: not found).
    async fn may_know_keys_of(&self, actor: Id, user: Id) -> Result<()> {
        if actor != user {
            let theirs = self.store.workspace_ids_of(user).await?;
            let shared = self.store.workspace_ids_of(actor).await?.iter().any(|w| theirs.contains(w));
            if !shared {
                return Err(Error::NotFound(Thing::User));
            }
        }
        Ok(())
    }

    /// Removes one of `actor`'s devices: the conversations it was in drop
    /// it at their next change of keys (the other devices commit that).
    pub async fn remove_device(&self, actor: Id, device: Id) -> Result<()> {
        self.own_device(actor, device).await?;
        let events = self.to_encrypted_channels_of(actor, devices_changed(actor)).await?;
        if !self.store.remove_device(device, crate::now_ms(), &events).await? {
            return Err(Error::NotFound(Thing::Device));
        }
        Ok(())
    }

    /// Adds key packages to one of `actor`'s devices (and replaces its
    /// last-resort one, if given); returns how many single-use ones it has.
    pub async fn add_key_packages(
        &self,
        actor: Id,
        device: Id,
        packages: &[String],
        last_resort: Option<&str>,
    ) -> Result<i64> {
        self.own_device(actor, device).await?;
        let packages = key_packages(packages)?;
        let last_resort = last_resort
            .map(|p| Blob::parse("last_resort", p, KEY_PACKAGE_BYTES))
            .transpose()?
            .map(Blob::into_inner);
        self.store.add_key_packages(device, &packages, last_resort.as_deref()).await?;
        self.store.key_packages_left(device).await
    }

    /// How many single-use key packages one of `actor`'s devices has left.
    pub async fn key_packages_left(&self, actor: Id, device: Id) -> Result<i64> {
        self.own_device(actor, device).await?;
        self.store.key_packages_left(device).await
    }

    /// Makes a direct conversation or private channel end-to-end encrypted,
    /// for good: from now on it takes only ciphertext from devices.
    pub async fn encrypt_end_to_end(&self, actor: Id, channel: Id) -> Result<Channel> {
        let (mut ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::encrypt_end_to_end(facts)?;
        if ch.end_to_end {
            return Ok(ch);
        }
        ch.end_to_end = true;
        self.store.set_end_to_end(ch.id, &[super::channels::channel_updated(&ch)]).await?;
        self.archive_into(&ch).await?;
        Ok(ch)
    }

    /// Whether a workspace opens its direct conversations end-to-end
    /// encrypted, and whether `actor` may change that; for its members.
    pub async fn encrypts_direct(&self, actor: Id, ws: Id) -> Result<(bool, bool)> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::view_workspace(facts)?;
        let may_change = permissions::require_encryption(facts).is_ok();
        Ok((self.store.encrypts_direct(ws).await?, may_change))
    }

    /// Requires (or no longer) end-to-end encryption for the direct
    /// conversations opened in a workspace from now on (its admins). Audited.
    pub async fn set_encrypts_direct(&self, actor: Id, ws: Id, on: bool) -> Result<()> {
        let (_, facts) = self.workspace_facts(ws, actor).await?;
        permissions::require_encryption(facts)?;
        let summary = match on {
            true => "Required end-to-end encryption for new direct conversations",
            false => "No longer requires end-to-end encryption for new direct conversations",
        };
        let audit = crate::store::NewAudit {
            ws,
            actor,
            action: "workspace.encrypt_direct",
            target_user: None,
            target_id: Some(ws),
            summary,
            channel: None,
        };
        self.store.set_encrypts_direct(on, audit).await
    }

    /// The epoch an encrypted conversation's keys are at, the devices they
    /// should include (its members' devices), and whether it shares its
    /// history with the devices it adds.
    pub async fn conversation_devices(&self, actor: Id, channel: Id) -> Result<ConversationKeys> {
        let ch = self.keys_member(actor, channel).await?;
        Ok(ConversationKeys {
            epoch: self.store.epoch(ch.id).await?,
            devices: self.store.devices_in(ch.id).await?,
            shares_history: ch.shares_history,
        })
    }

    /// One key package of each of `devices` (devices of the conversation's
    /// members), to add them to it. A device that has none left is left out.
    pub async fn claim_key_packages(
        &self,
        actor: Id,
        channel: Id,
        devices: &[Id],
    ) -> Result<Vec<ClaimedKeyPackage>> {
        let ch = self.keys_member(actor, channel).await?;
        if devices.is_empty() || devices.len() > MAX_KEY_PACKAGES {
            return Err(Error::invalid("device_ids", format!("Claim for 1 to {MAX_KEY_PACKAGES} devices.")));
        }
        let members = self.store.devices_in(ch.id).await?;
        let wanted = wanted_devices(&members, devices)?;
        self.store.claim_key_packages(&wanted).await
    }

    /// Accepts a change of an encrypted conversation's keys from one of
    /// `actor`'s devices, if the conversation is still at its epoch, and
    /// sends it to the members and its welcome to each added device. When
    /// another change took that epoch first, the answer says so (a
    /// conflict): the device applies the changes it missed and tries again.
    pub async fn commit_keys(&self, actor: Id, channel: Id, new: NewGroupCommit<'_>) -> Result<GroupCommit> {
        let ch = self.keys_member(actor, channel).await?;
        self.own_device(actor, new.device).await?;
        let data = Blob::parse("commit", new.commit, HANDSHAKE_BYTES)?.into_inner();
        if new.epoch < 0 {
            return Err(Error::invalid("epoch", "An epoch is 0 or more."));
        }
        // (A welcome for no one is not kept.)
        let welcome = match (new.welcome, new.welcomed.is_empty()) {
            (Some(w), false) => Some(Blob::parse("welcome", w, HANDSHAKE_BYTES)?.into_inner()),
            (_, true) => None,
            (None, false) => return Err(Error::conflict("welcome", "Added devices need a welcome.")),
        };
        let members = self.store.devices_in(ch.id).await?;
        let welcomed = wanted_devices(&members, new.welcomed)?;
        let now = crate::now_ms();
        let commit =
            GroupCommit { channel_id: ch.id, epoch: new.epoch, device_id: new.device, data, created_at: now };
        let welcomes: Vec<Welcome> = welcomed
            .iter()
            .map(|d| Welcome {
                id: Id::new(),
                device_id: d.id,
                channel_id: ch.id,
                epoch: new.epoch + 1,
                data: welcome.clone().unwrap_or_default(),
                created_at: now,
            })
            .collect();
        let mut events =
            vec![NewEvent::new(Audience::Channel(ch.id), EventKind::GroupCommitted(commit.clone()))];
        for (w, d) in welcomes.iter().zip(&welcomed) {
            events.push(NewEvent::new(Audience::User(d.user_id), EventKind::Welcomed(w.clone())));
        }
        if !self.store.accept_commit(NewCommit { commit: &commit, welcomes: &welcomes }, &events).await? {
            let now = self.store.epoch(ch.id).await?;
            return Err(Error::conflict(
                "epoch",
                format!(
                    "This conversation's keys changed first (it is at epoch {now}, not {}): \
                     apply the changes since and try again.",
                    new.epoch
                ),
            ));
        }
        Ok(commit)
    }

    /// An encrypted conversation's accepted changes of keys from epoch `from` on, in order.
    pub async fn group_commits(&self, actor: Id, channel: Id, from: i64) -> Result<Vec<GroupCommit>> {
        let ch = self.keys_member(actor, channel).await?;
        self.store.commits_from(ch.id, from.max(0), COMMIT_PAGE).await
    }

    /// The welcomes waiting for one of `actor`'s devices.
    pub async fn welcomes(&self, actor: Id, device: Id) -> Result<Vec<Welcome>> {
        self.own_device(actor, device).await?;
        self.store.welcomes_for(device).await
    }

    /// Drops a welcome one of `actor`'s devices has used.
    pub async fn dismiss_welcome(&self, actor: Id, device: Id, welcome: Id) -> Result<()> {
        self.own_device(actor, device).await?;
        match self.store.drop_welcome(device, welcome).await? {
            true => Ok(()),
            false => Err(Error::NotFound(Thing::Welcome)),
        }
    }

    /// One of `actor`'s devices (a removed one, or another person's, is not found).
    pub(super) async fn own_device(&self, actor: Id, device: Id) -> Result<Device> {
        match self.store.device(device).await? {
            Some(d) if d.user_id == actor => Ok(d),
            _ => Err(Error::NotFound(Thing::Device)),
        }
    }

    /// An encrypted conversation `actor` is a member of.
    pub(super) async fn keys_member(&self, actor: Id, channel: Id) -> Result<Channel> {
        let (ch, facts) = self.channel_facts(channel, actor).await?;
        permissions::take_part_in_keys(facts)?;
        if !ch.end_to_end {
            return Err(Error::conflict("channel", "This conversation is not end-to-end encrypted."));
        }
        Ok(ch)
    }

    /// The event `kind(channel)` for the members of each of `user`'s
    /// encrypted conversations (what changed of `user`'s keys).
    async fn to_encrypted_channels_of(
        &self,
        user: Id,
        kind: impl Fn(Id) -> EventKind,
    ) -> Result<Vec<NewEvent>> {
        let channels = self.store.encrypted_channel_ids_of(user).await?;
        Ok(channels.into_iter().map(|ch| NewEvent::new(Audience::Channel(ch), kind(ch))).collect())
    }
}

/// What tells a conversation that `user` added or removed a device.
fn devices_changed(user: Id) -> impl Fn(Id) -> EventKind {
    move |ch| EventKind::DevicesChanged { channel_id: ch, user_id: user }
}

/// Parsed key packages (at most [`MAX_KEY_PACKAGES`]).
fn key_packages(raw: &[String]) -> Result<Vec<String>> {
    if raw.len() > MAX_KEY_PACKAGES {
        return Err(Error::invalid(
            "key_packages",
            format!("Send at most {MAX_KEY_PACKAGES} key packages at once."),
        ));
    }
    raw.iter().map(|p| Blob::parse("key_packages", p, KEY_PACKAGE_BYTES).map(Blob::into_inner)).collect()
}

/// `wanted` among `members` (a conversation's devices); one that is not
/// there is refused, by number.
pub(super) fn wanted_devices(members: &[Device], wanted: &[Id]) -> Result<Vec<Device>> {
    wanted
        .iter()
        .map(|id| {
            members.iter().find(|d| d.id == *id).cloned().ok_or_else(|| {
                Error::conflict(
                    "device_ids",
                    format!("Device {id} is not a device of this conversation's members."),
                )
            })
        })
        .collect()
}
