//! Rewriting the model of any JSON object yields valid JSON with that model and every
//! other member unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_protocol::openai::rewrite::replace_model;

fuzz_target!(|data: &[u8]| {
    let Ok(out) = replace_model(data, "fuzz-model") else { return };
    // Raw values keep what `Value` cannot hold (numbers past f64's range): compare only
    // inputs that `Value` can represent.
    let Ok(before) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let after: serde_json::Value = serde_json::from_slice(&out).expect("rewrite emits JSON");
    assert_eq!(after["model"], "fuzz-model");
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
