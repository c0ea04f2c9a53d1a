//! Deterministic reply generation: the text (split into stream pieces) or
//! the tool calls, the finish reason and the token usage of a chat reply.
//!
//! Everything here is a pure function of the request and its options, so
//! tests can predict every byte; this module must never read clocks,
//! counters or randomness, and never know about a wire format.

use serde_json::{Map, Value};

use crate::conversation::{Conversation, Format, ToolChoice};
use crate::faults::Options;

/// User text is cut to this many characters before being echoed.
const ECHO_LIMIT: usize = 200;

/// Reply text plus where each stream piece ends (byte offsets into `text`).
#[derive(Debug)]
pub(crate) struct Text {
    pub text: String,
    ends: Vec<usize>,
}

impl Text {
    pub(crate) fn pieces(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(start, end)| self.text.get(start..end).unwrap_or_default())
    }

    pub(crate) fn piece_count(&self) -> usize {
        self.ends.len()
    }

    /// Keeps the first `count` pieces.
    fn keep_pieces(&mut self, count: usize) {
        self.ends.truncate(count);
        self.text.truncate(self.ends.last().copied().unwrap_or(0));
    }

    /// Drops the first `n` bytes (an answer's start the client already has), keeping
    /// the later pieces' boundaries.
    fn drop_prefix(&mut self, n: usize) {
        self.text.drain(..n.min(self.text.len()));
        self.ends = self
            .ends
            .iter()
            .filter(|&&end| end > n)
            .map(|end| end - n)
            .collect();
    }

    /// Cuts the text at byte `at`, splitting the piece that straddles it.
    fn cut_at(&mut self, at: usize) {
        self.ends.retain(|&end| end < at);
        if self.ends.last().copied().unwrap_or(0) < at {
            self.ends.push(at);
        }
        self.text.truncate(at);
    }
}

#[derive(Debug)]
pub(crate) struct ToolCall {
    pub id: String,
    pub name: String,
    pub input: Value,
    /// `input` serialised once, shared by every wire shape.
    pub arguments: String,
}

impl ToolCall {
    /// Splits the argument JSON into two or three stream fragments.
    pub(crate) fn fragments(&self) -> Vec<&str> {
        split_even(&self.arguments, 3)
            .iter()
            .map(|range| self.arguments.get(range.clone()).unwrap_or_default())
            .collect()
    }
}

