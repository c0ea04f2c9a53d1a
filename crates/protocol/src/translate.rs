//! The hub's switchboard: every translation step as one function that dispatches on the
//! format, so the gateway never names a spoke. Ingress formats (what clients send) and
//! provider formats (what upstreams accept) are separate closed sets: a pairing that
//! cannot exist (Gemini as ingress, Responses as provider) does not type-check.
//!
//! Must never hold logic of its own beyond dispatch: each spoke owns its format.

use crate::canonical::{
    ChatRequest, ChatResponse, Format, ProviderError, StreamEvent, Tap, TranslateError,
};
use crate::{anthropic, gemini, openai, responses};
use bytes::{Bytes, BytesMut};

/// A format clients send requests in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ingress {
    OpenAiChat,
    Anthropic,
    Responses,
}

/// A format upstream providers accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    OpenAiChat,
    Anthropic,
    Gemini,
}

impl Ingress {
    pub fn format(self) -> Format {
        match self {
            Self::OpenAiChat => Format::OpenAiChat,
            Self::Anthropic => Format::Anthropic,
            Self::Responses => Format::OpenAiResponses,
        }
    }

    /// The provider format that can take this ingress format's bytes unchanged.
    pub fn same_as(self) -> Option<Provider> {
        match self {
            Self::OpenAiChat => Some(Provider::OpenAiChat),
            Self::Anthropic => Some(Provider::Anthropic),
            Self::Responses => None,
        }
    }

    pub fn decode_request(self, body: &[u8]) -> Result<ChatRequest, TranslateError> {
        match self {
            Self::OpenAiChat => openai::decode_request(body),
            Self::Anthropic => anthropic::decode_request(body),
            Self::Responses => responses::decode_request(body),
        }
    }

    pub fn encode_response(self, resp: &ChatResponse, req: &ChatRequest) -> Vec<u8> {
        match self {
            Self::OpenAiChat => openai::encode_response(resp, req),
            Self::Anthropic => anthropic::encode_response(resp, req),
            Self::Responses => responses::encode_response(resp, req),
        }
    }

    pub fn encode_error(self, err: &ProviderError) -> Vec<u8> {
        match self {
            Self::OpenAiChat => openai::encode_error(err),
            Self::Anthropic => anthropic::encode_error(err),
            Self::Responses => responses::encode_error(err),
        }
    }

    pub fn encode_stream_error(self, err: &ProviderError) -> Bytes {
        match self {
            Self::OpenAiChat => openai::encode_stream_error(err),
            Self::Anthropic => anthropic::encode_stream_error(err),
            Self::Responses => responses::encode_stream_error(err),
        }
    }
}

impl Provider {
    pub fn format(self) -> Format {
        match self {
            Self::OpenAiChat => Format::OpenAiChat,
            Self::Anthropic => Format::Anthropic,
            Self::Gemini => Format::Gemini,
        }
    }

    pub fn encode_request(
        self,
        req: &ChatRequest,
        notes: &mut Vec<String>,
    ) -> Result<Vec<u8>, TranslateError> {
        match self {
            Self::OpenAiChat => openai::encode_request(req, notes),
            Self::Anthropic => anthropic::encode_request(req, notes),
            Self::Gemini => gemini::encode_request(req, notes),
        }
    }

    pub fn decode_response(self, body: &[u8]) -> Result<ChatResponse, TranslateError> {
        match self {
            Self::OpenAiChat => openai::decode_response(body),
            Self::Anthropic => anthropic::decode_response(body),
            Self::Gemini => gemini::decode_response(body),
        }
    }

    pub fn decode_error(self, status: u16, body: &[u8]) -> ProviderError {
        match self {
            Self::OpenAiChat => openai::decode_error(status, body),
            Self::Anthropic => anthropic::decode_error(status, body),
            Self::Gemini => gemini::decode_error(status, body),
        }
    }

    /// What the pass-through relay learns from one event of this format.
    pub fn tap(self, event: Option<&str>, data: &[u8]) -> Tap {
        match self {
            Self::OpenAiChat => openai::tap(event, data),
            Self::Anthropic => anthropic::tap(event, data),
            // Gemini is never passed through (no Gemini ingress).
            Self::Gemini => Tap::default(),
        }
    }

    /// `tap` for data the stream's text reader already walked (`walked`: it took the
    /// data as one JSON value; see `StreamText::read_walked`), so OpenAI's JSON check
    /// is not made twice. Anthropic's tap makes no such check.
    pub fn tap_walked(self, event: Option<&str>, data: &[u8], walked: bool) -> Tap {
        match self {
            Self::OpenAiChat => openai::tap::tap_walked(event, data, walked),
            Self::Anthropic | Self::Gemini => self.tap(event, data),
        }
    }
}

/// Turns one provider's stream events into canonical events.
#[derive(Debug)]
pub enum StreamDecoder {
    OpenAiChat(openai::StreamDecoder),
    Anthropic(anthropic::StreamDecoder),
    Gemini(gemini::StreamDecoder),
}

impl StreamDecoder {
    pub fn new(provider: Provider) -> Self {
        match provider {
            Provider::OpenAiChat => Self::OpenAiChat(openai::StreamDecoder::new()),
            Provider::Anthropic => Self::Anthropic(anthropic::StreamDecoder::new()),
            Provider::Gemini => Self::Gemini(gemini::StreamDecoder::new()),
        }
    }

    pub fn decode(
        &mut self,
        event: Option<&str>,
        data: &[u8],
        out: &mut Vec<StreamEvent>,
    ) -> Result<(), TranslateError> {
        match self {
            Self::OpenAiChat(d) => d.decode(event, data, out),
            Self::Anthropic(d) => d.decode(event, data, out),
            Self::Gemini(d) => d.decode(event, data, out),
        }
    }

    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) -> Result<(), TranslateError> {
        match self {
            Self::OpenAiChat(d) => d.finish(out),
            Self::Anthropic(d) => d.finish(out),
            Self::Gemini(d) => d.finish(out),
        }
    }
}

/// Turns canonical events into one ingress format's stream events.
#[derive(Debug)]
pub enum StreamEncoder {
    OpenAiChat(openai::StreamEncoder),
    Anthropic(anthropic::StreamEncoder),
    /// Boxed: it keeps the whole response being built, several times the others' size.
    Responses(Box<responses::StreamEncoder>),
}

impl StreamEncoder {
    pub fn new(ingress: Ingress, req: &ChatRequest) -> Self {
        match ingress {
            Ingress::OpenAiChat => Self::OpenAiChat(openai::StreamEncoder::new(req)),
            Ingress::Anthropic => Self::Anthropic(anthropic::StreamEncoder::new(req)),
            Ingress::Responses => Self::Responses(Box::new(responses::StreamEncoder::new(req))),
        }
    }

    pub fn encode(&mut self, event: &StreamEvent, out: &mut BytesMut) {
        match self {
            Self::OpenAiChat(e) => e.encode(event, out),
            Self::Anthropic(e) => e.encode(event, out),
            Self::Responses(e) => e.encode(event, out),
        }
    }

    /// Ends the stream with this format's error event for a failure Sluice detected
    /// (the Responses encoder also numbers it and closes with `response.failed`).
    pub fn encode_error(&mut self, err: &ProviderError, out: &mut BytesMut) {
        match self {
            Self::OpenAiChat(_) => out.extend_from_slice(&openai::encode_stream_error(err)),
            Self::Anthropic(_) => out.extend_from_slice(&anthropic::encode_stream_error(err)),
            Self::Responses(e) => e.encode_error(err, out),
        }
    }
}
