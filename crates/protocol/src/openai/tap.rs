//! What the pass-through relay learns from one upstream stream event without translating
//! it: the end marker, in-band errors, usage, and data a client could not parse.
//!
//! Runs once per streamed event on the hot path: must never allocate for ordinary
//! chunks and never fail. So the JSON check is our own scanner (serde's `IgnoredAny`
//! path keeps a heap stack for nested values), and usage is parsed only when a chunk
//! carries a non-null `usage` (with `include_usage` every chunk says `"usage":null`).

use super::usage::{find_usage, is_error_chunk};
use crate::canonical::Tap;
use crate::canonical::stream::USAGE_KEY;
use crate::json_lex;

/// Inspects one event's data (`event` is the SSE `event:` field, if any).
pub fn tap(event: Option<&str>, data: &[u8]) -> Tap {
    inspect(event, data, is_json)
}

/// `tap` for data the stream's text reader already walked (`StreamText::read_walked`):
/// `walked` says the walk took it as one JSON value, which spares the check; when it
/// did not, the check is made as `tap` makes it.
pub fn tap_walked(event: Option<&str>, data: &[u8], walked: bool) -> Tap {
    inspect(event, data, |trimmed| walked || is_json(trimmed))
}

fn inspect(event: Option<&str>, data: &[u8], json: impl FnOnce(&[u8]) -> bool) -> Tap {
    let data = data.trim_ascii();
    if data == b"[DONE]" {
        return Tap {
            end: true,
            ..Tap::default()
        };
    }
    // An event without data (a keep-alive) carries nothing to check.
    if data.is_empty() {
        return Tap::default();
    }
    if !json(data) {
        return Tap {
            malformed: true,
            ..Tap::default()
        };
    }
    if event == Some("error") || is_error_chunk(data) {
        return Tap {
            error: true,
            ..Tap::default()
        };
    }
    Tap {
        usage: may_carry_usage(data).then(|| find_usage(data)).flatten(),
        ..Tap::default()
    }
}

/// False only when every `"usage"` in the chunk is followed by `: null`.
fn may_carry_usage(data: &[u8]) -> bool {
    USAGE_KEY.find_iter(data).any(|at| {
        let rest = data.get(at + 7..).unwrap_or_default().trim_ascii_start();
        let rest = rest.strip_prefix(b":").unwrap_or(rest).trim_ascii_start();
        !rest.starts_with(b"null")
    })
}

/// Whether `b` is exactly one JSON value (RFC 8259) with optional surrounding
/// whitespace. Agrees with `serde_json::from_slice::<IgnoredAny>`, which the relay
/// used before: like it, this checks neither UTF-8 inside strings (clients decode
/// leniently) nor `\u` surrogate pairs. The pieces are `json_lex`'s, shared with the
/// text walk so both refuse the same inputs.
pub(crate) fn is_json(b: &[u8]) -> bool {
    let at = json_lex::space(b, 0);
    value(b, at, 0).is_some_and(|end| json_lex::space(b, end) == b.len())
}

/// Past the value at `at` (whitespace before it already skipped).
fn value(b: &[u8], at: usize, depth: usize) -> Option<usize> {
    match b.get(at)? {
        b'{' if depth < json_lex::MAX_DEPTH => container(b, at, depth + 1, b'}'),
        b'[' if depth < json_lex::MAX_DEPTH => container(b, at, depth + 1, b']'),
        b'"' => json_lex::string(b, at).map(|(end, _)| end),
        b't' => json_lex::word(b, at, b"true"),
        b'f' => json_lex::word(b, at, b"false"),
        b'n' => json_lex::word(b, at, b"null"),
        b'-' | b'0'..=b'9' => json_lex::number(b, at),
        _ => None,
    }
}

