//! The limits' end stage: what the interaction really cost, from the provider's usage
//! at the committed target's price, written into the record (the journal and spend read
//! it there), and the reservation turned into that.
//!
//! Must never charge a request that reached no provider or that every provider refused
//! with an error status, and never give back a reservation whose usage is unknown (a
//! stream cut before its usage): that is counted as spent in full, so a budget can only
//! be over-counted, never overspent.

use super::counters::Settle;
use super::pricing;
use super::{Limiter, Reservation};
use crate::record::{Dispatch, Interaction};
use std::sync::Arc;

/// Whether every attempt is known to have produced nothing a provider bills: it was
/// never sent (connect failed) or the provider refused it with an error status. A
/// provider outage would otherwise charge each failed request its whole reservation
/// (its prompt and `max_tokens` at the dearest target's price) and empty a budget
/// that `/admin/spend` shows untouched. A timeout, a cut stream or a cancelled hedge
/// may have been billed and still counts in full.
/// Dispatch that returned with no attempt at all (every target skipped: breakers
/// open, providers busy or down) sent nothing either. Dispatch cut off mid-way (the
/// client left, the guard's hook refused alongside) may have sent an attempt the log
/// does not hold yet, and counts in full.
fn answered_nothing(record: &Interaction) -> bool {
    match record.dispatch {
        Dispatch::NotStarted => true,
        Dispatch::Running => false,
        Dispatch::Returned => record
            .attempt_log
            .iter()
            .all(|a| matches!(a.error, Some("upstream_connect" | "upstream_status"))),
    }
}

/// Sets `record.cost_usd` and settles its reservation, if any.
pub fn settle(limiter: &Arc<Limiter>, record: &mut Interaction) {
    let actual = record.usage.map(|u| {
        let cost = record.price.map(|p| {
            pricing::cost_micros(
                &p,
                u.input_tokens,
                u.cached_input_tokens.min(u.input_tokens),
                u.output_tokens,
            )
        });
        (u.input_tokens.saturating_add(u.output_tokens), cost)
    });
    if let Some((_, Some(micros))) = actual {
        record.cost_usd = Some(micros as f64 / 1e6);
    }
    let Some(reservation) = record.reservation.take() else {
        return;
    };
    let Reservation {
        placed,
        lease,
        tokens,
        token_buckets,
        slots,
        budgets,
    } = *reservation;
    let (used_tokens, spent) = match actual {
        Some((used, cost)) => (used, cost),
        None if answered_nothing(record) => (0, Some(0)),
        // Unknown usage: the reservation stands as spent.
        None => (tokens, None),
    };
    let delta =
        i64::try_from(used_tokens).unwrap_or(i64::MAX) - i64::try_from(tokens).unwrap_or(i64::MAX);
    let mut adjustments = Vec::with_capacity(token_buckets.len() + slots.len() + budgets.len());
    for (key, capacity) in token_buckets {
        adjustments.push(Settle::Rate {
            key,
            capacity,
            delta,
        });
    }
    for key in slots {
        adjustments.push(Settle::Release { key });
    }
    for (key, reserved, expires_ms) in budgets {
        adjustments.push(Settle::Budget {
            key,
            reserved_micros: reserved,
            spent_micros: spent.unwrap_or(reserved),
            expires_ms,
        });
    }
    limiter.settle(placed, lease, adjustments);
}
