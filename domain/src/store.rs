//! The only code that runs SQL. One API over SQLite (the embedded default)
//! and PostgreSQL, through sqlx's `Any` driver with SQL both understand
//! (`$1` placeholders, `RETURNING`, `ON CONFLICT`). Each backend has its own
//! migration folder under `migrations/`.
//!
//! Split by table family: [`users`] (accounts and API tokens), [`sessions`],
//! [`workspaces`] (and their members and invites), [`channels`] (and
//! categories), [`messages`], [`roles`] (and overrides, bans, timeouts, the audit log),
//! [`deliveries`] (the durable queue of outgoing emails).

mod analytics;
mod bots;
mod channels;
mod compliance;
mod deliveries;
mod e2ee;
mod events;
mod exports;
mod group_commit;
mod link_previews;
mod meetings;
mod messages;
mod notifications;
mod outgoing_webhooks;
mod preferences;
mod roles;
mod scheduled;
mod sealing;
mod sessions;
mod shared_histories;
mod slash_commands;
mod templates;
mod users;
mod webhooks;
mod workspaces;

pub use analytics::ChannelCount;
pub use channels::ChannelStanding;
pub use compliance::{ChannelRetention, HoldRow, Purged, RetentionCount};
pub use deliveries::Delivery;
pub use e2ee::NewCommit;
pub use events::LOG_PAGE;
pub use exports::{ExportProgress, ExportRow};
pub use link_previews::{PendingPreview, PreviewOutcome, StoredImage};
pub use messages::{Mentioned, NewMessage};
pub use notifications::{Notifying, PlannedDelivery};
pub use outgoing_webhooks::{OutgoingKey, OutgoingRule};
pub use preferences::PushSubscriptionRow;
pub use roles::{AuditFilter, NewAudit, Standing};
pub use scheduled::Scheduled;
pub use sealing::Sealed;
pub use slash_commands::{CommandKey, CommandUse, NewCommandUse};
pub use templates::StoredTemplate;
pub use webhooks::WebhookKey;

use crate::crypto::Keyring;
use crate::error::{Error, Result};
use crate::events::EventBus;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tracing::Instrument;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A write transaction: it reads and writes as its connection (`&mut *tx`),
/// and ends with [`Tx::commit`] or [`Tx::rollback`] (or rolls back when
/// dropped). On SQLite it holds this process's turn to write until then.
struct Tx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    /// Given back once the transaction has ended. End it with a commit or
    /// a rollback: a dropped one's rollback is only queued on its
    /// connection, and the next writer may then wait in SQLite's busy wait
    /// (left so only when a statement failed).
    _turn: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl std::ops::Deref for Tx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

