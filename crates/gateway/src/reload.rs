//! Reload on SIGHUP or when the config file changes (watched unless `--no-watch`): the
//! config file is read and validated whole, built into a new
//! `Snapshot` against the same `Shared` state, and swapped in atomically. Requests and
//! streams already running finish on the snapshot they started with; limiter counters,
//! provider health, the journal and metrics live in `Shared` and carry on. A config
//! with any problem is refused, every problem logged, and the last good one keeps
//! serving.
//!
//! Must never swap in a config that did not validate, and never touch what only a
//! restart can change: the listen address (bound once) is kept; a changed `[store]`,
//! journal sinks, limits backend or `max_in_flight` is reported and left as it is (the
//! limits themselves, keys and prices reload).

use crate::config::{self, Config};
use crate::state::{Gateway, Snapshot};
use notify::event::ModifyKind;
use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Debounce window of the file watcher: editors write a file in several steps.
const SETTLE: Duration = Duration::from_millis(300);

/// Reloads on SIGHUP and, with `watch`, when the config file changes; runs until the
/// task is aborted.
pub async fn run(gw: Arc<Gateway>, path: Option<PathBuf>, mut current: Config, watch: bool) {
    let (tx, mut changed) = mpsc::unbounded_channel::<()>();
    // Kept alive for the life of this task; dropping it stops watching.
    let _watcher = match (&path, watch) {
        (Some(path), true) => watch_file(path, tx),
        _ => None,
    };
    let mut hup = sighup();
    loop {
        tokio::select! {
            Some(()) = changed.recv() => {}
            () = next_hup(&mut hup) => {}
        }
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

/// What Kubernetes renames over when it updates a mounted ConfigMap or Secret: the
/// config file is a symlink through it (`sluice.toml -> ..data/sluice.toml`), so the
/// update raises no event under the file's own name.
const KUBERNETES_DATA: &str = "..data";

/// Watches the file's directory (editors replace a file by renaming a new one over it,
/// which a watch on the file itself would lose) and signals changes to that file.
fn watch_file(path: &Path, tx: mpsc::UnboundedSender<()>) -> Option<impl Sized> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name()?.to_owned();
    let handler = move |result: DebounceEventResult| {
        let touched = result.is_ok_and(|events| {
            events
                .iter()
                .filter(|e| may_change(&e.kind))
                .flat_map(|e| e.paths.iter())
                .filter_map(|p| p.file_name())
                .any(|n| n == name.as_os_str() || n == KUBERNETES_DATA)
        });
        if touched {
            let _ = tx.send(());
        }
    };
    let mut debouncer = match new_debouncer(SETTLE, None, handler) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the config file; reload on SIGHUP only");
            return None;
        }
    };
    if let Err(e) = debouncer.watch(dir, RecursiveMode::NonRecursive) {
        tracing::warn!(error = %e, dir = %dir.display(), "cannot watch the config directory; reload on SIGHUP only");
        return None;
    }
    Some(debouncer)
}

/// Whether an event can mean new content. Reading the file, as every reload does,
/// raises access events (and may touch its access time): counted as changes, each
/// reload set off the next, 13 times a second for as long as the gateway ran, and
/// every one rebuilt the providers' clients, emptying their connection pools.
fn may_change(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))
    )
}

#[cfg(unix)]
type Hup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hup = ();

#[cfg(unix)]
fn sighup() -> Hup {
    let hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    if hup.is_none() {
        tracing::warn!("cannot listen for SIGHUP");
    }
    hup
}

#[cfg(not(unix))]
fn sighup() -> Hup {}

#[cfg(unix)]
async fn next_hup(hup: &mut Hup) {
    let received = match hup {
        Some(signal) => signal.recv().await.is_some(),
        None => false,
    };
    if !received {
        // No signal stream (or it ended): only the watcher can trigger a reload.
        *hup = None;
        std::future::pending::<()>().await;
    }
}

#[cfg(not(unix))]
async fn next_hup(_: &mut Hup) {
    std::future::pending().await
}

/// One reload; the new config when it was swapped in.
pub fn reload(gw: &Gateway, path: &Path, current: &Config) -> Option<Config> {
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
    let snapshot = match Snapshot::build(&next, &gw.shared, Some(&gw.snapshot())) {
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
            "server.header_timeout, max_header_bytes (the HTTP server's)",
            next.server.header_timeout != current.server.header_timeout
                || next.server.max_header_bytes != current.server.max_header_bytes,
        ),
        (
            "[store]",
            next.store.as_ref().map(|s| s.url.expose().to_owned())
                != current.store.as_ref().map(|s| s.url.expose().to_owned()),
        ),
        (
            "limits.backend, redis_url, on_backend_error, redis_timeout, keys_refresh",
            !same_limiter(&next, current),
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

/// Whether the long-lived limiter and key ring would be built the same from both.
fn same_limiter(a: &Config, b: &Config) -> bool {
    let url = |c: &Config| match &c.limits.backend {
        config::Backend::Memory => None,
        config::Backend::Redis { url } => Some(url.expose().to_owned()),
    };
    let (la, lb) = (&a.limits, &b.limits);
    url(a) == url(b)
        && la.on_backend_error == lb.on_backend_error
        && la.redis_timeout == lb.redis_timeout
        && la.keys_refresh == lb.keys_refresh
}
