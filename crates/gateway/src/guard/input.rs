//! The input stage: the prompt after the policy's input direction. Every text a model
//! reads in the request body (messages, content parts, system prompts, tool-call
//! arguments, tool results) is scanned and rewritten: redacted, masked (the request's
//! mask map keeps the originals for the answer), stripped of invisible characters, or
//! the request is refused with a 400 naming the category, before anything goes
//! upstream. Passed through or translated later, every target gets the guarded body.
//!
//! Must never change a body it found nothing in (the fast path stays byte for byte),
//! and never name the matched value in an error or a record.

use super::findings::{self, Direction, Finding};
use crate::error::GatewayError;
use bytes::Bytes;
use serde_json::Value;
use sluice_guard::{Blocked, Counts, MaskMap, Policy, Text};
use sluice_protocol::text::{self, Body, Form};

/// The prompt after the input policy.
pub struct Screened {
    /// The body to send (the client's own bytes when nothing changed).
    pub body: Bytes,
    /// What `mask` replaced, for the answer's restore; `None` when nothing was masked.
    pub masks: Option<MaskMap>,
}

pub fn screen(
    policy: &Policy,
    kind: Body,
    body: Bytes,
    record: &mut Vec<Finding>,
) -> Result<Screened, GatewayError> {
    if clean(Some(policy), None, &body) {
        return Ok(Screened { body, masks: None });
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(&body) else {
        // The head decoder accepted it, so this cannot happen; refuse rather than
        // send text the guard could not read.
        return Err(GatewayError::bad_request(
            "the request body is not valid JSON",
        ));
    };
    let mut masks = MaskMap::default();
    let mut counts = Counts::default();
    let walked = text::visit(kind, &mut value, &mut |s, form| {
        let rewrite = policy.rewrite(s, Some(&mut masks), text_form(form))?;
        counts.merge(&rewrite.counts);
        Ok(match rewrite.text {
            Some(new) => {
                *s = new;
                true
            }
            None => false,
        })
    });
    findings::add(record, Direction::Input, &policy.scanner, &counts);
    let changed = walked.map_err(|Blocked(kind)| {
        findings::add(
            record,
            Direction::Input,
            &policy.scanner,
            &Counts(vec![(kind, sluice_guard::Action::Block, 1)]),
        );
        blocked(policy, Direction::Input, kind)
    })?;
    let body = if changed {
        Bytes::from(serde_json::to_vec(&value).unwrap_or_else(|_| body.to_vec()))
    } else {
        body
    };
    Ok(Screened {
        body,
        masks: (!masks.is_empty()).then_some(masks),
    })
}

/// Whether nothing in the document needs the walk: no string at all holds anything
/// the policy finds (nor, with masks, anything that could be a placeholder). Every
/// text `visit` reaches is one of those strings, so the walk, which builds the whole
/// tree and costs several times more, is skipped for most bodies (measured in
/// BENCHMARKS.md). A match across two strings only sends a body to the walk.
pub(super) fn clean(policy: Option<&Policy>, masks: Option<&MaskMap>, body: &[u8]) -> bool {
    let mut all = String::with_capacity(body.len());
    if !text::strings(body, &mut all) {
        return false;
    }
    policy.is_none_or(|p| p.scanner.scan(&all).is_empty())
        && masks.is_none_or(|m| m.is_empty() || !all.contains('<'))
}

pub(super) fn text_form(form: Form) -> Text {
    match form {
        Form::Plain => Text::Plain,
        Form::Json => Text::Json,
    }
}

/// The refusal for a blocking finding: its category and detector, never its value.
pub(super) fn blocked(
    policy: &Policy,
    direction: Direction,
    kind: sluice_guard::Kind,
) -> GatewayError {
    GatewayError::GuardBlocked {
        direction,
        category: kind.category().as_str(),
        detector: policy.scanner.name(kind).to_owned(),
    }
}
