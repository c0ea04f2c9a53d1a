//! The scanner on any text: never panics, and its findings are in order, apart, inside
//! the text and on char boundaries; the rewrite of any text never panics and a mask
//! map restores what it masked.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_guard::{Action, Actions, Kind, MaskMap, Policy, Rule, Scanner, Text};
use std::sync::OnceLock;

fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let mut actions = Actions::default();
        for (i, kind) in Kind::BUILT_IN.into_iter().enumerate() {
            let action = if kind == Kind::RoleToken { Action::Log } else if i % 2 == 0 { Action::Mask } else { Action::Redact };
            actions.set(kind, action);
        }
        actions.set(Kind::Custom(0), Action::Mask);
        actions.set(Kind::Custom(1), Action::Redact);
        let rules = [Rule::words("codename", &["Bluebird", "night jar"]), Rule::regex("ticket", r"ACME-\d{3,6}")];
        let scanner = Scanner::new(&actions.built_in_kinds(), &rules).unwrap_or_else(|e| panic!("{e}"));
        Policy { scanner: std::sync::Arc::new(scanner), actions }
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let policy = policy();
    let findings = policy.scanner.scan(&text);
    let mut last_end = 0;
    for f in &findings {
        assert!(f.start >= last_end && f.start < f.end && f.end <= text.len(), "{f:?}");
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end), "{f:?}");
        last_end = f.end;
    }
    let open = policy.scanner.open_from(&text);
    assert!(open <= text.len() && text.is_char_boundary(open));
    for form in [Text::Plain, Text::Json] {
        let mut masks = MaskMap::default();
        if let Ok(rewrite) = policy.rewrite(&text, Some(&mut masks), form) {
            let out = rewrite.text.unwrap_or_else(|| text.to_string());
            let _ = masks.restore(&out, form == Text::Json);
        }
    }
});
