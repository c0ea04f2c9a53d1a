//! Model allow-list globs: `*` matches any run of characters, `?` any one; everything
//! else matches itself. `gpt-4o*` allows `gpt-4o` and `gpt-4o-mini`; `*` allows all.
//!
//! Must never backtrack more than once per star: the match is linear in practice and
//! at worst the product of two short lengths (a pattern from config, a model name).

pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_and_question_marks() {
        assert!(matches("gpt-4o*", "gpt-4o"));
        assert!(matches("gpt-4o*", "gpt-4o-mini"));
        assert!(!matches("gpt-4o*", "gpt-4"));
        assert!(matches("*", "anything"));
        assert!(matches("claude-*-4-5", "claude-sonnet-4-5"));
        assert!(!matches("claude-*-4-5", "claude-sonnet-4-6"));
        assert!(matches("gpt-?o", "gpt-4o"));
        assert!(matches("smart", "smart"));
        assert!(!matches("smart", "smarter"));
    }
}
