//! Logging set-up: human-readable structured lines on stderr, level from `RUST_LOG`
//! (default `info`). The access line per request comes from `finish::access`.
//!
//! Lines are handed to a background writer thread (`tracing-appender`) in lossy mode:
//! when the thread is behind, a line is dropped and counted (`dropped_lines`) instead of
//! blocking the tokio worker that logs it. Measured at one line per request, a direct
//! write cost a syscall per request.
//!
//! - [`metrics`]: the Prometheus registry and `GET /metrics`.
//! - [`traces`]: spans per request and attempt, exported as OTLP/HTTP JSON.
//!
//! Must never log request bodies or credentials.

pub mod metrics;
pub mod traces;

use std::io::Write as _;
use std::sync::OnceLock;
use tracing_appender::non_blocking::{ErrorCounter, NonBlocking, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Lines the writer thread has dropped since start-up.
static DROPPED: OnceLock<ErrorCounter> = OnceLock::new();

/// Where `finish::access` writes its lines, formatted by hand: the same lossy writer.
static ACCESS: OnceLock<AccessOut> = OnceLock::new();

/// The log writer as the access line uses it.
pub struct AccessOut {
    writer: NonBlocking,
    /// `SLUICE_LOG_FORMAT=json`: the line is one JSON object.
    pub json: bool,
}

impl AccessOut {
    /// Hands one whole line to the writer thread (dropped and counted when it is behind).
    pub fn write(&self, line: &[u8]) {
        let mut writer = self.writer.clone();
        let _ = writer.write_all(line);
    }
}

/// The access line's writer, once `init` installed one.
pub fn access() -> Option<&'static AccessOut> {
    ACCESS.get()
}

/// Installs the global subscriber; keep the guard alive until exit so buffered lines
/// are flushed. `SLUICE_LOG_FORMAT=json` writes one JSON object per line instead (it is
/// read from the environment because logging starts before the config is loaded).
pub fn init() -> Option<WorkerGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
        .finish(std::io::stderr());
    let _ = DROPPED.set(writer.error_counter());
    let json = std::env::var("SLUICE_LOG_FORMAT").is_ok_and(|f| f == "json");
    let _ = ACCESS.set(AccessOut {
        writer: writer.clone(),
        json,
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false);
    let installed = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.compact().try_init()
    };
    installed.ok().map(|()| guard)
}

/// Log lines dropped because the writer was behind (0 before `init`).
pub fn dropped_lines() -> usize {
    DROPPED.get().map_or(0, ErrorCounter::dropped_lines)
}
