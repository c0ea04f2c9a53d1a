//! Scanning a streamed text (one channel of an answer) with a bounded holdback: each
//! piece is added to what was held, the whole is scanned, and what can no longer be
//! part of a match goes on with the policy applied; the tail that could still grow into
//! a match (`Scanner::open_from`) waits for the next piece. So a value split across
//! any chunk boundaries is found as if the text had come whole, and ordinary text is
//! held only until the word it is in ends.
//!
//! Must never hold more than `Holdback::max_bytes`: past it the oldest text goes on
//! (scanned as it is), so memory and delay stay bounded whatever the upstream sends.
//! The time bound is the caller's (this crate has no clock): it calls `flush`.

use crate::action::{Blocked, Counts, Policy, Text};
use crate::{Action, Finding, Kind, invisible};

/// The bound on what one channel may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holdback {
    pub max_bytes: usize,
}

impl Default for Holdback {
    fn default() -> Self {
        Self { max_bytes: 8192 }
    }
}

/// One channel's incremental scan.
#[derive(Debug)]
pub struct StreamScan {
    /// The last character released (context for word boundaries) then the held text.
    buf: String,
    /// Bytes of `buf` that are context, already released.
    context: usize,
    form: Text,
}

impl StreamScan {
    pub fn new(form: Text) -> Self {
        Self {
            buf: String::new(),
            context: 0,
            form,
        }
    }

    /// Adds `text`; returns what can go on now, with the policy applied.
    pub fn push(
        &mut self,
        policy: &Policy,
        text: &str,
        limit: Holdback,
        counts: &mut Counts,
    ) -> Result<String, Blocked> {
        self.add(policy, text, counts)?;
        self.release(policy, Some(limit), counts)
    }

    /// Releases everything held: the channel ended, or its hold went on too long.
    pub fn flush(&mut self, policy: &Policy, counts: &mut Counts) -> Result<String, Blocked> {
        self.release(policy, None, counts)
    }

    pub fn is_holding(&self) -> bool {
        self.buf.len() > self.context
    }

    /// Appends a piece, invisible characters stripped on the way in when the policy
    /// strips them (a piece holds whole characters, so none can be split).
    fn add(&mut self, policy: &Policy, text: &str, counts: &mut Counts) -> Result<(), Blocked> {
        let action = policy.actions.get(Kind::Invisible);
        if action.is_none() || !text.chars().any(invisible::is_invisible) {
            self.buf.push_str(text);
            return Ok(());
        }
        match action {
            Some(Action::Block) => return Err(Blocked(Kind::Invisible)),
            Some(Action::Redact | Action::Mask) => {
                let mut stripped = 0;
                for (i, c) in text.char_indices() {
                    let end = i + c.len_utf8();
                    if invisible::is_invisible(c) && !joins_emoji(&self.buf, text, i, end) {
                        stripped += 1;
                    } else {
                        self.buf.push(c);
                    }
                }
                // Runs count as the whole-text scan counts them: one per run.
                let runs = runs(text);
                if stripped > 0 {
                    counts.add(Kind::Invisible, action.unwrap_or(Action::Redact), runs);
                }
            }
            // `log`: kept, and counted where it is released.
            _ => self.buf.push_str(text),
        }
        Ok(())
    }

    fn release(
        &mut self,
        policy: &Policy,
        limit: Option<Holdback>,
        counts: &mut Counts,
    ) -> Result<String, Blocked> {
        if !self.is_holding() {
            return Ok(String::new());
        }
        let findings = self.findings(policy)?;
        let held = &self.buf[self.context..];
        let mut cut = match limit {
            Some(_) => self.context + policy.scanner.open_from(held),
            None => self.buf.len(),
        };
        // A match that starts before the cut is over (it could not grow, or the cut
        // would be at or before it): release it whole.
        for f in &findings {
            if f.matched < cut {
                cut = cut.max(f.end);
            }
        }
        if let Some(limit) = limit
            && self.buf.len() - cut > limit.max_bytes
        {
            let mut forced = self.buf.len() - limit.max_bytes;
            while !self.buf.is_char_boundary(forced) {
                forced += 1;
            }
            cut = findings
                .iter()
                .find(|f| f.start < forced && forced < f.end)
                .map_or(forced, |f| f.end);
        }
        let released: Vec<Finding> = findings
            .iter()
            .filter(|f| f.end <= cut)
            .map(|f| Finding {
                kind: f.kind,
                start: f.start - self.context,
                end: f.end - self.context,
                matched: f.matched.max(self.context) - self.context,
            })
            .collect();
        let text = &self.buf[self.context..cut];
        let out = policy
            .apply(text, &released, None, counts)
            .unwrap_or_else(|| text.to_owned());
        // Keep the last released character as the next scan's context.
        let keep_from = self.buf[..cut]
            .char_indices()
            .next_back()
            .map_or(cut, |(i, _)| i);
        self.buf.drain(..keep_from);
        self.context = cut - keep_from;
        Ok(out)
    }

