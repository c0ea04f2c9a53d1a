//! The durable store behind the journal, virtual keys and spend: one
//! database, SQLite (embedded, the default) or PostgreSQL (for many replicas), chosen by
//! `[store] url`. Each dialect has its own embedded migrations, run at start-up.
//!
//! - [`keys`]: virtual keys (hashes, never secrets).
//! - [`spend`]: spend, requests and tokens summed from the journal.
//!
//! Must never be awaited on the request path: only background writers, the key ring's
//! refresh, the admin API and the CLI talk to it.

pub mod command;
pub mod keys;
pub mod keyspec;
mod migrations;
pub mod spend;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// A connected, migrated store.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store url `{0}` is neither sqlite:// nor postgres://")]
    Scheme(String),
    #[error("store: {0}")]
    Database(#[from] sqlx::Error),
    #[error("store migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("store: no randomness from the OS: {0}")]
    Random(String),
    #[error("store: a stored value does not parse: {0}")]
    Corrupt(String),
}

impl Store {
    /// Connects to `url` (`sqlite://path`, `postgres://...`) and runs the migrations.
    /// A SQLite file is created if missing and put in WAL mode.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // WAL with NORMAL survives a process crash; only a power loss may lose
                // the last transactions, which the spool does not cover either.
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                // The pool's connections keep SQLite's default cache: they serve the
                // admin API's queries, the key ring and spend. The journal's inserts
                // go through a connection of their own (`journal::sink::sqlite`), with
                // the same temporary-data setting. Temporary data (a statement
                // journal, a sort) stays in memory: on disk it was a file made and
                // deleted per statement (`/var/tmp/etilqs_*`), and in memory it is
                // bounded by one statement's pages.
                .pragma("temp_store", "memory");
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await?;
            Self::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(4)
                // A write that cannot get a connection soon gives up: the journal spools.
                .acquire_timeout(Duration::from_secs(2))
                .connect_with(options)
                .await?;
            Self::Postgres(pool)
        } else {
            return Err(StoreError::Scheme(redact_url(url)));
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The SQLite database's file, for the journal's writer (`journal::sink::sqlite`),
    /// which opens a connection of its own to it; `None` for PostgreSQL.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        match self {
            Self::Sqlite(pool) => Some(pool.connect_options().get_filename().to_path_buf()),
            Self::Postgres(_) => None,
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(pool) => migrations::sqlite().run(pool).await?,
            Self::Postgres(pool) => migrations::postgres().run(pool).await?,
        }
        Ok(())
    }

    /// `sql` written with `?` placeholders, in this store's dialect (`$1, $2, ...` for
    /// PostgreSQL). The text must hold no `?` other than placeholders.
    pub fn sql(&self, sql: &str) -> String {
        match self {
            Self::Sqlite(_) => sql.to_owned(),
            Self::Postgres(_) => Self::postgres_sql(sql),
        }
    }

    /// `sql` with its `?` placeholders numbered as PostgreSQL's `$1, $2, ...`.
    pub fn postgres_sql(sql: &str) -> String {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(c);
            }
        }
        out
    }

    pub fn dialect(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Runs the same code on either pool: `on_pool!(store, pool => expr)`; `expr` is
/// compiled once per dialect.
#[macro_export]
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}

/// `url` without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::Store;

    /// The bundled SQLite is built without its memory count (`.cargo/config.toml` sets
    /// `LIBSQLITE3_FLAGS`): this fails if the file is dropped or libsqlite3-sys stops
    /// reading the variable, which would bring back a global mutex on every allocation.
    #[tokio::test]
    async fn the_bundled_sqlite_keeps_no_memory_count() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let Store::Sqlite(pool) = Store::open(&url).await.expect("store") else {
            panic!("a SQLite store")
        };
        let options: Vec<String> = sqlx::query_scalar("PRAGMA compile_options")
            .fetch_all(&pool)
            .await
            .expect("compile options");
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "compile options: {options:?}"
        );
    }
}
