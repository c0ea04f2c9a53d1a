//! The SSE decoder never panics, never loses or invents bytes, and yields the same
//! events whatever the chunking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_protocol::sse::SseDecoder;

fn decode(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut d = SseDecoder::new(1 << 16);
    let mut out = Vec::new();
    for c in chunks {
        d.push(c);
        loop {
            match d.next_event() {
                Ok(Some(e)) => {
                    let _ = e.parse();
                    let _ = e.single_data();
                    out.push(e.raw().to_vec());
                }
                Ok(None) => break,
                Err(_) => return out,
            }
        }
    }
    if let Some(rest) = d.finish() {
        out.push(rest.to_vec());
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let split = usize::from(data[0]) % data.len();
    let body = &data[1..];
    let split = split.min(body.len());
    let whole = decode(&[body]);
    let parts = decode(&[&body[..split], &body[split..]]);
    if body.len() < (1 << 16) {
        assert_eq!(whole, parts);
        assert_eq!(whole.concat(), body);
    }
});
