//! The request fields a Responses object repeats back (`instructions`, `tools`,
//! `tool_choice`, `text.format`, sampling settings, `metadata`), taken from the decoded
//! canonical request.
//!
//! Must never echo what the client did not send in a form the API would not: absent
//! settings are `null` or the API's defaults (`tool_choice: "auto"`, text format `text`).

use crate::canonical::{ChatRequest, ResponseFormat, ToolChoice};
use serde::Serialize;
use serde_json::Value;

/// The request fields a response object echoes, copied once (a stream repeats them in
/// up to three events).
#[derive(Debug, Clone)]
pub(crate) struct Echo {
    pub(super) instructions: Option<String>,
    pub(super) max_output_tokens: Option<u64>,
    /// The model the client asked for, when the provider does not name one.
    pub(crate) model: String,
    pub(super) parallel_tool_calls: bool,
    pub(super) reasoning: Option<ReasoningEcho>,
    pub(super) temperature: Option<f64>,
    pub(super) top_p: Option<f64>,
    pub(super) tool_choice: ToolChoiceEcho,
    pub(super) tools: Vec<ToolEcho>,
    pub(super) text: TextEcho,
    pub(super) metadata: Value,
}

impl Echo {
    pub(crate) fn new(req: &ChatRequest) -> Self {
        // Canonical system text merges `instructions` with system/developer input
        // messages; the echo shows all of it, since that is what the model was told.
        let system: Vec<&str> = req.system.iter().filter_map(|p| p.as_text()).collect();
        Self {
            instructions: (!system.is_empty()).then(|| system.join("\n\n")),
            max_output_tokens: req.max_tokens,
            model: req.model.clone(),
            parallel_tool_calls: req.parallel_tool_calls.unwrap_or(true),
            reasoning: req.reasoning.as_ref().map(|r| ReasoningEcho {
                effort: r.effort().to_owned(),
                summary: None,
            }),
            temperature: req.temperature,
            top_p: req.top_p,
            tool_choice: tool_choice_echo(req.tool_choice.as_ref()),
            tools: req.tools.iter().map(ToolEcho::new).collect(),
            text: TextEcho {
                format: format_echo(req.response_format.as_ref()),
            },
            metadata: req
                .extra
                .get("metadata")
                .cloned()
                .unwrap_or_else(|| Value::Object(Default::default())),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct ReasoningEcho {
    effort: String,
    summary: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub(super) enum ToolChoiceEcho {
    Mode(&'static str),
    Function {
        #[serde(rename = "type")]
        kind: &'static str,
        name: String,
    },
}

fn tool_choice_echo(choice: Option<&ToolChoice>) -> ToolChoiceEcho {
    match choice {
        None | Some(ToolChoice::Auto) => ToolChoiceEcho::Mode("auto"),
        Some(ToolChoice::None) => ToolChoiceEcho::Mode("none"),
        Some(ToolChoice::Required) => ToolChoiceEcho::Mode("required"),
        Some(ToolChoice::Tool(name)) => ToolChoiceEcho::Function {
            kind: "function",
            name: name.clone(),
        },
    }
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct ToolEcho {
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    description: Option<String>,
    parameters: Value,
    strict: Option<bool>,
}

impl ToolEcho {
    fn new(tool: &crate::canonical::Tool) -> Self {
        Self {
            kind: "function",
            name: tool.name.clone(),
            description: tool.description.clone(),
            parameters: tool.parameters.clone(),
            strict: tool.strict,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct TextEcho {
    format: FormatEcho,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FormatEcho {
    Text,
    JsonObject,
    JsonSchema {
        name: String,
        schema: Value,
        strict: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
}

fn format_echo(format: Option<&ResponseFormat>) -> FormatEcho {
    match format {
        None | Some(ResponseFormat::Text) => FormatEcho::Text,
        Some(ResponseFormat::JsonObject) => FormatEcho::JsonObject,
        Some(ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
            description,
        }) => FormatEcho::JsonSchema {
            name: name.clone(),
            schema: schema.clone(),
            strict: *strict,
            description: description.clone(),
        },
    }
}
