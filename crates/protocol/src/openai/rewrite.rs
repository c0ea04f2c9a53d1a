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

/// What to change in a request body on the pass-through path.
#[derive(Debug, Clone, Copy, Default)]
pub struct Edits<'a> {
    /// Set the top-level `model`.
    pub model: Option<&'a str>,
    /// Set `stream_options.include_usage` to true (keeping other stream options), so the
    /// provider reports usage at the end of a stream the client did not ask usage for.
    pub include_usage: bool,
}

/// Returns `body` with its top-level `"model"` set to `model` (added when absent).
pub fn replace_model(body: &[u8], model: &str) -> Result<Vec<u8>, serde_json::Error> {
    rewrite(
        body,
        Edits {
            model: Some(model),
            include_usage: false,
        },
    )
}

/// Applies `edits` to a JSON object body; members not edited keep their exact bytes.
pub fn rewrite(body: &[u8], edits: Edits<'_>) -> Result<Vec<u8>, serde_json::Error> {
    let Members(members) = serde_json::from_slice(body)?;
    let mut out = Vec::with_capacity(body.len() + 64);
    out.push(b'{');
    let (mut wrote_model, mut wrote_options) = (false, false);
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, key.as_ref())?;
        out.push(b':');
        match (key.as_ref(), edits.model) {
            ("model", Some(model)) => {
                serde_json::to_writer(&mut out, model)?;
                wrote_model = true;
            }
            ("stream_options", _) if edits.include_usage => {
                let mut options: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(value.get()).unwrap_or_default();
                options.insert("include_usage".to_owned(), serde_json::Value::Bool(true));
                serde_json::to_writer(&mut out, &options)?;
                wrote_options = true;
            }
            _ => out.extend_from_slice(value.get().as_bytes()),
        }
    }
    let mut append = |key: &[u8], value: &[u8]| {
        if out.len() > 1 {
            out.push(b',');
        }
        out.extend_from_slice(key);
        out.extend_from_slice(value);
    };
    if let (Some(model), false) = (edits.model, wrote_model) {
        append(b"\"model\":", serde_json::to_string(model)?.as_bytes());
    }
    if edits.include_usage && !wrote_options {
        append(b"\"stream_options\":", b"{\"include_usage\":true}");
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
    fn turns_on_stream_usage_keeping_other_options() {
        let edits = Edits {
            model: None,
            include_usage: true,
        };
        let out =
            rewrite(br#"{"stream":true,"stream_options":{"x":1}}"#, edits).map(String::from_utf8);
        assert_eq!(
            out.ok().and_then(Result::ok).as_deref(),
            Some(r#"{"stream":true,"stream_options":{"x":1,"include_usage":true}}"#)
        );
        let out = rewrite(br#"{"stream":true}"#, edits).map(String::from_utf8);
        assert_eq!(
            out.ok().and_then(Result::ok).as_deref(),
            Some(r#"{"stream":true,"stream_options":{"include_usage":true}}"#)
        );
    }

    #[test]
    fn rejects_non_objects() {
        assert!(replace_model(b"[1]", "m").is_err());
    }
}
