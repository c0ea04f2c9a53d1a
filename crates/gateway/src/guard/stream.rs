//! The output guard on a streamed answer: the relay's `Guard` transform. Each channel
//! of the answer (its text, each tool call's arguments, OpenAI-style reasoning) is
//! scanned incrementally with the bounded holdback of `sluice_guard::StreamScan`, then
//! the request's masked values are restored (holding text only while a placeholder
//! could be open). It works on text pieces, so the relay can run it on canonical events
//! (translate) or on the pass-through stream's own events (only the text is rewritten).
//!
//! A piece held longer than `holdback_time` goes on when the relay asks (`release_due`).
//! A blocking finding ends the stream with an in-band error: the value never left.
//!
//! Must never keep state across attempts (`fresh`) nor past the request (the mask map
//! is the request's and is dropped with it).

use super::findings::{self, Direction, Finding};
use crate::error::StreamFailure;
use sluice_guard::{
    Action, Blocked, Counts, Holdback, MaskMap, Policy, Restorer, StreamScan, Text,
};
use sluice_protocol::canonical::StreamEvent;
use sluice_protocol::text::{Channel, Close, Lane};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// What the output guard of one request is made of.
#[derive(Debug, Clone)]
pub struct OutputPlan {
    pub policy: Option<Arc<Policy>>,
    pub masks: Option<Arc<MaskMap>>,
    pub holdback: Holdback,
    pub holdback_time: Duration,
    /// Guard OpenAI-style reasoning too (the ingress shows it as `reasoning_content`;
    /// Anthropic's signed thinking is left alone).
    pub reasoning: bool,
}

#[derive(Debug)]
pub struct OutputGuard {
    plan: OutputPlan,
    channels: Vec<State>,
    counts: Counts,
    /// Set once a blocking finding ended the stream.
    blocked: Option<sluice_guard::Kind>,
}

#[derive(Debug)]
struct State {
    channel: Channel,
    scan: StreamScan,
    restore: Restorer,
    /// Since when this channel has held text.
    since: Option<Instant>,
}

impl State {
    fn holding(&self) -> bool {
        self.scan.is_holding() || self.restore.is_holding()
    }
}

impl OutputGuard {
    pub fn new(plan: OutputPlan) -> Self {
        Self {
            plan,
            channels: Vec::new(),
            counts: Counts::default(),
            blocked: None,
        }
    }

    /// The same guard with no state, for another attempt.
    pub fn fresh(&self) -> Self {
        Self::new(self.plan.clone())
    }

    fn guards(&self, channel: Channel) -> bool {
        channel.lane != Lane::Reasoning || self.plan.reasoning
    }

    fn state(&mut self, channel: Channel) -> &mut State {
        let at = match self.channels.iter().position(|s| s.channel == channel) {
            Some(at) => at,
            None => {
                let form = if channel.json() {
                    Text::Json
                } else {
                    Text::Plain
                };
                self.channels.push(State {
                    channel,
                    scan: StreamScan::new(form),
                    restore: Restorer::new(channel.json()),
                    since: None,
                });
                self.channels.len() - 1
            }
        };
        &mut self.channels[at]
    }

    fn refuse(&mut self, Blocked(kind): Blocked) -> StreamFailure {
        self.counts.add(kind, Action::Block, 1);
        self.blocked = Some(kind);
        StreamFailure::Guarded(kind.category())
    }

    /// Rewrites one piece of `channel` in place: what can go on now (possibly nothing,
    /// possibly more than the piece, when earlier text is released with it). Text of
    /// other channels of the same choice that must come out first (the answer moved on
    /// to another lane) is pushed to `before`. Returns whether the piece changed.
    pub fn edit(
        &mut self,
        channel: Channel,
        text: &mut String,
        before: &mut Vec<(Channel, String)>,
    ) -> Result<bool, StreamFailure> {
        if !self.guards(channel) {
            return Ok(false);
        }
        let switched: Vec<Channel> = self
            .channels
            .iter()
            .filter(|s| s.channel != channel && s.channel.choice == channel.choice && s.holding())
            .map(|s| s.channel)
            .collect();
        for other in switched {
            self.close(Close::Channel(other), before)?;
        }
        let plan = self.plan.clone();
        let mut counts = std::mem::take(&mut self.counts);
        let state = self.state(channel);
        let scanned = match &plan.policy {
            Some(policy) => state.scan.push(policy, text, plan.holdback, &mut counts),
            None => Ok(text.clone()),
        };
        let out = scanned.map(|scanned| match &plan.masks {
            Some(masks) => state.restore.push(masks, &scanned),
            None => scanned,
        });
        if state.holding() {
            state.since.get_or_insert_with(Instant::now);
        } else {
            state.since = None;
        }
        self.counts = counts;
        let out = out.map_err(|b| self.refuse(b))?;
        let changed = out != *text;
        *text = out;
        Ok(changed)
    }

