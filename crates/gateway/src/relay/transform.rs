//! The relay's middle step: what sees an answer between decode and encode. Each stage
//! that must read or rewrite a streamed answer adds one variant here: the answer
//! assembler (journal bodies), the budget cut-off, the output guard; a cache recorder
//! would be the next.
//!
//! Two hooks, one per depth of need:
//! - `on_events`: canonical events (translate path only). A variant that needs them
//!   says `Needs::text`, which makes `path::choose` pick translate even between equal
//!   formats (the assembler).
//! - `edit` / `close`: text pieces by channel, on either path. A variant that only
//!   reads or rewrites text says `Needs::edit` (the output guard, the budget cut-off): a
//!   same-format stream then stays on the pass-through path and only its text fields
//!   are read and rewritten (`relay::edit`), while a translated one reaches the same
//!   variant through its canonical events.
//!
//! Must never be skipped: a pass-through stream whose transforms edit text is read
//! event by event (`relay::edit`), never forwarded unread.

use super::assemble::Assembler;
use crate::error::StreamFailure;
use crate::guard::findings::Finding;
use crate::guard::stream::{OutputGuard, OutputPlan};
use crate::limits::BudgetCut;
use sluice_protocol::canonical::{ChatResponse, StreamEvent};
use sluice_protocol::text::{Channel, Close};
use tokio::time::Instant;

/// What the stages after dispatch need of an answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// A stage reads the answer as canonical events (the assembler), so it must cross
    /// translated even between equal formats.
    pub text: bool,
    /// A stage reads or rewrites the answer's text pieces (the output guard, the budget
    /// cut-off): a same-format stream may stay on the pass-through path, its text
    /// fields read and edited in place.
    pub edit: bool,
}

/// One step between decode and encode; a closed set, one variant per stage.
#[derive(Debug)]
pub enum Transform {
    /// Keeps the whole answer for the journal (`journal.bodies`).
    Assemble(Box<Assembler>),
    /// Ends a stream whose running cost passes what its budget can pay.
    BudgetCut(BudgetMeter),
    /// Scans the answer's text with a bounded holdback and restores masked values.
    Guard(Box<OutputGuard>),
}

/// The budget cut-off's running count of the answer's characters
/// (`BudgetCut::exceeded_by` says what they cost).
#[derive(Debug, Clone, Copy)]
pub struct BudgetMeter {
    cut: BudgetCut,
    chars: u64,
}

impl BudgetMeter {
    /// Canonical events (translate path): text, thinking and tool-call arguments.
    fn read(&mut self, events: &[StreamEvent]) -> Result<(), StreamFailure> {
        for event in events {
            let text = match event {
                StreamEvent::TextDelta { text } | StreamEvent::ThinkingDelta { text } => text,
                StreamEvent::ToolCallDelta { arguments, .. } => arguments,
                _ => continue,
            };
            self.chars += text.chars().count() as u64;
        }
        self.check()
    }

    /// One text piece of a pass-through stream: the same three kinds of text, as the
    /// `Lane`s of its channels.
    fn piece(&mut self, text: &str) -> Result<(), StreamFailure> {
        self.chars += text.chars().count() as u64;
        self.check()
    }

    fn check(&self) -> Result<(), StreamFailure> {
        if self.cut.exceeded_by(self.chars) {
            return Err(StreamFailure::Budget);
        }
        Ok(())
    }
}

impl Transform {
    fn needs(&self) -> Needs {
        match self {
            Self::Assemble(_) => Needs {
                text: true,
                edit: false,
            },
            Self::BudgetCut(_) | Self::Guard(_) => Needs {
                text: false,
                edit: true,
            },
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
            Self::Guard(guard) => Self::Guard(Box::new(guard.fresh())),
        }
    }

    fn on_events(&mut self, events: &mut Vec<StreamEvent>) -> Result<(), StreamFailure> {
        match self {
            Self::Assemble(a) => a.read(events),
            Self::BudgetCut(meter) => meter.read(events)?,
            Self::Guard(guard) => guard.on_events(events)?,
        }
        Ok(())
    }

    fn on_response(&mut self, _response: &mut ChatResponse) {
        match self {
            // A whole answer is journaled as the client received it (egress).
            Self::Assemble(_) => {}
            // A whole answer is already complete: the settle charges it as it is.
            Self::BudgetCut(_) => {}
            // A whole answer is guarded in the ingress format after dispatch
            // (`guard::answer`), on either path, in one place.
            Self::Guard(_) => {}
        }
    }
}

/// The transforms one request runs, in order.
#[derive(Debug, Default)]
pub struct Transforms(Vec<Transform>);

