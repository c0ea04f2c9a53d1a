//! OpenAI chunks read (Chat Completions and legacy completions): each choice's texts by
//! lane, tool-call arguments by the call's `index`, and a finish reason as a close.
//!
//! Must never take a text outside `choices` (usage, ids) for the answer's.

use super::{Channel, Close, Event, Lane, Stream, StreamText, push_piece};
use crate::text::raw::{self, Scalar, Seg};
use std::ops::Range;

/// What one OpenAI choice (by its place in `choices`) said, gathered while walking.
#[derive(Debug, Default)]
struct Choice {
    number: Option<u32>,
    finished: bool,
    /// Texts: lane (with the tool call's place for arguments) and literal span.
    texts: Vec<(Lane, Option<usize>, Range<usize>)>,
    /// Tool calls' `index` by their place in `tool_calls`.
    calls: Vec<(usize, u32)>,
}

impl StreamText {
    pub(super) fn read_chunk(&mut self, data: &str) -> Option<Event> {
        let completions = self.stream == Stream::Completions;
        let mut choices: Vec<Choice> = Vec::new();
        let walked = raw::scalars(data, &mut |path, kind, span| {
            let [first, Seg::Index(i), rest @ ..] = path else {
                return;
            };
            if !first.is("choices") {
                return;
            }
            if choices.len() <= *i {
                choices.resize_with(*i + 1, Choice::default);
            }
            let choice = &mut choices[*i];
            match (rest, kind) {
                ([k], Scalar::Num) if k.is("index") => {
                    choice.number = data[span].parse().ok();
                }
                ([k], Scalar::Str) if k.is("finish_reason") => choice.finished = true,
                ([k], Scalar::Str) if completions && k.is("text") => {
                    choice.texts.push((Lane::Text, None, span));
                }
                ([d, k], Scalar::Str) if d.is("delta") => {
                    let lane = match k {
                        _ if k.is("content") || k.is("refusal") => Lane::Text,
                        _ if k.is("reasoning_content") || k.is("reasoning") => Lane::Reasoning,
                        _ => return,
                    };
                    choice.texts.push((lane, None, span));
                }
                ([d, t, Seg::Index(j), k], Scalar::Num)
                    if d.is("delta") && t.is("tool_calls") && k.is("index") =>
                {
                    if let Ok(n) = data[span].parse() {
                        choice.calls.push((*j, n));
                    }
                }
                ([d, t, Seg::Index(j), f, a], Scalar::Str)
                    if d.is("delta")
                        && t.is("tool_calls")
                        && f.is("function")
                        && a.is("arguments") =>
                {
                    choice.texts.push((Lane::Arguments(0), Some(*j), span));
                }
                _ => {}
            }
        });
        if !walked {
            return None;
        }
        let mut event = Event::default();
        for (i, choice) in choices.into_iter().enumerate() {
            let n = choice
                .number
                .unwrap_or_else(|| u32::try_from(i).unwrap_or(u32::MAX));
            for (lane, call, span) in choice.texts {
                let lane = match (lane, call) {
                    (Lane::Arguments(_), Some(j)) => Lane::Arguments(
                        choice
                            .calls
                            .iter()
                            .find(|(at, _)| *at == j)
                            .map_or(0, |(_, index)| *index),
                    ),
                    (lane, _) => lane,
                };
                push_piece(&mut event, data, Channel { choice: n, lane }, span);
            }
            if choice.finished {
                event.closes.push(Close::Choice(n));
            }
        }
        if !event.pieces.is_empty() {
            self.template.clear();
            self.template.extend_from_slice(data.as_bytes());
        }
        Some(event)
    }
}
