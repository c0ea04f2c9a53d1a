//! What tokens cost: a table shipped with Sluice for the common OpenAI, Anthropic and
//! Gemini models (US dollars per million tokens, list prices at the time of writing),
//! which `[pricing]` in the config replaces or extends per model name.
//!
//! Must never guess a price for an unknown model: it costs nothing and the budget
//! only refuses once spent (say so in `[pricing]`).

use crate::config::Price;
use std::collections::BTreeMap;

const fn price(input: f64, output: f64, cached_input: f64) -> Price {
    Price {
        input,
        output,
        cached_input,
    }
}

/// Model name prefixes and their prices; the longest matching prefix wins, so dated
/// versions (`gpt-4o-2024-08-06`) take their family's price.
const TABLE: [(&str, Price); 27] = [
    ("gpt-4o", price(2.5, 10.0, 1.25)),
    ("gpt-4o-mini", price(0.15, 0.6, 0.075)),
    ("gpt-4.1", price(2.0, 8.0, 0.5)),
    ("gpt-4.1-mini", price(0.4, 1.6, 0.1)),
    ("gpt-4.1-nano", price(0.1, 0.4, 0.025)),
    ("gpt-4-turbo", price(10.0, 30.0, 10.0)),
    ("gpt-3.5-turbo", price(0.5, 1.5, 0.5)),
    ("gpt-5", price(1.25, 10.0, 0.125)),
    ("gpt-5-mini", price(0.25, 2.0, 0.025)),
    ("gpt-5-nano", price(0.05, 0.4, 0.005)),
    ("o1", price(15.0, 60.0, 7.5)),
    ("o3", price(2.0, 8.0, 0.5)),
    ("o3-mini", price(1.1, 4.4, 0.55)),
    ("o4-mini", price(1.1, 4.4, 0.275)),
    ("text-embedding-3-small", price(0.02, 0.0, 0.02)),
    ("text-embedding-3-large", price(0.13, 0.0, 0.13)),
    ("claude-opus-4", price(15.0, 75.0, 1.5)),
    ("claude-sonnet-4", price(3.0, 15.0, 0.3)),
    ("claude-3-7-sonnet", price(3.0, 15.0, 0.3)),
    ("claude-3-5-sonnet", price(3.0, 15.0, 0.3)),
    ("claude-3-5-haiku", price(0.8, 4.0, 0.08)),
    ("claude-haiku-4", price(1.0, 5.0, 0.1)),
    ("gemini-2.5-pro", price(1.25, 10.0, 0.31)),
    ("gemini-2.5-flash", price(0.3, 2.5, 0.075)),
    ("gemini-2.5-flash-lite", price(0.1, 0.4, 0.025)),
    ("gemini-2.0-flash", price(0.1, 0.4, 0.025)),
    ("gemini-1.5-pro", price(1.25, 5.0, 0.3125)),
];

/// The price of `model`: the config's entry for that exact name, else the table's
/// longest matching prefix, else none.
pub fn lookup(overrides: &BTreeMap<String, Price>, model: &str) -> Option<Price> {
    if let Some(p) = overrides.get(model) {
        return Some(*p);
    }
    TABLE
        .iter()
        .filter(|(prefix, _)| model.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, p)| *p)
}

/// The highest price among `models` (each part taken separately), for a reservation
/// that must cover whichever target the attempt loop ends on; `None` if none is known.
pub fn dearest<'a>(
    overrides: &BTreeMap<String, Price>,
    models: impl Iterator<Item = &'a str>,
) -> Option<Price> {
    models
        .filter_map(|m| lookup(overrides, m))
        .reduce(|a, b| Price {
            input: a.input.max(b.input),
            output: a.output.max(b.output),
            cached_input: a.cached_input.max(b.cached_input),
        })
}

/// Micro-dollars for these token counts (a price per million tokens is micro-dollars
/// per token).
pub fn cost_micros(price: &Price, input: u64, cached_input: u64, output: u64) -> i64 {
    let fresh = input.saturating_sub(cached_input) as f64;
    let micros = fresh * price.input
        + cached_input as f64 * price.cached_input
        + output as f64 * price.output;
    micros.ceil().min(i64::MAX as f64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_prefix_wins_and_the_config_overrides() {
        let none = BTreeMap::new();
        assert_eq!(
            lookup(&none, "gpt-4o-mini-2024-07-18").map(|p| p.input),
            Some(0.15)
        );
        assert_eq!(
            lookup(&none, "gpt-4o-2024-08-06").map(|p| p.input),
            Some(2.5)
        );
        assert_eq!(lookup(&none, "my-local-llama"), None);
        let mut mine = BTreeMap::new();
        mine.insert("gpt-4o".to_owned(), price(1.0, 2.0, 0.5));
        assert_eq!(lookup(&mine, "gpt-4o").map(|p| p.output), Some(2.0));
    }

    #[test]
    fn cost_counts_cached_input_at_its_own_price() {
        let p = price(2.5, 10.0, 1.25);
        // 1000 input of which 400 cached, 100 output.
        assert_eq!(
            cost_micros(&p, 1000, 400, 100),
            600 * 5 / 2 + 400 * 5 / 4 + 1000
        );
    }
}
