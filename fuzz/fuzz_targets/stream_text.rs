//! The stream text reader on any event data, in every format: never panics; an event
//! written back with its texts unchanged parses to the same JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_protocol::text::{Channel, Stream, StreamText};

fuzz_target!(|data: &[u8]| {
    for stream in [Stream::Chat, Stream::Completions, Stream::Messages] {
        let mut reader = StreamText::new(stream);
        for part in data.split(|b| *b == b'\n') {
            if let Some(event) = reader.read(part) {
                let written = event.write();
                let before: serde_json::Value = serde_json::from_slice(part).unwrap_or_default();
                let after: serde_json::Value = serde_json::from_str(&written).unwrap_or_default();
                assert_eq!(before, after);
            }
            let _ = reader.carry(Channel::text(0), "x");
        }
    }
});
