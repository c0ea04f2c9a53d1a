//! The output stage for whole answers: the answer, already in the ingress format,
//! after the policy's output direction (redact, block, log; `mask` acts as `redact`,
//! since an answer has no way back) and with the request's masked values restored, on
//! either path (passed through or translated) in one place. Streams are the relay's
//! `Guard` transform (`guard::stream`).
//!
//! The journal keeps the answer before the restore (`Screened::journal`): what the
//! guard kept from the provider stays out of the journal too.
//!
//! Must never hand back a changed body when nothing was found or restored.

use super::findings::{self, Direction, Finding};
use super::input::{blocked, clean, text_form};
use crate::error::GatewayError;
use bytes::Bytes;
use serde_json::Value;
use sluice_guard::{Action, Blocked, Counts, MaskMap, Policy};
use sluice_protocol::text::{self, Body, Form};

/// A whole answer after the output stage.
pub struct Screened {
    /// What the client gets.
    pub body: Bytes,
    /// What the journal keeps when it differs: the answer before masked values were
    /// restored.
    pub journal: Option<Bytes>,
}

pub fn screen(
    policy: Option<&Policy>,
    masks: Option<&MaskMap>,
    kind: Body,
    body: Bytes,
    record: &mut Vec<Finding>,
) -> Result<Screened, GatewayError> {
    if clean(policy, masks, &body) {
        return Ok(Screened {
            body,
            journal: None,
        });
    }
    let redacted = match policy {
        Some(policy) => scan(policy, kind, body, record)?,
        None => body,
    };
    let Some(masks) = masks.filter(|m| !m.is_empty()) else {
        return Ok(Screened {
            body: redacted,
            journal: None,
        });
    };
    let restored = restore(masks, kind, &redacted);
    Ok(match restored {
        Some(body) => Screened {
            body,
            journal: Some(redacted),
        },
        None => Screened {
            body: redacted,
            journal: None,
        },
    })
}

/// The answer with the output policy done: redacted, or refused.
fn scan(
    policy: &Policy,
    kind: Body,
    body: Bytes,
    record: &mut Vec<Finding>,
) -> Result<Bytes, GatewayError> {
    let Ok(mut value) = serde_json::from_slice::<Value>(&body) else {
        return Ok(body);
    };
    let mut counts = Counts::default();
    let walked = text::visit(kind, &mut value, &mut |s, form| {
        let rewrite = policy.rewrite(s, None, text_form(form))?;
        counts.merge(&rewrite.counts);
        Ok::<bool, Blocked>(match rewrite.text {
            Some(new) => {
                *s = new;
                true
            }
            None => false,
        })
    });
    findings::add(record, Direction::Output, &policy.scanner, &counts);
    let changed = walked.map_err(|Blocked(kind)| {
        let line = Counts(vec![(kind, Action::Block, 1)]);
        findings::add(record, Direction::Output, &policy.scanner, &line);
        blocked(policy, Direction::Output, kind)
    })?;
    Ok(if changed {
        Bytes::from(serde_json::to_vec(&value).unwrap_or_else(|_| body.to_vec()))
    } else {
        body
    })
}

/// The answer with this request's masked values back; `None` when there were none.
fn restore(masks: &MaskMap, kind: Body, body: &Bytes) -> Option<Bytes> {
    let mut value = serde_json::from_slice::<Value>(body).ok()?;
    let walked = text::visit::<()>(kind, &mut value, &mut |s, form| {
        Ok(match masks.restore(s, form == Form::Json) {
            Some(restored) => {
                *s = restored;
                true
            }
            None => false,
        })
    });
    walked
        .unwrap_or(false)
        .then(|| serde_json::to_vec(&value).ok().map(Bytes::from))
        .flatten()
}
