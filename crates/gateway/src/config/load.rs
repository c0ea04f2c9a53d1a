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

/// Parses and validates config text; `env` resolves `${VAR}`.
pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Config, Vec<Problem>> {
    let mut problems = Vec::new();
    let de = toml::Deserializer::parse(text).map_err(|e| vec![toml_problem(text, &e)])?;
    let raw: RawConfig = serde_ignored::deserialize(de, |path| {
        problems.push(Problem {
            location: path.to_string(),
            message: "unknown key".to_owned(),
        });
    })
    .map_err(|e| vec![toml_problem(text, &e)])?;
    let config = super::validate::validate(raw, &env, &mut problems);
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems)
    }
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
    fn type_errors_have_line_and_column() {
        let p = problems("[server]\nmax_body_bytes = \"big\"\n");
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("line 2, column 18"), "{p:?}");
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let p = problems("[server\n");
        assert!(p[0].starts_with("line 1"), "{p:?}");
    }
}
