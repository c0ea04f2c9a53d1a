//! The access line: one structured log line per interaction, written by the end task.
//!
//! The line goes to the lossy non-blocking writer (`telemetry`): when the writer thread
//! is behind, lines are dropped and counted there, and no tokio worker ever waits.
//!
//! Must never log bodies, keys or upstream addresses.

use crate::record::Interaction;
use std::time::Duration;

pub fn write(record: &Interaction) {
    let usage = record.usage.unwrap_or_default();
    tracing::info!(
        target: "sluice::access",
        id = %record.request_id,
        endpoint = record.endpoint,
        model = %record.model,
        provider = record.provider.as_deref().unwrap_or("-"),
        upstream_model = record.upstream_model.as_deref().unwrap_or("-"),
        status = record.status,
        outcome = record.outcome().as_str(),
        stream = record.stream,
        attempts = record.attempts,
        // Integers: formatting floats costs more than the rest of the line.
        latency_us = micros(record.latency),
        first_byte_us = record.first_byte.map_or(0, micros),
        input_tokens = usage.input_tokens,
        output_tokens = usage.output_tokens,
        cached_tokens = usage.cached_input_tokens,
        notes = %record.notes.join("; "),
    );
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
