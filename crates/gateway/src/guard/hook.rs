//! The external guard hook: an HTTP call to a classifier (Llama Guard behind an
//! OpenAI-compatible server such as vLLM, or Microsoft Presidio's analyzer) that judges
//! the prompt, under its own timeout, with a fail-open or fail-closed policy for when it
//! cannot answer. The pipeline runs it before the upstream call, or at the same time
//! (`mode = "parallel"`): then the answer waits for the verdict and a refusal cancels
//! the upstream request, so nothing the classifier refused reaches the client.
//!
//! Must never send the hook anything but the prompt's text (no key, no header of the
//! client's), never log that text, and never wait past the hook's timeout.

use super::findings::{Direction, Finding};
use crate::config::{HookConfig, HookKind};
use crate::error::GatewayError;
use serde_json::{Value, json};
use std::sync::Arc;

/// The most prompt text a hook is sent; past it, the newest part (the end) is kept.
pub const MAX_HOOK_TEXT: usize = 64 << 10;

/// The largest answer read from a hook.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// A hook's client, built with the snapshot.
#[derive(Debug, Clone)]
pub struct Hook {
    config: Arc<HookConfig>,
    client: reqwest::Client,
}

/// What the hook said of one prompt.
#[derive(Debug)]
pub struct Verdict {
    /// The record's lines for it.
    pub findings: Vec<Finding>,
    /// Set when the request must not go on.
    pub refusal: Option<GatewayError>,
    /// For the metric: `pass`, `flagged` or `error`.
    pub outcome: &'static str,
}

/// Why a hook gave no verdict.
#[derive(Debug, Clone, Copy)]
enum Failure {
    Timeout,
    Unreachable,
    BadAnswer,
}

impl Failure {
    fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Unreachable => "unreachable",
            Self::BadAnswer => "bad_answer",
        }
    }
}

impl Hook {
    pub fn new(config: Arc<HookConfig>) -> Option<Self> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .timeout(config.timeout)
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
            .build()
            .ok()?;
        Some(Self { config, client })
    }

    /// Whether the verdict may come while the upstream call runs.
    pub fn parallel(&self) -> bool {
        self.config.parallel
    }

    /// Asks the classifier about `text` and turns its answer into a verdict.
    pub async fn judge(&self, text: String) -> Verdict {
        let answer = tokio::time::timeout(self.config.timeout, self.ask(text)).await;
        let result = match answer {
            Ok(result) => result,
            Err(_) => Err(Failure::Timeout),
        };
        match result {
            Ok(flagged) if flagged.is_empty() => Verdict {
                findings: Vec::new(),
                refusal: None,
                outcome: "pass",
            },
            Ok(flagged) => self.flagged(flagged),
            Err(failure) => self.failed(failure),
        }
    }

    fn flagged(&self, categories: Vec<String>) -> Verdict {
        let action = if self.config.block { "block" } else { "log" };
        let findings = categories
            .iter()
            .map(|c| Finding {
                direction: Direction::Hook,
                category: "classifier".to_owned(),
                detector: c.clone(),
                action: action.to_owned(),
                count: 1,
            })
            .collect();
        let refusal = self.config.block.then(|| GatewayError::GuardBlocked {
            direction: Direction::Hook,
            category: "classifier",
            detector: categories.join(", "),
        });
        Verdict {
            findings,
            refusal,
            outcome: "flagged",
        }
    }

    fn failed(&self, failure: Failure) -> Verdict {
        tracing::warn!(hook = %self.config.url, error = failure.as_str(), fail_open = self.config.fail_open, "guard hook gave no verdict");
        let action = if self.config.fail_open {
            "allow"
        } else {
            "block"
        };
        Verdict {
            findings: vec![Finding {
                direction: Direction::Hook,
                category: "hook_error".to_owned(),
                detector: failure.as_str().to_owned(),
                action: action.to_owned(),
                count: 1,
            }],
            refusal: (!self.config.fail_open).then_some(GatewayError::GuardUnavailable),
            outcome: "error",
        }
    }

    /// The categories the classifier flagged (none: safe).
    async fn ask(&self, text: String) -> Result<Vec<String>, Failure> {
        let body = match self.config.kind {
            HookKind::LlamaGuard => json!({
                "model": self.config.model,
                "messages": [{ "role": "user", "content": text }],
                "temperature": 0,
                "max_tokens": 32,
            }),
            HookKind::Presidio => {
                let mut body = json!({
                    "text": text,
                    "language": self.config.language,
                    "score_threshold": self.config.score_threshold,
                });
                if !self.config.entities.is_empty() {
                    body["entities"] = json!(self.config.entities);
                }
                body
            }
        };
        let mut request = self
            .client
            .post(&self.config.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key.expose());
        }
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                Failure::Timeout
            } else {
                Failure::Unreachable
            }
        })?;
        if !response.status().is_success() {
            return Err(Failure::BadAnswer);
        }
        let mut response = response;
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if bytes.len() + chunk.len() <= MAX_ANSWER_BYTES => {
                    bytes.extend_from_slice(&chunk);
                }
                Ok(Some(_)) => return Err(Failure::BadAnswer),
                Ok(None) => break,
                Err(e) if e.is_timeout() => return Err(Failure::Timeout),
                Err(_) => return Err(Failure::Unreachable),
            }
        }
        let answer: Value = serde_json::from_slice(&bytes).map_err(|_| Failure::BadAnswer)?;
        match self.config.kind {
            HookKind::LlamaGuard => llama_guard(&answer),
            HookKind::Presidio => Ok(presidio(&answer, self.config.score_threshold)),
        }
    }
}

