//! Serde types of Anthropic's stream events, one set per direction: `InEvent` for the
//! provider-side decoder, borrowed `OutEvent` for the ingress encoder.
//!
//! Must never hold translation logic: only shapes.

use super::wire::{InBlock, InErrorDetail, InUsage, OutBlock, OutResponse};
use serde::{Deserialize, Serialize};

/// One stream event. Unknown event types are kept as `Other` so new ones are skipped.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InEvent {
    MessageStart {
        message: InStartMessage,
    },
    ContentBlockStart {
        index: u64,
        content_block: Box<InBlock>,
    },
    ContentBlockDelta {
        index: u64,
        delta: InDelta,
    },
    ContentBlockStop {
        index: u64,
    },
    MessageDelta {
        delta: InMessageDelta,
        #[serde(default)]
        usage: Option<InUsage>,
    },
    MessageStop,
    Ping,
    Error {
        error: InErrorDetail,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
pub struct InStartMessage {
    pub id: String,
    pub model: String,
    pub usage: Option<InUsage>,
}

#[derive(Debug, Deserialize)]
pub struct InDelta {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: Option<String>,
    pub partial_json: Option<String>,
    pub thinking: Option<String>,
    pub signature: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct InMessageDelta {
    pub stop_reason: Option<String>,
    pub stop_sequence: Option<String>,
}

/// One stream event as the encoder writes it.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutEvent<'a> {
    MessageStart {
        message: OutResponse<'a>,
    },
    ContentBlockStart {
        index: usize,
        content_block: OutBlock<'a>,
    },
    Ping,
    ContentBlockDelta {
        index: usize,
        delta: OutDelta<'a>,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: OutMessageDelta<'a>,
        usage: OutDeltaUsage,
    },
    MessageStop,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutDelta<'a> {
    TextDelta { text: &'a str },
    InputJsonDelta { partial_json: &'a str },
    ThinkingDelta { thinking: &'a str },
    SignatureDelta { signature: &'a str },
}

#[derive(Debug, Serialize)]
pub struct OutMessageDelta<'a> {
    pub stop_reason: Option<&'static str>,
    pub stop_sequence: Option<&'a str>,
}

/// `message_delta` usage: output tokens always; the input split only once known
/// (SDK accumulators overwrite their input counts with these when present).
#[derive(Debug, Default, Serialize)]
pub struct OutDeltaUsage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    pub output_tokens: u64,
}
