//! OpenAI's error body: `{"error":{"message","type","param","code"}}`. SDKs pick their
//! exception class from the HTTP status and read `message`/`code` from this body.
//!
//! Must never carry internal addresses, keys or stack traces: callers pass client-safe text.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub message: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub param: Option<String>,
    pub code: Option<String>,
}

impl ErrorBody {
    pub fn new(message: impl Into<String>, kind: &str, code: Option<&str>) -> Self {
        Self {
            error: ErrorDetail {
                message: message.into(),
                kind: kind.to_owned(),
                param: None,
                code: code.map(str::to_owned),
            },
        }
    }

    pub fn with_param(mut self, param: Option<String>) -> Self {
        self.error.param = param;
        self
    }

    pub fn to_json(&self) -> String {
        // Serializing plain strings into a JSON object cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{\"error\":{}}"))
    }
}
