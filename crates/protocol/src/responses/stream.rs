//! Encodes canonical stream events as a Responses event stream: `response.created`,
//! `response.in_progress`, the output items' events (`items.rs`), and at the end
//! `response.completed` (or `response.incomplete`, as the API sends for
//! `max_output_tokens` and content filtering) carrying the whole response object.
//!
//! The final object is built by the same code as the non-streamed body, so both forms
//! of one answer agree. Must never emit anything after its terminal event, and never
//! the terminal event before the canonical `End` (usage may still follow `Finish`).

use super::echo::Echo;
use super::error::{ErrorEvent, failure_code, status_for_kind};
use super::events::Lifecycle;
use super::items::Items;
use super::object::{ErrorObject, Ids, Snapshot, Status, response_object};
use crate::canonical::{ChatRequest, FinishReason, ProviderError, StreamEvent, Usage};
use bytes::BytesMut;

/// Turns one response's canonical events into Responses SSE bytes.
#[derive(Debug)]
pub struct StreamEncoder {
    echo: Echo,
    /// The response id (`resp_...`), fixed at `Start`.
    id: String,
    model: String,
    created: u64,
    started: bool,
    items: Items,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
    done: bool,
}

impl StreamEncoder {
    pub fn new(req: &ChatRequest) -> Self {
        Self {
            echo: Echo::new(req),
            id: String::new(),
            model: String::new(),
            created: 0,
            started: false,
            items: Items::default(),
            finish: None,
            usage: None,
            done: false,
        }
    }

    /// Appends the Responses SSE bytes for one canonical event (none, one or several).
    pub fn encode(&mut self, event: &StreamEvent, out: &mut BytesMut) {
        if self.done {
            return;
        }
        if let StreamEvent::Start { id, model, created } = event {
            self.start(id, model, *created);
        } else {
            // A stream that skipped `Start` still gets its lifecycle events.
            self.start("", "", 0);
            self.apply(event);
        }
        self.items.sink.drain_into(out);
    }

    /// Ends the stream with a failure Sluice itself detected (upstream cut off, idle
    /// timeout): an `error` event, then `response.failed` with the output so far.
    pub fn encode_error(&mut self, err: &ProviderError, out: &mut BytesMut) {
        if self.done {
            return;
        }
        self.start("", "", 0);
        self.fail(err);
        self.items.sink.drain_into(out);
    }

    fn apply(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::TextDelta { text } => self.items.text(text),
            StreamEvent::ThinkingDelta { text } => self.items.thinking(text),
            // Both end a thinking block; Anthropic's opaque thinking itself has no
            // Responses form.
            StreamEvent::ThinkingSignature { .. } | StreamEvent::RedactedThinking { .. } => {
                self.items.end_summary_part()
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                self.items.call_start(*index, id, name)
            }
            StreamEvent::ToolCallDelta { index, arguments } => {
                self.items.call_delta(*index, arguments)
            }
            StreamEvent::Finish { reason, .. } => {
                self.finish = Some(*reason);
                self.items
                    .close_open(Status::from_finish(self.finish).item_status());
            }
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Error { kind, message } => {
                let err = ProviderError {
                    status: status_for_kind(kind),
                    kind: kind.clone(),
                    message: message.clone(),
                    param: None,
                    code: None,
                };
                self.fail(&err);
            }
            StreamEvent::End => self.end(),
            StreamEvent::Start { .. } => {}
        }
    }

    /// `response.created` and `response.in_progress`, once.
    fn start(&mut self, id: &str, model: &str, created: u64) {
        if self.started {
            return;
        }
        self.started = true;
        self.items.ids = Ids::new(id);
        self.id = self.items.ids.response();
        self.model = model.to_owned();
        self.created = created;
        self.lifecycle("response.created", &Status::InProgress);
        self.lifecycle("response.in_progress", &Status::InProgress);
    }

    fn lifecycle(&mut self, kind: &str, status: &Status) {
        let snap = Snapshot {
            id: &self.id,
            model: &self.model,
            created: self.created,
            status,
            output: &self.items.output,
            usage: self.usage,
        };
        let response = response_object(&self.echo, &snap);
        self.items.sink.emit(kind, Lifecycle { response });
    }

    fn end(&mut self) {
        let status = Status::from_finish(self.finish);
        self.items.close_open(status.item_status());
        let kind = match status {
            Status::Incomplete(_) => "response.incomplete",
            _ => "response.completed",
        };
        self.lifecycle(kind, &status);
        self.done = true;
    }

    /// The `error` event (which makes SDKs raise), then `response.failed` (which typed
    /// clients treat as the terminal event) with the output so far.
    fn fail(&mut self, err: &ProviderError) {
        let event = ErrorEvent::new(err, self.items.sink.next_number()).to_sse();
        self.items.sink.raw(&event);
        self.items.abandon_open();
        let status = Status::Failed(ErrorObject {
            code: failure_code(err.status, &err.kind).to_owned(),
            message: err.message.clone(),
        });
        self.lifecycle("response.failed", &status);
        self.done = true;
    }
}
