//! Property: the SSE decoder yields the same events, byte for byte, however the input
//! stream is split into chunks.

use proptest::prelude::*;
use sluice_protocol::sse::SseDecoder;

fn event_strategy() -> impl Strategy<Value = String> {
    let term = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
    let line = prop_oneof![
        "[a-z{}\":, ]{0,20}".prop_map(|s| format!("data: {s}")),
        "[a-z_]{1,12}".prop_map(|s| format!("event: {s}")),
        "[a-z ]{0,10}".prop_map(|s| format!(": {s}")),
        "[0-9]{1,4}".prop_map(|s| format!("id:{s}")),
    ];
    (proptest::collection::vec((line, term.clone()), 1..5), term).prop_map(|(lines, end)| {
        let mut out = String::new();
        for (l, t) in lines {
            out.push_str(&l);
            out.push_str(t);
        }
        // The blank line closing the event. A CR-only terminator followed by LF would
        // read as CRLF, so close CR-terminated events with CR too.
        let last_is_cr = out.ends_with('\r');
        out.push_str(if last_is_cr { "\r" } else { end });
        out
    })
}

fn decode(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut d = SseDecoder::new(1 << 20);
    let mut out = Vec::new();
    for c in chunks {
        d.push(c);
        while let Ok(Some(e)) = d.next_event() {
            out.push(e.raw().to_vec());
        }
    }
    if let Some(rest) = d.finish() {
        out.push(rest.to_vec());
    }
    out
}

proptest! {
    #[test]
    fn same_events_however_split(
        events in proptest::collection::vec(event_strategy(), 1..8),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
    ) {
        let whole: String = events.concat();
        let bytes = whole.as_bytes();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        points.dedup();
        let mut chunks = Vec::new();
        let mut prev = 0;
        for p in points {
            chunks.push(&bytes[prev..p]);
            prev = p;
        }
        chunks.push(&bytes[prev..]);
        let split = decode(&chunks);
        let unsplit = decode(&[bytes]);
        prop_assert_eq!(&split, &unsplit);
        prop_assert_eq!(split.concat(), bytes.to_vec());
        let parsed: Vec<_> = split
            .iter()
            .map(|raw| sluice_protocol::sse::RawEvent::from_bytes(raw.clone().into()).parse())
            .collect();
        prop_assert_eq!(parsed.len(), events.len());
    }
}