impl Tx {
    async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    async fn rollback(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

/// When the id below PostgreSQL search's newest window was read, and that
/// id (`None`: fewer messages than the window).
type SearchFloor = Option<(std::time::Instant, Option<i64>)>;

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Where this process's subscribers get logged events.
    bus: EventBus,
    /// Whether a task is reading back events the bus waits for.
    filling: Arc<AtomicBool>,
    /// PostgreSQL search: when the id below its newest window was read, and that id.
    search_floor: Arc<std::sync::Mutex<SearchFloor>>,
    /// Posts and announcements waiting to share a commit.
    grouped: Arc<group_commit::Queue>,
    /// SQLite: this process's writers take turns here, one at a time (see
    /// [`Store::write_tx`]).
    writers: Arc<tokio::sync::Semaphore>,
    /// The keys that seal message text and the event log (replaced when
    /// the key is rotated: see [`Store::use_keys`]).
    keys: Arc<std::sync::RwLock<Arc<Keyring>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

/// Logged events each subscriber of the bus may fall behind by.
const BUS_CAPACITY: usize = 4096;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
/// How long a PostgreSQL connection may sit in the pool before it is
/// pinged when taken out (one used more recently was pinged when it came back).
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://...`),
    /// brings the schema up to date, and seals and opens with `keys`.
    pub async fn open(url: &str, keys: Keyring) -> Result<Self> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(Error::invalid("DATABASE_URL", "DATABASE_URL must start with sqlite: or postgres:"));
        };
        let mut options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        if backend == Backend::Sqlite {
            // No ping before each use: a SQLite connection is a thread of
            // this process and cannot hang up, and the ping was a hand-off to
            // that thread and back for every statement (18 of them for a
            // channel page).
            options = options.max_connections(8).test_before_acquire(false).after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        // The busy timeout first, so that the pragmas after it wait
                        // for a lock another connection holds instead of failing.
                        // `synchronous = FULL`: a commit is on disk before it is
                        // acknowledged, so a power cut loses nothing a person was
                        // told was sent (NORMAL would keep the database intact but
                        // could lose the last commits).
                        "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                         PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;",
                    )
                    .await?;
                    Ok(())
                })
            });
        } else {
            // sqlx pings a connection (a round trip) when it goes back to
            // the pool, and by default again when it is taken out: three
            // round trips for every statement. The second ping is only
            // needed for a connection that has sat idle, which the server
            // may have dropped meanwhile.
            options = options.max_connections(16).test_before_acquire(false).before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_BEFORE_PING {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            });
        }
        let pool = options.connect(url).await?;
        let mut store = Store {
            pool,
            backend,
            bus: EventBus::new(BUS_CAPACITY, 0),
            filling: Default::default(),
            search_floor: Default::default(),
            grouped: Default::default(),
            writers: Arc::new(tokio::sync::Semaphore::new(1)),
            keys: Arc::new(std::sync::RwLock::new(Arc::new(keys))),
        };
        store.migrate().await?;
        store.check_keys().await?;
        store.bus = EventBus::new(BUS_CAPACITY, store.event_position().await?);
        store.ensure_builtin_roles().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Begins a transaction that will write. On SQLite it takes the write
    /// lock at once (`BEGIN IMMEDIATE`): a transaction that began by reading
    /// and then wants to write cannot wait for the lock (SQLite answers
    /// "database is locked" at once, whatever the busy timeout), while one
    /// that asks first waits its turn like any other writer.
    ///
    /// This process's writers wait for their turn in a queue of their own
    /// before they take a connection: SQLite's own wait for its lock is a
    /// sleep that grows to 100 ms a try, and each writer waiting so held a
    /// connection that reads then lacked; under load, pages waited on
    /// writers that waited on sleeps, with the processor half idle. The busy
    /// timeout stays for another process's writes.
    async fn write_tx(&self) -> Result<Tx> {
        // Begun in a task of its own (with SQLite's turn) and handed over
        // whole. sqlx begins a transaction in more than one await: a caller
        // cancelled between them (a request whose client hung up, a worker
        // stopping) left it open on a pooled connection with no one to end
        // it. On SQLite it held the write lock, and every other write
        // failed "database is locked"; on PostgreSQL the writes that next
        // took that connection ran inside it and were never committed.
        // Here a cancelled caller only drops the task's result, and the
        // transaction, begun or not, is rolled back.
        let (backend, writers, pool) = (self.backend, self.writers.clone(), self.pool.clone());
        let begun = tokio::spawn(
            async move {
                Ok::<_, Error>(match backend {
                    Backend::Sqlite => {
                        let turn = writers
                            .acquire_owned()
                            .await
                            .map_err(|_| Error::internal("the writers' queue closed"))?;
                        Tx { tx: pool.begin_with("BEGIN IMMEDIATE").await?, _turn: Some(turn) }
                    }
                    Backend::Postgres => Tx { tx: pool.begin().await?, _turn: None },
                })
            }
            // Its statements are logged as the caller's.
            .in_current_span(),
        );
        begun.await.map_err(|e| Error::internal(format!("beginning a write transaction failed: {e}")))?
    }

    /// This process's subscribers' view of the event log.
    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Refreshes the query planner's statistics, as the database does on its
    /// own some time after much has changed (SQLite's `PRAGMA optimize`;
    /// PostgreSQL's autovacuum, which after many inserts also vacuums: marks
    /// pages all-visible and merges the GIN indexes' pending lists): after a
    /// bulk import, so that what follows runs as it would a while later.
    pub async fn refresh_statistics(&self) -> Result<()> {
        let sql = match self.backend {
            Backend::Sqlite => "PRAGMA optimize",
            Backend::Postgres => "VACUUM ANALYZE",
        };
        sqlx::query(sql).execute(&self.pool).await?;
        Ok(())
    }

    /// Whether the database answers a query now.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// `$1, $2, ... $n`, for an `IN (...)` list.
fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `($1, $2, $3), ($4, $5, $6)`: `rows` rows of `columns` placeholders, for
/// a multi-row `VALUES`.
fn value_rows(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            format!(
                "({})",
                (r * columns + 1..=r * columns + columns)
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Maps a unique-constraint violation to a [`Error::Conflict`], anything else
/// to an internal error.
fn conflict_or(e: sqlx::Error, field: &'static str, message: &str) -> Error {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return Error::conflict(field, message);
    }
    e.into()
}
