//! A complete (non-streamed) chat response in provider-neutral form.
//!
//! Must never carry provider-specific envelope fields; encoders make those up.

use super::request::Part;
use super::{FinishReason, Usage};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The provider's response id (encoders may prefix or keep it).
    pub id: String,
    /// The model that answered, as the provider named it.
    pub model: String,
    /// Unix seconds; 0 when the provider did not say.
    pub created: u64,
    /// `Text`, `ToolCall`, `Thinking` and `RedactedThinking` parts, in order.
    pub content: Vec<Part>,
    pub finish: Option<FinishReason>,
    /// The stop sequence that ended the answer, when `finish` is `StopSequence`.
    pub stop_sequence: Option<String>,
    pub usage: Option<Usage>,
}

impl ChatResponse {
    /// All text parts joined.
    pub fn text(&self) -> String {
        self.content.iter().filter_map(Part::as_text).collect()
    }
}
