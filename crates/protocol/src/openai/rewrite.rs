//! Replaces the top-level `model` of a JSON object body and keeps every other member's
//! bytes as they came (no re-encoding of sub-trees), so unknown fields and number
//! formatting reach the provider untouched.
//!
//! Must never reorder or drop members.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some((k, v)) = map.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Returns `body` with its top-level `"model"` set to `model` (added when absent).
pub fn replace_model(body: &[u8], model: &str) -> Result<Vec<u8>, serde_json::Error> {
    let Members(members) = serde_json::from_slice(body)?;
    let mut out = Vec::with_capacity(body.len() + model.len());
    out.push(b'{');
    let mut wrote_model = false;
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, key.as_ref())?;
        out.push(b':');
        if key == "model" {
            serde_json::to_writer(&mut out, model)?;
            wrote_model = true;
        } else {
            out.extend_from_slice(value.get().as_bytes());
        }
    }
    if !wrote_model {
        if !members.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(b"\"model\":");
        serde_json::to_writer(&mut out, model)?;
    }
    out.push(b'}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_model_and_keeps_other_bytes() {
        let body = br#"{"model":"alias","x":1.50,"nested":{"b":[1, 2]},"s":"\u00e9"}"#;
        let out = replace_model(body, "gpt-4o").map(String::from_utf8);
        assert_eq!(
            out.ok().and_then(Result::ok).as_deref(),
            Some(r#"{"model":"gpt-4o","x":1.50,"nested":{"b":[1, 2]},"s":"\u00e9"}"#)
        );
    }

    #[test]
    fn rejects_non_objects() {
        assert!(replace_model(b"[1]", "m").is_err());
    }
}
