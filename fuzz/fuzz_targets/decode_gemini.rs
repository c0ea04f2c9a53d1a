//! Gemini: the response and error decoders never panic, and a decoded response encodes
//! for every ingress format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_protocol::canonical::{ChatRequest, Format};
use sluice_protocol::translate::{Ingress, Provider};

fuzz_target!(|data: &[u8]| {
    if let Ok(resp) = Provider::Gemini.decode_response(data) {
        let req = ChatRequest::new("m", Format::OpenAiChat);
        for ingress in [Ingress::OpenAiChat, Ingress::Anthropic, Ingress::Responses] {
            let _ = ingress.encode_response(&resp, &req);
        }
    }
    let _ = Provider::Gemini.decode_error(400, data);
});
