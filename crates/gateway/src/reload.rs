//! Reload on SIGHUP: the config file is read and validated whole, built into a new
//! `Snapshot` against the same `Shared` state, and swapped in atomically. Requests and
//! streams already running finish on the snapshot they started with; limiter counters,
//! provider health, the journal and metrics live in `Shared` and carry on. A config
//! with any problem is refused, every problem logged, and the last good one keeps
//! serving.
//!
//! Must never swap in a config that did not validate, and never touch what only a
//! restart can change: the listen address (bound once) is kept; a changed `[store]`,
//! journal sinks or `max_in_flight` is reported and left as it is.

use crate::config::{self, Config};
use crate::state::{Gateway, Snapshot};
use std::path::PathBuf;
use std::sync::Arc;

/// Waits for SIGHUP and reloads, until the task is aborted.
pub async fn on_sighup(gw: Arc<Gateway>, path: Option<PathBuf>, mut current: Config) {
    #[cfg(unix)]
    {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP; config reload is off");
            return;
        };
        while hup.recv().await.is_some() {
            match &path {
                None => tracing::warn!("SIGHUP: demo mode has no config file to reload"),
                Some(path) => {
                    if let Some(next) = reload(&gw, path, &current) {
                        current = next;
                    }
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (gw, path, &mut current);
    }
}

/// One reload; the new config when it was swapped in.
pub fn reload(gw: &Gateway, path: &std::path::Path, current: &Config) -> Option<Config> {
    let mut next = match config::load_file(path) {
        Ok(next) => next,
        Err(problems) => {
            for problem in &problems.list {
                tracing::error!(file = %problems.file, %problem, "config reload refused");
            }
            return None;
        }
    };
    // The socket is bound once (and `--listen` may have overridden the file).
    next.server.listen = current.server.listen;
    let snapshot = match Snapshot::build(&next, &gw.shared) {
        Ok(snapshot) => snapshot,
        Err(e) => {
            tracing::error!(error = %e, "config reload refused");
            return None;
        }
    };
    for (what, changed) in [
        (
            "server.max_in_flight",
            next.server.max_in_flight != current.server.max_in_flight,
        ),
        (
            "[store]",
            next.store.as_ref().map(|s| s.url.expose().to_owned())
                != current.store.as_ref().map(|s| s.url.expose().to_owned()),
        ),
        (
            "journal sinks",
            next.journal.to_store != current.journal.to_store
                || next.journal.jsonl != current.journal.jsonl,
        ),
    ] {
        if changed {
            tracing::warn!(
                setting = what,
                "changed in the file; takes effect at the next restart"
            );
        }
    }
    gw.swap(snapshot);
    tracing::info!(
        providers = next.providers.len(),
        models = next.models.len(),
        "config reloaded"
    );
    Some(next)
}
