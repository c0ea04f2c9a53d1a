//! The embedded migrations of each dialect: SQL files under `migrations/<dialect>/`,
//! compiled into the binary so a fresh machine needs nothing but the database.
//!
//! Must never change a released migration: add a new numbered file instead (sqlx checks
//! each applied migration's checksum).

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

pub fn sqlite() -> Migrator {
    Migrator::with_migrations(vec![
        migration(
            1,
            "journal",
            include_str!("../../migrations/sqlite/0001_journal.sql"),
        ),
        migration(
            2,
            "journal pruned",
            include_str!("../../migrations/sqlite/0002_pruned.sql"),
        ),
        migration(
            3,
            "keys and spend",
            include_str!("../../migrations/sqlite/0003_keys.sql"),
        ),
        migration(
            4,
            "journal writers",
            include_str!("../../migrations/sqlite/0004_writers.sql"),
        ),
    ])
}

pub fn postgres() -> Migrator {
    Migrator::with_migrations(vec![
        migration(
            1,
            "journal",
            include_str!("../../migrations/postgres/0001_journal.sql"),
        ),
        migration(
            2,
            "journal pruned",
            include_str!("../../migrations/postgres/0002_pruned.sql"),
        ),
        migration(
            3,
            "keys and spend",
            include_str!("../../migrations/postgres/0003_keys.sql"),
        ),
        migration(
            4,
            "journal writers",
            include_str!("../../migrations/postgres/0004_writers.sql"),
        ),
    ])
}

fn migration(version: i64, description: &'static str, sql: &'static str) -> Migration {
    Migration::new(
        version,
        description.into(),
        MigrationType::Simple,
        sql.into_sql_str(),
        false,
    )
}
