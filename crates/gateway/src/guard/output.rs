//! The output stage for whole answers: the answer, already in the ingress format,
//! after the policy's output direction (redact, block, log; `mask` acts as `redact`,
//! since an answer has no way back) and with the request's masked values restored, on
//! either path (passed through or translated) in one place. Streams are the relay's
//! `Guard` transform (`guard::stream`).
//!
//! Must never hand back a changed body when nothing was found or restored.

use super::findings::{self, Direction, Finding};
use super::input::{blocked, clean, text_form};
use crate::error::GatewayError;
use bytes::Bytes;
use serde_json::Value;
use sluice_guard::{Action, Blocked, Counts, MaskMap, Policy};
use sluice_protocol::text::{self, Body, Form};

pub fn screen(
    policy: Option<&Policy>,
    masks: Option<&MaskMap>,
    kind: Body,
    body: Bytes,
    record: &mut Vec<Finding>,
) -> Result<Bytes, GatewayError> {
    if clean(policy, masks, &body) {
        return Ok(body);
    }
    let Ok(mut value) = serde_json::from_slice::<Value>(&body) else {
        return Ok(body);
    };
    let mut counts = Counts::default();
    let walked = text::visit(kind, &mut value, &mut |s, form| {
        let mut changed = false;
        if let Some(policy) = policy {
            let rewrite = policy.rewrite(s, None, text_form(form))?;
            counts.merge(&rewrite.counts);
            if let Some(new) = rewrite.text {
                *s = new;
                changed = true;
            }
        }
        if let Some(restored) = masks.and_then(|m| m.restore(s, form == Form::Json)) {
            *s = restored;
            changed = true;
        }
        Ok::<bool, Blocked>(changed)
    });
    if let Some(policy) = policy {
        findings::add(record, Direction::Output, &policy.scanner, &counts);
    }
    let changed = match (walked, policy) {
        (Ok(changed), _) => changed,
        (Err(Blocked(kind)), Some(policy)) => {
            let line = Counts(vec![(kind, Action::Block, 1)]);
            findings::add(record, Direction::Output, &policy.scanner, &line);
            return Err(blocked(policy, Direction::Output, kind));
        }
        (Err(_), None) => false,
    };
    Ok(if changed {
        Bytes::from(serde_json::to_vec(&value).unwrap_or_else(|_| body.to_vec()))
    } else {
        body
    })
}