    /// Findings in the held text (not in the context), blocking ones refused.
    fn findings(&self, policy: &Policy) -> Result<Vec<Finding>, Blocked> {
        let mut findings = policy.scanner.scan_from(&self.buf, self.context);
        if self.form == Text::Json {
            findings.retain_mut(|f| crate::action::outside_escape(&self.buf, f));
        }
        if let Some(f) = findings
            .iter()
            .find(|f| policy.actions.get(f.kind) == Some(Action::Block))
        {
            return Err(Blocked(f.kind));
        }
        Ok(findings)
    }
}

/// A zero-width joiner between two pictographs, with the held text before the piece.
fn joins_emoji(held: &str, text: &str, start: usize, end: usize) -> bool {
    if start > 0 {
        return invisible::is_emoji_joiner(text, start, end);
    }
    let joined = format!(
        "{}{}",
        held.chars()
            .next_back()
            .map(String::from)
            .unwrap_or_default(),
        text
    );
    let offset = joined.len() - text.len();
    invisible::is_emoji_joiner(&joined, start + offset, end + offset)
}

/// Runs of invisible characters in `text`.
fn runs(text: &str) -> u32 {
    let mut n = 0;
    let mut inside = false;
    for c in text.chars() {
        let now = invisible::is_invisible(c);
        if now && !inside {
            n += 1;
        }
        inside = now;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Actions;
    use crate::detect::Scanner;

    fn policy() -> Policy {
        let mut actions = Actions::default();
        for kind in Kind::BUILT_IN {
            actions.set(kind, Action::Redact);
        }
        let scanner =
            Scanner::new(&actions.built_in_kinds(), &[]).unwrap_or_else(|e| panic!("{e}"));
        Policy {
            scanner: std::sync::Arc::new(scanner),
            actions,
        }
    }

    fn stream(p: &Policy, pieces: &[&str]) -> Vec<String> {
        let mut scan = StreamScan::new(Text::Plain);
        let mut counts = Counts::default();
        let mut out: Vec<String> = pieces
            .iter()
            .map(|piece| {
                scan.push(p, piece, Holdback::default(), &mut counts)
                    .unwrap_or_else(|b| panic!("{b:?}"))
            })
            .collect();
        out.push(
            scan.flush(p, &mut counts)
                .unwrap_or_else(|b| panic!("{b:?}")),
        );
        out
    }

    #[test]
    fn a_value_split_across_pieces_is_caught_and_words_go_on_when_they_end() {
        let p = policy();
        let out = stream(
            &p,
            &["Write to ja", "ne@exam", "ple.com", " today", " please"],
        );
        assert_eq!(out, ["Write to ", "", "", "[EMAIL] ", "today ", "please"]);
    }

    #[test]
    fn released_context_never_starts_a_candidate_that_hides_a_real_one() {
        // Found by fuzzing: the released `1` before `:db8::1` made `1:db8::1` the
        // leftmost candidate, which started in released text and hid `db8::1`.
        let p = policy();
        let whole = p
            .rewrite("api_key=Zx9Qp2Lm8Rt4Vw6Y1:db8::1 ", None, Text::Plain)
            .unwrap_or_else(|b| panic!("{b:?}"));
        let out = stream(&p, &["api_key=Zx9Qp2Lm8Rt4Vw6Y1", ":db8::1 "]).concat();
        assert_eq!(Some(out), whole.text);
    }

    #[test]
    fn a_key_value_match_is_released_whole_before_a_later_candidate_can_take_its_value() {
        // Found by fuzzing: `api_key=` was released once its value could no longer
        // grow, and the value then began an email.
        let p = policy();
        let text = "api_key=Zx9Up2Lm8Rt4Vw6Yt4Vw6.doe@exlemap.com or";
        let whole = p
            .rewrite(text, None, Text::Plain)
            .unwrap_or_else(|b| panic!("{b:?}"));
        let out = stream(
            &p,
            &["api_key=Zx9Up2Lm8Rt4Vw6Yt4Vw6.doe@", "exlemap.com or"],
        )
        .concat();
        assert_eq!(Some(out), whole.text);
    }

    #[test]
    fn the_holdback_is_bounded() {
        let p = policy();
        let mut scan = StreamScan::new(Text::Plain);
        let mut counts = Counts::default();
        let limit = Holdback { max_bytes: 64 };
        let mut released = 0;
        for _ in 0..100 {
            released += scan
                .push(&p, "abcdefgh", limit, &mut counts)
                .unwrap_or_default()
                .len();
            assert!(scan.buf.len() - scan.context <= 64);
        }
        assert!(released >= 800 - 64);
    }

    #[test]
    fn blocks_stop_the_stream_and_invisible_text_is_stripped_once() {
        let mut p = policy();
        p.actions.set(Kind::RoleToken, Action::Block);
        let mut scan = StreamScan::new(Text::Plain);
        let mut counts = Counts::default();
        assert_eq!(
            scan.push(&p, "hi <|im_", Holdback::default(), &mut counts),
            Ok("hi ".to_owned())
        );
        assert_eq!(
            scan.push(&p, "start|>", Holdback::default(), &mut counts),
            Err(Blocked(Kind::RoleToken))
        );
        let p = policy();
        let out = stream(&p, &["a\u{200B}b", " c\u{E0041}\u{E0042}d "]);
        assert_eq!(out.concat(), "ab cd ");
    }
}
