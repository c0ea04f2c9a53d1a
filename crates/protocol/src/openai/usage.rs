//! Finds token usage in OpenAI responses and stream chunks without building a tree:
//! every other field is skipped by serde.
//!
//! Must never fail a response because usage is missing or odd: usage is best effort.

use crate::canonical::Usage;
use crate::canonical::stream::USAGE_KEY;
use serde::Deserialize;

#[derive(Deserialize)]
struct WithUsage {
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

/// Usage from a whole response body or one chunk's JSON; `None` when absent or null.
pub fn find_usage(json: &[u8]) -> Option<Usage> {
    // Most stream chunks carry no usage; skip them without parsing.
    USAGE_KEY.find(json)?;
    let parsed: WithUsage = crate::json::from_bytes(json).ok()?;
    parsed.usage.map(Usage::from)
}

/// Validates a whole response body as JSON and reads its usage in the same pass
/// (the pass-through path needs both, and one parse costs half of two).
pub fn validate_and_find_usage(json: &[u8]) -> Result<Option<Usage>, serde_json::Error> {
    let parsed: WithUsage = crate::json::from_bytes(json)?;
    Ok(parsed.usage.map(Usage::from))
}

impl From<WireUsage> for Usage {
    fn from(wire: WireUsage) -> Self {
        Usage {
            input_tokens: wire.prompt_tokens,
            output_tokens: wire.completion_tokens,
            cached_input_tokens: wire
                .prompt_tokens_details
                .and_then(|d| d.cached_tokens)
                .unwrap_or(0),
            cache_creation_input_tokens: 0,
            reasoning_tokens: wire
                .completion_tokens_details
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0),
        }
    }
}

/// True when a stream chunk is an in-band error object (`{"error":{...}}`).
pub fn is_error_chunk(json: &[u8]) -> bool {
    let trimmed = json.trim_ascii_start();
    trimmed.starts_with(b"{\"error\"") || trimmed.starts_with(b"{ \"error\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_usage_and_cached_tokens() {
        let u = find_usage(
            br#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":4}}}"#,
        );
        assert_eq!(
            u,
            Some(Usage {
                input_tokens: 9,
                output_tokens: 3,
                cached_input_tokens: 4,
                ..Usage::default()
            })
        );
    }

    #[test]
    fn null_usage_is_none() {
        assert_eq!(find_usage(br#"{"choices":[],"usage":null}"#), None);
        assert_eq!(find_usage(br#"{"choices":[]}"#), None);
    }
}
