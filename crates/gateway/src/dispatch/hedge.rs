//! Hedging's side of the loop: the partner attempt (made only once the hedge starts)
//! and the race between two attempts, keeping the first to commit and cancelling the
//! other. When to hedge is `resilience::hedge`'s.
//!
//! Must never leave both attempts running: the loser is dropped, which cancels it.

use super::attempt::one;
use super::prepare::prepare;
use super::{Call, Ready, Tried, lease};
use crate::error::UpstreamError;
use crate::record::AttemptLog;
use crate::resilience::now_ms;
use crate::routing::Plan;
use crate::state::Snapshot;
use tokio::time::Instant;

/// The other attempt of a hedge: cancelled when the winner committed (no error), or
/// failed first.
pub(super) struct Loser {
    pub(super) log: AttemptLog,
    pub(super) error: Option<UpstreamError>,
}

/// The attempt a hedge races against the first: the next unused own target that is
/// available now, prepared and admitted.
pub(super) fn partner<'s>(
    snapshot: &'s Snapshot,
    plan: &'s Plan<'_>,
    from: usize,
    used: &[bool],
    call: &Call<'_>,
) -> Option<Ready<'s>> {
    let now = now_ms();
    plan.targets
        .iter()
        .enumerate()
        .skip(from + 1)
        .filter(|(j, t)| !used[*j] && !t.fallback)
        .find_map(|(index, target)| {
            let upstream = snapshot.upstreams.get(target.provider)?;
            if upstream.is_busy() || upstream.is_down() || target.health.quota.is_exhausted(now) {
                return None;
            }
            let prepared = prepare(upstream, target, call).ok()?;
            let pass = target.health.breaker.admit(&snapshot.breaker, now)?;
            Some(Ready {
                index,
                upstream,
                target,
                prepared,
                lease: lease(snapshot, upstream, target, pass)?,
            })
        })
}

/// Runs the first attempt; if it has not committed after `wait`, starts the second
/// (made only then, so a hedge that is not needed holds no place at its target) and
/// keeps whichever commits first, dropping (so cancelling) the other. Returns the
/// winner (or the last to fail) and, when a second was started, its plan index and
/// the other attempt.
pub(super) async fn race<'s>(
    first: Ready<'s>,
    second: impl FnOnce() -> Option<Ready<'s>>,
    wait: std::time::Duration,
    call: &Call<'_>,
) -> (Tried, Option<(usize, Loser)>) {
    let (first_name, first_model) = (first.upstream.name.clone(), first.target.model.clone());
    let a = one(first, call);
    tokio::pin!(a);
    tokio::select! {
        done = &mut a => return (done, None),
        () = tokio::time::sleep(wait) => {}
    }
    let Some(second) = second() else {
        return (a.await, None);
    };
    let index = second.index;
    let (second_name, second_model) = (second.upstream.name.clone(), second.target.model.clone());
    tracing::info!(provider = %first_name, hedge = %second_name, "first attempt slow: hedging");
    let hedge_started = Instant::now();
    let b = one(second, call);
    tokio::pin!(b);
    let (winner, loser) = tokio::select! {
        done = &mut a => {
            if done.result.is_ok() {
                return (done, Some((index, cancelled(second_name, second_model, hedge_started))));
            }
            let loser = Loser { log: done.log, error: done.result.err() };
            (b.await, loser)
        }
        done = &mut b => {
            if done.result.is_ok() {
                return (done, Some((index, cancelled(first_name, first_model, hedge_started))));
            }
            let loser = Loser { log: done.log, error: done.result.err() };
            (a.await, loser)
        }
    };
    (winner, Some((index, loser)))
}

/// The record line of a hedge's losing attempt, dropped (and so cancelled upstream).
fn cancelled(provider: String, model: String, started: Instant) -> Loser {
    Loser {
        log: AttemptLog {
            provider,
            model,
            status: 0,
            error: Some("hedge_cancelled"),
            started: started.into_std(),
            latency: started.elapsed(),
            span_id: [0; 8],
        },
        error: None,
    }
}
