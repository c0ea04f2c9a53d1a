//! A JSON document walked in place: every scalar value with its path from the top and
//! its byte span, and no tree built. A stream event's text can then be read and a
//! changed text spliced back, every other byte staying as the provider sent it.
//!
//! Hand-written rather than `serde_json::Value`: a chat chunk read into a `Value` and
//! written back cost about 37,000 instructions per event, several times the rest of the
//! output guard together (BENCHMARKS.md, "The guard"). Keys are borrowed unless they
//! hold an escape.
//!
//! Must never panic or recurse past `MAX_DEPTH` on untrusted input: anything that is
//! not one JSON value is refused (`false`), and the caller forwards the event unread.

use super::strings::unescape;
use std::borrow::Cow;
use std::ops::Range;

/// Deepest nesting walked (serde_json's own default limit).
const MAX_DEPTH: usize = 128;

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

/// What `scalars` calls for each scalar: its path, kind and span.
pub type OnScalar<'a, 'f> = dyn FnMut(&[Seg<'a>], Scalar, Range<usize>) + 'f;

/// The kind of a scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Str,
    Num,
    Bool,
    Null,
}

/// Calls `f(path, kind, span)` for every scalar of `data` in document order (a string's
/// span includes its quotes). `false` when `data` is not one JSON value.
pub fn scalars<'a>(data: &'a str, f: &mut OnScalar<'a, '_>) -> bool {
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
        while self
            .bytes
            .get(self.at)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.at += 1;
        }
    }

    fn value(&mut self, f: &mut OnScalar<'a, '_>, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let start = self.at;
        let kind =
            match self.bytes.get(self.at) {
                Some(b'{') => return self.object(f, depth),
                Some(b'[') => return self.array(f, depth),
                Some(b'"') => {
                    if !self.string() {
                        return false;
                    }
                    Scalar::Str
                }
                Some(b't') => self.word(b"true", Scalar::Bool),
                Some(b'f') => self.word(b"false", Scalar::Bool),
                Some(b'n') => self.word(b"null", Scalar::Null),
                Some(b'-' | b'0'..=b'9') => {
                    while self.bytes.get(self.at).is_some_and(|b| {
                        matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                    }) {
                        self.at += 1;
                    }
                    Scalar::Num
                }
                _ => return false,
            };
        if self.at == start {
            return false;
        }
        f(&self.path, kind, start..self.at);
        true
    }

    /// A literal word; leaves `at` unmoved (an error) when it is not there.
    fn word(&mut self, word: &[u8], kind: Scalar) -> Scalar {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
        }
        kind
    }

    /// Skips a string literal (at its opening quote).
    fn string(&mut self) -> bool {
        let mut from = self.at + 1;
        loop {
            let Some(stop) = memchr::memchr2(b'"', b'\\', &self.bytes[from..]) else {
                return false;
            };
            let stop = from + stop;
            if self.bytes[stop] == b'"' {
                self.at = stop + 1;
                return true;
            }
            // The escaped byte is never a quote that ends the string.
            from = stop + 2;
            if from > self.bytes.len() {
                return false;
            }
        }
    }

    fn object(&mut self, f: &mut OnScalar<'a, '_>, depth: usize) -> bool {
        self.at += 1;
        self.space();
        if self.eat(b'}') {
            return true;
        }
        loop {
            self.space();
            if self.bytes.get(self.at) != Some(&b'"') {
                return false;
            }
            let key_start = self.at;
            if !self.string() {
                return false;
            }
            let Some(key) = decode(&self.text[key_start..self.at]) else {
                return false;
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

    fn array(&mut self, f: &mut OnScalar<'a, '_>, depth: usize) -> bool {
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
    fn member(&mut self, seg: Seg<'a>, f: &mut OnScalar<'a, '_>, depth: usize) -> bool {
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
}
