//! Reversible masking: the request's map from numbered placeholders (`<EMAIL_1>`) to the
//! values they stand for, and the restorer that puts the values back into the answer,
//! whole or streamed. The same value gets the same placeholder throughout a request, so
//! the model can refer to it.
//!
//! The streaming restorer holds text back only while the end of what arrived could be
//! the beginning of one of this request's placeholders (`<EMA`); any other text goes on
//! at once. Inside JSON text (tool-call arguments) a value is written JSON-escaped.
//!
//! Must never outlive its request (the caller drops it with the request) and never hold
//! a secret (`Actions::set` turns masking of secrets into redaction).

use std::collections::HashMap;

/// Placeholders and their values, for one request.
#[derive(Debug, Default, Clone)]
pub struct MaskMap {
    /// Placeholder -> value.
    values: HashMap<String, String>,
    /// Value -> placeholder, so a value seen twice is masked the same way.
    placeholders: HashMap<String, String>,
    /// Last number used per label.
    numbers: HashMap<String, u32>,
}

impl MaskMap {
    /// The placeholder for `value` (made on first sight).
    pub fn mask(&mut self, label: &str, value: &str) -> String {
        if let Some(p) = self.placeholders.get(value) {
            return p.clone();
        }
        let n = self.numbers.entry(label.to_owned()).or_insert(0);
        *n += 1;
        let placeholder = format!("<{label}_{n}>");
        self.values.insert(placeholder.clone(), value.to_owned());
        self.placeholders
            .insert(value.to_owned(), placeholder.clone());
        placeholder
    }

    pub fn original(&self, placeholder: &str) -> Option<&str> {
        self.values.get(placeholder).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every placeholder of this map replaced by its value; `None` when
    /// there was none. `json`: the text is JSON source, so values are escaped.
    pub fn restore(&self, text: &str, json: bool) -> Option<String> {
        if self.is_empty() || !text.contains('<') {
            return None;
        }
        let mut out: Option<String> = None;
        let mut at = 0;
        let mut search = 0;
        while let Some(open) = text[search..].find('<').map(|i| search + i) {
            let Some(close) = text[open..].find('>').map(|i| open + i) else {
                break;
            };
            match self.values.get(&text[open..=close]) {
                Some(value) => {
                    let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
                    buf.push_str(&text[at..open]);
                    push_value(buf, value, json);
                    at = close + 1;
                    search = close + 1;
                }
                None => search = open + 1,
            }
        }
        let mut buf = out?;
        buf.push_str(&text[at..]);
        Some(buf)
    }

    /// Whether `tail` (which starts with `<`) is the beginning of one of the placeholders.
    fn could_open(&self, tail: &str) -> bool {
        self.values.keys().any(|p| p.starts_with(tail))
    }
}

fn push_value(buf: &mut String, value: &str, json: bool) {
    if !json {
        buf.push_str(value);
        return;
    }
    let quoted = serde_json_escape(value);
    buf.push_str(&quoted);
}

/// JSON string escaping without the quotes (the few characters JSON requires).
fn serde_json_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// The streaming restorer of one channel of an answer.
#[derive(Debug, Default)]
pub struct Restorer {
    held: String,
    json: bool,
}

impl Restorer {
    pub fn new(json: bool) -> Self {
        Self {
            held: String::new(),
            json,
        }
    }

    /// Restores what can be restored of `text` (after what was held) and returns it;
    /// keeps back a tail that could still become a placeholder.
    pub fn push(&mut self, map: &MaskMap, text: &str) -> String {
        if map.is_empty() {
            return text.to_owned();
        }
        self.held.push_str(text);
        let cut = match self.held.rfind('<') {
            Some(open)
                if !self.held[open..].contains('>') && map.could_open(&self.held[open..]) =>
            {
                open
            }
            _ => self.held.len(),
        };
        let rest = self.held.split_off(cut);
        let ready = std::mem::replace(&mut self.held, rest);
        map.restore(&ready, self.json).unwrap_or(ready)
    }

    /// Everything held, restored where it can be: the channel is over.
    pub fn finish(&mut self, map: &MaskMap) -> String {
        let ready = std::mem::take(&mut self.held);
        map.restore(&ready, self.json).unwrap_or(ready)
    }

    pub fn is_holding(&self) -> bool {
        !self.held.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> MaskMap {
        let mut m = MaskMap::default();
        assert_eq!(m.mask("EMAIL", "jane@example.com"), "<EMAIL_1>");
        assert_eq!(m.mask("EMAIL", "bob \"the\" builder@x.io"), "<EMAIL_2>");
        assert_eq!(m.mask("EMAIL", "jane@example.com"), "<EMAIL_1>");
        m
    }

    #[test]
    fn whole_texts_are_restored_and_json_values_escaped() {
        let m = map();
        assert_eq!(
            m.restore("Hi <EMAIL_1>, cc <EMAIL_2>; <EMAIL_9> and <b>", false)
                .as_deref(),
            Some("Hi jane@example.com, cc bob \"the\" builder@x.io; <EMAIL_9> and <b>")
        );
        assert_eq!(
            m.restore(r#"{"to":"<EMAIL_2>"}"#, true).as_deref(),
            Some(r#"{"to":"bob \"the\" builder@x.io"}"#)
        );
        assert_eq!(m.restore("no placeholders", false), None);
    }

    #[test]
    fn streams_hold_only_a_possible_placeholder() {
        let m = map();
        let mut r = Restorer::new(false);
        assert_eq!(r.push(&m, "Dear <EM"), "Dear ");
        assert!(r.is_holding());
        assert_eq!(r.push(&m, "AIL_"), "");
        assert_eq!(r.push(&m, "1>, thanks"), "jane@example.com, thanks");
        // A `<` that can open no placeholder of this request is not held.
        assert_eq!(r.push(&m, " a <b> and 3 <"), " a <b> and 3 ");
        assert!(r.is_holding());
        assert_eq!(r.push(&m, " 4"), "< 4");
        assert_eq!(r.push(&m, " <EMAIL_"), " ");
        assert_eq!(r.finish(&m), "<EMAIL_");
        // With nothing masked, nothing is ever held.
        let mut r = Restorer::new(false);
        assert_eq!(r.push(&MaskMap::default(), "x <EMA"), "x <EMA");
    }
}
