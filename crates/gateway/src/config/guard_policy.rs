//! One `[guard]` policy compiled: the operators' rules checked, each name in `input`,
//! `output` and the actions tables resolved to detectors and rules, the action of each
//! found, and one scanner per set of kinds (shared by directions and policies that look
//! for the same ones).
//!
//! Must never accept a rule past its bounds nor an unknown name: each is a problem at its
//! key path.

use super::ctx::Ctx;
use super::guard::{GuardPolicy, RawDirections, RawRule};
use sluice_guard::{Action, Actions, Category, Kind, Policy, Rule, Scanner, rules};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The rules, each checked, with its own action if it names one.
pub(super) struct Checked {
    rule: Rule,
    action: Option<Action>,
}

pub(super) fn rules_of(cx: &mut Ctx<'_>, raw: &[RawRule]) -> Vec<Checked> {
    let mut out: Vec<Checked> = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let path = format!("guard.rules[{i}]");
        let matcher = match (&r.words, &r.regex) {
            (Some(words), None) => rules::Matcher::Words {
                words: words.clone(),
                case_insensitive: r.case_insensitive.unwrap_or(true),
                whole_words: r.whole_words.unwrap_or(true),
            },
            (None, Some(regex)) => rules::Matcher::Regex(regex.clone()),
            _ => {
                cx.problem(&path, "needs exactly one of `words` or `regex`");
                continue;
            }
        };
        let rule = Rule {
            name: r.name.clone(),
            matcher,
        };
        if let Err(message) = rule.check() {
            cx.problem(&path, message);
            continue;
        }
        if out.iter().any(|c| c.rule.name == rule.name) {
            cx.problem(
                format!("{path}.name"),
                format!("`{}` is named twice", rule.name),
            );
            continue;
        }
        if Kind::parse(&rule.name).is_some() || Category::parse(&rule.name).is_some() {
            cx.problem(
                format!("{path}.name"),
                format!(
                    "`{}` is the name of a built-in category or detector",
                    rule.name
                ),
            );
            continue;
        }
        // The regex compiles (and within its size) on its own, or it is a problem here.
        if let Err(e) = Scanner::new(&[], std::slice::from_ref(&rule)) {
            cx.problem(&path, e.to_string());
            continue;
        }
        let action = r
            .action
            .as_ref()
            .and_then(|a| action_named(cx, &format!("{path}.action"), a));
        out.push(Checked { rule, action });
    }
    if out.len() > rules::MAX_RULES {
        cx.problem("guard.rules", format!("at most {} rules", rules::MAX_RULES));
        out.truncate(rules::MAX_RULES);
    }
    out
}

/// What a name in `input`, `output` or an actions table can be, and the scanners
/// built so far: directions and policies that look for the same kinds share one.
pub(super) struct Names<'a> {
    rules: &'a [Checked],
    built: std::cell::RefCell<Vec<Built>>,
}

/// A scanner built for these kinds and these rules (by name).
type Built = (Vec<Kind>, Vec<String>, Arc<Scanner>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Category(Category),
    Detector(Kind),
    Rule(usize),
}

impl<'a> Names<'a> {
    pub(super) fn new(rules: &'a [Checked]) -> Self {
        Self {
            rules,
            built: std::cell::RefCell::default(),
        }
    }

    fn resolve(&self, name: &str) -> Option<Named> {
        if let Some(c) = Category::parse(name) {
            return Some(Named::Category(c));
        }
        if let Some(k) = Kind::parse(name) {
            return Some(Named::Detector(k));
        }
        self.rules
            .iter()
            .position(|r| r.rule.name == name)
            .map(Named::Rule)
    }

    /// Every built-in kind and rule a name stands for.
    fn expand(&self, named: Named) -> Vec<Named> {
        match named {
            Named::Category(Category::Custom) => (0..self.rules.len()).map(Named::Rule).collect(),
            Named::Category(c) => Kind::BUILT_IN
                .into_iter()
                .filter(|k| k.category() == c)
                .map(Named::Detector)
                .collect(),
            other => vec![other],
        }
    }

    fn known(&self) -> String {
        let mut names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        names.extend(Kind::BUILT_IN.iter().map(|k| k.name()));
        names.extend(self.rules.iter().map(|r| r.rule.name.as_str()));
        names.join(", ")
    }
}

fn action_named(cx: &mut Ctx<'_>, path: &str, name: &str) -> Option<Action> {
    let action = Action::parse(name);
    if action.is_none() {
        cx.problem(
            path,
            format!("unknown action `{name}` (redact, mask, block or log)"),
        );
    }
    action
}