/// Past the object or array that opens at `at` and ends with `close`.
fn container(b: &[u8], at: usize, depth: usize, close: u8) -> Option<usize> {
    let mut i = json_lex::space(b, at + 1);
    if b.get(i) == Some(&close) {
        return Some(i + 1);
    }
    loop {
        if close == b'}' {
            if b.get(i) != Some(&b'"') {
                return None;
            }
            i = json_lex::space(b, json_lex::string(b, i)?.0);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i = json_lex::space(b, i + 1);
        }
        i = json_lex::space(b, value(b, i, depth)?);
        match b.get(i)? {
            b',' => i = json_lex::space(b, i + 1),
            c if *c == close => return Some(i + 1),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::Usage;
    use crate::json_lex::serde_says;
    use crate::text::{Stream, StreamText};
    use proptest::prelude::*;

    #[test]
    fn reads_end_error_usage_and_malformed() {
        assert!(tap(None, b"[DONE]").end);
        assert!(tap(None, br#"{"error":{"message":"x","type":"server_error"}}"#).error);
        assert!(tap(None, b"{\"id\":").malformed);
        assert!(tap(None, b"not json").malformed);
        assert_eq!(
            tap(None, br#"{"choices":[{"delta":{"content":"hi"}}]}"#),
            Tap::default()
        );
        assert_eq!(
            tap(None, br#"{"choices":[],"usage" : null}"#),
            Tap::default()
        );
        let t = tap(
            None,
            br#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"#,
        );
        assert_eq!(
            t.usage,
            Some(Usage {
                input_tokens: 5,
                output_tokens: 2,
                ..Usage::default()
            })
        );
    }

    #[test]
    fn scanner_agrees_with_serde_on_edge_cases() {
        let cases: &[&[u8]] = &[
            b"0",
            b"-0",
            b"01",
            b"1.",
            b"1.5e",
            b"1E+9",
            b"-",
            b"1e-0",
            b"[1,]",
            b"{,}",
            b"{}",
            b"[]",
            b" [ ] ",
            b"{\"a\":1,}",
            b"{\"a\" 1}",
            b"\"\\u00e9\"",
            b"\"\\u00g9\"",
            b"\"\\x\"",
            b"\"a\tb\"",
            b"\"\\ud800\"",
            b"tru",
            b"true false",
            b"nul",
            b"{\"a\":[{}]}",
            b"\"\xff\"",
            b"\"caf\xc3\xa9\"",
            b"[[[[[[[[[[]]]]]]]]]]",
            b"{\"a\":\"b\"}x",
        ];
        for case in cases {
            assert_eq!(
                is_json(case),
                serde_says(case),
                "{}",
                String::from_utf8_lossy(case)
            );
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(!is_json(deep.as_bytes()));
    }

    /// What the relay gets when the text reader walked the data first.
    fn walked_tap(event: Option<&str>, data: &[u8]) -> Tap {
        let mut reader = StreamText::new(Stream::Chat);
        let (walked, _) = reader.read_walked(data);
        tap_walked(event, data, walked)
    }

    #[test]
    fn a_walked_tap_reads_as_the_tap_reads() {
        let cases: &[(Option<&str>, &[u8])] = &[
            (None, b"[DONE]"),
            (None, b" [DONE] "),
            (None, b""),
            (
                None,
                br#"{"choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}"#,
            ),
            (
                None,
                br#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#,
            ),
            (None, br#"{"error":{"message":"x","type":"server_error"}}"#),
            (Some("error"), br#"{"message":"x"}"#),
            (None, b"{\"id\":"),
            (None, b"not json"),
            (None, b"\x0c{}\x0c"),
            (None, b"{\"a\":\"\xff\"}"),
            (None, b"{\"a\":\"b\tc\"}"),
            (None, b"{} {}"),
        ];
        for (event, data) in cases {
            assert_eq!(
                walked_tap(*event, data),
                tap(*event, data),
                "{}",
                String::from_utf8_lossy(data)
            );
        }
    }

    proptest! {
        #[test]
        fn a_walked_tap_agrees_with_the_tap_on_any_bytes(b in proptest::collection::vec(any::<u8>(), 0..48)) {
            prop_assert_eq!(walked_tap(None, &b), tap(None, &b), "{:?}", b);
        }

        #[test]
        fn a_walked_tap_agrees_with_the_tap(s in r#"[\[\]{}",:0-9eE+\-. a-u\\\t\x0c]{0,24}"#) {
            prop_assert_eq!(walked_tap(None, s.as_bytes()), tap(None, s.as_bytes()), "{:?}", s);
        }

        #[test]
        fn scanner_agrees_with_serde(s in r#"[\[\]{}",:0-9eE+\-. a-u\\]{0,24}"#) {
            prop_assert_eq!(is_json(s.as_bytes()), serde_says(s.as_bytes()), "{}", s);
        }

        #[test]
        fn scanner_accepts_what_serde_writes(v in proptest::collection::vec(("[a-z\"\\\\\n]{0,6}", any::<i64>(), any::<f64>()), 0..4)) {
            let json = serde_json::json!({"items": v.iter().map(|(s, i, f)| serde_json::json!([s, i, f, null, true, {}])).collect::<Vec<_>>()});
            prop_assert!(is_json(json.to_string().as_bytes()));
        }
    }
}
