//! Token estimates before the call: the prompt's tokens counted with a real tokenizer
//! (o200k, the GPT-4o family's, shipped inside the binary and used for every provider as
//! an estimate; `tokenizer.rs`), and the output the request may produce (its
//! `max_tokens`, or the configured default). The provider's reported usage settles the
//! difference afterwards. The body is read in one pass that builds no JSON tree.
//!
//! Must never run on a request no token-counting limit applies to (the vocabulary costs
//! memory and the count costs CPU), and never count more than `MAX_TEXT` bytes exactly:
//! past it the count is extrapolated, so a huge body cannot buy unbounded CPU.

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Text counted exactly; the rest of a longer prompt is extrapolated from it.
const MAX_TEXT: usize = 256 * 1024;

/// Tokens a chat format adds per message (role markers), as OpenAI documents.
const PER_MESSAGE: u64 = 4;

/// Fields whose strings are not text a model reads as tokens (names of things, media).
const SKIP: [&str; 10] = [
    "model",
    "role",
    "type",
    "id",
    "tool_call_id",
    "url",
    "data",
    "image_url",
    "media_type",
    "mime_type",
];

/// The prompt's estimated tokens in any ingress format's body.
pub fn prompt_tokens(body: &[u8]) -> u64 {
    request(body).0
}

/// The prompt's estimated tokens and the output the request asks for at most, from one
/// pass over the body that builds no JSON tree (a `serde_json::Value` of the body cost
/// more than the count itself).
pub fn request(body: &[u8]) -> (u64, Option<u64>) {
    // Text that is not UTF-8 is no JSON: the walk would fail on it. Read as `&str`,
    // serde_json checks no string again (`sluice_protocol::json`).
    let Ok(text) = std::str::from_utf8(body) else {
        return ((body.len() / 4) as u64, None);
    };
    let mut found = Found::default();
    let mut json = serde_json::Deserializer::from_str(text);
    let walked = Walk {
        found: &mut found,
        field: Field::None,
        depth: 0,
    }
    .deserialize(&mut json)
    .and_then(|_| json.end());
    if walked.is_err() {
        return ((body.len() / 4) as u64, None);
    }
    let tokens = count(&found.text) + found.messages * PER_MESSAGE;
    let max_output = found
        .max_completion_tokens
        .or(found.max_tokens)
        .or(found.max_output_tokens)
        .or(found.max_output_tokens_gemini);
    (tokens, max_output)
}

/// Counts the tokens of `text` with the shipped tokenizer.
pub fn count(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    let Some(bpe) = super::tokenizer::o200k() else {
        return (text.len() / 4) as u64;
    };
    if text.len() <= MAX_TEXT {
        return bpe.count(text) as u64;
    }
    let mut cut = MAX_TEXT;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = bpe.count(&text[..cut]) as u64;
    head.saturating_mul(text.len() as u64) / cut.max(1) as u64
}

/// Loads the tokenizer now, so the first request does not pay for it.
pub fn load_tokenizer() {
    let _ = super::tokenizer::o200k();
}

/// What one pass over the body gathers.
#[derive(Default)]
struct Found {
    /// Every string a model reads, one per line.
    text: String,
    /// Items of `messages`, `contents` or `input` arrays, at any depth.
    messages: u64,
    max_completion_tokens: Option<u64>,
    max_tokens: Option<u64>,
    max_output_tokens: Option<u64>,
    /// Gemini's `generationConfig.maxOutputTokens`.
    max_output_tokens_gemini: Option<u64>,
}

/// The member a value is under, as far as counting cares. Names are classified as they
/// are read, so no key is allocated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    None,
    /// Not text a model reads (`SKIP`).
    Skip,
    /// `messages`, `contents`, `input`: their array items are messages.
    Listing,
    MaxCompletionTokens,
    MaxTokens,
    MaxOutputTokens,
    GenerationConfig,
    /// `maxOutputTokens`, which counts only inside a top-level `generationConfig`.
    GeminiMaxOutputTokens,
    Other,
}

impl Field {
    fn of(name: &str) -> Self {
        match name {
            "messages" | "contents" | "input" => Self::Listing,
            "max_completion_tokens" => Self::MaxCompletionTokens,
            "max_tokens" => Self::MaxTokens,
            "max_output_tokens" => Self::MaxOutputTokens,
            "generationConfig" => Self::GenerationConfig,
            "maxOutputTokens" => Self::GeminiMaxOutputTokens,
            name if SKIP.contains(&name) => Self::Skip,
            _ => Self::Other,
        }
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = Field;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                Ok(Field::of(name))
            }
        }
        deserializer.deserialize_str(Name)
    }
}

/// One value of the body, walked without building it: strings go to the text, arrays
/// under a listing count their items, and the value says whether it was an unsigned
/// integer (for the `max_*` members).
struct Walk<'f> {
    found: &'f mut Found,
    field: Field,
    depth: u32,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = Option<u64>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<u64>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<u64>, E> {
        if self.field != Field::Skip {
            self.found.text.push_str(s);
            self.found.text.push('\n');
        }
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Option<u64>, E> {
        Ok(Some(n))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<u64>, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<u64>, E> {
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<u64>, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<u64>, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Option<u64>, A::Error> {
        let (field, depth) = (self.field, self.depth + 1);
        while items
            .next_element_seed(Walk {
                found: &mut *self.found,
                field,
                depth,
            })?
            .is_some()
        {
            if field == Field::Listing {
                self.found.messages += 1;
            }
        }
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Option<u64>, A::Error> {
        let depth = self.depth + 1;
        let in_generation_config = depth == 2 && self.field == Field::GenerationConfig;
        while let Some(field) = members.next_key::<Field>()? {
            let number = members.next_value_seed(Walk {
                found: &mut *self.found,
                field,
                depth,
            })?;
            let found = &mut *self.found;
            // The `max_*` members count at the top level only, where each format puts
            // them; a repeated member counts as its last value, as JSON parsers read it.
            match field {
                Field::MaxCompletionTokens if depth == 1 => found.max_completion_tokens = number,
                Field::MaxTokens if depth == 1 => found.max_tokens = number,
                Field::MaxOutputTokens if depth == 1 => found.max_output_tokens = number,
                Field::GeminiMaxOutputTokens if in_generation_config => {
                    found.max_output_tokens_gemini = number;
                }
                _ => {}
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
