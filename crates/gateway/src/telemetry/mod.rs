//! Logging set-up: human-readable structured lines on stderr, level from `RUST_LOG`
//! (default `info`). The access line per request comes from `finish::access`.
//!
//! Lines are handed to a background writer thread (`tracing-appender`) in lossy mode:
//! when the thread is behind, a line is dropped and counted (`dropped_lines`) instead of
//! blocking the tokio worker that logs it. Measured at one line per request, a direct
//! write cost a syscall per request.
//!
//! - [`metrics`]: the Prometheus registry and `GET /metrics`.
//!
//! Must never log request bodies or credentials.

pub mod metrics;

use std::sync::OnceLock;
use tracing_appender::non_blocking::{ErrorCounter, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Lines the writer thread has dropped since start-up.
static DROPPED: OnceLock<ErrorCounter> = OnceLock::new();

/// Installs the global subscriber; keep the guard alive until exit so buffered lines
/// are flushed.
pub fn init() -> Option<WorkerGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(true)
        .finish(std::io::stderr());
    let _ = DROPPED.set(writer.error_counter());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .compact()
        .try_init()
        .ok()
        .map(|()| guard)
}

/// Log lines dropped because the writer was behind (0 before `init`).
pub fn dropped_lines() -> usize {
    DROPPED.get().map_or(0, ErrorCounter::dropped_lines)
}