#[derive(Debug)]
pub(crate) enum Content {
    Text(Text),
    Tools(Vec<ToolCall>),
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Finish {
    Stop,
    Length,
    ToolCalls,
    StopSequence(String),
}

#[derive(Debug)]
pub(crate) struct Reply {
    pub content: Content,
    pub finish: Finish,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// Builds the reply. `tool_id_prefix` is the dialect's id style
/// (`call_mock_` or `toolu_mock_`); ids count from 1 within the reply so
/// they are stable whatever else the server has seen.
pub(crate) fn plan(
    conv: &Conversation<'_>,
    options: &Options,
    default_chunks: Option<usize>,
    tool_id_prefix: &str,
) -> Reply {
    let prompt_tokens = conv.prompt_tokens();
    if options.content.is_none()
        && let Some(calls) = tool_calls(conv, tool_id_prefix)
    {
        let completion_tokens = calls
            .iter()
            .map(|call| call.fragments().len())
            .sum::<usize>();
        return Reply {
            content: Content::Tools(calls),
            finish: Finish::ToolCalls,
            prompt_tokens,
            completion_tokens: u64::try_from(completion_tokens).unwrap_or(u64::MAX),
        };
    }
    let (mut text, mut finish) = (reply_text(conv, options, default_chunks), Finish::Stop);
    // A continuation answers with the rest of the same reply, so a resumed answer
    // reads as one.
    if let Some(prefill) = conv.prefill.as_deref().filter(|p| !p.is_empty())
        && text.text.starts_with(prefill)
    {
        text.drop_prefix(prefill.len());
    }
    if let Some((at, sequence)) = first_stop(&text.text, &conv.stop_sequences) {
        text.cut_at(at);
        finish = Finish::StopSequence(sequence.to_owned());
    }
    if let Some(limit) = conv.max_tokens.and_then(|max| usize::try_from(max).ok())
        && text.piece_count() > limit
    {
        text.keep_pieces(limit);
        finish = Finish::Length;
    }
    let completion_tokens = u64::try_from(text.piece_count()).unwrap_or(u64::MAX);
    Reply {
        content: Content::Text(text),
        finish,
        prompt_tokens,
        completion_tokens,
    }
}

fn reply_text(conv: &Conversation<'_>, options: &Options, default_chunks: Option<usize>) -> Text {
    let chunks = options.chunks.or(default_chunks);
    let exact = match (&options.content, &conv.format) {
        (Some(content), _) => Some(content.clone()),
        (None, Format::JsonObject) => Some(r#"{"mock":"reply"}"#.to_owned()),
        (None, Format::JsonSchema(schema)) => Some(value_for_schema(*schema).to_string()),
        (None, Format::Text) => None,
    };
    match (exact, chunks) {
        (Some(text), Some(count)) => {
            let ends = split_even(&text, count)
                .iter()
                .map(|range| range.end)
                .collect();
            Text { text, ends }
        }
        (Some(text), None) => split_words(text),
        (None, Some(count)) => split_words(numbered_words(count)),
        (None, None) => split_words(echo_text(conv)),
    }
}

fn echo_text(conv: &Conversation<'_>) -> String {
    let (prefix, source) = match &conv.tool_result {
        Some(result) => ("Mock reply to tool result: ", result.as_str()),
        None => ("Mock reply to: ", conv.last_user_text.as_str()),
    };
    let source = source.trim();
    if source.is_empty() {
        return "Mock reply.".to_owned();
    }
    let mut text = String::from(prefix);
    text.extend(source.chars().take(ECHO_LIMIT));
    text
}

fn numbered_words(count: usize) -> String {
    let mut text = String::with_capacity(count * 6);
    for n in 1..=count {
        if n > 1 {
            text.push(' ');
        }
        text.push_str("tok");
        text.push_str(&n.to_string());
    }
    text
}

/// One piece per word; each piece after the first carries the whitespace
/// before it, so the pieces concatenate back to the exact text.
fn split_words(text: String) -> Text {
    let mut ends = Vec::new();
    let mut previous_was_space = true;
    for (at, ch) in text.char_indices() {
        let is_space = ch.is_whitespace();
        if is_space && !previous_was_space && at > 0 {
            ends.push(at);
        }
        previous_was_space = is_space;
    }
    if !text.is_empty() {
        ends.push(text.len());
    }
    Text { text, ends }
}

/// Splits into at most `parts` non-empty ranges of roughly equal length,
/// on character boundaries.
fn split_even(text: &str, parts: usize) -> Vec<std::ops::Range<usize>> {
    let boundaries: Vec<usize> = text.char_indices().map(|(at, _)| at).collect();
    let chars = boundaries.len();
    let parts = parts.min(chars);
    let mut ranges = Vec::with_capacity(parts);
    let mut start = 0;
    for part in 1..=parts {
        let end = boundaries
            .get(part * chars / parts)
            .copied()
            .unwrap_or(text.len());
        ranges.push(start..end);
        start = end;
    }
    ranges
}

fn first_stop<'s>(text: &str, sequences: &[&'s str]) -> Option<(usize, &'s str)> {
    sequences
        .iter()
        .filter(|sequence| !sequence.is_empty())
        .filter_map(|sequence| text.find(sequence).map(|at| (at, *sequence)))
        .min_by_key(|(at, _)| *at)
}

fn tool_calls(conv: &Conversation<'_>, id_prefix: &str) -> Option<Vec<ToolCall>> {
    if conv.tools.is_empty() || conv.tool_result.is_some() {
        return None;
    }
    let chosen: Vec<(&str, Option<&Value>)> = match conv.tool_choice {
        ToolChoice::None => return None,
        ToolChoice::Named(name) => {
            let schema = conv.tools.iter().find(|tool| tool.name == name);
            vec![(name, schema.and_then(|tool| tool.schema))]
        }
        ToolChoice::Required => conv
            .tools
            .iter()
            .take(1)
            .map(|t| (t.name, t.schema))
            .collect(),
        ToolChoice::Auto => {
            let count = if conv.parallel_tools { 2 } else { 1 };
            conv.tools
                .iter()
                .take(count)
                .map(|t| (t.name, t.schema))
                .collect()
        }
    };
    let calls = chosen
        .into_iter()
        .enumerate()
        .map(|(index, (name, schema))| {
            let input = value_for_schema(schema);
            ToolCall {
                id: format!("{id_prefix}{}", index + 1),
                name: name.to_owned(),
                arguments: input.to_string(),
                input,
            }
        })
        .collect();
    Some(calls)
}

/// An object with one placeholder value per schema property, so tool
/// arguments and structured output always parse and usually validate.
fn value_for_schema(schema: Option<&Value>) -> Value {
    let mut object = Map::new();
    if let Some(properties) = schema
        .and_then(|schema| schema.get("properties"))
        .and_then(Value::as_object)
    {
        for (name, property) in properties {
            object.insert(name.clone(), value_for_property(property));
        }
    }
    Value::Object(object)
}

fn value_for_property(property: &Value) -> Value {
    if let Some(first) = property
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|v| v.first())
    {
        return first.clone();
    }
    // Gemini schemas spell types in capitals (`STRING`, `OBJECT`).
    let kind = match property.get("type") {
        Some(Value::String(kind)) => Some(kind.to_ascii_lowercase()),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_lowercase)
            .find(|k| k != "null"),
        _ => None,
    };
    match kind.as_deref() {
        Some("string") => Value::from("mock"),
        Some("integer" | "number") => Value::from(1),
        Some("boolean") => Value::Bool(true),
        Some("array") => Value::Array(Vec::new()),
        Some("object") => Value::Object(Map::new()),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_leading_space() {
        let text = split_words("Mock reply  to: hi".to_owned());
        let pieces: Vec<&str> = text.pieces().collect();
        assert_eq!(pieces, ["Mock", " reply", "  to:", " hi"]);
    }

    #[test]
    fn numbered_words_give_exact_piece_count() {
        let text = split_words(numbered_words(30));
        assert_eq!(text.piece_count(), 30);
        assert_eq!(text.pieces().next(), Some("tok1"));
    }

    #[test]
    fn even_split_covers_the_text() {
        let ranges = split_even("{\"a\":\"é\"}", 3);
        assert_eq!(ranges.len(), 3);
        assert_eq!(ranges.last().map(|r| r.end), Some("{\"a\":\"é\"}".len()));
        assert_eq!(split_even("{}", 3).len(), 2);
    }

    #[test]
    fn cut_splits_the_straddling_piece() {
        let mut text = split_words("one two three".to_owned());
        text.cut_at(6);
        assert_eq!(text.pieces().collect::<Vec<_>>(), ["one", " tw"]);
    }
}
