//! The pass-through path's text hook: a same-format stream whose transforms rewrite its
//! text (`Needs::edit`, the output guard) is read event by event. Each event's text
//! pieces go through the transforms; channels the event ends give up what they held;
//! the event goes on with only its text fields rewritten, or exactly as it came when
//! nothing changed. Usage, ids, logprobs and every field Sluice does not know stay.
//!
//! Must never reorder text: what a channel releases because another one spoke, or
//! because it ends, reaches the client before the event that made it go.

use super::Transforms;
use crate::error::StreamFailure;
use bytes::Bytes;
use sluice_protocol::sse::{RawEvent, encode_event};
use sluice_protocol::text::{Channel, Close, Event, StreamText};
use std::collections::VecDeque;

/// One event's edit: the stream's reader, the transforms, and where client bytes go.
pub struct Editing<'a> {
    pub text: &'a mut StreamText,
    pub transforms: &'a mut Transforms,
    pub ready: &'a mut VecDeque<Bytes>,
}

impl Editing<'_> {
    /// Edits one upstream event, given what the stream's reader found in it (`parsed`,
    /// read when it was decoded); `end`: it is the stream's normal end (`[DONE]`), so
    /// everything still held goes out before it.
    pub fn event(
        self,
        event: RawEvent,
        parsed: Option<Event>,
        end: bool,
    ) -> Result<(), StreamFailure> {
        let Some(mut parsed) = parsed else {
            if end {
                let mut released = Vec::new();
                self.transforms.close(Close::All, &mut released)?;
                carry(self.text, &released, self.ready);
            }
            self.ready.push_back(event.into_raw());
            return Ok(());
        };
        let mut before: Vec<(Channel, String)> = Vec::new();
        let mut changed = false;
        for piece in &mut parsed.pieces {
            changed |= self
                .transforms
                .edit(piece.channel, &mut piece.text, &mut before)?;
        }
        for close in parsed.closes.clone() {
            let mut released = Vec::new();
            self.transforms.close(close, &mut released)?;
            for (channel, text) in released {
                // Held text of a channel that speaks in this event goes with its piece.
                match parsed.pieces.iter_mut().rfind(|p| p.channel == channel) {
                    Some(piece) => {
                        piece.text.push_str(&text);
                        changed = true;
                    }
                    None => before.push((channel, text)),
                }
            }
        }
        carry(self.text, &before, self.ready);
        let written = changed
            .then(|| {
                let data = std::str::from_utf8(event.single_data()?).ok()?;
                let kind = event.event_name();
                Some(encode_event(kind, &parsed.write(data)))
            })
            .flatten();
        self.ready
            .push_back(written.unwrap_or_else(|| event.into_raw()));
        Ok(())
    }
}

/// New events for released text, in order.
fn carry(text: &StreamText, released: &[(Channel, String)], ready: &mut VecDeque<Bytes>) {
    for (channel, piece) in released {
        if let Some(bytes) = text.carry(*channel, piece) {
            ready.push_back(bytes);
        }
    }
}
