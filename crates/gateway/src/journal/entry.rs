//! One journal entry: the interaction record made durable, in a stable JSON shape that
//! the chain signs and every sink stores. Built from `record::Interaction` by the end
//! stage; never holds an upstream key or address (the record never had them).
//!
//! Must never change the meaning of a field once written: verification recomputes MACs
//! over the stored JSON, so old entries must still parse.

use crate::record::Interaction;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::time::UNIX_EPOCH;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    /// Start of the request, milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub key: Option<String>,
    pub team: Option<String>,
    /// Fixed names (endpoint, outcome, error class) are borrowed when an entry is made
    /// and owned when one is read back.
    pub endpoint: Cow<'static, str>,
    pub model: String,
    pub provider: Option<String>,
    pub upstream_model: Option<String>,
    pub status: u16,
    /// `ok`, `cancelled`, or the error class (`upstream_timeout`, `bad_request`, ...).
    pub outcome: Cow<'static, str>,
    pub stream: bool,
    pub attempts: Vec<Attempt>,
    pub first_byte_us: Option<u64>,
    pub latency_us: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
    pub cost_usd: Option<f64>,
    pub cache_hit: bool,
    /// Translation notes: features a target could not express.
    pub notes: Vec<String>,
    /// With `journal.bodies`: the request as the client sent it (after the input guard,
    /// once it exists), at most `MAX_BODY_BYTES`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    /// With `journal.bodies`: the answer as the client got it (a stream: assembled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    /// What the guard found: direction, category, detector, action and count (never a
    /// value). Absent when it found nothing, so entries from before the guard verify.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guard: Vec<crate::guard::findings::Finding>,
}

/// The most of a body the journal keeps; longer ones are cut at a character boundary.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// A body as journal text: UTF-8 (lossy), cut at `MAX_BODY_BYTES`.
pub fn body_text(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(MAX_BODY_BYTES)];
    String::from_utf8_lossy(cut).into_owned()
}

/// One upstream attempt of an interaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub provider: String,
    pub model: String,
    /// The status the provider answered with; 0 when it never answered.
    pub status: u16,
    /// The error class when the attempt failed (`upstream_connect`, ...).
    pub error: Option<Cow<'static, str>>,
    pub latency_us: u64,
}

impl Entry {
    /// The entry of a finished interaction, taking its texts: the end stage hands the
    /// journal the record last, so nothing is copied (eight allocations per request
    /// were, callgrind).
    pub fn from_record(record: Interaction) -> Self {
        let usage = record.usage.unwrap_or_default();
        let at_ms = record
            .started_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let outcome = Cow::Borrowed(record.outcome().as_str());
        Self {
            id: record.request_id,
            at_ms,
            key: record.key,
            team: record.team,
            endpoint: Cow::Borrowed(record.endpoint),
            model: record.model,
            provider: record.provider,
            upstream_model: record.upstream_model,
            status: record.status,
            outcome,
            stream: record.stream,
            attempts: record
                .attempt_log
                .into_iter()
                .map(|a| Attempt {
                    provider: a.provider,
                    model: a.model,
                    status: a.status,
                    error: a.error.map(Cow::Borrowed),
                    latency_us: micros(a.latency),
                })
                .collect(),
            first_byte_us: record.first_byte.map(micros),
            latency_us: micros(record.latency),
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cached_tokens: usage.cached_input_tokens,
            cost_usd: record.cost_usd,
            cache_hit: false,
            notes: record.notes,
            request_body: record.request_body.as_deref().map(body_text),
            response_body: record.response_body,
            guard: record.guard,
        }
    }
}

impl Entry {
    /// Stands in for an entry whose JSON no longer parses; `verify` reports such rows.
    pub fn unreadable() -> Self {
        Self {
            id: String::new(),
            at_ms: 0,
            key: None,
            team: None,
            endpoint: Cow::Borrowed(""),
            model: String::new(),
            provider: None,
            upstream_model: None,
            status: 0,
            outcome: Cow::Borrowed("unreadable"),
            stream: false,
            attempts: Vec::new(),
            first_byte_us: None,
            latency_us: 0,
            input_tokens: 0,
            output_tokens: 0,
            cached_tokens: 0,
            cost_usd: None,
            cache_hit: false,
            notes: Vec::new(),
            request_body: None,
            response_body: None,
            guard: Vec::new(),
        }
    }
}

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The journal's derived number columns, as the sink writes them and `verify` checks
/// them: the cost in millionths of a US dollar, and the token counts as SQL integers.
pub fn cost_micros(entry: &Entry) -> Option<i64> {
    entry.cost_usd.map(|usd| (usd * 1e6).round() as i64)
}

pub fn tokens_column(tokens: u64) -> i64 {
    i64::try_from(tokens).unwrap_or(i64::MAX)
}
