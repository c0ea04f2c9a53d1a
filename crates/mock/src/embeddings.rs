//! OpenAI Embeddings: deterministic unit vectors derived from a hash of
//! each input, as float arrays or base64 of little-endian f32.
//!
//! The same input must always give the same vector (tests and caches rely
//! on it), so this module must never use randomness or per-server state.

use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::conversation::tokens_for_chars;
use crate::dispatch::Parsed;
use crate::errors::{self, Dialect};

const DEFAULT_DIMENSIONS: u64 = 8;
/// Larger than any real model, small enough that a typo cannot make the
/// mock allocate gigabytes.
const MAX_DIMENSIONS: u64 = 16_384;

/// One input as the bytes that get hashed, plus its share of the usage.
struct Input {
    bytes: Vec<u8>,
    chars: usize,
    tokens: usize,
}

pub(crate) fn reply(parsed: &Parsed) -> Response {
    match build(&parsed.body, &parsed.model) {
        Ok(body) => errors::json_response(200, body.to_string()),
        Err(message) => errors::bad_request(Dialect::OpenAi, message),
    }
}

fn build(body: &Value, model: &str) -> Result<Value, &'static str> {
    let inputs = inputs(body.get("input")).ok_or(
        "`input` must be a string, an array of strings, an array of integers or an array of integer arrays",
    )?;
    if inputs.is_empty() {
        return Err("`input` must not be empty");
    }
    let dimensions = match body.get("dimensions") {
        None | Some(Value::Null) => DEFAULT_DIMENSIONS,
        Some(value) => value
            .as_u64()
            .filter(|d| (1..=MAX_DIMENSIONS).contains(d))
            .ok_or("`dimensions` must be an integer between 1 and 16384")?,
    };
    let dimensions = usize::try_from(dimensions).map_err(|_| "`dimensions` is too large")?;
    let base64 = match body.get("encoding_format").and_then(Value::as_str) {
        None | Some("float") => false,
        Some("base64") => true,
        Some(_) => return Err("`encoding_format` must be \"float\" or \"base64\""),
    };
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let vector = vector(&input.bytes, dimensions);
            let embedding = if base64 {
                Value::from(encode(&vector))
            } else {
                Value::from(vector)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    let chars: usize = inputs.iter().map(|input| input.chars).sum();
    let token_inputs: usize = inputs.iter().map(|input| input.tokens).sum();
    let tokens = if chars > 0 {
        tokens_for_chars(chars)
    } else {
        0
    };
    let prompt_tokens = tokens
        .saturating_add(u64::try_from(token_inputs).unwrap_or(u64::MAX))
        .max(1);
    Ok(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }))
}

fn inputs(input: Option<&Value>) -> Option<Vec<Input>> {
    match input? {
        Value::String(text) => Some(vec![text_input(text)]),
        Value::Array(items) if items.iter().all(Value::is_string) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(text_input)
                .collect(),
        ),
        Value::Array(items) if items.iter().all(Value::is_u64) => Some(vec![token_input(items)?]),
        Value::Array(items) => items
            .iter()
            .map(|item| token_input(item.as_array()?))
            .collect(),
        _ => None,
    }
}

fn text_input(text: &str) -> Input {
    Input {
        bytes: text.as_bytes().to_vec(),
        chars: text.chars().count(),
        tokens: 0,
    }
}

/// Pre-tokenised input: the token ids are already the usage.
fn token_input(tokens: &[Value]) -> Option<Input> {
    let mut bytes = Vec::with_capacity(tokens.len() * 8);
    for token in tokens {
        bytes.extend_from_slice(&token.as_u64()?.to_le_bytes());
    }
    Some(Input {
        bytes,
        chars: 0,
        tokens: tokens.len(),
    })
}

/// FNV-1a: tiny, stable across platforms and versions, good enough to
/// make different inputs look different.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Spreads (input hash, component) into well-mixed bits (splitmix64).
fn mix(seed: u64, component: u64) -> u64 {
    let mut z = seed.wrapping_add(
        component
            .wrapping_add(1)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15),
    );
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn vector(bytes: &[u8], dimensions: usize) -> Vec<f32> {
    let seed = fnv1a(bytes);
    let mut vector: Vec<f64> = (0..dimensions as u64)
        .map(|component| {
            // The top 53 bits map exactly onto an f64 in [0, 1).
            let unit = (mix(seed, component) >> 11) as f64 / (1u64 << 53) as f64;
            unit * 2.0 - 1.0
        })
        .collect();
    let norm = vector.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector.into_iter().map(|x| x as f32).collect()
}

fn encode(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_deterministic_unit_length() {
        let a = vector(b"hello", 16);
        assert_eq!(a, vector(b"hello", 16));
        assert_ne!(a, vector(b"hellp", 16));
        let norm: f32 = a.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert!(a.iter().all(|x| (-1.0..=1.0).contains(x)));
    }
}
