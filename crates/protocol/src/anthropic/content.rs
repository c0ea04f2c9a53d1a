//! Content blocks ↔ canonical parts, shared by requests, responses and streams.
//!
//! Reports problems relative to the block (`source.type`, `content[1].text`) so each
//! caller can prefix its own path and choose its error (client's `Invalid` or
//! provider's `Upstream`). Must never decide what an unmappable block costs the caller.

use super::wire::{InBlock, InSource, OutSource, TextOrBlocks, ToolInput};
use crate::canonical::{CacheControl, ImageSource, Part};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

/// A block that cannot become a canonical part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockError {
    pub message: String,
    /// Path of the offending field relative to the block.
    pub field: String,
}

impl BlockError {
    fn missing(field: &str) -> Self {
        Self {
            message: format!("missing field `{field}`"),
            field: field.to_owned(),
        }
    }

    fn untranslatable(what: &str, kind: &str, field: &str) -> Self {
        Self {
            message: format!("{what} type `{kind}` cannot be translated"),
            field: field.to_owned(),
        }
    }

    /// The same error seen from an enclosing block's `field`.
    fn nested(self, field: &str) -> Self {
        Self {
            message: self.message,
            field: format!("{field}.{}", self.field),
        }
    }
}

/// The block types [`to_part`] maps; any other is untranslatable.
pub fn is_known(kind: &str) -> bool {
    matches!(
        kind,
        "text" | "image" | "tool_use" | "tool_result" | "thinking" | "redacted_thinking"
    )
}

/// One block as a canonical part.
pub fn to_part(block: InBlock) -> Result<Part, BlockError> {
    let cache_control = block.cache_control.map(CacheControl);
    match block.kind.as_str() {
        "text" => Ok(Part::Text {
            text: need(block.text, "text")?,
            cache_control,
        }),
        "image" => {
            let source: InSource = parse(need(block.source, "source")?, "source")?;
            Ok(Part::Image {
                source: image_source(source).map_err(|e| e.nested("source"))?,
                detail: None,
                cache_control,
            })
        }
        // `cache_control` on a tool_use block has no canonical home and is dropped.
        "tool_use" => Ok(Part::ToolCall {
            id: need(block.id, "id")?,
            name: need(block.name, "name")?,
            arguments: need(block.input, "input")?.to_string(),
        }),
        "tool_result" => Ok(Part::ToolResult {
            call_id: need(block.tool_use_id, "tool_use_id")?,
            name: None,
            content: match block.content {
                Some(content) => tool_result_content(parse(content, "content")?)?,
                None => Vec::new(),
            },
            is_error: block.is_error.unwrap_or(false),
            cache_control,
        }),
        "thinking" => Ok(Part::Thinking {
            text: need(block.thinking, "thinking")?,
            signature: block.signature.filter(|s| !s.is_empty()),
        }),
        "redacted_thinking" => Ok(Part::RedactedThinking {
            data: need(block.data, "data")?,
        }),
        other => Err(BlockError::untranslatable("content block", other, "type")),
    }
}

fn need<T>(value: Option<T>, field: &str) -> Result<T, BlockError> {
    value.ok_or_else(|| BlockError::missing(field))
}

/// A field kept as JSON, read now that the block's type is known.
fn parse<T: DeserializeOwned>(value: Value, field: &str) -> Result<T, BlockError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = match path.as_str() {
            "." => field.to_owned(),
            p if p.starts_with('[') => format!("{field}{p}"),
            p => format!("{field}.{p}"),
        };
        BlockError {
            message: e.inner().to_string(),
            field,
        }
    })
}

fn image_source(source: InSource) -> Result<ImageSource, BlockError> {
    match need(source.kind, "type")?.as_str() {
        "base64" => Ok(ImageSource::Base64 {
            media_type: need(source.media_type, "media_type")?,
            data: need(source.data, "data")?,
        }),
        "url" => Ok(ImageSource::Url(need(source.url, "url")?)),
        other => Err(BlockError::untranslatable("image source", other, "type")),
    }
}

/// A tool result's content: a string, or text and image blocks.
fn tool_result_content(content: TextOrBlocks) -> Result<Vec<Part>, BlockError> {
    match content {
        TextOrBlocks::Text(text) => Ok(vec![Part::text(text)]),
        TextOrBlocks::Blocks(blocks) => blocks
            .into_iter()
            .enumerate()
            .map(|(i, block)| {
                let here = format!("content[{i}]");
                if !matches!(block.kind.as_str(), "text" | "image") {
                    let err = BlockError::untranslatable("content block", &block.kind, "type");
                    return Err(err.nested(&here));
                }
                to_part(block).map_err(|e| e.nested(&here))
            })
            .collect(),
    }
}

pub fn out_source(source: &ImageSource) -> OutSource<'_> {
    match source {
        ImageSource::Url(url) => OutSource::Url { url },
        ImageSource::Base64 { media_type, data } => OutSource::Base64 { media_type, data },
    }
}

/// A tool call's arguments text as Anthropic's `input` object; `None` when the text is
/// not a JSON object. Empty text means no arguments (some OpenAI-compatible servers).
pub fn tool_input(arguments: &str) -> Option<ToolInput<'_>> {
    let trimmed = arguments.trim();
    if trimmed.is_empty() {
        return Some(ToolInput::Empty(Default::default()));
    }
    let raw: &RawValue = serde_json::from_str(trimmed).ok()?;
    raw.get().starts_with('{').then_some(ToolInput::Json(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(json: &str) -> InBlock {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn untranslatable_nested_block_names_its_path() {
        let b = block(
            r#"{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"a"},{"type":"document"}]}"#,
        );
        let err = to_part(b).unwrap_err();
        assert_eq!(err.field, "content[1].type");
        assert_eq!(
            err.message,
            "content block type `document` cannot be translated"
        );
    }

    #[test]
    fn missing_fields_and_unknown_sources_are_reported() {
        assert_eq!(
            to_part(block(r#"{"type":"text"}"#)).unwrap_err().field,
            "text"
        );
        let err = to_part(block(
            r#"{"type":"image","source":{"type":"file","file_id":"f"}}"#,
        ))
        .unwrap_err();
        assert_eq!(err.field, "source.type");
        let b = block(
            r#"{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":2}]}"#,
        );
        assert_eq!(to_part(b).unwrap_err().field, "content[0].text");
        let b = block(r#"{"type":"image","source":{"type":"base64","data":"x"}}"#);
        assert_eq!(to_part(b).unwrap_err().field, "source.media_type");
    }

    #[test]
    fn tool_input_accepts_objects_and_empty_text_only() {
        assert!(matches!(
            tool_input(" {\"a\":1} "),
            Some(ToolInput::Json(_))
        ));
        assert!(matches!(tool_input(""), Some(ToolInput::Empty(_))));
        assert!(tool_input("[1]").is_none());
        assert!(tool_input("{\"a\":").is_none());
    }
}
