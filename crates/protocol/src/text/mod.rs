//! Where the text is: every string a model reads in a request body, every string it
//! wrote in an answer, and the text pieces of a streamed answer's events, for each
//! format, so a stage that must read or rewrite text (the guard) never learns a
//! format's shape. Everything else in a body or event is left exactly as it was.
//!
//! - [`visit`]: a whole body (`Body` names its shape), each text handed to a callback
//!   that may rewrite it; tool-call arguments (JSON inside a string) are parsed and
//!   their strings handed over one by one, so a rewrite can never break their JSON.
//! - [`StreamText`]: one stream's events (`Stream` names the format): the text pieces
//!   of each event by `Channel`, which channels an event closes, the event written back
//!   with edited pieces, and new events that carry text on a channel.
//!
//! Left alone on purpose: Anthropic `thinking` (signed: a changed block fails when it
//! is sent back), images, audio and files, ids and names.
//!
//! Must never panic on input and never change a byte of a body whose texts were all
//! left as they were.

mod raw;
mod stream;
mod strings;

pub use stream::{Channel, Close, Event, Lane, Piece, Stream, StreamText};
pub use strings::strings;

use serde_json::Value;

/// A body shape whose texts `visit` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    ChatRequest,
    ChatResponse,
    MessagesRequest,
    MessagesResponse,
    ResponsesRequest,
    ResponsesResponse,
    CompletionsRequest,
    CompletionsResponse,
    EmbeddingsRequest,
}

/// How a text handed to a callback is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Plain text (a JSON string's value).
    Plain,
    /// JSON source text (tool-call arguments that did not parse, stream fragments).
    Json,
}

/// Calls `f` on every text of `body`; `f` returns whether it changed the text. Returns
/// whether anything changed. The first error from `f` stops the walk.
pub fn visit<E>(
    body: Body,
    value: &mut Value,
    f: &mut dyn FnMut(&mut String, Form) -> Result<bool, E>,
) -> Result<bool, E> {
    let mut w = Walk { f, changed: false };
    match body {
        Body::ChatRequest => {
            for message in each(value, "messages") {
                w.content(message.get_mut("content"))?;
                w.tool_calls(message)?;
            }
        }
        Body::ChatResponse => {
            for choice in each(value, "choices") {
                if let Some(message) = choice.get_mut("message") {
                    for key in ["content", "refusal", "reasoning_content", "reasoning"] {
                        w.string(message.get_mut(key))?;
                    }
                    w.tool_calls(message)?;
                }
            }
        }
        Body::MessagesRequest => {
            w.blocks(value.get_mut("system"))?;
            for message in each(value, "messages") {
                w.blocks(message.get_mut("content"))?;
            }
        }
        Body::MessagesResponse => w.blocks(value.get_mut("content"))?,
        Body::ResponsesRequest => {
            w.string(value.get_mut("instructions"))?;
            match value.get_mut("input") {
                Some(Value::String(s)) => w.call(s, Form::Plain)?,
                Some(Value::Array(items)) => {
                    for item in items {
                        w.response_item(item)?;
                    }
                }
                _ => {}
            }
        }
        Body::ResponsesResponse => {
            for item in each(value, "output") {
                w.response_item(item)?;
            }
        }
        Body::CompletionsRequest => {
            w.strings(value.get_mut("prompt"))?;
            w.string(value.get_mut("suffix"))?;
        }
        Body::CompletionsResponse => {
            for choice in each(value, "choices") {
                w.string(choice.get_mut("text"))?;
            }
        }
        Body::EmbeddingsRequest => w.strings(value.get_mut("input"))?,
    }
    Ok(w.changed)
}

/// The items of the array at `key`, or none.
fn each<'a>(value: &'a mut Value, key: &str) -> impl Iterator<Item = &'a mut Value> {
    value
        .get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

struct Walk<'f, E> {
    f: &'f mut dyn FnMut(&mut String, Form) -> Result<bool, E>,
    changed: bool,
}

