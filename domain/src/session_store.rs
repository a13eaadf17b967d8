//! tower-sessions' [`SessionStore`] kept in the database, so sessions survive
//! a restart and are shared by every server process.

use crate::store::Store;
use async_trait::async_trait;
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    store: Store,
}

impl DbSessionStore {
    pub fn new(store: Store) -> Self {
        DbSessionStore { store }
    }

    /// Deletes expired sessions; returns how many.
    pub async fn delete_expired(&self) -> crate::Result<u64> {
        self.store.delete_expired_sessions(crate::now_ms()).await
    }
}

fn backend(e: crate::Error) -> Error {
    Error::Backend(format!("{e:?}"))
}

/// The session key that holds the signed-in person's id.
pub const USER_KEY: &str = "user_id";

/// Whose a session is, once someone signed in on it.
fn owner(record: &Record) -> Option<crate::Id> {
    record.data.get(USER_KEY).and_then(serde_json::Value::as_i64).map(crate::Id)
}

fn expiry_ms(record: &Record) -> i64 {
    (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        // Retry on the (astronomically unlikely) id collision.
        while !self
            .store
            .create_session(&record.id.to_string(), &data, expiry_ms(record), owner(record))
            .await
            .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        let id = record.id.to_string();
        self.store.save_session(&id, &data, expiry_ms(record), owner(record)).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let Some((data, expires_at)) =
            self.store.load_session(&id.to_string(), crate::now_ms()).await.map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp_nanos(expires_at as i128 * 1_000_000)
            .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.store.delete_session(&id.to_string()).await.map_err(backend)
    }
}
