//! What to do with what the scanner found, and the rewrite that does it: `redact`
//! (a typed placeholder, `[EMAIL]`), `mask` (a numbered placeholder, `<EMAIL_1>`, whose
//! original the request's `MaskMap` keeps so the answer can have it back), `block`
//! (the caller refuses the text) and `log` (counted only). Invisible characters are
//! stripped by `redact` and `mask` alike.
//!
//! Must never mask a secret: a secret's value would then sit in the mask map, so
//! secrets are redacted whatever the action says. Must never put a matched value in a
//! count or an error: those name the kind only.

use crate::detect::Scanner;
use crate::mask::MaskMap;
use crate::{Category, Finding, Kind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Redact,
    Mask,
    Block,
    Log,
}

impl Action {
    pub const ALL: [Self; 4] = [Self::Redact, Self::Mask, Self::Block, Self::Log];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Redact => "redact",
            Self::Mask => "mask",
            Self::Block => "block",
            Self::Log => "log",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// The action for each kind a direction scans for; a kind without one is not scanned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions {
    built_in: Vec<(Kind, Action)>,
    custom: Vec<Option<Action>>,
}

impl Actions {
    pub fn set(&mut self, kind: Kind, action: Action) {
        // What a kind's values may become: secrets are never kept for a mask map.
        let action = match (kind.category(), action) {
            (Category::Secrets, Action::Mask) => Action::Redact,
            _ => action,
        };
        match kind {
            Kind::Custom(i) => {
                let i = usize::from(i);
                if self.custom.len() <= i {
                    self.custom.resize(i + 1, None);
                }
                self.custom[i] = Some(action);
            }
            _ => match self.built_in.iter_mut().find(|(k, _)| *k == kind) {
                Some(entry) => entry.1 = action,
                None => self.built_in.push((kind, action)),
            },
        }
    }

    pub fn get(&self, kind: Kind) -> Option<Action> {
        match kind {
            Kind::Custom(i) => self.custom.get(usize::from(i)).copied().flatten(),
            _ => self
                .built_in
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, a)| *a),
        }
    }

    /// The built-in kinds with an action: what the scanner must look for.
    pub fn built_in_kinds(&self) -> Vec<Kind> {
        self.built_in.iter().map(|(k, _)| *k).collect()
    }

    /// Whether any kind would rewrite text (redact or mask) rather than only judge it.
    pub fn rewrites(&self) -> bool {
        self.built_in
            .iter()
            .map(|(_, a)| Some(*a))
            .chain(self.custom.iter().copied())
            .any(|a| matches!(a, Some(Action::Redact | Action::Mask)))
    }

    pub fn is_empty(&self) -> bool {
        self.built_in.is_empty() && self.custom.iter().all(Option::is_none)
    }
}

/// A scanner with the action for each kind it finds: one direction's policy. The
/// scanner is shared: directions and policies that look for the same kinds use one.
#[derive(Debug)]
pub struct Policy {
    pub scanner: std::sync::Arc<Scanner>,
    pub actions: Actions,
}

/// How many of each kind were found, and what was done with them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts(pub Vec<(Kind, Action, u32)>);

impl Counts {
    pub fn add(&mut self, kind: Kind, action: Action, n: u32) {
        match self
            .0
            .iter_mut()
            .find(|(k, a, _)| *k == kind && *a == action)
        {
            Some(entry) => entry.2 += n,
            None => self.0.push((kind, action, n)),
        }
    }

