//! Real services for the tests that need them (see DESIGN.md "Real parts"): a private
//! PostgreSQL database per test on the server `SLUICE_TEST_PG_URL` names (default: the
//! local server, trust auth). Under `SLUICE_REQUIRE_SERVICES=1` (CI) a server that
//! cannot be reached fails the test; otherwise the test is skipped with a note.

use sqlx::Connection;

/// A fresh, empty database; its URL.
pub async fn postgres_database() -> Option<String> {
    let server = std::env::var("SLUICE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let required = std::env::var("SLUICE_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
    let mut conn = match sqlx::PgConnection::connect(&server).await {
        Ok(conn) => conn,
        Err(e) if required => panic!("PostgreSQL at {server} is required: {e}"),
        Err(e) => {
            eprintln!("skipped: no PostgreSQL at {server}: {e}");
            return None;
        }
    };
    let name = format!("sluice_test_{:016x}", fastrand::u64(..));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let base = server
        .rsplit_once('/')
        .map_or(server.as_str(), |(base, _)| base);
    Some(format!("{base}/{name}"))
}
