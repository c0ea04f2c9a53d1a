//! Logging set-up: human-readable structured lines on stderr, level from `RUST_LOG`
//! (default `info`). The access line per request comes from `record`.
//!
//! Must never log request bodies or credentials.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .compact()
        .try_init();
}
