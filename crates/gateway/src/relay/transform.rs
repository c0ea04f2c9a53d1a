//! The relay's middle step: what sees canonical events between decode and encode. Each
//! later stage that must read or rewrite an answer adds one variant here: the output
//! guard (redact with a bounded hold-back), the cache recorder (assemble the answer),
//! the budget cut-off (end a stream that spends past its budget). Today: the answer
//! assembler, on when the journal keeps bodies, and the budget cut-off, on when a budget
//! applies; without them every answer whose formats allow it passes through as bytes.
//!
//! Must never be skipped on the translate path and never run on the pass-through path:
//! `Transforms::needs` is what makes `path::choose` pick translate when one is present.

use super::assemble::Assembler;
use crate::error::StreamFailure;
use crate::limits::BudgetCut;
use sluice_protocol::canonical::{ChatResponse, StreamEvent};

/// What the stages after dispatch need of an answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// A stage reads or rewrites the answer's text (output guard, cache recorder,
    /// budget cut-off), so it must cross as canonical events even between equal formats.
    pub text: bool,
}

/// One step between decode and encode; a closed set, one variant per stage.
#[derive(Debug)]
pub enum Transform {
    /// Keeps the whole answer for the journal (`journal.bodies`).
    Assemble(Box<Assembler>),
    /// Ends a stream whose running cost passes what its budget can pay.
    BudgetCut(BudgetMeter),
}

/// The budget cut-off's running count. Output tokens are estimated as the text's
/// characters over four while streaming (the tokenizer per delta would cost more than
/// the answer); the provider's usage settles the real figure afterwards.
#[derive(Debug, Clone, Copy)]
pub struct BudgetMeter {
    cut: BudgetCut,
    chars: u64,
}

impl BudgetMeter {
    fn read(&mut self, events: &[StreamEvent]) -> Result<(), StreamFailure> {
        for event in events {
            let text = match event {
                StreamEvent::TextDelta { text } | StreamEvent::ThinkingDelta { text } => text,
                StreamEvent::ToolCallDelta { arguments, .. } => arguments,
                _ => continue,
            };
            self.chars += text.chars().count() as u64;
        }
        let tokens = self.chars.div_ceil(4) as f64;
        let spent = self.cut.input_micros as f64 + tokens * self.cut.output_price;
        if spent > self.cut.allowance_micros as f64 {
            return Err(StreamFailure::Budget);
        }
        Ok(())
    }
}

impl Transform {
    fn needs(&self) -> Needs {
        match self {
            Self::Assemble(_) | Self::BudgetCut(_) => Needs { text: true },
        }
    }

    /// The same step with fresh state, for another attempt.
    fn fresh(&self) -> Self {
        match self {
            Self::Assemble(_) => Self::Assemble(Box::default()),
            Self::BudgetCut(meter) => Self::BudgetCut(BudgetMeter {
                cut: meter.cut,
                chars: 0,
            }),
        }
    }

    #[allow(
        clippy::ptr_arg,
        reason = "the output guard will hold back and add events, which needs the Vec"
    )]
    fn on_events(&mut self, events: &mut Vec<StreamEvent>) -> Result<(), StreamFailure> {
        match self {
            Self::Assemble(a) => a.read(events),
            Self::BudgetCut(meter) => meter.read(events)?,
        }
        Ok(())
    }

    fn on_response(&mut self, _response: &mut ChatResponse) {
        match self {
            // A whole answer is journaled as the client received it (egress).
            Self::Assemble(_) => {}
            // A whole answer is already complete: the settle charges it as it is.
            Self::BudgetCut(_) => {}
        }
    }
}

/// The transforms one request runs, in order.
#[derive(Debug, Default)]
pub struct Transforms(Vec<Transform>);

impl Transforms {
    /// The transforms a request runs: the assembler when the journal keeps bodies, the
    /// budget cut-off when a budget applies.
    pub fn for_request(keep_bodies: bool, budget: Option<BudgetCut>) -> Self {
        let mut chain = Vec::new();
        if keep_bodies {
            chain.push(Transform::Assemble(Box::default()));
        }
        if let Some(cut) = budget {
            chain.push(Transform::BudgetCut(BudgetMeter { cut, chars: 0 }));
        }
        Self(chain)
    }

    /// The assembled answer, when an assembler ran.
    pub fn answer(&self) -> Option<String> {
        self.0.iter().find_map(|t| match t {
            Transform::Assemble(a) => Some(a.answer()),
            Transform::BudgetCut(_) => None,
        })
    }

    /// The same chain with fresh state: each attempt gets its own, so nothing an
    /// attempt that failed over saw leaks into the next.
    pub fn fresh(&self) -> Self {
        Self(self.0.iter().map(Transform::fresh).collect())
    }

    /// What the transforms need to see, for `path::choose`.
    pub fn needs(&self) -> Needs {
        Needs {
            text: self.0.iter().any(|t| t.needs().text),
        }
    }

    /// Runs every transform over the events one upstream event became; a transform may
    /// edit, hold back (remove) or add events, or end the stream.
    pub fn on_events(&mut self, events: &mut Vec<StreamEvent>) -> Result<(), StreamFailure> {
        for transform in &mut self.0 {
            transform.on_events(events)?;
        }
        Ok(())
    }

    /// Runs every transform over a whole (non-stream) answer.
    pub fn on_response(&mut self, response: &mut ChatResponse) {
        for transform in &mut self.0 {
            transform.on_response(response);
        }
    }
}
