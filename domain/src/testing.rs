//! Fresh databases for tests, on either backend.
//!
//! PostgreSQL is reached at `PARLEY_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test gets a new
//! database there and drops it when done. A PostgreSQL that cannot be reached
//! fails the test: it is never skipped.

use crate::store::{Backend, Store};
use sqlx::{Connection, Executor, PgConnection};

pub fn postgres_admin_url() -> String {
    std::env::var("PARLEY_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<TempDir>,
    files: TempDir,
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{}", std::process::id(), crate::Id::new()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = TempDir::new("parley-test");
                let url = format!("sqlite://{}?mode=rwc", dir.0.join("parley.db").display());
                TestDb { url, pg_name: None, _dir: Some(dir), files: TempDir::new("parley-files") }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is required for these tests and is not reachable at {admin}: {e}")
                });
                let name = format!("parley_test_{}", crate::Id::new());
                conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create test database");
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                TestDb {
                    url: format!("{base}/{name}"),
                    pg_name: Some(name),
                    _dir: None,
                    files: TempDir::new("parley-files"),
                }
            }
        }
    }

    pub async fn store(&self) -> Store {
        Store::open(&self.url).await.expect("open store")
    }

    /// Attachment storage for this test, with the default policy.
    pub fn files(&self) -> crate::files::Files {
        crate::files::Files::new(&self.files.0, crate::files::FilePolicy::default())
    }

    /// A hub over this database.
    pub async fn hub(&self) -> crate::Hub {
        crate::Hub::new(self.store().await, Default::default(), self.files())
    }

    /// Drops the PostgreSQL database (call after closing every pool on it).
    pub async fn drop_database(self) {
        if let Some(name) = &self.pg_name {
            let mut conn = PgConnection::connect(&postgres_admin_url()).await.expect("reach PostgreSQL");
            let _ = conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await;
        }
    }
}

/// Runs a test body once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident => $body:ident;)*) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() {
                let db = $crate::testing::TestDb::new($crate::store::Backend::Sqlite).await;
                super::$body(&db).await;
                db.drop_database().await;
            })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() {
                let db = $crate::testing::TestDb::new($crate::store::Backend::Postgres).await;
                super::$body(&db).await;
                db.drop_database().await;
            })*
        }
    };
}
