//! Anthropic Messages events read: text and tool-use blocks become channels when they
//! start, their deltas pieces, their stops and the message's end closes.
//!
//! Must never read a block kind it does not know (thinking blocks are signed and go on
//! untouched).

use super::{Channel, Close, Event, Lane, StreamText, push_piece};
use crate::text::raw::{self, Scalar};

impl StreamText {
    pub(super) fn read_message_event(&mut self, data: &str) -> Option<Event> {
        let mut kind = None;
        let mut index = None;
        let mut block = None;
        let mut block_text = None;
        let mut delta = None;
        let mut delta_text = None;
        let walked = raw::scalars(data, &mut |path, scalar, span| match (path, scalar) {
            ([k], Scalar::Str) if k.is("type") => kind = raw::decode(&data[span]),
            ([k], Scalar::Num) if k.is("index") => index = data[span].parse::<u64>().ok(),
            ([c, k], Scalar::Str) if c.is("content_block") && k.is("type") => {
                block = raw::decode(&data[span]);
            }
            ([c, k], Scalar::Str) if c.is("content_block") && k.is("text") => {
                block_text = Some(span);
            }
            ([d, k], Scalar::Str) if d.is("delta") && k.is("type") => {
                delta = raw::decode(&data[span]);
            }
            ([d, k], Scalar::Str) if d.is("delta") && (k.is("text") || k.is("partial_json")) => {
                delta_text = Some(span);
            }
            _ => {}
        });
        if !walked {
            return None;
        }
        let mut event = Event::default();
        match (kind.as_deref(), index) {
            (Some("content_block_start"), Some(index)) => {
                let channel = match block.as_deref() {
                    Some("text") => Channel::text(0),
                    Some("tool_use") => {
                        self.tools += 1;
                        Channel {
                            choice: 0,
                            lane: Lane::Arguments(self.tools - 1),
                        }
                    }
                    _ => return Some(event),
                };
                self.blocks.push((index, channel));
                if let (Lane::Text, Some(span)) = (channel.lane, block_text) {
                    push_piece(&mut event, data, channel, span);
                }
            }
            (Some("content_block_delta"), Some(index)) => {
                let Some(channel) = self.channel_of(index) else {
                    return Some(event);
                };
                let expected = match channel.lane {
                    Lane::Arguments(_) => "input_json_delta",
                    Lane::Text | Lane::Reasoning => "text_delta",
                };
                if let (Some(span), true) = (delta_text, delta.as_deref() == Some(expected)) {
                    push_piece(&mut event, data, channel, span);
                }
            }
            (Some("content_block_stop"), Some(index)) => {
                if let Some(channel) = self.channel_of(index) {
                    event.closes.push(Close::Channel(channel));
                    self.stopped = Some(index);
                }
            }
            (Some("message_delta" | "message_stop"), _) => event.closes.push(Close::All),
            _ => {}
        }
        Some(event)
    }
}
