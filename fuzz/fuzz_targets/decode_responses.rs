//! OpenAI Responses: the request decoder never panics, and what it accepts encodes for
//! every provider format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_protocol::translate::{Ingress, Provider};

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = Ingress::Responses.decode_request(data) {
        for provider in [Provider::OpenAiChat, Provider::Anthropic, Provider::Gemini] {
            let _ = provider.encode_request(&req, &mut Vec::new());
        }
    }
});
