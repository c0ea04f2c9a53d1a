//! Limits on one replica (memory store): rpm, tpm, concurrency and budgets per key,
//! team, model and globally; the rate-limit headers counting down; 429s that name the
//! limit that refused, with `retry-after`; windows recovering; reservations settled on
//! the real usage; a stream ended when its budget runs out.
//!
//! One file per subject; here, the keys and helpers they share.

mod anthropic;
mod budgets;
mod rates;

use crate::keys::{MASTER, admin, gateway, hi, send};
use crate::support::{Seen, chat, read_sse};
use serde_json::{Value, json};

const KEY: &str = "sk-limited-0123456789abcdef";
const OTHER: &str = "sk-limited-other-0123456789";

fn key(name: &str, secret: &str, team: &str, limits: &str) -> String {
    format!("[[keys]]\nname = \"{name}\"\nkey = \"{secret}\"\nteam = \"{team}\"\n{limits}\n")
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// $1 per token in and out, so costs are easy to follow in micro-dollars.
const PRICED: &str = "[pricing.gpt-4o]\ninput = 1.0\noutput = 1.0\n";
