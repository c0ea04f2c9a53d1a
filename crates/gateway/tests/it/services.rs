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

/// A TCP forwarder in front of a service, which a test can stop (every connection cut,
/// the port refusing) and start again on the same port: a service outage on demand.
pub struct Outage {
    pub addr: std::net::SocketAddr,
    target: std::net::SocketAddr,
    tasks: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Outage {
    pub async fn start(target: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let outage = Self {
            addr: listener.local_addr().expect("addr"),
            target,
            tasks: Default::default(),
        };
        outage.serve(listener);
        outage
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let tasks = std::sync::Arc::clone(&self.tasks);
        let target = self.target;
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().expect("lock").push(conn.abort_handle());
            }
        });
        self.tasks.lock().expect("lock").push(accept.abort_handle());
    }

    /// Cuts every connection and stops listening.
    pub fn down(&self) {
        for task in self.tasks.lock().expect("lock").drain(..) {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn up(&self) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(listener) => return self.serve(listener),
                Err(_) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.addr),
            }
        }
    }
}
