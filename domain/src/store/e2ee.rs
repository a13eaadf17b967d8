//! End-to-end encryption's delivery service: devices and their key
//! packages, conversations' commits (one per epoch, accepted by
//! compare-and-set on `channels.epoch`) and welcomes. Everything here is
//! public keys or ciphertext, base64.

use super::Store;
use crate::error::Result;
use crate::events::NewEvent;
use crate::id::Id;
use crate::model::{ClaimedKeyPackage, Device, GroupCommit, IdentityKey, KeyBackup, Welcome};
use sqlx::FromRow;

#[derive(FromRow)]
struct DeviceRow {
    id: i64,
    user_id: i64,
    name: String,
    signature_key: String,
    identity_signature: String,
    created_at: i64,
}

impl From<DeviceRow> for Device {
    fn from(r: DeviceRow) -> Self {
        Device {
            id: Id(r.id),
            user_id: Id(r.user_id),
            name: r.name,
            signature_key: r.signature_key,
            identity_signature: r.identity_signature,
            created_at: r.created_at,
        }
    }
}

const DEVICE: &str =
    "SELECT d.id, d.user_id, d.name, d.signature_key, d.identity_signature, d.created_at FROM devices d";

#[derive(FromRow)]
struct CommitRow {
    channel_id: i64,
    epoch: i64,
    device_id: i64,
    data: String,
    created_at: i64,
}

#[derive(FromRow)]
struct WelcomeRow {
    id: i64,
    device_id: i64,
    channel_id: i64,
    epoch: i64,
    data: String,
    created_at: i64,
}

/// What waits on the server for a device, dropped with it.
const WAITING_FOR_DEVICE: [&str; 3] = ["key_packages", "group_welcomes", "shared_histories"];

/// A commit to accept, with the welcomes for the devices it adds.
pub struct NewCommit<'a> {
    pub commit: &'a GroupCommit,
    /// For each added device, its welcome.
    pub welcomes: &'a [Welcome],
}

impl Store {
    /// Stores a device (its key packages follow).
    pub async fn add_device(&self, device: &Device, events: &[NewEvent]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO devices (id, user_id, name, signature_key, identity_signature, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(device.id.0)
        .bind(device.user_id.0)
        .bind(&device.name)
        .bind(&device.signature_key)
        .bind(&device.identity_signature)
        .bind(device.created_at)
        .execute(&mut *tx)
        .await?;
        self.commit(tx, events).await
    }

    /// Adds key packages to a device (replacing its last-resort one, if given).
    pub async fn add_key_packages(
        &self,
        device: Id,
        packages: &[String],
        last_resort: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        if last_resort.is_some() {
            sqlx::query("DELETE FROM key_packages WHERE device_id = $1 AND last_resort = 1")
                .bind(device.0)
                .execute(&mut *tx)
                .await?;
        }
        let all = packages.iter().map(|p| (p.as_str(), false)).chain(last_resort.map(|p| (p, true)));
        for (data, last) in all {
            sqlx::query(
                "INSERT INTO key_packages (id, device_id, data, last_resort) VALUES ($1, $2, $3, $4)",
            )
            .bind(Id::new().0)
            .bind(device.0)
            .bind(data)
            .bind(last as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many single-use key packages a device has left.
    pub async fn key_packages_left(&self, device: Id) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM key_packages WHERE device_id = $1 AND last_resort = 0")
            .bind(device.0)
            .fetch_one(&self.pool)
            .await?)
    }

    /// A device, unless removed.
    pub async fn device(&self, id: Id) -> Result<Option<Device>> {
        let sql = format!("{DEVICE} WHERE d.id = $1 AND d.removed_at IS NULL");
        let row = sqlx::query_as::<_, DeviceRow>(&sql).bind(id.0).fetch_optional(&self.pool).await?;
        Ok(row.map(Device::from))
    }

    /// A person's devices, oldest first (removed ones aside).
    pub async fn devices_of(&self, user: Id) -> Result<Vec<Device>> {
        let sql = format!("{DEVICE} WHERE d.user_id = $1 AND d.removed_at IS NULL ORDER BY d.id");
        let rows = sqlx::query_as::<_, DeviceRow>(&sql).bind(user.0).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Device::from).collect())
    }