    pub fn merge(&mut self, other: &Counts) {
        for (kind, action, n) in &other.0 {
            self.add(*kind, *action, *n);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A finding whose action is `block`: the text must not go on. Names the kind only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked(pub Kind);

/// The text after the policy, and what was found.
#[derive(Debug, Default)]
pub struct Rewrite {
    /// `None` when the text stays as it was.
    pub text: Option<String>,
    pub counts: Counts,
}

/// How the text is written: plain, or the inside of a JSON document (tool arguments),
/// where a finding must not begin inside an escape sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Plain,
    Json,
}

impl Policy {
    /// The policy applied to a whole text. `masks` receives what `mask` replaces; with
    /// none (an answer), `mask` acts as `redact`.
    pub fn rewrite(
        &self,
        text: &str,
        masks: Option<&mut MaskMap>,
        form: Text,
    ) -> Result<Rewrite, Blocked> {
        let mut counts = Counts::default();
        let (stripped, findings) = self.findings(text, form, &mut counts)?;
        let source = stripped.as_deref().unwrap_or(text);
        let rewritten = self.apply(source, &findings, masks, &mut counts);
        Ok(Rewrite {
            text: rewritten.or(stripped),
            counts,
        })
    }

    /// Scans `text`; strips invisible characters first when the policy removes them
    /// (then scans again: `ja\u{200B}ne@x.io` is an email once the joiner is gone).
    /// Returns the stripped text when it changed, and the findings in it.
    pub(crate) fn findings(
        &self,
        text: &str,
        form: Text,
        counts: &mut Counts,
    ) -> Result<(Option<String>, Vec<Finding>), Blocked> {
        let mut findings = self.scanner.scan(text);
        let mut stripped = None;
        if let Some(action) = self.actions.get(Kind::Invisible)
            && findings.iter().any(|f| f.kind == Kind::Invisible)
        {
            if action == Action::Block {
                return Err(Blocked(Kind::Invisible));
            }
            if matches!(action, Action::Redact | Action::Mask) {
                let mut out = String::with_capacity(text.len());
                let mut at = 0;
                for f in findings.iter().filter(|f| f.kind == Kind::Invisible) {
                    out.push_str(&text[at..f.start]);
                    at = f.end;
                    counts.add(Kind::Invisible, action, 1);
                }
                out.push_str(&text[at..]);
                findings = self.scanner.scan(&out);
                stripped = Some(out);
            }
        }
        if form == Text::Json {
            let source = stripped.as_deref().unwrap_or(text);
            findings.retain_mut(|f| outside_escape(source, f));
        }
        if let Some(f) = findings
            .iter()
            .find(|f| self.actions.get(f.kind) == Some(Action::Block))
        {
            return Err(Blocked(f.kind));
        }
        Ok((stripped, findings))
    }

    /// Writes `text` with each finding's action done; `None` when nothing changed.
    /// Counts every finding.
    pub(crate) fn apply(
        &self,
        text: &str,
        findings: &[Finding],
        mut masks: Option<&mut MaskMap>,
        counts: &mut Counts,
    ) -> Option<String> {
        let mut out: Option<String> = None;
        let mut at = 0;
        for f in findings {
            let Some(action) = self.actions.get(f.kind) else {
                continue;
            };
            let action = match (action, &masks) {
                (Action::Mask, None) => Action::Redact,
                _ => action,
            };
            counts.add(f.kind, action, 1);
            let label = self.scanner.label(f.kind);
            let replacement = match action {
                Action::Log | Action::Block => continue,
                _ if f.kind == Kind::Invisible => String::new(),
                Action::Redact => format!("[{label}]"),
                Action::Mask => match masks.as_deref_mut() {
                    Some(map) => map.mask(label, &text[f.start..f.end]),
                    None => format!("[{label}]"),
                },
            };
            let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
            buf.push_str(&text[at..f.start]);
            buf.push_str(&replacement);
            at = f.end;
        }
        let mut buf = out?;
        buf.push_str(&text[at..]);
        Some(buf)
    }
}

/// In JSON text, a finding must not start on the letter of an escape (`\njane@x.io`
/// holds the email `jane@x.io`, not `njane@x.io`); it is moved past it, or dropped.
pub(crate) fn outside_escape(text: &str, f: &mut Finding) -> bool {
    let backslashes = text[..f.start]
        .bytes()
        .rev()
        .take_while(|b| *b == b'\\')
        .count();
    if backslashes % 2 == 1 {
        let step = text[f.start..].chars().next().map_or(1, char::len_utf8);
        f.start += step;
    }
    f.start < f.end
}

#[cfg(test)]
mod tests;
