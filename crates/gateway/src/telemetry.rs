//! Logging set-up: human-readable structured lines on stderr, level from `RUST_LOG`
//! (default `info`). The access line per request comes from `record`.
//!
//! Lines are handed to a background writer thread (`tracing-appender`), so the request
//! path formats a line but never blocks on a `write` to stderr; measured at one line per
//! request, a direct write cost a syscall per request.
//!
//! Must never log request bodies or credentials.

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; keep the guard alive until exit so buffered lines
/// are flushed.
pub fn init() -> Option<WorkerGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        // Never drop a line: under overload the request path waits instead.
        .lossy(false)
        .finish(std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .compact()
        .try_init()
        .ok()
        .map(|()| guard)
}
