use super::*;
use proptest::prelude::*;

/// What `event_type` and `single_data` read before the decoder located the fields:
/// a scan of the event's lines, kept as the reference.
fn scanned(raw: &[u8]) -> (Option<&[u8]>, Option<&[u8]>) {
    let kind = lines(raw).find_map(|line| {
        let (name, value) = split_field(line);
        (name == b"event" && line.first() != Some(&b':')).then_some(value)
    });
    let mut data = None;
    let mut count = 0;
    for line in lines(raw) {
        if line.is_empty() || line[0] == b':' {
            continue;
        }
        let (name, value) = split_field(line);
        if name == b"data" {
            count += 1;
            data = Some(value);
        }
    }
    (kind, if count == 1 { data } else { None })
}

proptest! {
    /// However the bytes arrive, each event's located fields are what a scan of its
    /// lines finds: first `event:` value, the one `data:` value (none for two).
    #[test]
    fn located_fields_are_what_a_scan_finds(
        body in proptest::collection::vec(
            prop_oneof![
                Just(&b"data: x"[..]), Just(&b"data:y"[..]), Just(&b"data"[..]),
                Just(&b"data: "[..]), Just(&b"event: e"[..]), Just(&b"event:f"[..]),
                Just(&b"event"[..]), Just(&b": c"[..]), Just(&b":"[..]), Just(&b"id: 1"[..]),
                Just(&b"\n"[..]), Just(&b"\r"[..]), Just(&b"\r\n"[..]), Just(&b"\n\n"[..]),
            ],
            0..24,
        ),
        cut in 0usize..64,
    ) {
        let bytes: Vec<u8> = body.concat();
        let cut = cut.min(bytes.len());
        let mut d = SseDecoder::new(1 << 20);
        for part in [&bytes[..cut], &bytes[cut..]] {
            d.push(part);
            while let Ok(Some(event)) = d.next_event() {
                let (kind, data) = scanned(event.raw());
                prop_assert_eq!(event.event_type(), kind, "{:?}", event.raw());
                prop_assert_eq!(event.single_data(), data, "{:?}", event.raw());
                let again = RawEvent::from_bytes(event.raw().clone());
                prop_assert_eq!(again.event_type(), kind);
                prop_assert_eq!(again.single_data(), data);
            }
        }
    }
}

fn decode_all(chunks: &[&[u8]]) -> Vec<ParsedEvent> {
    let mut d = SseDecoder::new(1 << 20);
    let mut out = Vec::new();
    for c in chunks {
        d.push(c);
        while let Ok(Some(e)) = d.next_event() {
            out.push(e.parse());
        }
    }
    out
}

#[test]
fn decodes_lf_crlf_and_cr_terminators() {
    let events = decode_all(&[b"data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n\r\n"]);
    let data: Vec<_> = events.iter().filter_map(|e| e.data.clone()).collect();
    assert_eq!(data, ["a", "b", "c", "d"]);
}

#[test]
fn joins_multiline_data_and_reads_event_type() {
    let events = decode_all(&[b"event: ping\ndata: x\ndata:y\n: comment\n\n"]);
    assert_eq!(events[0].event.as_deref(), Some("ping"));
    assert_eq!(events[0].data.as_deref(), Some("x\ny"));
}

#[test]
fn waits_for_crlf_split_across_chunks() {
    let events = decode_all(&[b"data: a\r\n\r", b"\ndata: b\r\n\r\n"]);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].data.as_deref(), Some("b"));
}

#[test]
fn rejects_oversized_event() {
    let mut d = SseDecoder::new(8);
    d.push(b"data: 0123456789");
    assert_eq!(d.next_event(), Err(SseError::EventTooLarge { limit: 8 }));
}

#[test]
fn single_data_avoids_multi_line_events() {
    let e = RawEvent::from_bytes(Bytes::from_static(b"data: {}\n\n"));
    assert_eq!(e.single_data(), Some(&b"{}"[..]));
    let e = RawEvent::from_bytes(Bytes::from_static(b"data: a\ndata: b\n\n"));
    assert_eq!(e.single_data(), None);
}

#[test]
fn encoder_round_trips() {
    let raw = encode_event(Some("message_stop"), "{\"a\":1}\nsecond");
    let events = decode_all(&[&raw]);
    assert_eq!(events[0].event.as_deref(), Some("message_stop"));
    assert_eq!(events[0].data.as_deref(), Some("{\"a\":1}\nsecond"));
}
