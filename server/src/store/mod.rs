//! Storage: one interface, two real backends. SQLite (a file in the data directory, WAL mode) is
//! the embedded default; PostgreSQL is chosen with a `postgres://` URL. Both run the same
//! migrations and the same SQL through sqlx's `Any` driver, so there is one code path to test.

pub mod accounts;
pub mod admin;
pub mod attempts;
pub mod events;
pub mod leaderboards;
pub mod lobby;
pub mod nodes;
pub mod replays;
pub mod results;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationSource, Migrator};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub use accounts::{Account, NewAccount};
pub use events::EventRow;
pub use leaderboards::{BoardChanges, RecordRow};
pub use lobby::{Alive, MatchRow, NewMatch, SeatOutcome, TicketClaim, TicketSeat};
pub use nodes::{NodeRow, PlaceQuery, Placement};
pub use results::ResultRow;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (e.g. a taken username).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Whether `text` can be a stored key. PostgreSQL refuses text holding NUL with an error where
/// SQLite simply finds nothing, and nothing the server stores holds one (every stored name, id
/// and reason is validated first). So a lookup by client-supplied text with a NUL answers "no
/// such row" without asking, the same on both databases.
pub(crate) fn storable(text: &str) -> bool {
    !text.contains('\0')
}

/// Which database the store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool of connections to the database, with every query the server makes.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// The migrations both backends run as they are.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");
/// Migrations whose SQL must differ between the backends, numbered among the shared ones. Kept
/// for what no one SQL text can say on both: a column of bytes is a BLOB on SQLite, and
/// PostgreSQL has no BLOB; its BYTEA would give the column SQLite's NUMERIC affinity, and no
/// type sqlx's SQLite driver knows.
static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The migrations of `backend`: the shared ones and its own, in version order.
fn migrations(backend: Backend) -> Vec<Migration> {
    let own = match backend {
        Backend::Sqlite => &SQLITE_MIGRATOR,
        Backend::Postgres => &POSTGRES_MIGRATOR,
    };
    let mut all: Vec<Migration> = MIGRATOR.iter().chain(own.iter()).cloned().collect();
    all.sort_by_key(|m| m.version);
    all
}

/// Migrations already in memory, as sqlx's migrator takes them from a source.
#[derive(Debug)]
struct Embedded(Vec<Migration>);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(self) -> BoxFuture<'s, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move { Ok(self.0) })
    }
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

impl Store {
    /// Connects to `url` (`sqlite://...` or `postgres://...`) and runs the migrations.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; busy_timeout makes concurrent
                        // writers wait for the lock instead of failing at once.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Migrator::new(Embedded(migrations(backend)))
            .await?
            .run(&pool)
            .await?;
        Ok(Store { pool, backend })
    }

    /// The SQLite URL for a database file in `data_dir`, created if missing.
    pub fn sqlite_url(data_dir: &Path) -> String {
        format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("tickwire.db").display()
        )
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`], anything else to `Db`.
fn conflict_or_db(err: sqlx::Error, what: &'static str) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Db(err),
    }
}

#[cfg(test)]
mod tests;
