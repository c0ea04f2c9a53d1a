//! Every string of a JSON document, unescaped, in one text: what the guard scans first
//! to learn, at a fraction of a walk's cost, that nothing in a body needs one.
//!
//! Must never collect less than every string serde would read (fuzzed:
//! `fuzz/fuzz_targets/stream_text.rs`).

/// Every string of a JSON document (keys too), unescaped, each followed by a newline,
/// appended to `out`; `false` when `body` is not UTF-8 or a string is broken. No tree
/// is built, so it costs a fraction of `visit`: a stage can scan this first and skip
/// the walk when nothing in the document could need it (a superset of the texts
/// `visit` reaches).
///
/// Hand-written rather than a serde visitor: measured at about a fifth of the
/// instructions of `serde_json` with an ignoring visitor on a chat answer (BENCHMARKS.md,
/// "The guard"). It relies on the body being JSON already (the head decoder or the
/// answer's check read it); on anything else it may only return `false` or collect
/// more than the strings, never less.
pub fn strings(body: &[u8], out: &mut String) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(open) = memchr::memchr(b'"', &bytes[at..]) {
        let mut from = at + open + 1;
        loop {
            let Some(stop) = memchr::memchr2(b'"', b'\\', &bytes[from..]) else {
                return false;
            };
            let stop = from + stop;
            out.push_str(&text[from..stop]);
            if bytes[stop] == b'"' {
                at = stop + 1;
                break;
            }
            let Some((c, len)) = unescape(&bytes[stop + 1..]) else {
                return false;
            };
            out.push(c);
            from = stop + 1 + len;
        }
        out.push('\n');
    }
    true
}

/// One JSON escape after its backslash: the char and how many bytes it took.
pub(super) fn unescape(rest: &[u8]) -> Option<(char, usize)> {
    let simple = match rest.first()? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let high = hex4(rest.get(1..5)?)?;
            if (0xD800..0xDC00).contains(&high)
                && rest.get(5..7) == Some(b"\\u")
                && let Some(low) = rest.get(7..11).and_then(hex4)
                && (0xDC00..0xE000).contains(&low)
            {
                let c = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                return Some((char::from_u32(c).unwrap_or('\u{FFFD}'), 11));
            }
            return Some((char::from_u32(high).unwrap_or('\u{FFFD}'), 5));
        }
        _ => return None,
    };
    Some((simple, 1))
}

pub(super) fn hex4(digits: &[u8]) -> Option<u32> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|d| u32::from_str_radix(d, 16).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_every_string_unescaped() {
        let mut out = String::new();
        let body =
            br#"{"model":"m","c":"a\nb \u00e9 \ud83d\ude00 \"q\" \\","n":1,"x":[true,null,"z"]}"#;
        assert!(strings(body, &mut out));
        assert_eq!(
            out,
            "model\nm\nc\na\nb \u{e9} \u{1F600} \"q\" \\\nn\nx\nz\n"
        );
        // As serde reads it, every value is in there.
        let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        assert!(out.contains(value["c"].as_str().unwrap_or("none")));
        assert!(!strings(br#"{"a":"open"#, &mut String::new()));
        assert!(!strings(br#"{"a":"\x"}"#, &mut String::new()));
    }
}
