//! The measurement window: `/proc` snapshots at the start and end of the measured part of
//! a run, taken from a plain thread so that the start is on time.
//!
//! It must never run on a tokio worker (it sleeps with the OS timer) nor touch requests.

use crate::procfs::{Snapshot, Watch, Window};
use std::time::Instant;

/// Sleeps with the OS timer (tens of µs of slack, against tokio's 1 ms wheel). Only for
/// the pacer and snapshot threads, which are plain threads and never runtime workers.
#[expect(
    clippy::disallowed_methods,
    reason = "runs on a dedicated std thread, not on a tokio worker"
)]
pub(super) fn sleep_until_on_own_thread(at: Instant) {
    let now = Instant::now();
    if at > now {
        std::thread::sleep(at - now);
    }
}

pub(super) fn snapshot_at(watch: &Watch, at: Instant) -> std::thread::JoinHandle<Option<Snapshot>> {
    let watch = watch.clone();
    std::thread::spawn(move || {
        if watch.is_empty() {
            return None;
        }
        sleep_until_on_own_thread(at);
        Some(watch.snapshot())
    })
}

pub(super) fn finish_window(
    watch: &Watch,
    first: std::thread::JoinHandle<Option<Snapshot>>,
    requests: u64,
) -> Option<Window> {
    let a = first.join().ok().flatten()?;
    let b = watch.snapshot();
    Some(watch.window(&a, &b, requests))
}