impl Transforms {
    /// The transforms a request runs: the output guard when its answer is guarded or
    /// restored (first, so the others see what the client sees, but for masked values,
    /// which the assembler sees as placeholders), the assembler when the journal keeps
    /// bodies, the budget cut-off when a budget applies and an answer of
    /// `most_answer_bytes` could pass it.
    ///
    /// A decoded answer has no more characters than the bytes it came in, so a cut-off
    /// that the largest answer could not reach is left out: every event of its stream
    /// would otherwise be read for text (measured: 6,600 instructions per OpenAI chunk)
    /// to count towards a limit it cannot meet.
    pub fn for_request(
        guard: Option<OutputPlan>,
        keep_bodies: bool,
        budget: Option<BudgetCut>,
        most_answer_bytes: u64,
    ) -> Self {
        let mut chain = Vec::new();
        // The journal keeps the answer before masked values come back: the scan goes
        // before the assembler, the restore after it.
        let (scan, restore) = match guard {
            Some(plan) if keep_bodies && plan.masks.is_some() => (
                Some(OutputPlan {
                    masks: None,
                    ..plan.clone()
                }),
                Some(OutputPlan {
                    policy: None,
                    ..plan
                }),
            ),
            other => (other, None),
        };
        if let Some(plan) = scan.filter(|p| p.policy.is_some() || p.masks.is_some()) {
            chain.push(Transform::Guard(Box::new(OutputGuard::new(plan))));
        }
        if keep_bodies {
            chain.push(Transform::Assemble(Box::default()));
        }
        if let Some(plan) = restore {
            chain.push(Transform::Guard(Box::new(OutputGuard::new(plan))));
        }
        if let Some(cut) = budget.filter(|cut| cut.exceeded_by(most_answer_bytes)) {
            chain.push(Transform::BudgetCut(BudgetMeter { cut, chars: 0 }));
        }
        Self(chain)
    }

    /// The assembled answer, when an assembler ran.
    pub fn answer(&self) -> Option<String> {
        self.0.iter().find_map(|t| match t {
            Transform::Assemble(a) => Some(a.answer()),
            Transform::BudgetCut(_) | Transform::Guard(_) => None,
        })
    }

    /// The output guard's findings, for the record.
    pub fn findings(&self, record: &mut Vec<Finding>) {
        for guard in self.guards() {
            guard.findings(record);
        }
    }

    fn guards(&self) -> impl Iterator<Item = &OutputGuard> {
        self.0.iter().filter_map(|t| match t {
            Transform::Guard(g) => Some(&**g),
            _ => None,
        })
    }

    fn guards_mut(&mut self) -> impl Iterator<Item = &mut OutputGuard> {
        self.0.iter_mut().filter_map(|t| match t {
            Transform::Guard(g) => Some(&mut **g),
            _ => None,
        })
    }

    /// Reads and rewrites one text piece of a pass-through stream (`Needs::edit`); text
    /// of other channels that must reach the client first goes to `before`. Whether it
    /// changed.
    ///
    /// The budget cut-off counts the piece as the provider wrote it, before any guard
    /// edits or holds it back: what the provider generated is what it bills.
    pub fn edit(
        &mut self,
        channel: Channel,
        text: &mut String,
        before: &mut Vec<(Channel, String)>,
    ) -> Result<bool, StreamFailure> {
        for transform in &mut self.0 {
            if let Transform::BudgetCut(meter) = transform {
                meter.piece(text)?;
            }
        }
        let mut changed = false;
        for guard in self.guards_mut() {
            changed |= guard.edit(channel, text, before)?;
        }
        Ok(changed)
    }

    /// Ends the channels `close` covers; what they held goes to `out`.
    pub fn close(
        &mut self,
        close: Close,
        out: &mut Vec<(Channel, String)>,
    ) -> Result<(), StreamFailure> {
        for guard in self.guards_mut() {
            guard.close(close, out)?;
        }
        Ok(())
    }

    /// When text held back must go on even if the upstream says nothing more.
    pub fn hold_deadline(&self) -> Option<Instant> {
        self.guards().filter_map(OutputGuard::hold_deadline).min()
    }

    /// Text held past its time, released (its channels stay open).
    pub fn release_due(&mut self, out: &mut Vec<(Channel, String)>) -> Result<(), StreamFailure> {
        for guard in self.guards_mut() {
            guard.release_due(out)?;
        }
        Ok(())
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
            edit: self.0.iter().any(|t| t.needs().edit),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A budget with `left` micro-dollars beyond a 10-micro-dollar input, at one
    /// micro-dollar per output token.
    fn cut(left: i64) -> BudgetCut {
        BudgetCut {
            allowance_micros: 10 + left,
            input_micros: 10,
            output_price: 1.0,
        }
    }

    #[test]
    fn a_cut_off_the_largest_answer_cannot_reach_is_left_out() {
        // 4,000 bytes are at most 4,000 characters, estimated as 1,000 tokens.
        let kept = Transforms::for_request(None, false, Some(cut(999)), 4_000);
        assert!(kept.needs().edit, "1,000 tokens pass 999");
        let left_out = Transforms::for_request(None, false, Some(cut(1_000)), 4_000);
        assert!(!left_out.needs().edit, "1,000 tokens do not pass 1,000");
        assert!(
            Transforms::for_request(None, false, None, u64::MAX)
                .0
                .is_empty()
        );
    }

    #[test]
    fn the_meter_ends_the_stream_past_the_allowance() {
        let mut meter = BudgetMeter {
            cut: cut(2),
            chars: 0,
        };
        assert!(meter.piece("12345678").is_ok(), "two tokens fit");
        assert_eq!(meter.piece("9"), Err(StreamFailure::Budget));
    }
}
