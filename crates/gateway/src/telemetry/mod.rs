//! Logging set-up: human-readable structured lines on stderr, level from `RUST_LOG`
//! (default `info`). The access line per request comes from `finish::access`.
//!
//! Lines are gathered and written by a background thread ([`lines`]), lossy: when too
//! much waits, a line is dropped and counted (`dropped_lines`) instead of blocking the
//! tokio worker that logs it. Measured at one line per request, a direct write cost a
//! syscall per request, and a hand-off per line a thread wake per request.
//!
//! - [`metrics`]: the Prometheus registry and `GET /metrics`.
//! - [`traces`]: spans per request and attempt, exported as OTLP/HTTP JSON.
//!
//! Must never log request bodies or credentials.

pub mod lines;
pub mod metrics;
pub mod traces;

use lines::{Guard, Lines};
use std::sync::OnceLock;
use tracing_subscriber::EnvFilter;

/// Where `finish::access` writes its lines, formatted by hand: the same lossy writer.
static ACCESS: OnceLock<AccessOut> = OnceLock::new();

/// The log writer as the access line uses it.
pub struct AccessOut {
    writer: Lines,
    /// `SLUICE_LOG_FORMAT=json`: the line is one JSON object.
    pub json: bool,
}

impl AccessOut {
    /// Hands one whole line to the writer thread (dropped and counted when it is behind).
    pub fn write(&self, line: &[u8]) {
        self.writer.push(line);
    }
}

/// The access line's writer, once `init` installed one.
pub fn access() -> Option<&'static AccessOut> {
    ACCESS.get()
}

/// Installs the global subscriber; keep the guard alive until exit so buffered lines
/// are flushed. `SLUICE_LOG_FORMAT=json` writes one JSON object per line instead (it is
/// read from the environment because logging starts before the config is loaded).
pub fn init() -> Option<Guard> {
    let json = std::env::var("SLUICE_LOG_FORMAT").is_ok_and(|f| f == "json");
    match Lines::start(std::io::stderr()) {
        Ok((writer, guard)) => {
            let _ = ACCESS.set(AccessOut {
                writer: writer.clone(),
                json,
            });
            install(writer, json).then_some(guard)
        }
        Err(e) => {
            // Without the thread, lines are written by the caller: slower, never lost.
            eprintln!("sluice: no log writer thread ({e}); logging directly to stderr");
            install(std::io::stderr, json);
            None
        }
    }
}

fn install<W>(writer: W, json: bool) -> bool
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false);
    let installed = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.compact().try_init()
    };
    installed.is_ok()
}

/// Log lines dropped because the writer was behind (0 before `init`).
pub fn dropped_lines() -> usize {
    ACCESS.get().map_or(0, |out| out.writer.dropped())
}
