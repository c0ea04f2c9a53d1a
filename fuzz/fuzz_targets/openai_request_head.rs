//! Decoding an OpenAI request head from arbitrary bytes never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_protocol::openai::request::{ChatRequestHead, EmbeddingsRequestHead, decode};
use sluice_protocol::openai::usage::{find_usage, is_error_chunk};

fuzz_target!(|data: &[u8]| {
    let _ = decode::<ChatRequestHead>(data);
    let _ = decode::<EmbeddingsRequestHead>(data);
    let _ = find_usage(data);
    let _ = is_error_chunk(data);
});
