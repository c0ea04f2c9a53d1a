//! What the pass-through relay (Anthropic client, Anthropic provider, bytes forwarded
//! unchanged) learns from one upstream event: usage, the end, in-band errors.
//!
//! Cheap by design: the event name decides, and only events that carry usage (found by
//! a byte search) or have no name are parsed; every other event gets a shape check
//! (`{...}`), not a full parse. Must never fail or allocate per text delta.

use super::response::join_usage;
use super::wire::InUsage;
use crate::canonical::Tap;
use serde::Deserialize;

#[derive(Deserialize)]
struct TapEvent {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<TapMessage>,
    usage: Option<InUsage>,
}

#[derive(Deserialize)]
struct TapMessage {
    usage: Option<InUsage>,
}

/// Reads one event. Usage is what the event itself carries: `message_start` has the
/// input split (and an early output count), `message_delta` the final output count and
/// often no input counts, which then read as 0. A relay that keeps "the last usage"
/// must therefore merge: input counts from the last event that had them.
pub fn tap(event: Option<&str>, data: &[u8]) -> Tap {
    let mut tap = Tap::default();
    let trimmed = data.trim_ascii();
    // An event without data (a keep-alive) has nothing to forward wrongly.
    if trimmed.is_empty() {
        return tap;
    }
    if !(trimmed.starts_with(b"{") && trimmed.ends_with(b"}")) {
        tap.malformed = true;
        return tap;
    }
    let carries_usage = crate::canonical::stream::USAGE_KEY.find(data).is_some();
    let parsed = match event {
        Some("message_start" | "message_delta") if carries_usage => parse(data),
        Some(_) => None,
        None => parse(data),
    };
    let kind = match (event, &parsed) {
        (Some(name), _) => name,
        (None, Some(Ok(e))) => e.kind.as_deref().unwrap_or(""),
        (None, _) => "",
    };
    match kind {
        "message_stop" => tap.end = true,
        "error" => tap.error = true,
        _ => {}
    }
    match parsed {
        Some(Ok(e)) => {
            let usage = e.usage.or(e.message.and_then(|m| m.usage));
            tap.usage = usage.map(join_usage);
        }
        Some(Err(())) => tap.malformed = true,
        None => {}
    }
    tap
}

fn parse(data: &[u8]) -> Option<Result<TapEvent, ()>> {
    Some(serde_json::from_slice(data).map_err(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_usage_end_error_and_malformed() {
        let start = br#"{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":1}}}"#;
        let t = tap(Some("message_start"), start);
        assert_eq!(
            t.usage.map(|u| (u.input_tokens, u.cached_input_tokens)),
            Some((15, 5))
        );
        let t = tap(
            Some("message_delta"),
            br#"{"type":"message_delta","delta":{},"usage":{"output_tokens":7}}"#,
        );
        assert_eq!(t.usage.map(|u| u.output_tokens), Some(7));
        assert!(tap(Some("message_stop"), br#"{"type":"message_stop"}"#).end);
        assert!(tap(None, br#"{"type":"message_stop"}"#).end);
        assert!(tap(Some("error"), br#"{"type":"error","error":{}}"#).error);
        assert!(tap(Some("content_block_delta"), b"not json").malformed);
        assert!(tap(Some("message_delta"), br#"{"usage": oops}"#).malformed);
        assert_eq!(
            tap(
                Some("content_block_delta"),
                br#"{"type":"content_block_delta"}"#
            ),
            Tap::default()
        );
    }
}
