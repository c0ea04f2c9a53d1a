//! W3C trace context: the `traceparent` a client sent (continued) or a new trace, and
//! the `traceparent` each upstream attempt sends. Read once when a request arrives.
//!
//! Must never accept a malformed header: anything but version 00 with non-zero ids
//! starts a new trace instead.

use axum::http::HeaderMap;

/// The W3C trace context of a request: the client's, or a new trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: [u8; 16],
    /// The client's span (`traceparent`'s parent id), when it sent one.
    pub parent: Option<[u8; 8]>,
}

impl TraceContext {
    /// The `traceparent` that names `span` (an attempt) as the parent of what follows.
    pub fn traceparent(&self, span: [u8; 8]) -> Option<axum::http::HeaderValue> {
        let value = format!("00-{}-{}-01", hex::encode(self.trace_id), hex::encode(span));
        axum::http::HeaderValue::from_str(&value).ok()
    }

    /// From a valid `traceparent` header (version 00), else a fresh trace.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_traceparent)
            .unwrap_or_else(|| Self {
                trace_id: fastrand::u128(1..).to_be_bytes(),
                parent: None,
            })
    }
}

fn parse_traceparent(value: &str) -> Option<TraceContext> {
    let mut parts = value.trim().split('-');
    let (version, trace, parent, _flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version != "00" || trace.len() != 32 || parent.len() != 16 || parts.next().is_some() {
        return None;
    }
    let mut trace_id = [0u8; 16];
    let mut span_id = [0u8; 8];
    hex::decode_to_slice(trace, &mut trace_id).ok()?;
    hex::decode_to_slice(parent, &mut span_id).ok()?;
    if trace_id == [0; 16] || span_id == [0; 8] {
        return None;
    }
    Some(TraceContext {
        trace_id,
        parent: Some(span_id),
    })
}

#[cfg(test)]
mod tests {
    use super::parse_traceparent;

    #[test]
    fn traceparent_is_parsed_strictly() {
        let ok = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assert!(ok.is_some_and(|t| t.parent.is_some()));
        for bad in [
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(parse_traceparent(bad).is_none(), "{bad}");
        }
    }
}
