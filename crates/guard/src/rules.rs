//! Operators' own rules (`[[guard.rules]]`): word lists (found with Aho-Corasick, in
//! linear time whatever their number) and regexes (the same linear-time engine as the
//! built-in detectors). Each is bounded in size here, so a config cannot make the scan
//! slow or large.
//!
//! Must never accept a rule past its bounds: the error names the rule and the bound.

/// One rule: a name (its placeholder is the name upper-cased) and what it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub matcher: Matcher,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// Any of these words or phrases; whole words only unless `whole_words` is off.
    Words {
        words: Vec<String>,
        case_insensitive: bool,
        whole_words: bool,
    },
    /// A regex (the `regex` crate's syntax: no look-around, no backreferences).
    Regex(String),
}

/// Most rules per scanner.
pub const MAX_RULES: usize = 256;
/// Most words across every word-list rule.
pub const MAX_WORDS: usize = 100_000;
/// Longest word or phrase.
pub const MAX_WORD_BYTES: usize = 256;
/// Longest regex source.
pub const MAX_REGEX_BYTES: usize = 4096;
/// Largest compiled program per regex rule.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl Rule {
    pub fn words(name: &str, words: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            matcher: Matcher::Words {
                words: words.iter().map(|w| (*w).to_owned()).collect(),
                case_insensitive: true,
                whole_words: true,
            },
        }
    }

    pub fn regex(name: &str, pattern: &str) -> Self {
        Self {
            name: name.to_owned(),
            matcher: Matcher::Regex(pattern.to_owned()),
        }
    }

    /// The placeholder label: the name upper-cased.
    pub fn label(&self) -> String {
        self.name.to_ascii_uppercase()
    }

    /// Checks the rule's own bounds (the regex's compiled size is checked when built).
    pub fn check(&self) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 40
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Err(format!(
                "rule name `{}` must be 1 to 40 of a-z, 0-9 and _",
                self.name
            ));
        }
        match &self.matcher {
            Matcher::Words { words, .. } => {
                if words.is_empty() {
                    return Err(format!("rule `{}` has no words", self.name));
                }
                if let Some(w) = words
                    .iter()
                    .find(|w| w.trim().is_empty() || w.len() > MAX_WORD_BYTES)
                {
                    return Err(format!(
                        "rule `{}`: every word must be 1 to {MAX_WORD_BYTES} bytes and not blank (got {} bytes)",
                        self.name,
                        w.len()
                    ));
                }
            }
            Matcher::Regex(pattern) => {
                if pattern.is_empty() || pattern.len() > MAX_REGEX_BYTES {
                    return Err(format!(
                        "rule `{}`: the regex must be 1 to {MAX_REGEX_BYTES} bytes",
                        self.name
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Checks a whole set of rules: each rule's bounds, unique names, the totals.
pub fn check_all(rules: &[Rule]) -> Result<(), String> {
    if rules.len() > MAX_RULES {
        return Err(format!("at most {MAX_RULES} rules"));
    }
    let mut words = 0usize;
    for (i, rule) in rules.iter().enumerate() {
        rule.check()?;
        if rules[..i].iter().any(|r| r.name == rule.name) {
            return Err(format!("rule `{}` is named twice", rule.name));
        }
        if crate::Kind::parse(&rule.name).is_some() || crate::Category::parse(&rule.name).is_some()
        {
            return Err(format!(
                "rule `{}` has the name of a built-in detector or category",
                rule.name
            ));
        }
        if let Matcher::Words { words: w, .. } = &rule.matcher {
            words += w.len();
        }
    }
    if words > MAX_WORDS {
        return Err(format!("{words} words in all rules; at most {MAX_WORDS}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_enforced_with_the_rule_named() {
        assert!(Rule::words("codename", &["Bluebird"]).check().is_ok());
        let long = "x".repeat(MAX_WORD_BYTES + 1);
        let err = Rule::words("codename", &[&long]).check().unwrap_err();
        assert!(err.contains("codename"), "{err}");
        assert!(
            Rule::regex("r", &"a".repeat(MAX_REGEX_BYTES + 1))
                .check()
                .is_err()
        );
        assert!(Rule::regex("Bad Name", "a").check().is_err());
        let dup = [Rule::regex("a", "x"), Rule::regex("a", "y")];
        assert!(check_all(&dup).unwrap_err().contains("twice"));
        assert!(check_all(&[Rule::regex("email", "x")]).is_err());
    }
}
