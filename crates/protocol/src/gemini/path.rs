//! The URL path of a Gemini call. Gemini takes the model and the streaming choice in
//! the path, not in the body, so the gateway appends this to the provider's base URL.
//!
//! Must never let a model name leave its path segment: a `/` would reach another
//! resource, a `?` or `#` would cut off the `:generateContent` method.

use std::fmt::Write as _;

/// `/models/{model}:generateContent`, or `/models/{model}:streamGenerateContent?alt=sse`
/// when `stream`. A `models/` or `tunedModels/` prefix (Gemini's resource names) picks
/// the collection; every byte of the name outside `A-Z a-z 0-9 - . _ ~` is
/// percent-encoded, which leaves real model names untouched.
pub fn path(model: &str, stream: bool) -> String {
    let (collection, name) = split_collection(model);
    let mut out = String::with_capacity(collection.len() + name.len() + 40);
    out.push('/');
    out.push_str(collection);
    out.push('/');
    escape_into(name, &mut out);
    out.push_str(if stream {
        ":streamGenerateContent?alt=sse"
    } else {
        ":generateContent"
    });
    out
}

fn split_collection(model: &str) -> (&'static str, &str) {
    if let Some(name) = model.strip_prefix("models/") {
        ("models", name)
    } else if let Some(name) = model.strip_prefix("tunedModels/") {
        ("tunedModels", name)
    } else {
        ("models", model)
    }
}

fn escape_into(name: &str, out: &mut String) {
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::path;

    #[test]
    fn plain_names_are_left_alone() {
        assert_eq!(
            path("gemini-2.5-flash", false),
            "/models/gemini-2.5-flash:generateContent"
        );
        assert_eq!(
            path("gemini-2.5-flash", true),
            "/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
    }

    #[test]
    fn resource_names_pick_the_collection() {
        assert_eq!(
            path("models/gemini-2.0-flash", false),
            "/models/gemini-2.0-flash:generateContent"
        );
        assert_eq!(
            path("tunedModels/my-tune", false),
            "/tunedModels/my-tune:generateContent"
        );
    }

    #[test]
    fn separators_cannot_escape_the_segment() {
        assert_eq!(
            path("../x/y?key=1#f", false),
            "/models/..%2Fx%2Fy%3Fkey%3D1%23f:generateContent"
        );
        assert_eq!(
            path("a:b c%", true),
            "/models/a%3Ab%20c%25:streamGenerateContent?alt=sse"
        );
        assert_eq!(path("modèle", false), "/models/mod%C3%A8le:generateContent");
    }
}