pub(super) fn compile(
    cx: &mut Ctx<'_>,
    path: &str,
    name: &str,
    raw: &RawDirections,
    names: &Names<'_>,
    hook: bool,
) -> GuardPolicy {
    let default = raw
        .action
        .as_ref()
        .and_then(|a| action_named(cx, &format!("{path}.action"), a))
        .unwrap_or(Action::Redact);
    let general = table(cx, &format!("{path}.actions"), &raw.actions, names);
    let mut direction = |which: &str,
                         list: &Option<Vec<String>>,
                         own: &BTreeMap<String, String>| {
        let own = table(cx, &format!("{path}.{which}_actions"), own, names);
        let list = list.as_deref().unwrap_or_default();
        let mut chosen: Vec<Named> = Vec::new();
        for (i, entry) in list.iter().enumerate() {
            match names.resolve(entry) {
                Some(named) => chosen.extend(names.expand(named)),
                None => cx.problem(
                    format!("{path}.{which}[{i}]"),
                    format!(
                        "unknown category, detector or rule `{entry}` (known: {})",
                        names.known()
                    ),
                ),
            }
        }
        let action_of = |named: Named| {
            let (kind, category, rule_action) = match named {
                Named::Detector(k) => (Some(k), k.category(), None),
                Named::Rule(i) => (None, Category::Custom, names.rules[i].action),
                Named::Category(c) => (None, c, None),
            };
            let by_name = |t: &[(Named, Action)]| {
                t.iter()
                    .find(|(n, _)| *n == named || kind.is_some_and(|k| *n == Named::Detector(k)))
                    .map(|(_, a)| *a)
            };
            let by_category = |t: &[(Named, Action)]| {
                t.iter()
                    .find(|(n, _)| *n == Named::Category(category))
                    .map(|(_, a)| *a)
            };
            by_name(&own)
                .or_else(|| by_category(&own))
                .or_else(|| by_name(&general))
                .or_else(|| by_category(&general))
                .or(rule_action)
                .unwrap_or(default)
        };
        build(cx, &format!("{path}.{which}"), &chosen, names, action_of)
    };
    let input = direction("input", &raw.input, &raw.input_actions);
    let output = direction("output", &raw.output, &raw.output_actions);
    GuardPolicy {
        name: name.to_owned(),
        input,
        output,
        hook,
        keys: Vec::new(),
        teams: Vec::new(),
    }
}

/// An actions table (`actions`, `input_actions`, `output_actions`): names checked.
fn table(
    cx: &mut Ctx<'_>,
    path: &str,
    raw: &BTreeMap<String, String>,
    names: &Names<'_>,
) -> Vec<(Named, Action)> {
    let mut out = Vec::new();
    for (name, action) in raw {
        let at = format!("{path}.{name}");
        let Some(named) = names.resolve(name) else {
            cx.problem(
                &at,
                format!(
                    "unknown category, detector or rule `{name}` (known: {})",
                    names.known()
                ),
            );
            continue;
        };
        if let Some(action) = action_named(cx, &at, action) {
            out.push((named, action));
        }
    }
    out
}

/// One direction's scanner: the chosen built-ins and rules (the rules renumbered in the
/// order they are used), each with its action.
fn build(
    cx: &mut Ctx<'_>,
    path: &str,
    chosen: &[Named],
    names: &Names<'_>,
    action_of: impl Fn(Named) -> Action,
) -> Option<Arc<Policy>> {
    let mut actions = Actions::default();
    let mut used: Vec<Rule> = Vec::new();
    for named in chosen {
        match named {
            Named::Detector(kind) => actions.set(*kind, action_of(*named)),
            Named::Rule(i) => {
                let rule = &names.rules[*i].rule;
                if used.iter().any(|r| r.name == rule.name) {
                    continue;
                }
                used.push(rule.clone());
                let index = u16::try_from(used.len() - 1).unwrap_or(u16::MAX);
                actions.set(Kind::Custom(index), action_of(*named));
            }
            Named::Category(_) => {}
        }
    }
    if actions.is_empty() {
        return None;
    }
    let mut kinds = actions.built_in_kinds();
    kinds.sort();
    let rule_names: Vec<String> = used.iter().map(|r| r.name.clone()).collect();
    let shared = names
        .built
        .borrow()
        .iter()
        .find(|(k, r, _)| *k == kinds && *r == rule_names)
        .map(|(_, _, s)| Arc::clone(s));
    let scanner = match shared {
        Some(scanner) => scanner,
        None => match Scanner::new(&kinds, &used) {
            Ok(scanner) => {
                let scanner = Arc::new(scanner);
                names
                    .built
                    .borrow_mut()
                    .push((kinds, rule_names, Arc::clone(&scanner)));
                scanner
            }
            Err(e) => {
                cx.problem(path, e.to_string());
                return None;
            }
        },
    };
    Some(Arc::new(Policy { scanner, actions }))
}