    /// Ends the channels `close` covers: everything they held, scanned and restored,
    /// is pushed to `out` (in channel order).
    pub fn close(
        &mut self,
        close: Close,
        out: &mut Vec<(Channel, String)>,
    ) -> Result<(), StreamFailure> {
        let mut i = 0;
        while i < self.channels.len() {
            if !close.covers(self.channels[i].channel) {
                i += 1;
                continue;
            }
            let mut state = self.channels.remove(i);
            let text = self.drain(&mut state)?;
            if !text.is_empty() {
                out.push((state.channel, text));
            }
        }
        Ok(())
    }

    fn drain(&mut self, state: &mut State) -> Result<String, StreamFailure> {
        let scanned = match &self.plan.policy {
            Some(policy) => state.scan.flush(policy, &mut self.counts),
            None => Ok(String::new()),
        };
        let scanned = scanned.map_err(|b| self.refuse(b))?;
        Ok(match &self.plan.masks {
            Some(masks) => {
                let mut text = state.restore.push(masks, &scanned);
                text.push_str(&state.restore.finish(masks));
                text
            }
            None => scanned,
        })
    }

    /// When the oldest held text must go on.
    pub fn hold_deadline(&self) -> Option<Instant> {
        self.channels
            .iter()
            .filter_map(|s| s.since)
            .min()
            .map(|since| since + self.plan.holdback_time)
    }

    /// Releases every channel that has held text for `holdback_time` (it stays open).
    pub fn release_due(&mut self, out: &mut Vec<(Channel, String)>) -> Result<(), StreamFailure> {
        let now = Instant::now();
        let limit = self.plan.holdback_time;
        for i in 0..self.channels.len() {
            if self.channels[i].since.is_some_and(|s| now >= s + limit) {
                let channel = self.channels[i].channel;
                let mut state = std::mem::replace(&mut self.channels[i], placeholder(channel));
                let text = self.drain(&mut state)?;
                state.since = None;
                self.channels[i] = state;
                if !text.is_empty() {
                    out.push((self.channels[i].channel, text));
                }
            }
        }
        Ok(())
    }

    /// The canonical events of one upstream event, rewritten (the translate path).
    /// Text events become what can go on now; anything that ends a lane (a tool call
    /// starting, the finish, the end, an error) first gets what its lanes held.
    pub fn on_events(&mut self, events: &mut Vec<StreamEvent>) -> Result<(), StreamFailure> {
        let relevant = !self.channels.is_empty()
            || events.iter().any(|e| {
                matches!(
                    e,
                    StreamEvent::TextDelta { .. }
                        | StreamEvent::ThinkingDelta { .. }
                        | StreamEvent::ToolCallDelta { .. }
                )
            });
        if !relevant {
            return Ok(());
        }
        let mut out = Vec::with_capacity(events.len() + 1);
        for event in events.drain(..) {
            let piece = match &event {
                StreamEvent::TextDelta { text } => Some((Channel::text(0), text)),
                StreamEvent::ThinkingDelta { text } => Some((
                    Channel {
                        choice: 0,
                        lane: Lane::Reasoning,
                    },
                    text,
                )),
                StreamEvent::ToolCallDelta { index, arguments } => Some((
                    Channel {
                        choice: 0,
                        lane: Lane::Arguments(u32::try_from(*index).unwrap_or(u32::MAX)),
                    },
                    arguments,
                )),
                _ => None,
            };
            if let Some((channel, text)) = piece {
                let mut text = text.clone();
                let mut before = Vec::new();
                self.edit(channel, &mut text, &mut before)?;
                out.extend(before.into_iter().map(|(c, t)| event_for(c, t)));
                if !text.is_empty() {
                    out.push(event_for(channel, text));
                }
                continue;
            }
            if matches!(
                event,
                StreamEvent::ToolCallStart { .. }
                    | StreamEvent::Finish { .. }
                    | StreamEvent::End
                    | StreamEvent::Error { .. }
                    | StreamEvent::ThinkingSignature { .. }
            ) {
                let mut released = Vec::new();
                self.close(Close::All, &mut released)?;
                out.extend(released.into_iter().map(|(c, t)| event_for(c, t)));
            }
            out.push(event);
        }
        *events = out;
        Ok(())
    }

    /// The findings so far, named, for the record.
    pub fn findings(&self, record: &mut Vec<Finding>) {
        if let Some(policy) = &self.plan.policy {
            findings::add(record, Direction::Output, &policy.scanner, &self.counts);
        }
    }
}

fn placeholder(channel: Channel) -> State {
    State {
        channel,
        scan: StreamScan::new(Text::Plain),
        restore: Restorer::new(false),
        since: None,
    }
}

/// The canonical event that carries `text` on `channel`.
pub fn event_for(channel: Channel, text: String) -> StreamEvent {
    match channel.lane {
        Lane::Text => StreamEvent::TextDelta { text },
        Lane::Reasoning => StreamEvent::ThinkingDelta { text },
        Lane::Arguments(index) => StreamEvent::ToolCallDelta {
            index: index as usize,
            arguments: text,
        },
    }
}
