//! The body for one target, on the path `relay::choose` picks: bytes passed through
//! (model swapped if aliased, stream usage asked for) or the canonical request encoded
//! for the target's format.
//!
//! Must never edit a pass-through body beyond the model and the usage flag.

use super::Call;
use crate::relay::{self, Choice, Path};
use crate::routing::Target;
use crate::upstream::{Endpoint, Upstream};
use bytes::Bytes;
use sluice_protocol::canonical::TranslateError;
use sluice_protocol::openai::rewrite::{Edits, rewrite};
use sluice_protocol::text::Stream;
use sluice_protocol::translate::Provider;

#[derive(Clone)]
pub(super) struct Prepared {
    pub(super) body: Bytes,
    pub(super) path: Path,
    /// Features dropped while translating, for the record.
    pub(super) notes: Vec<String>,
}

/// The body for this target, and the path its answer will take.
pub(super) fn prepare(
    upstream: &Upstream,
    target: &Target,
    call: &Call<'_>,
) -> Result<Prepared, TranslateError> {
    let provider = upstream.format();
    if !upstream.serves(call.endpoint) {
        let what = match call.endpoint {
            Endpoint::Embeddings => "embeddings",
            Endpoint::Completions => "completions (legacy text completions)",
            Endpoint::ChatCompletions => "chat",
            Endpoint::CountTokens => "token counting",
        };
        return Err(TranslateError::unsupported(
            what,
            provider.format().as_str(),
        ));
    }
    match relay::choose(call.ingress, call.endpoint, provider, call.needs()) {
        Choice::PassThrough => pass_through(provider, target, call),
        Choice::Translate => translate(provider, target, call),
    }
}

fn pass_through(
    provider: Provider,
    target: &Target,
    call: &Call<'_>,
) -> Result<Prepared, TranslateError> {
    // Usage is part of every interaction record: ask an OpenAI-format provider for it
    // on streams, and hide the extra chunk from a client that did not ask.
    let include_usage = provider == Provider::OpenAiChat
        && matches!(
            call.endpoint,
            Endpoint::ChatCompletions | Endpoint::Completions
        )
        && call.stream
        && !call.usage_requested;
    let edits = Edits {
        model: (target.model != call.requested_model).then_some(target.model.as_str()),
        include_usage,
    };
    let body = if edits.model.is_none() && !edits.include_usage {
        call.body.clone()
    } else {
        let rewritten = rewrite(call.body, edits)
            .map_err(|e| TranslateError::invalid(format!("request body: {e}"), None))?;
        Bytes::from(rewritten)
    };
    Ok(Prepared {
        body,
        path: Path::PassThrough {
            provider,
            hide_usage_chunk: include_usage,
            probe: call.endpoint == Endpoint::ChatCompletions,
            edit: (call.stream && call.needs().edit)
                .then(|| edited_stream(provider, call.endpoint))
                .flatten(),
        },
        notes: Vec::new(),
    })
}

/// The format a pass-through stream's text is edited in.
fn edited_stream(provider: Provider, endpoint: Endpoint) -> Option<Stream> {
    match (provider, endpoint) {
        (Provider::OpenAiChat, Endpoint::ChatCompletions) => Some(Stream::Chat),
        (Provider::OpenAiChat, Endpoint::Completions) => Some(Stream::Completions),
        (Provider::Anthropic, Endpoint::ChatCompletions) => Some(Stream::Messages),
        _ => None,
    }
}

fn translate(
    provider: Provider,
    target: &Target,
    call: &Call<'_>,
) -> Result<Prepared, TranslateError> {
    let mut notes = Vec::new();
    let request = call.canonical()?;
    let encoded = if request.model == target.model {
        provider.encode_request(&request, &mut notes)?
    } else {
        let mut renamed = (*request).clone();
        renamed.model.clone_from(&target.model);
        provider.encode_request(&renamed, &mut notes)?
    };
    if !call.forward.is_empty() {
        notes.push(format!(
            "dropped client headers for a {} provider",
            provider.format().as_str()
        ));
    }
    Ok(Prepared {
        body: Bytes::from(encoded),
        path: Path::Translate { provider, request },
        notes,
    })
}
