//! Resilience against mock providers with injected faults: same-target retries with
//! backoff and Retry-After, the retry budget, failover on every fault class, fallback
//! models by error class, breakers that open, stop traffic, probe and close, deadlines,
//! strategies, hedging, quota-aware routing, provider caps, and what a client sees when
//! everything fails. Each provider is its own mock, so its request count proves where
//! traffic went.
//!
//! One file per subject; the fleet of mocks is `crate::fleet`.

mod breakers;
mod chaos;
mod retries;
mod routing;

use crate::fleet::{Fleet, NO_BREAKER, chat, complete, header, providers, stream};
use crate::support::read_sse;
use serde_json::{Value, json};
use sluice_mock::MockHandle;
use std::sync::Arc;
use std::time::Duration;
