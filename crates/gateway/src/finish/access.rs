//! The access line: one structured log line per interaction, written by the end task.
//!
//! Formatted here, by hand, in the same shapes as the rest of the log (tracing's compact
//! text, or one JSON object with `SLUICE_LOG_FORMAT=json`), and handed to the same lossy
//! non-blocking writer (`telemetry::access`): through tracing's formatter the line cost
//! about 20,000 instructions per request (callgrind), more than a tenth of a request.
//! When the writer thread is behind, lines are dropped and counted there, and no tokio
//! worker ever waits. Without an installed writer (a gateway embedded in a test) the line
//! goes through `tracing` as before.
//!
//! Must never log bodies, keys or upstream addresses, and never write a client's text
//! unescaped (a model name with a newline must not forge a line).

use crate::record::Interaction;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

pub fn write(record: &Interaction) {
    if !tracing::enabled!(target: "sluice::access", tracing::Level::INFO) {
        return;
    }
    let Some(out) = crate::telemetry::access() else {
        via_tracing(record);
        return;
    };
    let line = match out.json {
        true => json(record),
        false => text(record),
    };
    out.write(line.as_bytes());
}

/// The fields of the line, in order, with how each is written.
fn fields(record: &Interaction) -> [(&'static str, Value<'_>); 16] {
    let usage = record.usage.unwrap_or_default();
    [
        ("id", Value::Raw(&record.request_id)),
        ("endpoint", Value::Quoted(record.endpoint)),
        ("model", Value::Quoted(&record.model)),
        (
            "provider",
            Value::Quoted(record.provider.as_deref().unwrap_or("-")),
        ),
        (
            "upstream_model",
            Value::Quoted(record.upstream_model.as_deref().unwrap_or("-")),
        ),
        ("status", Value::Number(u64::from(record.status))),
        ("outcome", Value::Quoted(record.outcome().as_str())),
        ("stream", Value::Bool(record.stream)),
        ("attempts", Value::Number(u64::from(record.attempts))),
        ("latency_us", Value::Number(micros(record.latency))),
        (
            "first_byte_us",
            Value::Number(record.first_byte.map_or(0, micros)),
        ),
        ("input_tokens", Value::Number(usage.input_tokens)),
        ("output_tokens", Value::Number(usage.output_tokens)),
        ("cached_tokens", Value::Number(usage.cached_input_tokens)),
        ("notes", Value::Notes(&record.notes)),
        (
            "guard",
            Value::Number(record.guard.iter().map(|f| u64::from(f.count)).sum()),
        ),
    ]
}

