//! The validation context every config section's checks share: the `${VAR}` lookup and
//! the list of problems found so far, with the typed readers that record a problem at
//! its key path and go on.
//!
//! Must never stop at a problem: each reader returns a default and records it.

use super::interpolate::expand;
use super::load::Problem;
use std::time::Duration;

pub(super) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

pub(super) struct Ctx<'a> {
    pub(super) env: Env<'a>,
    pub(super) problems: &'a mut Vec<Problem>,
}

impl Ctx<'_> {
    pub(super) fn problem(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            location: location.into(),
            message: message.into(),
        });
    }

    /// Expands `${VAR}`; on failure records the problem and returns `None`.
    pub(super) fn string(&mut self, path: &str, value: &str) -> Option<String> {
        match expand(value, self.env) {
            Ok(s) => Some(s),
            Err(message) => {
                self.problem(path, message);
                None
            }
        }
    }

    pub(super) fn duration(
        &mut self,
        path: &str,
        value: Option<&String>,
        default: Duration,
    ) -> Duration {
        let Some(raw) = value else { return default };
        let Some(text) = self.string(path, raw) else {
            return default;
        };
        match humantime::parse_duration(&text) {
            Ok(d) if !d.is_zero() => d,
            Ok(_) => {
                self.problem(path, "must be greater than zero");
                default
            }
            Err(e) => {
                self.problem(
                    path,
                    format!("invalid duration {text:?}: {e} (e.g. \"30s\", \"500ms\")"),
                );
                default
            }
        }
    }

    pub(super) fn positive(&mut self, path: &str, value: Option<u64>, default: usize) -> usize {
        match value.map(usize::try_from) {
            None => default,
            Some(Ok(v)) if v > 0 => v,
            Some(_) => {
                self.problem(path, "must be a positive integer");
                default
            }
        }
    }
}
