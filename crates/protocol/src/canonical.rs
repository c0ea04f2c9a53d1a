//! Provider-neutral types. Every wire format converts to and from these (hub and spoke),
//! so adding a format is one converter, never one per pair.
//!
//! Holds only what Sluice reads or edits; must never grow provider-specific fields.

use serde::{Deserialize, Serialize};

/// Token counts of one interaction, normalized across providers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Input tokens served from the provider's prompt cache (a subset of `input_tokens`).
    pub cached_input_tokens: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

/// Why the model stopped, in provider-neutral terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    StopSequence,
}
