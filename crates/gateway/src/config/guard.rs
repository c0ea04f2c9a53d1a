//! The `[guard]` section: what is scanned in prompts (`input`) and answers (`output`),
//! what each finding gets (redact, mask, block, log: by category, detector or rule, per
//! direction), operators' rules, stricter policies for some keys or teams, the stream
//! holdback's bounds, and the optional external classifier (`[guard.hook]`).
//!
//! Every detector is compiled here, at load time, so a bad rule is a config problem at
//! its key path and the request path only uses what was built.
//!
//! Must never print a hook's API key (a `Secret`), nor accept a rule past its bounds.

use super::Secret;
use super::ctx::Ctx;
use serde::Deserialize;
use sluice_guard::{Action, Actions, Category, Holdback, Kind, Policy, Rule, Scanner, rules};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Default, Deserialize, Clone)]
pub struct RawDirections {
    pub input: Option<Vec<String>>,
    pub output: Option<Vec<String>>,
    pub action: Option<String>,
    #[serde(default)]
    pub actions: BTreeMap<String, String>,
    #[serde(default)]
    pub input_actions: BTreeMap<String, String>,
    #[serde(default)]
    pub output_actions: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawGuard {
    #[serde(flatten)]
    pub directions: RawDirections,
    pub holdback_bytes: Option<u64>,
    pub holdback_time: Option<String>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
    #[serde(default)]
    pub policies: BTreeMap<String, RawPolicy>,
    pub hook: Option<RawHook>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawRule {
    pub name: String,
    pub words: Option<Vec<String>>,
    pub regex: Option<String>,
    pub case_insensitive: Option<bool>,
    pub whole_words: Option<bool>,
    pub action: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawPolicy {
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default)]
    pub teams: Vec<String>,
    #[serde(flatten)]
    pub directions: RawDirections,
    pub hook: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawHook {
    pub kind: String,
    pub url: String,
    pub model: Option<String>,
    pub api_key: Option<String>,
    pub timeout: Option<String>,
    pub on_error: Option<String>,
    pub mode: Option<String>,
    pub action: Option<String>,
    pub score_threshold: Option<f64>,
    pub entities: Option<Vec<String>>,
    pub language: Option<String>,
}

/// `[guard]`, validated and compiled.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// What applies to a request no policy claims.
    pub default: Arc<GuardPolicy>,
    /// `[guard.policies.NAME]`, with the keys and teams each applies to.
    pub policies: Vec<Arc<GuardPolicy>>,
    pub holdback: Holdback,
    /// Longest a piece of an answer may be held back before it goes on regardless.
    pub holdback_time: Duration,
    pub hook: Option<Arc<HookConfig>>,
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            default: Arc::default(),
            policies: Vec::new(),
            holdback: Holdback::default(),
            holdback_time: DEFAULT_HOLDBACK_TIME,
            hook: None,
        }
    }
}

impl GuardConfig {
    /// Whether any policy scans anything or calls the hook.
    pub fn is_on(&self) -> bool {
        std::iter::once(&self.default)
            .chain(&self.policies)
            .any(|p| p.input.is_some() || p.output.is_some() || p.hook)
    }

    /// The policy for a request: its key's, else its team's, else the default.
    pub fn policy_for(&self, key: Option<&str>, team: Option<&str>) -> &Arc<GuardPolicy> {
        let by_key = key.and_then(|k| self.policies.iter().find(|p| p.keys.iter().any(|x| x == k)));
        let by_team = || {
            team.and_then(|t| {
                self.policies
                    .iter()
                    .find(|p| p.teams.iter().any(|x| x == t))
            })
        };
        by_key.or_else(by_team).unwrap_or(&self.default)
    }
}

/// One policy: each direction's compiled scanner and actions (`None`: not scanned).
#[derive(Debug, Default)]
pub struct GuardPolicy {
    pub name: String,
    pub input: Option<Arc<Policy>>,
    pub output: Option<Arc<Policy>>,
    /// Whether the hook runs for requests under this policy.
    pub hook: bool,
    pub keys: Vec<String>,
    pub teams: Vec<String>,
}

/// `[guard.hook]`: an external classifier asked about each prompt.
#[derive(Debug, Clone)]
pub struct HookConfig {
    pub kind: HookKind,
    pub url: String,
    pub model: Option<String>,
    pub api_key: Option<Secret>,
    pub timeout: Duration,
    /// What a hook that fails or times out means: let the request through or refuse it.
    pub fail_open: bool,
    /// Ask before sending upstream, or at the same time (the answer is held until the
    /// verdict, and a refusal cancels the upstream call).
    pub parallel: bool,
    /// `block` refuses a flagged prompt; `log` only records the verdict.
    pub block: bool,
    pub score_threshold: f64,
    pub entities: Vec<String>,
    pub language: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    /// Llama Guard (or any model answering `safe` / `unsafe\nS1,...`) served behind an
    /// OpenAI-compatible `/v1/chat/completions`.
    LlamaGuard,
    /// Microsoft Presidio's analyzer (`POST /analyze`).
    Presidio,
}

const DEFAULT_HOLDBACK_TIME: Duration = Duration::from_secs(1);
const MAX_HOLDBACK_BYTES: u64 = 1 << 20;