    /// The devices of a channel's members: those its keys should include.
    pub async fn devices_in(&self, channel: Id) -> Result<Vec<Device>> {
        let sql = format!(
            "{DEVICE} JOIN channel_members cm ON cm.user_id = d.user_id \
             WHERE cm.channel_id = $1 AND d.removed_at IS NULL ORDER BY d.user_id, d.id"
        );
        let rows = sqlx::query_as::<_, DeviceRow>(&sql).bind(channel.0).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(Device::from).collect())
    }

    /// A person's identity key.
    pub async fn identity_key(&self, user: Id) -> Result<Option<IdentityKey>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT public_key, created_at FROM identity_keys WHERE user_id = $1")
                .bind(user.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(public_key, created_at)| IdentityKey { user_id: user, public_key, created_at }))
    }

    /// Sets a person's identity key. A different key than theirs removes
    /// their devices (with their key packages and welcomes): what the old
    /// key signed no longer holds. Returns whether anything changed.
    pub async fn set_identity_key(&self, key: &IdentityKey, events: &[NewEvent]) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let old: Option<String> =
            sqlx::query_scalar("SELECT public_key FROM identity_keys WHERE user_id = $1")
                .bind(key.user_id.0)
                .fetch_optional(&mut *tx)
                .await?;
        if old.as_deref() == Some(key.public_key.as_str()) {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("DELETE FROM identity_keys WHERE user_id = $1")
            .bind(key.user_id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO identity_keys (user_id, public_key, created_at) VALUES ($1, $2, $3)")
            .bind(key.user_id.0)
            .bind(&key.public_key)
            .bind(key.created_at)
            .execute(&mut *tx)
            .await?;
        for table in WAITING_FOR_DEVICE {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE device_id IN (SELECT id FROM devices WHERE user_id = $1)"
            ))
            .bind(key.user_id.0)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE devices SET removed_at = $1 WHERE user_id = $2 AND removed_at IS NULL")
            .bind(key.created_at)
            .bind(key.user_id.0)
            .execute(&mut *tx)
            .await?;
        self.commit(tx, events).await?;
        Ok(true)
    }

    /// A person's key backup.
    pub async fn key_backup(&self, user: Id) -> Result<Option<KeyBackup>> {
        let row: Option<(i64, String, i64)> =
            sqlx::query_as("SELECT version, data, updated_at FROM key_backups WHERE user_id = $1")
                .bind(user.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(version, data, updated_at)| KeyBackup { version, data, updated_at }))
    }

    /// Replaces a person's key backup if it is at `version` (0: they have
    /// none); returns the new one, or `None` when it was at another.
    pub async fn replace_key_backup(
        &self,
        user: Id,
        version: i64,
        data: &str,
        now: i64,
    ) -> Result<Option<KeyBackup>> {
        let mut tx = self.write_tx().await?;
        let done = if version == 0 {
            sqlx::query(
                "INSERT INTO key_backups (user_id, version, data, updated_at) VALUES ($1, 1, $2, $3) \
                 ON CONFLICT (user_id) DO NOTHING",
            )
            .bind(user.0)
            .bind(data)
            .bind(now)
            .execute(&mut *tx)
            .await?
        } else {
            sqlx::query(
                "UPDATE key_backups SET version = version + 1, data = $1, updated_at = $2 \
                 WHERE user_id = $3 AND version = $4",
            )
            .bind(data)
            .bind(now)
            .bind(user.0)
            .bind(version)
            .execute(&mut *tx)
            .await?
        };
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(KeyBackup { version: version + 1, data: data.to_string(), updated_at: now }))
    }

    /// Deletes a person's key backup; returns whether there was one.
    pub async fn delete_key_backup(&self, user: Id) -> Result<bool> {
        let done = sqlx::query("DELETE FROM key_backups WHERE user_id = $1")
            .bind(user.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a device: it gets no more welcomes, and its key packages go.
    /// Returns whether it was there.
    pub async fn remove_device(&self, id: Id, now: i64, events: &[NewEvent]) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE devices SET removed_at = $1 WHERE id = $2 AND removed_at IS NULL")
            .bind(now)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        for table in WAITING_FOR_DEVICE {
            sqlx::query(&format!("DELETE FROM {table} WHERE device_id = $1"))
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
        }
        self.commit_if(tx, done.rows_affected() == 1, events).await
    }

    /// Takes one key package of each of `devices` (a single-use one while
    /// any is left, else the last-resort one), with its person's identity
    /// key; devices with no package (or no identity) are left out.
    pub async fn claim_key_packages(&self, devices: &[Device]) -> Result<Vec<ClaimedKeyPackage>> {
        let mut tx = self.write_tx().await?;
        let mut claimed = Vec::with_capacity(devices.len());
        let mut identities: std::collections::HashMap<Id, Option<String>> = Default::default();
        for device in devices {
            let identity = match identities.get(&device.user_id) {
                Some(known) => known.clone(),
                None => {
                    let key: Option<String> =
                        sqlx::query_scalar("SELECT public_key FROM identity_keys WHERE user_id = $1")
                            .bind(device.user_id.0)
                            .fetch_optional(&mut *tx)
                            .await?;
                    identities.insert(device.user_id, key.clone());
                    key
                }
            };
            let Some(identity_key) = identity else { continue };
            let single: Option<String> = sqlx::query_scalar(
                "DELETE FROM key_packages WHERE id = (SELECT id FROM key_packages \
                 WHERE device_id = $1 AND last_resort = 0 ORDER BY id LIMIT 1) RETURNING data",
            )
            .bind(device.id.0)
            .fetch_optional(&mut *tx)
            .await?;
            let package = match single {
                Some(p) => Some(p),
                None => {
                    sqlx::query_scalar(
                        "SELECT data FROM key_packages WHERE device_id = $1 AND last_resort = 1",
                    )
                    .bind(device.id.0)
                    .fetch_optional(&mut *tx)
                    .await?
                }
            };
            if let Some(key_package) = package {
                claimed.push(ClaimedKeyPackage { device: device.clone(), key_package, identity_key });
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// The end-to-end encrypted conversations `user` is a member of.
    pub async fn encrypted_channel_ids_of(&self, user: Id) -> Result<Vec<Id>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT c.id FROM channels c JOIN channel_members cm ON cm.channel_id = c.id \
             WHERE cm.user_id = $1 AND c.end_to_end = 1 ORDER BY c.id",
        )
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(Id).collect())
    }

    /// Marks a conversation end-to-end encrypted; returns whether it was not yet.
    pub async fn set_end_to_end(&self, channel: Id, events: &[NewEvent]) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE channels SET end_to_end = 1 WHERE id = $1 AND end_to_end = 0")
            .bind(channel.0)
            .execute(&mut *tx)
            .await?;
        self.commit_if(tx, done.rows_affected() == 1, events).await
    }

    /// Whether `ws` opens its direct conversations end-to-end encrypted.
    pub async fn encrypts_direct(&self, ws: Id) -> Result<bool> {
        let on: Option<i64> = sqlx::query_scalar("SELECT encrypt_direct FROM workspaces WHERE id = $1")
            .bind(ws.0)
            .fetch_optional(&self.pool)
            .await?;
        on.map(|on| on != 0).ok_or(crate::Error::NotFound(crate::error::Thing::Workspace))
    }

    /// Sets whether `audit.ws` opens its direct conversations encrypted, with its audit entry.
    pub async fn set_encrypts_direct(&self, on: bool, audit: super::NewAudit<'_>) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE workspaces SET encrypt_direct = $1 WHERE id = $2")
            .bind(on as i64)
            .bind(audit.ws.0)
            .execute(&mut *tx)
            .await?;
        Self::add_audit_in(&mut tx, audit).await?;
        self.commit(tx, &[]).await
    }

    /// The archiving member `ws` names for its encrypted conversations, if
    /// any, while they are a member of it (one who left archives nothing).
    pub async fn archivist(&self, ws: Id) -> Result<Option<Id>> {
        let row: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM workspace_members m \
             WHERE m.workspace_id = w.id AND m.user_id = w.e2ee_archivist) THEN w.e2ee_archivist END \
             FROM workspaces w WHERE w.id = $1",
        )
        .bind(ws.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.ok_or(crate::Error::NotFound(crate::error::Thing::Workspace))?.map(Id))
    }

    /// Names (or, with `None`, no longer names) `audit.ws`'s archiving
    /// member, makes them a member of `joins` (its encrypted conversations
    /// they are not in) and takes `former` (the one named before, if
    /// another) out of those it was made a member of as such: at once,
    /// with the audit entry.
    pub async fn set_archivist(
        &self,
        archivist: Option<Id>,
        joins: &[Id],
        former: Option<Id>,
        audit: super::NewAudit<'_>,
        events: &[NewEvent],
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE workspaces SET e2ee_archivist = $1 WHERE id = $2")
            .bind(archivist.map(|a| a.0))
            .bind(audit.ws.0)
            .execute(&mut *tx)
            .await?;
        if let Some(former) = former {
            for table in ["channel_reads", "channel_members"] {
                let sql = format!(
                    "DELETE FROM {table} WHERE user_id = $1 AND channel_id IN (SELECT m.channel_id \
                     FROM channel_members m JOIN channels c ON c.id = m.channel_id \
                     WHERE m.user_id = $1 AND m.by_archive = 1 AND c.workspace_id = $2)"
                );
                sqlx::query(&sql).bind(former.0).bind(audit.ws.0).execute(&mut *tx).await?;
            }
        }
        if let Some(a) = archivist {
            for channel in joins {
                Self::insert_archive_member(&mut tx, *channel, a).await?;
            }
        }
        Self::add_audit_in(&mut tx, audit).await?;
        self.commit(tx, events).await
    }

    /// The conversations of `ws` that `user` was made a member of as its
    /// archiving member.
    pub async fn archive_memberships(&self, ws: Id, user: Id) -> Result<Vec<Id>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT m.channel_id FROM channel_members m JOIN channels c ON c.id = m.channel_id \
             WHERE m.user_id = $1 AND m.by_archive = 1 AND c.workspace_id = $2 ORDER BY m.channel_id",
        )
        .bind(user.0)
        .bind(ws.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(Id).collect())
    }

    /// Makes `user` a member of `channel` as its workspace's archiving
    /// member; returns whether they are new (only then are `events` logged).
    pub async fn add_archive_member(&self, channel: Id, user: Id, events: &[NewEvent]) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let added = Self::insert_archive_member(&mut tx, channel, user).await?;
        self.commit_if(tx, added, events).await
    }

    /// Adds the archiving member in `tx`, marked as such (a member already
    /// stays as they were).
    async fn insert_archive_member(tx: &mut super::Tx, channel: Id, user: Id) -> Result<bool> {
        let added = Self::insert_channel_member(tx, channel, user, crate::now_ms()).await?;
        if added {
            sqlx::query("UPDATE channel_members SET by_archive = 1 WHERE channel_id = $1 AND user_id = $2")
                .bind(channel.0)
                .bind(user.0)
                .execute(&mut **tx)
                .await?;
        }
        Ok(added)
    }

    /// The archiving member `user` agreed to in `ws`, if any.
    pub async fn archive_consent(&self, ws: Id, user: Id) -> Result<Option<Id>> {
        let archivist: Option<i64> = sqlx::query_scalar(
            "SELECT archivist FROM e2ee_archive_consents WHERE workspace_id = $1 AND user_id = $2",
        )
        .bind(ws.0)
        .bind(user.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(archivist.map(Id))
    }

    /// Records that `user` agreed to `archivist` reading `ws`'s encrypted
    /// conversations (replacing an agreement to another).
    pub async fn consent_to_archive(&self, ws: Id, user: Id, archivist: Id) -> Result<()> {
        sqlx::query(
            "INSERT INTO e2ee_archive_consents (workspace_id, user_id, archivist, consented_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, user_id) \
             DO UPDATE SET archivist = excluded.archivist, consented_at = excluded.consented_at",
        )
        .bind(ws.0)
        .bind(user.0)
        .bind(archivist.0)
        .bind(crate::now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The epoch a conversation's keys are at.
    pub async fn epoch(&self, channel: Id) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT epoch FROM channels WHERE id = $1")
            .bind(channel.0)
            .fetch_one(&self.pool)
            .await?)
    }

    /// Accepts `new.commit` if its conversation is at its epoch (moving it
    /// to the next), with its welcomes; returns `false`, storing nothing,
    /// when another commit took that epoch first.
    pub async fn accept_commit(&self, new: NewCommit<'_>, events: &[NewEvent]) -> Result<bool> {
        let c = new.commit;
        let mut tx = self.write_tx().await?;
        let moved = sqlx::query("UPDATE channels SET epoch = epoch + 1 WHERE id = $1 AND epoch = $2")
            .bind(c.channel_id.0)
            .bind(c.epoch)
            .execute(&mut *tx)
            .await?;
        if moved.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO group_commits (channel_id, epoch, device_id, data, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(c.channel_id.0)
        .bind(c.epoch)
        .bind(c.device_id.0)
        .bind(&c.data)
        .bind(c.created_at)
        .execute(&mut *tx)
        .await?;
        for w in new.welcomes {
            sqlx::query(
                "INSERT INTO group_welcomes (id, device_id, channel_id, epoch, data, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(w.id.0)
            .bind(w.device_id.0)
            .bind(w.channel_id.0)
            .bind(w.epoch)
            .bind(&w.data)
            .bind(w.created_at)
            .execute(&mut *tx)
            .await?;
        }
        self.commit(tx, events).await?;
        Ok(true)
    }

    /// A conversation's commits from `from` on, in order, at most `limit`.
    pub async fn commits_from(&self, channel: Id, from: i64, limit: i64) -> Result<Vec<GroupCommit>> {
        let rows = sqlx::query_as::<_, CommitRow>(
            "SELECT channel_id, epoch, device_id, data, created_at FROM group_commits \
             WHERE channel_id = $1 AND epoch >= $2 ORDER BY epoch LIMIT $3",
        )
        .bind(channel.0)
        .bind(from)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| GroupCommit {
                channel_id: Id(r.channel_id),
                epoch: r.epoch,
                device_id: Id(r.device_id),
                data: r.data,
                created_at: r.created_at,
            })
            .collect())
    }

    /// The welcomes waiting for a device, oldest first.
    pub async fn welcomes_for(&self, device: Id) -> Result<Vec<Welcome>> {
        let rows = sqlx::query_as::<_, WelcomeRow>(
            "SELECT id, device_id, channel_id, epoch, data, created_at FROM group_welcomes \
             WHERE device_id = $1 ORDER BY id",
        )
        .bind(device.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Welcome {
                id: Id(r.id),
                device_id: Id(r.device_id),
                channel_id: Id(r.channel_id),
                epoch: r.epoch,
                data: r.data,
                created_at: r.created_at,
            })
            .collect())
    }

    /// Drops a welcome its device has used; returns whether it was there.
    pub async fn drop_welcome(&self, device: Id, welcome: Id) -> Result<bool> {
        let done = sqlx::query("DELETE FROM group_welcomes WHERE id = $1 AND device_id = $2")
            .bind(welcome.0)
            .bind(device.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