enum Value<'a> {
    /// A value Sluice made that needs no quoting (the request id is sanitised).
    Raw(&'a str),
    Quoted(&'a str),
    Number(u64),
    Bool(bool),
    Notes(&'a [String]),
}

/// tracing's compact form: `TIME  INFO sluice::access: key=value ...`.
fn text(record: &Interaction) -> String {
    let mut line = String::with_capacity(320);
    timestamp(&mut line, SystemTime::now());
    line.push_str("  INFO sluice::access:");
    for (key, value) in fields(record) {
        line.push(' ');
        line.push_str(key);
        line.push('=');
        match value {
            Value::Raw(s) => line.push_str(s),
            Value::Quoted(s) => quote(&mut line, s),
            Value::Number(n) => line.push_str(itoa::Buffer::new().format(n)),
            Value::Bool(b) => line.push_str(if b { "true" } else { "false" }),
            Value::Notes([]) => line.push_str("\"\""),
            Value::Notes(notes) => quote(&mut line, &notes.join("; ")),
        }
    }
    line.push('\n');
    line
}

/// One JSON object, the event's fields flattened next to time, level and target.
fn json(record: &Interaction) -> String {
    let mut map = serde_json::Map::new();
    let mut time = String::new();
    timestamp(&mut time, SystemTime::now());
    map.insert("timestamp".into(), time.into());
    map.insert("level".into(), "INFO".into());
    for (key, value) in fields(record) {
        let value = match value {
            Value::Raw(s) | Value::Quoted(s) => s.into(),
            Value::Number(n) => n.into(),
            Value::Bool(b) => b.into(),
            Value::Notes(notes) => notes.join("; ").into(),
        };
        map.insert(key.into(), value);
    }
    map.insert("target".into(), "sluice::access".into());
    let mut line = serde_json::Value::Object(map).to_string();
    line.push('\n');
    line
}

/// `s` in double quotes, escaped as Rust's `Debug` escapes a string (what tracing does
/// for string fields), so no control character reaches the log raw.
fn quote(line: &mut String, s: &str) {
    // Nearly every value is printable ASCII with nothing to escape; `Debug` walks each
    // character through its escape tables (about 250 instructions a value, callgrind).
    if s.bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    {
        line.push('"');
        line.push_str(s);
        line.push('"');
        return;
    }
    let _ = write!(line, "{s:?}");
}

/// RFC 3339 UTC with microseconds, as tracing writes it (`2026-12-04T17:18:21.615100Z`).
fn timestamp(out: &mut String, now: SystemTime) {
    let _ = write!(out, "{}", humantime::format_rfc3339_micros(now));
}

/// The line through tracing, when no writer of our own is installed.
fn via_tracing(record: &Interaction) {
    let usage = record.usage.unwrap_or_default();
    tracing::info!(
        target: "sluice::access",
        id = %record.request_id,
        endpoint = record.endpoint,
        model = record.model.as_str(),
        provider = record.provider.as_deref().unwrap_or("-"),
        upstream_model = record.upstream_model.as_deref().unwrap_or("-"),
        status = record.status,
        outcome = record.outcome().as_str(),
        stream = record.stream,
        attempts = record.attempts,
        latency_us = micros(record.latency),
        first_byte_us = record.first_byte.map_or(0, micros),
        input_tokens = usage.input_tokens,
        output_tokens = usage.output_tokens,
        cached_tokens = usage.cached_input_tokens,
        notes = record.notes.join("; ").as_str(),
    );
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_are_rfc_3339_utc() {
        let mut out = String::new();
        let at = SystemTime::UNIX_EPOCH + Duration::from_micros(1_796_404_688_123_456);
        timestamp(&mut out, at);
        assert_eq!(out, "2026-12-04T17:18:08.123456Z");
        out.clear();
        timestamp(
            &mut out,
            SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400),
        );
        assert_eq!(out, "2000-02-29T00:00:00.000000Z");
    }

    fn record() -> Interaction {
        Interaction::start(
            "req_1".into(),
            "chat.completions",
            std::time::Instant::now(),
        )
    }

    #[test]
    fn a_client_typed_model_cannot_forge_a_line() {
        let mut record = record();
        record.model = "evil\nINFO sluice::access: id=forged".into();
        let line = text(&record);
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        assert!(
            line.contains(r#"model="evil\nINFO sluice::access: id=forged""#),
            "{line}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&super::json(&record)).unwrap_or_default();
        assert_eq!(json["model"], "evil\nINFO sluice::access: id=forged");
        assert_eq!(json["target"], "sluice::access");
    }

    #[test]
    fn quoting_takes_the_short_way_only_where_debug_would_change_nothing() {
        for s in [
            "bench-model",
            "",
            "a b~c",
            "say \"hi\"",
            "back\\slash",
            "tab\there",
            "bell\u{7}",
            "del\u{7f}",
            "caf\u{e9}",
            "zero\u{200b}width",
        ] {
            let mut line = String::new();
            quote(&mut line, s);
            assert_eq!(line, format!("{s:?}"), "{s:?}");
        }
    }

    #[test]
    fn numbers_and_empty_notes_read_as_before() {
        let mut record = record();
        record.status = 429;
        record.latency = Duration::from_micros(1_234_567);
        let line = text(&record);
        assert!(line.contains(" status=429 "), "{line}");
        assert!(line.contains(" latency_us=1234567 "), "{line}");
        assert!(line.contains(" notes=\"\" "), "{line}");
        record.notes = vec!["a".into(), "b".into()];
        assert!(text(&record).contains(r#" notes="a; b" "#));
    }
}
