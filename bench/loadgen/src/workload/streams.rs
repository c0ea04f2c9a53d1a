//! Reading one streaming (SSE) response to its end: time of the first event, events
//! counted, and whether the terminating event arrived.
//!
//! It must never send requests nor apply deadlines; the caller wraps it in its timeout.

use super::request::{ErrKind, Failure, Progress, classify};
use crate::sse::SseReader;
use std::time::Instant;

pub(super) async fn read_stream(
    mut resp: reqwest::Response,
    prog: &mut Progress,
) -> Result<(), Failure> {
    let mut sse = SseReader::new();
    let mut last_event_text = String::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if sse.feed(&chunk) > 0 {
                    if prog.first_event.is_none() {
                        prog.first_event = Some(Instant::now());
                    }
                    prog.events = sse.events;
                }
                if !sse.done {
                    // Remember the tail of the stream for the error message.
                    last_event_text.clear();
                    let tail = &chunk[chunk.len().saturating_sub(160)..];
                    last_event_text.push_str(&String::from_utf8_lossy(tail));
                }
            }
            Ok(None) => break,
            Err(e) => {
                let mut f = classify(&e, true);
                f.message = format!("stream broke after {} events: {}", sse.events, f.message);
                return Err(f);
            }
        }
    }
    sse.finish();
    if prog.first_event.is_none() && sse.events > 0 {
        prog.first_event = Some(Instant::now());
    }
    prog.events = sse.events;
    if sse.done {
        Ok(())
    } else {
        Err(Failure::new(
            ErrKind::Incomplete,
            format!(
                "stream ended after {} events without [DONE]; tail: {:?}",
                sse.events,
                last_event_text.trim()
            ),
        ))
    }
}
