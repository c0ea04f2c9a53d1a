//! How an answer crosses the gateway, decided in one place (`choose`) from the formats
//! and from what the pipeline's stages need to see: as bytes (pass-through, the fast
//! path) or through the canonical model (translate).
//!
//! Must never pick pass-through when a stage needs canonical events: a pass-through
//! answer is never decoded past the commit point. A stage that only rewrites text
//! (`Needs::edit`) keeps pass-through: its stream is edited event by event
//! (`Path::PassThrough::edit`).

use super::transform::{Needs, Transforms};
use crate::upstream::Endpoint;
use bytes::Bytes;
use sluice_protocol::canonical::{ChatRequest, Usage};
use sluice_protocol::text::Stream;
use sluice_protocol::translate::{Ingress, Provider};
use std::sync::Arc;

/// Whether one attempt's request and answer pass as bytes.
pub fn choose(ingress: Ingress, endpoint: Endpoint, provider: Provider, needs: Needs) -> Choice {
    // Embeddings and legacy completions have no canonical form: they only go to
    // OpenAI-format providers, as they are.
    if matches!(
        endpoint,
        Endpoint::Embeddings | Endpoint::Completions | Endpoint::CountTokens
    ) {
        return Choice::PassThrough;
    }
    if ingress.same_as() == Some(provider) && !needs.text {
        Choice::PassThrough
    } else {
        Choice::Translate
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    PassThrough,
    Translate,
}

/// The chosen way, with what each side of it needs.
#[derive(Debug, Clone)]
pub enum Path {
    /// Same format both sides: upstream bytes go to the client unchanged, except the
    /// usage chunk Sluice asked for on the client's behalf (`hide_usage_chunk`).
    PassThrough {
        provider: Provider,
        hide_usage_chunk: bool,
        /// Decode events up to the commit point to tell content from framing; `false`
        /// where the canonical decoder does not know the stream (legacy completions),
        /// so its first event commits.
        probe: bool,
        /// A stage rewrites the stream's text: each event's text pieces go through the
        /// transforms (`relay::edit`) in this format; `None` forwards events unread.
        edit: Option<Stream>,
    },
    /// Through the canonical model; `request` shapes the ingress encoder's answer.
    Translate {
        provider: Provider,
        request: Arc<ChatRequest>,
    },
}

impl Path {
    /// A whole (non-stream) answer in the ingress format, with its usage; `Err` names
    /// what is wrong with a body the provider's format does not allow.
    pub fn full_body(
        &self,
        ingress: Ingress,
        bytes: Bytes,
        transforms: &mut Transforms,
    ) -> Result<(Bytes, Option<Usage>), String> {
        match self {
            Self::PassThrough {
                provider: Provider::OpenAiChat,
                ..
            } => {
                let usage = sluice_protocol::openai::usage::validate_and_find_usage(&bytes)
                    .map_err(|_| "not JSON".to_owned())?;
                Ok((bytes, usage))
            }
            Self::PassThrough { provider, .. } => {
                let response = provider
                    .decode_response(&bytes)
                    .map_err(|e| e.to_string())?;
                Ok((bytes, response.usage))
            }
            Self::Translate { provider, request } => {
                let mut response = provider
                    .decode_response(&bytes)
                    .map_err(|e| e.to_string())?;
                transforms.on_response(&mut response);
                let encoded = ingress.encode_response(&response, request);
                Ok((Bytes::from(encoded), response.usage))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_format_passes_through_unless_a_stage_needs_the_text() {
        use Choice::{PassThrough, Translate};
        use Endpoint::{ChatCompletions as Chat, Embeddings};
        let quiet = Needs::default();
        let reading = Needs {
            text: true,
            edit: false,
        };
        let editing = Needs {
            text: false,
            edit: true,
        };
        let cases = [
            (
                Ingress::OpenAiChat,
                Chat,
                Provider::OpenAiChat,
                quiet,
                PassThrough,
            ),
            (
                Ingress::Anthropic,
                Chat,
                Provider::Anthropic,
                quiet,
                PassThrough,
            ),
            (
                Ingress::OpenAiChat,
                Chat,
                Provider::OpenAiChat,
                reading,
                Translate,
            ),
            (
                Ingress::OpenAiChat,
                Chat,
                Provider::OpenAiChat,
                editing,
                PassThrough,
            ),
            (
                Ingress::OpenAiChat,
                Chat,
                Provider::Anthropic,
                editing,
                Translate,
            ),
            (
                Ingress::Anthropic,
                Chat,
                Provider::Anthropic,
                reading,
                Translate,
            ),
            (
                Ingress::OpenAiChat,
                Chat,
                Provider::Anthropic,
                quiet,
                Translate,
            ),
            (
                Ingress::Responses,
                Chat,
                Provider::OpenAiChat,
                quiet,
                Translate,
            ),
            (
                Ingress::OpenAiChat,
                Embeddings,
                Provider::OpenAiChat,
                reading,
                PassThrough,
            ),
        ];
        for (ingress, endpoint, provider, needs, expected) in cases {
            assert_eq!(
                choose(ingress, endpoint, provider, needs),
                expected,
                "{ingress:?} -> {provider:?}, {needs:?}"
            );
        }
    }
}
