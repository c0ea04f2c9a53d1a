//! `[guard.hook]`: the external classifier the guard asks about each prompt (Llama Guard
//! behind an OpenAI-compatible server, or Presidio), with its timeout and its policy for
//! when it cannot answer.
//!
//! Must never print the hook's API key (a `Secret`).

use super::Secret;
use super::ctx::Ctx;
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
pub struct RawHook {
    pub kind: String,
    pub url: String,
    pub model: Option<String>,
    pub api_key: Option<String>,
    pub timeout: Option<String>,
    pub on_error: Option<String>,
    pub mode: Option<String>,
    pub action: Option<String>,
    pub score_threshold: Option<f64>,
    pub entities: Option<Vec<String>>,
    pub language: Option<String>,
}

/// `[guard.hook]`: an external classifier asked about each prompt.
#[derive(Debug, Clone)]
pub struct HookConfig {
    pub kind: HookKind,
    pub url: String,
    pub model: Option<String>,
    pub api_key: Option<Secret>,
    pub timeout: Duration,
    /// What a hook that fails or times out means: let the request through or refuse it.
    pub fail_open: bool,
    /// Ask before sending upstream, or at the same time (the answer is held until the
    /// verdict, and a refusal cancels the upstream call).
    pub parallel: bool,
    /// `block` refuses a flagged prompt; `log` only records the verdict.
    pub block: bool,
    pub score_threshold: f64,
    pub entities: Vec<String>,
    pub language: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    /// Llama Guard (or any model answering `safe` / `unsafe\nS1,...`) served behind an
    /// OpenAI-compatible `/v1/chat/completions`.
    LlamaGuard,
    /// Microsoft Presidio's analyzer (`POST /analyze`).
    Presidio,
}

pub(super) fn hook(cx: &mut Ctx<'_>, raw: &RawHook) -> Option<HookConfig> {
    let kind = match raw.kind.as_str() {
        "llama-guard" => HookKind::LlamaGuard,
        "presidio" => HookKind::Presidio,
        other => {
            cx.problem(
                "guard.hook.kind",
                format!("unknown hook kind `{other}` (llama-guard or presidio)"),
            );
            return None;
        }
    };
    let url = cx.string("guard.hook.url", &raw.url)?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        cx.problem("guard.hook.url", "must be an http:// or https:// URL");
        return None;
    }
    if kind == HookKind::LlamaGuard && raw.model.is_none() {
        cx.problem(
            "guard.hook.model",
            "a llama-guard hook needs the model's name",
        );
    }
    let choice =
        |cx: &mut Ctx<'_>, key: &str, value: &Option<String>, options: [&str; 2]| match value
            .as_deref()
        {
            None => true,
            Some(v) if v == options[0] => true,
            Some(v) if v == options[1] => false,
            Some(v) => {
                cx.problem(
                    format!("guard.hook.{key}"),
                    format!("`{v}`: must be {} or {}", options[0], options[1]),
                );
                true
            }
        };
    let fail_open = choice(cx, "on_error", &raw.on_error, ["open", "closed"]);
    let parallel = !choice(cx, "mode", &raw.mode, ["before", "parallel"]);
    let block = choice(cx, "action", &raw.action, ["block", "log"]);
    let score_threshold = raw.score_threshold.unwrap_or(0.5);
    if !(0.0..=1.0).contains(&score_threshold) {
        cx.problem("guard.hook.score_threshold", "must be between 0 and 1");
    }
    Some(HookConfig {
        kind,
        model: raw
            .model
            .as_ref()
            .and_then(|m| cx.string("guard.hook.model", m)),
        api_key: raw
            .api_key
            .as_ref()
            .and_then(|k| cx.string("guard.hook.api_key", k))
            .map(Secret::new),
        timeout: cx.duration(
            "guard.hook.timeout",
            raw.timeout.as_ref(),
            Duration::from_millis(500),
        ),
        url,
        fail_open,
        parallel,
        block,
        score_threshold,
        entities: raw.entities.clone().unwrap_or_default(),
        language: raw.language.clone().unwrap_or_else(|| "en".to_owned()),
    })
}
