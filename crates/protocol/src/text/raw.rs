//! A JSON document walked in place: every scalar value with its path from the top and
//! its byte span, and no tree built. A stream event's text can then be read and a
//! changed text spliced back, every other byte staying as the provider sent it.
//!
//! Hand-written rather than `serde_json::Value`: a chat chunk read into a `Value` and
//! written back cost about 37,000 instructions per event, several times the rest of the
//! output guard together (BENCHMARKS.md, "The guard"). Keys are borrowed unless they
//! hold an escape.
//!
//! Must never panic or recurse past `json_lex::MAX_DEPTH` on untrusted input: anything
//! that is not one JSON value is refused (`false`), and the caller forwards the event
//! unread. It refuses exactly what the pass-through tap's check refuses: both are made
//! of `json_lex`'s strict pieces, depth limit included.

use super::strings::unescape;
use crate::json_lex;
use std::borrow::Cow;
use std::ops::Range;

/// One step of a path: an object's key or an array's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg<'a> {
    Key(Cow<'a, str>),
    Index(usize),
}

impl Seg<'_> {
    pub fn is(&self, key: &str) -> bool {
        matches!(self, Self::Key(k) if k == key)
    }
}

/// The kind of a scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Str,
    Num,
    Bool,
    Null,
}

/// Calls `f(path, kind, span)` for every scalar of `data` in document order (a string's
/// span includes its quotes). `false` when `data` is not one JSON value. Generic over
/// `f` rather than `dyn`: the reader's match inlines into the walk (0.95x the
/// instructions of reading and tapping a 30-chunk stream, counted with callgrind).
pub fn scalars<'a, F>(data: &'a str, f: &mut F) -> bool
where
    F: FnMut(&[Seg<'a>], Scalar, Range<usize>),
{
    let mut walk = Walker {
        text: data,
        bytes: data.as_bytes(),
        at: 0,
        path: Vec::with_capacity(8),
    };
    walk.space();
    let ok = walk.value(f, 0);
    walk.space();
    ok && walk.at == data.len()
}

/// A string literal's value (its span includes the quotes); `None` if it is broken.
pub fn decode(literal: &str) -> Option<Cow<'_, str>> {
    let inner = literal.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    let bytes = inner.as_bytes();
    let mut out = String::with_capacity(inner.len());
    let mut from = 0;
    while let Some(slash) = memchr::memchr(b'\\', &bytes[from..]) {
        let slash = from + slash;
        out.push_str(&inner[from..slash]);
        let (c, len) = unescape(&bytes[slash + 1..])?;
        out.push(c);
        from = slash + 1 + len;
    }
    out.push_str(&inner[from..]);
    Some(Cow::Owned(out))
}

/// `text` as a JSON string literal, quotes included.
pub fn literal(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

struct Walker<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    path: Vec<Seg<'a>>,
}

impl<'a> Walker<'a> {
    fn space(&mut self) {
        self.at = json_lex::space(self.bytes, self.at);
    }

    fn value<F>(&mut self, f: &mut F, depth: usize) -> bool
    where
        F: FnMut(&[Seg<'a>], Scalar, Range<usize>),
    {
        let start = self.at;
        let b = self.bytes;
        let (end, kind) = match b.get(start) {
            // As deep as `openai::tap::is_json` goes, and no deeper.
            Some(b'{' | b'[') if depth >= json_lex::MAX_DEPTH => return false,
            Some(b'{') => return self.object(f, depth),
            Some(b'[') => return self.array(f, depth),
            Some(b'"') => (json_lex::string(b, start).map(|(end, _)| end), Scalar::Str),
            Some(b't') => (json_lex::word(b, start, b"true"), Scalar::Bool),
            Some(b'f') => (json_lex::word(b, start, b"false"), Scalar::Bool),
            Some(b'n') => (json_lex::word(b, start, b"null"), Scalar::Null),
            Some(b'-' | b'0'..=b'9') => (json_lex::number(b, start), Scalar::Num),
            _ => return false,
        };
        let Some(end) = end else { return false };
        self.at = end;
        f(&self.path, kind, start..end);
        true
    }

    fn object<F>(&mut self, f: &mut F, depth: usize) -> bool
    where
        F: FnMut(&[Seg<'a>], Scalar, Range<usize>),
    {
        self.at += 1;
        self.space();
        if self.eat(b'}') {
            return true;
        }
        loop {
            self.space();
            let key_start = self.at;
            if self.bytes.get(key_start) != Some(&b'"') {
                return false;
            }
            let Some((key_end, escaped)) = json_lex::string(self.bytes, key_start) else {
                return false;
            };
            self.at = key_end;
            // Most keys hold no escape: borrowed as they are, with no second look.
            let key = if escaped {
                match decode(&self.text[key_start..key_end]) {
                    Some(key) => key,
                    None => return false,
                }
            } else {
                Cow::Borrowed(&self.text[key_start + 1..key_end - 1])
            };
            self.space();
            if !self.eat(b':') || !self.member(Seg::Key(key), f, depth) {
                return false;
            }
            match self.after_member(b'}') {
                Some(true) => return true,
                Some(false) => {}
                None => return false,
            }
        }
    }

    fn array<F>(&mut self, f: &mut F, depth: usize) -> bool
    where
        F: FnMut(&[Seg<'a>], Scalar, Range<usize>),
    {
        self.at += 1;
        self.space();
        if self.eat(b']') {
            return true;
        }
        let mut index = 0;
        loop {
            if !self.member(Seg::Index(index), f, depth) {
                return false;
            }
            match self.after_member(b']') {
                Some(true) => return true,
                Some(false) => index += 1,
                None => return false,
            }
        }
    }

    /// One member's value, walked with `seg` on the path.
    fn member<F>(&mut self, seg: Seg<'a>, f: &mut F, depth: usize) -> bool
    where
        F: FnMut(&[Seg<'a>], Scalar, Range<usize>),
    {
        self.space();
        self.path.push(seg);
        let ok = self.value(f, depth + 1);
        self.path.pop();
        ok
    }

    /// After a member: `Some(true)` at the container's `close`, `Some(false)` after a
    /// comma (another member follows), `None` for anything else.
    fn after_member(&mut self, close: u8) -> Option<bool> {
        self.space();
        if self.eat(b',') {
            Some(false)
        } else if self.eat(close) {
            Some(true)
        } else {
            None
        }
    }

    /// Consumes `byte` when it is next.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.bytes.get(self.at) == Some(&byte);
        if next {
            self.at += 1;
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::tap::is_json;
    use proptest::prelude::*;

    fn walk(data: &str) -> Option<Vec<(String, Scalar, String)>> {
        let mut out = Vec::new();
        let ok = scalars(data, &mut |path, kind, span| {
            let path: Vec<String> = path
                .iter()
                .map(|s| match s {
                    Seg::Key(k) => k.to_string(),
                    Seg::Index(i) => i.to_string(),
                })
                .collect();
            out.push((path.join("/"), kind, data[span].to_owned()));
        });
        ok.then_some(out)
    }

    #[test]
    fn every_scalar_comes_with_its_path_and_exact_span() {
        let data = r#" {"id":"c1","choices":[{"index":0,"delta":{"content":"a\"b"},"finish_reason":null}],"n":-1.5e3,"k\u0041":true,"e":[],"o":{}} "#;
        let got = walk(data).unwrap_or_default();
        assert_eq!(
            got,
            [
                ("id".to_owned(), Scalar::Str, "\"c1\"".to_owned()),
                ("choices/0/index".to_owned(), Scalar::Num, "0".to_owned()),
                (
                    "choices/0/delta/content".to_owned(),
                    Scalar::Str,
                    r#""a\"b""#.to_owned()
                ),
                (
                    "choices/0/finish_reason".to_owned(),
                    Scalar::Null,
                    "null".to_owned()
                ),
                ("n".to_owned(), Scalar::Num, "-1.5e3".to_owned()),
                ("kA".to_owned(), Scalar::Bool, "true".to_owned()),
            ]
        );
        assert_eq!(
            decode(r#""a\"b \u00e9\n""#).as_deref(),
            Some("a\"b \u{e9}\n")
        );
        assert_eq!(literal("a\"b\n"), r#""a\"b\n""#);
    }

    #[test]
    fn anything_but_one_json_value_is_refused() {
        for bad in [
            "",
            "{",
            "{\"a\":}",
            "[1,]",
            "{\"a\" 1}",
            "\"open",
            "tru",
            "{} {}",
            "[1 2]",
            "{\"a\":1,}",
            "{\"a\":1 \"b\":2}",
            "{\"a\":1]",
            "[1}",
            "[,1]",
            "nul",
        ] {
            assert!(walk(bad).is_none(), "{bad:?}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(walk(&deep).is_none());
        assert!(walk("[[[1]]]").is_some());
    }

    #[test]
    fn refuses_what_the_taps_check_refuses_at_the_depth_limit() {
        for levels in [127, 128, 129] {
            let nested = format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
            assert_eq!(
                walk(&nested).is_some(),
                is_json(nested.as_bytes()),
                "{levels} levels"
            );
        }
        assert!(walk(&format!("{}1{}", "[".repeat(128), "]".repeat(128))).is_some());
    }

    proptest! {
        /// The walk and the tap's check take and refuse the same documents.
        #[test]
        fn agrees_with_the_taps_check(s in r#"[\[\]{}",:0-9eE+\-. a-u\\\t]{0,24}"#) {
            prop_assert_eq!(walk(&s).is_some(), is_json(s.as_bytes()), "{:?}", s);
        }

        /// Whatever serde writes is walked, every scalar with it.
        #[test]
        fn walks_what_serde_writes(v in proptest::collection::vec(("[a-z\"\\\\\n]{0,6}", any::<i64>(), any::<f64>()), 0..4)) {
            let json = serde_json::json!({"items": v.iter().map(|(s, i, f)| serde_json::json!([s, i, f, null, true, {}])).collect::<Vec<_>>()}).to_string();
            let scalars = walk(&json);
            prop_assert!(scalars.is_some(), "{}", json);
            prop_assert_eq!(scalars.map_or(0, |s| s.len()), v.len() * 5);
        }
    }
}
