//! A string that never prints: upstream API keys live in `Secret` from the moment they
//! are read from the environment, so a stray `{:?}` in a log cannot leak them.
//!
//! Must never implement `Display` or a `Debug` that shows the value.

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The value, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}
