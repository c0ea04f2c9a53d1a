//! The call: what the client sent and what Sluice learnt of it, shared by every
//! attempt of one request (the canonical form is decoded at most once).
//!
//! Must never hold per-attempt state: each attempt prepares its own body.

use crate::relay::{Needs, Transforms};
use crate::routing::Target;
use crate::state::Snapshot;
use crate::trace_context::TraceContext;
use crate::upstream::Endpoint;
use axum::http::{HeaderName, HeaderValue};
use bytes::Bytes;
use sluice_protocol::canonical::{ChatRequest, TranslateError};
use sluice_protocol::translate::Ingress;
use std::sync::{Arc, OnceLock};
use tokio::time::Instant;

/// What the client sent, and what Sluice learnt of it so far.
pub struct Call<'a> {
    pub ingress: Ingress,
    pub endpoint: Endpoint,
    pub body: &'a Bytes,
    pub requested_model: &'a str,
    pub stream: bool,
    /// Client headers for providers of the ingress format (`anthropic-beta`).
    pub forward: &'a [(HeaderName, HeaderValue)],
    /// The client's headers, when some provider forwards some (`forward_headers`).
    pub client_headers: Option<&'a axum::http::HeaderMap>,
    /// The client asked for stream usage itself (OpenAI `stream_options.include_usage`).
    pub usage_requested: bool,
    /// The answer's transforms; each attempt runs a fresh copy.
    pub transforms: &'a Transforms,
    /// The canonical request, decoded on first need and shared by later attempts.
    pub canonical: Canonical,
    /// The request's trace, when tracing is on: each attempt sends `traceparent` with
    /// its own span id, so the provider's spans join the client's trace.
    pub trace: Option<TraceContext>,
    /// The whole attempt loop ends by then (`[server] request_timeout`, lowered by the
    /// client's `x-sluice-timeout`).
    pub deadline: Instant,
    /// What a broken stream needs to go on elsewhere, when the route resumes.
    pub resume: Option<ResumePlan>,
}

/// A resuming route's plan, owned: a stream's later legs run after dispatch returned.
pub struct ResumePlan {
    pub snapshot: Arc<Snapshot>,
    pub targets: Vec<Target>,
    pub config: crate::config::ResumeConfig,
}

/// The canonical form of a call's request, decoded at most once.
#[derive(Debug, Default)]
pub struct Canonical(OnceLock<Result<Arc<ChatRequest>, TranslateError>>);

impl Call<'_> {
    pub(super) fn canonical(&self) -> Result<Arc<ChatRequest>, TranslateError> {
        self.canonical
            .0
            .get_or_init(|| self.ingress.decode_request(self.body).map(Arc::new))
            .clone()
    }

    pub(super) fn needs(&self) -> Needs {
        // Resume reads the answer's text and keeps one encoder across legs.
        let resumes = self.resume.is_some() && self.stream;
        let needs = self.transforms.needs();
        Needs {
            text: needs.text || resumes,
            edit: needs.edit,
        }
    }
}
