//! OpenAI Chat Completions: request and response decoders never panic on any bytes, and
//! whatever decodes can be encoded again for every provider and ingress format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_protocol::translate::{Ingress, Provider};

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = Ingress::OpenAiChat.decode_request(data) {
        for provider in [Provider::OpenAiChat, Provider::Anthropic, Provider::Gemini] {
            let _ = provider.encode_request(&req, &mut Vec::new());
        }
    }
    if let Ok(resp) = Provider::OpenAiChat.decode_response(data) {
        let req = sluice_protocol::canonical::ChatRequest::new("m", sluice_protocol::canonical::Format::OpenAiChat);
        for ingress in [Ingress::OpenAiChat, Ingress::Anthropic, Ingress::Responses] {
            let _ = ingress.encode_response(&resp, &req);
        }
    }
    let _ = Provider::OpenAiChat.decode_error(500, data);
});