impl<E> Walk<'_, E> {
    fn call(&mut self, s: &mut String, form: Form) -> Result<(), E> {
        self.changed |= (self.f)(s, form)?;
        Ok(())
    }

    fn string(&mut self, v: Option<&mut Value>) -> Result<(), E> {
        if let Some(Value::String(s)) = v {
            self.call(s, Form::Plain)?;
        }
        Ok(())
    }

    /// A string, or an array whose strings are texts (embeddings, prompts).
    fn strings(&mut self, v: Option<&mut Value>) -> Result<(), E> {
        match v {
            Some(Value::String(s)) => self.call(s, Form::Plain),
            Some(Value::Array(items)) => {
                for item in items {
                    if let Value::String(s) = item {
                        self.call(s, Form::Plain)?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Every string inside a JSON value (Anthropic tool inputs, parsed arguments).
    fn all(&mut self, v: &mut Value) -> Result<(), E> {
        match v {
            Value::String(s) => self.call(s, Form::Plain),
            Value::Array(items) => items.iter_mut().try_for_each(|i| self.all(i)),
            Value::Object(map) => map.values_mut().try_for_each(|i| self.all(i)),
            _ => Ok(()),
        }
    }

    /// JSON inside a string: parsed and walked, written back only if changed; text that
    /// is not JSON is handed over as JSON source.
    fn json(&mut self, v: Option<&mut Value>) -> Result<(), E> {
        let Some(Value::String(s)) = v else {
            return Ok(());
        };
        let Ok(mut parsed) = serde_json::from_str::<Value>(s) else {
            return self.call(s, Form::Json);
        };
        let mut inner = Walk {
            f: &mut *self.f,
            changed: false,
        };
        inner.all(&mut parsed)?;
        if inner.changed {
            *s = parsed.to_string();
            self.changed = true;
        }
        Ok(())
    }

    /// OpenAI message content: a string, or parts whose text parts are texts.
    fn content(&mut self, v: Option<&mut Value>) -> Result<(), E> {
        match v {
            Some(Value::String(s)) => self.call(s, Form::Plain),
            Some(Value::Array(parts)) => {
                for part in parts {
                    if matches!(
                        part.get("type").and_then(Value::as_str),
                        Some("text" | "input_text" | "output_text")
                    ) {
                        self.string(part.get_mut("text"))?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// OpenAI `tool_calls[].function.arguments` and the legacy `function_call`.
    fn tool_calls(&mut self, message: &mut Value) -> Result<(), E> {
        if let Some(Value::Array(calls)) = message.get_mut("tool_calls") {
            for call in calls {
                if let Some(function) = call.get_mut("function") {
                    self.json(function.get_mut("arguments"))?;
                }
            }
        }
        if let Some(function) = message.get_mut("function_call") {
            self.json(function.get_mut("arguments"))?;
        }
        Ok(())
    }

    /// Anthropic content: a string, or blocks (text, tool use input, tool results,
    /// plain-text documents).
    fn blocks(&mut self, v: Option<&mut Value>) -> Result<(), E> {
        match v {
            Some(Value::String(s)) => self.call(s, Form::Plain),
            Some(Value::Array(blocks)) => {
                for block in blocks {
                    match block.get("type").and_then(Value::as_str) {
                        Some("text") => self.string(block.get_mut("text"))?,
                        Some("tool_use") => {
                            if let Some(input) = block.get_mut("input") {
                                self.all(input)?;
                            }
                        }
                        Some("tool_result") => self.blocks(block.get_mut("content"))?,
                        Some("document") => {
                            if let Some(source) = block.get_mut("source")
                                && source.get("type").and_then(Value::as_str) == Some("text")
                            {
                                self.string(source.get_mut("data"))?;
                            }
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// One Responses input or output item.
    fn response_item(&mut self, item: &mut Value) -> Result<(), E> {
        match item.get("type").and_then(Value::as_str) {
            Some("message") | None => self.content(item.get_mut("content")),
            Some("function_call") => self.json(item.get_mut("arguments")),
            Some("function_call_output") => match item.get_mut("output") {
                Some(Value::String(s)) => self.call(s, Form::Plain),
                other => self.content(other),
            },
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upper(s: &mut String, _: Form) -> Result<bool, ()> {
        let up = s.to_uppercase();
        let changed = up != *s;
        *s = up;
        Ok(changed)
    }

    #[test]
    fn every_request_text_is_visited_and_arguments_stay_json() {
        let mut chat = serde_json::json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:x"}}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{\"to\":\"bob\",\"n\":1}"}}]},
                {"role": "tool", "tool_call_id": "c", "content": "result"}
            ]
        });
        assert_eq!(visit(Body::ChatRequest, &mut chat, &mut upper), Ok(true));
        assert_eq!(chat["messages"][0]["content"], "SYS");
        assert_eq!(chat["messages"][1]["content"][0]["text"], "HI");
        assert_eq!(
            chat["messages"][1]["content"][1]["image_url"]["url"],
            "data:x"
        );
        assert_eq!(
            chat["messages"][2]["tool_calls"][0]["function"]["arguments"],
            "{\"to\":\"BOB\",\"n\":1}"
        );
        assert_eq!(chat["messages"][3]["content"], "RESULT");
        assert_eq!(chat["model"], "m");

        let mut messages = serde_json::json!({
            "system": [{"type": "text", "text": "sys"}],
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "s"}, {"type": "tool_use", "id": "t", "name": "f", "input": {"q": ["a"]}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "out"}]}]}
            ]
        });
        assert_eq!(
            visit(Body::MessagesRequest, &mut messages, &mut upper),
            Ok(true)
        );
        assert_eq!(messages["system"][0]["text"], "SYS");
        assert_eq!(messages["messages"][1]["content"][0]["thinking"], "t");
        assert_eq!(messages["messages"][1]["content"][1]["input"]["q"][0], "A");
        assert_eq!(
            messages["messages"][2]["content"][0]["content"][0]["text"],
            "OUT"
        );

        let mut responses = serde_json::json!({
            "instructions": "be brief",
            "input": [
                {"role": "user", "content": "hi"},
                {"type": "function_call", "call_id": "c", "name": "f", "arguments": "not json"},
                {"type": "function_call_output", "call_id": "c", "output": "done"}
            ]
        });
        let mut forms = Vec::new();
        let mut record = |s: &mut String, form: Form| -> Result<bool, ()> {
            forms.push((s.clone(), form));
            Ok(false)
        };
        assert_eq!(
            visit(Body::ResponsesRequest, &mut responses, &mut record),
            Ok(false)
        );
        assert_eq!(
            forms,
            [
                ("be brief".to_owned(), Form::Plain),
                ("hi".to_owned(), Form::Plain),
                ("not json".to_owned(), Form::Json),
                ("done".to_owned(), Form::Plain)
            ]
        );
    }
}
