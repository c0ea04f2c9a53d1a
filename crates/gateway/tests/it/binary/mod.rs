//! The real `sluice` binary, one file per subject: `check` and `healthcheck`, its
//! lifecycle (demo mode, SIGTERM, drain, one worker thread), what it logs and
//! journals, and config reloads. Here: starting it and reading what it prints.

mod check;
mod journal;
mod lifecycle;
mod reload;
mod tail;

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_sluice");

fn config_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write config");
    file
}

/// A running `sluice serve` and the address it listens on.
pub struct Served {
    pub child: Child,
    pub base: String,
    /// The working directory the process runs in (demo mode journals there).
    pub dir: tempfile::TempDir,
    /// Every stderr line after the listening line, as the process wrote it.
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// The start-up line.
    listening: String,
}

async fn serve(args: &[&str]) -> Served {
    serve_with_env(args, &[]).await
}

/// `serve` with extra environment variables for the child only.
pub async fn serve_with_env(args: &[&str], env: &[(&str, &str)]) -> Served {
    sluice::install_tls_provider();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir.path())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn sluice");
    let stderr = child.stderr.take().expect("stderr piped");
    let mut lines = BufReader::new(stderr).lines();
    let (addr, listening) = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(line)) = lines.next_line().await {
            // The text form says `addr=IP:PORT`, the JSON form `"addr":"IP:PORT"`.
            if let Some(rest) = line.split("addr=").nth(1) {
                let addr = rest.split_whitespace().next().map(str::to_owned);
                return addr.map(|a| (a, line));
            }
            if let Some(rest) = line.split("\"addr\":\"").nth(1) {
                let addr = rest.split('"').next().map(str::to_owned);
                return addr.map(|a| (a, line));
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("sluice printed its address");
    // Keep draining stderr so the child never blocks on a full pipe.
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&log);
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            sink.lock().expect("log lock").push(line);
        }
    });
    Served {
        child,
        base: format!("http://{addr}"),
        dir,
        log,
        listening,
    }
}

fn sigterm(child: &Child) {
    let pid = child.id().expect("child running");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    assert!(status.is_ok_and(|s| s.success()));
}

impl Served {
    /// Waits (at most 5 s) for an access line containing every one of `parts`.
    async fn access_line(&self, parts: &[&str]) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let found = self
                .log
                .lock()
                .expect("log lock")
                .iter()
                .find(|l| l.contains("sluice::access") && parts.iter().all(|p| l.contains(p)))
                .cloned();
            if let Some(line) = found {
                return line;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no access line with {parts:?}: {:?}",
                self.log.lock().expect("log lock")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Stops the demo-mode gateway with SIGTERM (it must exit 0) and reads back its journal,
/// whose chain must verify.
async fn stop_and_read_the_demo_journal(
    served: &mut Served,
) -> Vec<sluice::journal::verify::Stored> {
    sigterm(&served.child);
    let status = tokio::time::timeout(Duration::from_secs(10), served.child.wait())
        .await
        .expect("exits")
        .expect("status");
    assert!(status.success());
    let url = format!("sqlite://{}", served.dir.path().join("sluice.db").display());
    let store = sluice::store::Store::open(&url)
        .await
        .expect("journal opens");
    let rows = sluice::journal::verify::read_store(&store)
        .await
        .expect("rows");
    let report =
        sluice::journal::verify::check(&rows, &sluice::journal::chain::key_bytes(None), &[], &[]);
    assert_eq!(report.first_bad, None, "{report:?}");
    assert_eq!(report.entries, rows.len() as u64);
    rows
}
