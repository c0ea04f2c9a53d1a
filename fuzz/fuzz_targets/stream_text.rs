//! The text module on any input: the stream reader never panics, its walk standing for
//! the tap's JSON check gives the tap's verdict, and an event written back with its
//! texts unchanged is the same bytes; `strings` of any JSON
//! document holds every string serde reads in it (the guard skips its walk on it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_protocol::text::{Channel, Stream, StreamText};
use sluice_protocol::translate::Provider;

fn every_string(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|i| every_string(i, out)),
        serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push(k.clone());
            every_string(v, out);
        }),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let mut all = String::new();
        assert!(sluice_protocol::text::strings(data, &mut all));
        let mut expected = Vec::new();
        every_string(&value, &mut expected);
        for s in expected {
            assert!(all.contains(&s), "{s:?} missing from {all:?}");
        }
    }
    for stream in [Stream::Chat, Stream::Completions, Stream::Messages] {
        let mut reader = StreamText::new(stream);
        for part in data.split(|b| *b == b'\n') {
            let (walked, event) = reader.read_walked(part);
            // The relay lets the reader's walk stand for the tap's JSON check.
            assert_eq!(
                Provider::OpenAiChat.tap_walked(None, part, walked),
                Provider::OpenAiChat.tap(None, part),
                "a walked tap must read as the tap reads"
            );
            if let Some(event) = event {
                let text = std::str::from_utf8(part).unwrap_or_default();
                assert_eq!(event.write(text), text, "unchanged texts must give the same bytes");
            }
            let _ = reader.carry(Channel::text(0), "x");
        }
    }
});