/// Llama Guard answers `safe`, or `unsafe` with the categories on the next line.
fn llama_guard(answer: &Value) -> Result<Vec<String>, Failure> {
    let content = answer
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or(Failure::BadAnswer)?
        .trim();
    let mut lines = content.lines().map(str::trim);
    match lines.next() {
        Some("safe") => Ok(Vec::new()),
        Some("unsafe") => {
            let categories: Vec<String> = lines
                .next()
                .unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty() && c.len() <= 16)
                .map(str::to_owned)
                .collect();
            Ok(if categories.is_empty() {
                vec!["unsafe".to_owned()]
            } else {
                categories
            })
        }
        _ => Err(Failure::BadAnswer),
    }
}

/// Presidio lists entities with scores; the types at or over the threshold are flagged.
fn presidio(answer: &Value, threshold: f64) -> Vec<String> {
    let mut types: Vec<String> = Vec::new();
    for entity in answer.as_array().into_iter().flatten() {
        let score = entity.get("score").and_then(Value::as_f64).unwrap_or(0.0);
        if let Some(kind) = entity.get("entity_type").and_then(Value::as_str)
            && score >= threshold
            && kind.len() <= 64
            && !types.iter().any(|t| t == kind)
        {
            types.push(kind.to_owned());
        }
    }
    types
}

/// The prompt's text for the hook: every text in the body, newest last, at most
/// `MAX_HOOK_TEXT` (the end kept).
pub fn prompt_text(kind: sluice_protocol::text::Body, body: &[u8]) -> String {
    let mut value: Value = serde_json::from_slice(body).unwrap_or_default();
    let mut text = String::new();
    let _ = sluice_protocol::text::visit::<()>(kind, &mut value, &mut |s, _| {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(s);
        Ok(false)
    });
    if text.len() > MAX_HOOK_TEXT {
        let mut cut = text.len() - MAX_HOOK_TEXT;
        while !text.is_char_boundary(cut) {
            cut += 1;
        }
        text.drain(..cut);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama_guard_answers_are_read() {
        let answer = |content: &str| json!({"choices": [{"message": {"content": content}}]});
        assert_eq!(llama_guard(&answer("safe")).ok(), Some(vec![]));
        assert_eq!(
            llama_guard(&answer("\n\nunsafe\nS1,S10")).ok(),
            Some(vec!["S1".to_owned(), "S10".to_owned()])
        );
        assert_eq!(
            llama_guard(&answer("unsafe")).ok(),
            Some(vec!["unsafe".to_owned()])
        );
        assert!(llama_guard(&answer("I cannot help")).is_err());
        assert!(llama_guard(&json!({})).is_err());
    }

    #[test]
    fn presidio_entities_over_the_threshold_are_flagged_once() {
        let answer = json!([
            {"entity_type": "PERSON", "start": 0, "end": 4, "score": 0.85},
            {"entity_type": "PERSON", "start": 9, "end": 12, "score": 0.9},
            {"entity_type": "URL", "start": 20, "end": 30, "score": 0.3}
        ]);
        assert_eq!(presidio(&answer, 0.5), ["PERSON"]);
    }
}
