//! `${VAR}` expansion inside config strings. A missing variable is a config problem that
//! names the variable, never an empty string sent upstream.
//!
//! Must never expand anything but the `${NAME}` form (`$$` writes a literal `$`), so a
//! key containing `$` is not mangled.

/// Expands `${VAR}` from `lookup`; errors name every missing variable.
pub fn expand(input: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    if !input.contains('$') {
        return Ok(input.to_owned());
    }
    let mut out = String::with_capacity(input.len());
    let mut missing = Vec::new();
    let mut rest = input;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let Some(end) = tail.find('}') else {
                return Err(format!("unterminated `${{` in {input:?}"));
            };
            let name = &tail[..end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("invalid variable name {name:?} in `${{...}}`"));
            }
            match lookup(name) {
                Some(value) => out.push_str(&value),
                None => missing.push(name.to_owned()),
            }
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(format!(
            "environment variable{} {} not set",
            if missing.len() > 1 { "s" } else { "" },
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "KEY").then(|| "sk-1".to_owned())
    }

    #[test]
    fn expands_and_escapes() {
        assert_eq!(expand("a ${KEY} $$ $x", env), Ok("a sk-1 $ $x".to_owned()));
    }

    #[test]
    fn names_missing_variables() {
        let err = expand("${NOPE}-${ALSO}", env).err().unwrap_or_default();
        assert!(err.contains("`NOPE`") && err.contains("`ALSO`"), "{err}");
    }

    #[test]
    fn rejects_unterminated() {
        assert!(expand("${KEY", env).is_err());
    }
}
