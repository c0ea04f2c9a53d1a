//! Reads a config file and turns every problem into a located message: TOML syntax and
//! type errors get line and column, unknown keys and invalid values get their key path.
//!
//! Must never stop at the first unknown key or invalid value: a user fixing a config
//! wants the whole list at once.

use super::Config;
use super::raw::RawConfig;
use std::fmt;
use std::path::Path;

/// One thing wrong with a config, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `line 3, column 7` or a key path such as `providers.openai.base_url`.
    pub location: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Every problem found in one config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems {
    pub file: String,
    pub list: Vec<Problem>,
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.list {
            writeln!(f, "{}: {p}", self.file)?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Loads and validates the config at `path`, reading `${VAR}` from the process environment.
pub fn load_file(path: &Path) -> Result<Config, Problems> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Problems {
        file: file.clone(),
        list: vec![Problem {
            location: "file".to_owned(),
            message: format!("cannot read: {e}"),
        }],
    })?;
    parse(&text, |name| std::env::var(name).ok()).map_err(|list| Problems { file, list })
}

/// Parses and validates config text; `env` resolves `${VAR}`. Every problem is listed:
/// unknown keys, each value of the wrong type (by its key path, the first also by line
/// and column) and every semantic problem, not just the first.
pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Config, Vec<Problem>> {
    let mut problems = Vec::new();
    // A syntax error leaves nothing to read further: it is the one problem.
    let mut table: toml::Table = toml::from_str(text).map_err(|e| vec![toml_problem(text, &e)])?;
    // The first type error by line and column, from the span-keeping deserializer.
    let first_at = toml::from_str::<RawConfig>(text)
        .err()
        .map(|e| toml_problem(text, &e).location);
    let raw = loop {
        let mut unknown = Vec::new();
        let attempt: Result<RawConfig, _> = serde_path_to_error::deserialize(
            serde_ignored::Deserializer::new(toml::Value::Table(table.clone()), &mut |path| {
                unknown.push(bracketed(&path.to_string()));
            }),
        );
        match attempt {
            Ok(raw) => {
                problems.extend(unknown.into_iter().map(|location| Problem {
                    location,
                    message: "unknown key".to_owned(),
                }));
                break raw;
            }
            Err(e) => {
                let path = e.path().to_string();
                // toml adds its own `in `path`` line; the location says it already.
                let text = e.inner().to_string();
                let first_line = text.lines().next().unwrap_or_default().trim();
                let message = sluice_protocol::openai::request::api_words(first_line);
                // A required value dropped for its type is then missing at its parent:
                // that is the same problem, reported once.
                let echo = message.starts_with("missing field")
                    && problems
                        .iter()
                        .any(|p: &Problem| p.location.starts_with(&format!("{path}.")));
                if !echo {
                    let location = match (&first_at, problems.is_empty()) {
                        (Some(at), true) => format!("{path} ({at})"),
                        _ => path.clone(),
                    };
                    problems.push(Problem { location, message });
                }
                // Drop the bad value and read the rest again, so the next problem shows
                // too; a value that cannot be dropped ends the reading here.
                if path == "." || !remove_at(&mut table, &path) || problems.len() > 100 {
                    return Err(problems);
                }
            }
        }
    };
    let config = super::validate::validate(raw, &env, &mut problems);
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems)
    }
}

/// `models.0.fallbacks` (serde_ignored's form) as `models[0].fallbacks`, the one notation
/// every problem uses.
fn bracketed(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 4);
    for (i, part) in path.split('.').enumerate() {
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(part);
            out.push(']');
        } else {
            if i > 0 {
                out.push('.');
            }
            out.push_str(part);
        }
    }
    out
}

/// Removes the value at a serde_path_to_error path (`a.b[2].c`); `false` when there is
/// none to remove. A missing field is reported at its parent: the parent goes.
fn remove_at(table: &mut toml::Table, path: &str) -> bool {
    let mut segments: Vec<Segment> = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        if !key.is_empty() {
            segments.push(Segment::Key(key.to_owned()));
        }
        for index in rest.split('[') {
            if let Ok(i) = index.trim_end_matches(']').parse::<usize>() {
                segments.push(Segment::Index(i));
            }
        }
    }
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let value = &mut *table;
    let mut current: Option<&mut toml::Value> = None;
    for segment in parents {
        let next = match (current.take(), segment) {
            (None, Segment::Key(k)) => value.get_mut(k),
            (Some(toml::Value::Table(t)), Segment::Key(k)) => t.get_mut(k),
            (Some(toml::Value::Array(a)), Segment::Index(i)) => a.get_mut(*i),
            _ => None,
        };
        let Some(next) = next else { return false };
        current = Some(next);
    }
    match (current, last) {
        (None, Segment::Key(k)) => value.remove(k).is_some(),
        (Some(toml::Value::Table(t)), Segment::Key(k)) => t.remove(k).is_some(),
        (Some(toml::Value::Array(a)), Segment::Index(i)) if *i < a.len() => {
            a.remove(*i);
            true
        }
        _ => false,
    }
}

enum Segment {
    Key(String),
    Index(usize),
}

fn toml_problem(text: &str, e: &toml::de::Error) -> Problem {
    let location = match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}")
        }
        None => "file".to_owned(),
    };
    Problem {
        location,
        message: e.message().trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        match parse(text, |n| (n == "SET").then(|| "v".to_owned())) {
            Ok(_) => Vec::new(),
            Err(list) => list.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn empty_config_is_valid() {
        assert!(problems("").is_empty());
    }

    #[test]
    fn lists_every_unknown_key() {
        let p = problems("[server]\nlisten = \"127.0.0.1:1\"\nlisen = 1\n[extra]\na = 1\n");
        assert!(p.contains(&"server.lisen: unknown key".to_owned()), "{p:?}");
        assert!(p.iter().any(|l| l.starts_with("extra")), "{p:?}");
    }

    #[test]
    fn type_errors_have_their_key_path_and_line_and_column() {
        let p = problems("[server]\nmax_body_bytes = \"big\"\n");
        assert_eq!(p.len(), 1);
        assert!(
            p[0].starts_with("server.max_body_bytes (line 2, column 18): "),
            "{p:?}"
        );
    }

    #[test]
    fn every_type_error_shows_with_the_unknown_keys_and_semantic_problems() {
        let p = problems(
            "[server]\nmax_body_bytes = \"big\"\nlisen = 1\nlisten = \"nope\"\n[providers.a]\nkind = 5\n[providers.b]\nkind = \"openai-compatible\"\nbase_url = \"http://h/v1\"\nmax_in_flight = \"lots\"\n[[models]]\nname = \"m\"\nfallbacks = [1]\ntargets = [{ provider = \"b\", weight = \"heavy\" }]\n",
        );
        for expected in [
            "server.max_body_bytes",
            "providers.a.kind",
            "providers.b.max_in_flight",
            "models[0].fallbacks[0]",
            "models[0].targets[0].weight",
            "server.lisen: unknown key",
            "server.listen: invalid address",
        ] {
            assert!(
                p.iter().any(|l| l.starts_with(expected)),
                "{expected} missing in {p:?}"
            );
        }
        assert!(!p.iter().any(|l| l.contains(".0.")), "one notation: {p:?}");
        assert_eq!(
            p.iter().filter(|l| l.contains("(line ")).count(),
            1,
            "{p:?}"
        );
        assert!(
            !p.iter().any(|l| l.contains("missing field")),
            "no echo: {p:?}"
        );
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let p = problems("[server\n");
        assert!(p[0].starts_with("line 1"), "{p:?}");
    }
}