pub fn guard(cx: &mut Ctx<'_>, raw: Option<&RawGuard>) -> GuardConfig {
    let Some(raw) = raw else {
        return GuardConfig::default();
    };
    let rules = rules_of(cx, &raw.rules);
    let hook = raw.hook.as_ref().and_then(|h| hook(cx, h));
    let names = Names {
        rules: &rules,
        built: std::cell::RefCell::default(),
    };
    let default = compile(
        cx,
        "guard",
        "default",
        &raw.directions,
        &names,
        hook.is_some(),
    );
    let mut policies: Vec<Arc<GuardPolicy>> = Vec::new();
    for (name, p) in &raw.policies {
        let path = format!("guard.policies.{name}");
        // A policy is written whole: what it leaves out is not scanned, so what a
        // team gets never depends on edits to the top level.
        let mut policy = compile(
            cx,
            &path,
            name,
            &p.directions,
            &names,
            hook.is_some() && p.hook.unwrap_or(true),
        );
        if p.hook == Some(true) && hook.is_none() {
            cx.problem(format!("{path}.hook"), "there is no [guard.hook] to call");
        }
        for (field, list) in [("keys", &p.keys), ("teams", &p.teams)] {
            for who in list {
                let claimed = policies.iter().any(|q| {
                    let theirs = if field == "keys" { &q.keys } else { &q.teams };
                    theirs.contains(who)
                });
                if claimed {
                    cx.problem(
                        format!("{path}.{field}"),
                        format!("`{who}` is already under another policy"),
                    );
                }
            }
        }
        if p.keys.is_empty() && p.teams.is_empty() {
            cx.problem(
                &path,
                "names no keys and no teams: it would apply to nobody",
            );
        }
        policy.keys.clone_from(&p.keys);
        policy.teams.clone_from(&p.teams);
        policies.push(Arc::new(policy));
    }
    let holdback_bytes = match raw.holdback_bytes {
        None => Holdback::default().max_bytes,
        Some(n) if (64..=MAX_HOLDBACK_BYTES).contains(&n) => usize::try_from(n).unwrap_or(8192),
        Some(_) => {
            cx.problem(
                "guard.holdback_bytes",
                format!("must be between 64 and {MAX_HOLDBACK_BYTES}"),
            );
            Holdback::default().max_bytes
        }
    };
    GuardConfig {
        default: Arc::new(default),
        policies,
        holdback: Holdback {
            max_bytes: holdback_bytes,
        },
        holdback_time: cx.duration(
            "guard.holdback_time",
            raw.holdback_time.as_ref(),
            DEFAULT_HOLDBACK_TIME,
        ),
        hook: hook.map(Arc::new),
    }
}

/// The rules, each checked, with its own action if it names one.
struct Checked {
    rule: Rule,
    action: Option<Action>,
}

fn rules_of(cx: &mut Ctx<'_>, raw: &[RawRule]) -> Vec<Checked> {
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
struct Names<'a> {
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

impl Names<'_> {
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

fn compile(
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

fn hook(cx: &mut Ctx<'_>, raw: &RawHook) -> Option<HookConfig> {
    let kind = match raw.kind.as_str() {
        "llama-guard" => HookKind::LlamaGuard,
        "presidio" => HookKind::Presidio,
        other => {
            cx.problem(
                "guard.hook.kind",
                format!("unknown hook kind `{other}` (llama-guard or presidio)"),
            );
            return None;
        }
    };
    let url = cx.string("guard.hook.url", &raw.url)?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        cx.problem("guard.hook.url", "must be an http:// or https:// URL");
        return None;
    }
    if kind == HookKind::LlamaGuard && raw.model.is_none() {
        cx.problem(
            "guard.hook.model",
            "a llama-guard hook needs the model's name",
        );
    }
    let choice =
        |cx: &mut Ctx<'_>, key: &str, value: &Option<String>, options: [&str; 2]| match value
            .as_deref()
        {
            None => true,
            Some(v) if v == options[0] => true,
            Some(v) if v == options[1] => false,
            Some(v) => {
                cx.problem(
                    format!("guard.hook.{key}"),
                    format!("`{v}`: must be {} or {}", options[0], options[1]),
                );
                true
            }
        };
    let fail_open = choice(cx, "on_error", &raw.on_error, ["open", "closed"]);
    let parallel = !choice(cx, "mode", &raw.mode, ["before", "parallel"]);
    let block = choice(cx, "action", &raw.action, ["block", "log"]);
    let score_threshold = raw.score_threshold.unwrap_or(0.5);
    if !(0.0..=1.0).contains(&score_threshold) {
        cx.problem("guard.hook.score_threshold", "must be between 0 and 1");
    }
    Some(HookConfig {
        kind,
        model: raw
            .model
            .as_ref()
            .and_then(|m| cx.string("guard.hook.model", m)),
        api_key: raw
            .api_key
            .as_ref()
            .and_then(|k| cx.string("guard.hook.api_key", k))
            .map(Secret::new),
        timeout: cx.duration(
            "guard.hook.timeout",
            raw.timeout.as_ref(),
            Duration::from_millis(500),
        ),
        url,
        fail_open,
        parallel,
        block,
        score_threshold,
        entities: raw.entities.clone().unwrap_or_default(),
        language: raw.language.clone().unwrap_or_else(|| "en".to_owned()),
    })
}
