//! Encryption at rest in the database ([`crate::crypto`]): which key the
//! deployment seals with, where each sealed value belongs, and re-sealing
//! what an older key (or none) sealed.

use super::Store;
use crate::crypto::{KeyId, Keyring, Purpose};
use crate::error::{Error, Result};
use std::sync::Arc;

/// Where a message's body is stored: what its sealed value is bound to
/// (its kept versions are bound the same way, so that they can be copied
/// from the message as they are).
pub(super) fn body_place(message: i64) -> Vec<u8> {
    format!("message {message} body").into_bytes()
}

/// Where a message's rendered HTML is stored.
pub(super) fn html_place(message: i64) -> Vec<u8> {
    format!("message {message} html").into_bytes()
}

/// Where an event log entry is stored.
pub(super) fn event_place(seq: i64) -> Vec<u8> {
    format!("event {seq}").into_bytes()
}

/// What holds sealed values, re-sealed one after the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealed {
    Messages,
    Versions,
    Events,
}

impl Sealed {
    pub const ALL: [Sealed; 3] = [Sealed::Messages, Sealed::Versions, Sealed::Events];
}

/// The deployment setting naming the key that seals.
const CURRENT_KEY: &str = "encryption_key";
/// The deployment setting naming the key everything was last re-sealed with.
const RESEALED_WITH: &str = "encryption_resealed_with";

impl Store {
    /// The keys this store seals and opens with.
    pub fn keys(&self) -> Arc<Keyring> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Seals and opens with `keys` from now on (after a rotation), and
    /// records their current key as the deployment's.
    pub async fn use_keys(&self, keys: Keyring) -> Result<()> {
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
        self.check_keys().await
    }

    /// The key the deployment seals with, as recorded by the node that
    /// last brought a new one.
    pub async fn recorded_key(&self) -> Result<Option<KeyId>> {
        Ok(self.deployment_setting(CURRENT_KEY).await?.and_then(|v| v.parse().ok()).map(KeyId))
    }

    /// Whether everything sealed is sealed with the current key, as far as
    /// the last full pass of re-sealing found.
    pub async fn resealed(&self) -> Result<bool> {
        let done = self.deployment_setting(RESEALED_WITH).await?.and_then(|v| v.parse().ok()).map(KeyId);
        Ok(done == Some(self.keys().current()))
    }

    /// Records that a full pass found nothing sealed with another key than `with`.
    pub async fn mark_resealed(&self, with: KeyId) -> Result<()> {
        self.put_setting(RESEALED_WITH, &with.0.to_string()).await
    }

    /// Checks that these keys open what the database holds: the key the
    /// deployment records must be among them. A first start records the
    /// current key; keys whose current key is newer than the recorded one
    /// (it is among them) record theirs.
    pub(super) async fn check_keys(&self) -> Result<()> {
        let keys = self.keys();
        match self.recorded_key().await? {
            Some(id) if id == keys.current() => Ok(()),
            Some(id) if !keys.holds(id) => Err(Error::invalid(
                "PARLEY_ENCRYPTION_KEY",
                format!(
                    "This database is encrypted with key {id}, which {} does not hold. Start Parley with \
                     that key: copy encryption.key from the data directory of the server that made the \
                     database, or give the keys in PARLEY_ENCRYPTION_KEY (separated by commas, newest first).",
                    keys.source()
                ),
            )),
            _ => self.put_setting(CURRENT_KEY, &keys.current().0.to_string()).await,
        }
    }

    async fn put_setting(&self, name: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO deployment_settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Re-seals with the current key up to `limit` rows of `what` after
    /// `after` (an id, or an event's number) that another key sealed or
    /// that are in the clear. Returns the last row looked at, or `None`
    /// when there were none, and how many were re-sealed. A row changed
    /// meanwhile (an edit seals it anew) is left as it is.
    pub async fn reseal(&self, what: Sealed, after: i64, limit: i64) -> Result<(Option<i64>, u64)> {
        let keys = self.keys();
        let current = keys.current();
        let sql = match what {
            Sealed::Messages => {
                "SELECT id, id, body, body_html, sealed_with FROM messages \
                 WHERE id > $1 AND sealed_with <> $2 ORDER BY id LIMIT $3"
            }
            Sealed::Versions => {
                "SELECT id, message_id, body, '', sealed_with FROM message_versions \
                 WHERE id > $1 AND sealed_with <> $2 ORDER BY id LIMIT $3"
            }
            Sealed::Events => {
                "SELECT seq, seq, body, '', sealed_with FROM events \
                 WHERE seq > $1 AND sealed_with <> $2 ORDER BY seq LIMIT $3"
            }
        };
        let rows: Vec<(i64, i64, String, String, i64)> =
            sqlx::query_as(sql).bind(after).bind(current.0).bind(limit).fetch_all(&self.pool).await?;
        let Some(last) = rows.last().map(|r| r.0) else { return Ok((None, 0)) };
        let mut tx = self.write_tx().await?;
        let mut done = 0;
        for (id, owner, body, html, with) in rows {
            let with = KeyId(with);
            let changed = match what {
                Sealed::Messages => {
                    let body = keys.open(Purpose::Text, &body_place(owner), with, body)?;
                    let html = keys.open(Purpose::Text, &html_place(owner), with, html)?;
                    let (body, _) = keys.seal(Purpose::Text, &body_place(owner), &body);
                    let (html, _) = keys.seal(Purpose::Text, &html_place(owner), &html);
                    sqlx::query(
                        "UPDATE messages SET body = $1, body_html = $2, sealed_with = $3 \
                         WHERE id = $4 AND sealed_with = $5",
                    )
                    .bind(body)
                    .bind(html)
                    .bind(current.0)
                    .bind(id)
                    .bind(with.0)
                    .execute(&mut *tx)
                    .await?
                }
                Sealed::Versions | Sealed::Events => {
                    let (purpose, place, sql) = match what {
                        Sealed::Versions => (
                            Purpose::Text,
                            body_place(owner),
                            "UPDATE message_versions SET body = $1, sealed_with = $2 \
                             WHERE id = $3 AND sealed_with = $4",
                        ),
                        _ => (
                            Purpose::Events,
                            event_place(owner),
                            "UPDATE events SET body = $1, sealed_with = $2 WHERE seq = $3 AND sealed_with = $4",
                        ),
                    };
                    let body = keys.open(purpose, &place, with, body)?;
                    let (body, _) = keys.seal(purpose, &place, &body);
                    sqlx::query(sql)
                        .bind(body)
                        .bind(current.0)
                        .bind(id)
                        .bind(with.0)
                        .execute(&mut *tx)
                        .await?
                }
            };
            done += changed.rows_affected();
        }
        tx.commit().await?;
        Ok((Some(last), done))
    }

    /// How many rows of each kind are sealed with another key than the
    /// current one, or in the clear (for `parley rotate-key --status`).
    pub async fn unsealed_counts(&self) -> Result<Vec<(Sealed, i64)>> {
        let current = self.keys().current().0;
        let mut out = Vec::new();
        for what in Sealed::ALL {
            let sql = match what {
                Sealed::Messages => "SELECT COUNT(*) FROM messages WHERE sealed_with <> $1",
                Sealed::Versions => "SELECT COUNT(*) FROM message_versions WHERE sealed_with <> $1",
                Sealed::Events => "SELECT COUNT(*) FROM events WHERE sealed_with <> $1",
            };
            out.push((what, sqlx::query_scalar(sql).bind(current).fetch_one(&self.pool).await?));
        }
        Ok(out)
    }
}
