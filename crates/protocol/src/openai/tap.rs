//! What the pass-through relay learns from one upstream stream event without translating
//! it: the end marker, in-band errors, usage, and data a client could not parse.
//!
//! Runs once per streamed event on the hot path: must never allocate for ordinary
//! chunks and never fail. So the JSON check is our own scanner (serde's `IgnoredAny`
//! path keeps a heap stack for nested values), and usage is parsed only when a chunk
//! carries a non-null `usage` (with `include_usage` every chunk says `"usage":null`).

use super::usage::{find_usage, is_error_chunk};
use crate::canonical::Tap;

/// Inspects one event's data (`event` is the SSE `event:` field, if any).
pub fn tap(event: Option<&str>, data: &[u8]) -> Tap {
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
    if !is_json(data) {
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
    memchr::memmem::find_iter(data, b"\"usage\"").any(|at| {
        let rest = data.get(at + 7..).unwrap_or_default().trim_ascii_start();
        let rest = rest.strip_prefix(b":").unwrap_or(rest).trim_ascii_start();
        !rest.starts_with(b"null")
    })
}

/// Values nested deeper than this count as malformed (serde_json's limit for typed
/// parsing; no real chunk comes near it, and it bounds our recursion).
const MAX_DEPTH: u32 = 128;

/// Whether `b` is exactly one JSON value (RFC 8259) with optional surrounding
/// whitespace. Agrees with `serde_json::from_slice::<IgnoredAny>`, which the relay
/// used before: like it, this checks neither UTF-8 inside strings (clients decode
/// leniently) nor `\u` surrogate pairs.
pub(crate) fn is_json(b: &[u8]) -> bool {
    let mut scan = Scan { b, i: 0 };
    if !scan.value(0) {
        return false;
    }
    scan.ws();
    scan.i == b.len()
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.i += usize::from(hit);
        hit
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: u32) -> bool {
        self.ws();
        match self.peek() {
            Some(b'{') => depth < MAX_DEPTH && self.object(depth + 1),
            Some(b'[') => depth < MAX_DEPTH && self.array(depth + 1),
            Some(b'"') => self.string(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => false,
        }
    }

    fn object(&mut self, depth: u32) -> bool {
        self.i += 1;
        self.ws();
        if self.eat(b'}') {
            return true;
        }
        loop {
            self.ws();
            if !(self.peek() == Some(b'"') && self.string()) {
                return false;
            }
            self.ws();
            if !(self.eat(b':') && self.value(depth)) {
                return false;
            }
            self.ws();
            if !self.eat(b',') {
                return self.eat(b'}');
            }
        }
    }

    fn array(&mut self, depth: u32) -> bool {
        self.i += 1;
        self.ws();
        if self.eat(b']') {
            return true;
        }
        loop {
            if !self.value(depth) {
                return false;
            }
            self.ws();
            if !self.eat(b',') {
                return self.eat(b']');
            }
        }
    }

    /// From the opening quote to past the closing one; control characters are not
    /// allowed raw, escapes must be one of JSON's.
    fn string(&mut self) -> bool {
        self.i += 1;
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return true;
                }
                Some(b'\\') => {
                    let ok = match self.b.get(self.i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => 2,
                        Some(b'u') => match self.b.get(self.i + 2..self.i + 6) {
                            Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => 6,
                            _ => return false,
                        },
                        _ => return false,
                    };
                    self.i += ok;
                }
                Some(0x20..) => self.i += 1,
                _ => return false,
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        let hit = self.b.get(self.i..self.i + word.len()) == Some(word);
        self.i += if hit { word.len() } else { 0 };
        hit
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> bool {
        self.eat(b'-');
        if !self.eat(b'0') && self.digits() == 0 {
            return false;
        }
        if self.eat(b'.') && self.digits() == 0 {
            return false;
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return false;
            }
        }
        true
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::Usage;
    use proptest::prelude::*;
    use serde::de::IgnoredAny;

    fn serde_says(b: &[u8]) -> bool {
        serde_json::from_slice::<IgnoredAny>(b).is_ok()
    }

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

    proptest! {
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
