//! Hedging's side of the loop: the partner attempt (made only once the hedge starts)
//! and the race between two attempts, keeping the first to commit and cancelling the
//! other. When to hedge is `resilience::hedge`'s.
//!
//! Must never leave both attempts running: the loser is dropped, which cancels it.

use super::attempt::one;
use super::prepare::prepare;
use super::{Call, Ready, Tried, lease, span_id};
use crate::error::UpstreamError;
use crate::record::AttemptLog;
use crate::resilience::now_ms;
use crate::routing::Plan;
use crate::state::Snapshot;
use tokio::time::Instant;

/// The other attempt of a hedge: cancelled when the winner committed (no error), or
/// failed first.
pub(super) struct Loser {
    /// The plan's index of the loser's target.
    pub(super) target: usize,
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
                span_id: span_id(),
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
    let first_who = Who::of(&first);
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
    let second_who = Who::of(&second);
    tracing::info!(provider = %first_who.provider, hedge = %second_who.provider, "first attempt slow: hedging");
    let b = one(second, call);
    tokio::pin!(b);
    let (winner, loser) = tokio::select! {
        done = &mut a => {
            if done.result.is_ok() {
                return (done, Some((index, second_who.cancelled())));
            }
            let loser = Loser { target: done.target, log: done.log, error: done.result.err() };
            (b.await, loser)
        }
        done = &mut b => {
            if done.result.is_ok() {
                return (done, Some((index, first_who.cancelled())));
            }
            let loser = Loser { target: done.target, log: done.log, error: done.result.err() };
            (a.await, loser)
        }
    };
    (winner, Some((index, loser)))
}

/// What a hedge's loser's record line needs, taken before its attempt starts.
struct Who {
    target: usize,
    provider: String,
    model: String,
    span_id: [u8; 8],
    started: Instant,
}

impl Who {
    fn of(ready: &Ready<'_>) -> Self {
        Self {
            target: ready.index,
            provider: ready.upstream.name.clone(),
            model: ready.target.model.clone(),
            span_id: ready.span_id,
            started: Instant::now(),
        }
    }

    /// The record line of the attempt that lost, dropped (and so cancelled upstream).
    fn cancelled(self) -> Loser {
        Loser {
            target: self.target,
            log: AttemptLog {
                provider: self.provider,
                model: self.model,
                status: 0,
                error: Some("hedge_cancelled"),
                started: self.started.into_std(),
                latency: self.started.elapsed(),
                span_id: self.span_id,
            },
            error: None,
        }
    }
}
