//! Sluice, an LLM gateway. One request flows through one pipeline; the modules below
//! are its stages, in request order.
//!
//! - [`server`]: bind, serve, graceful shutdown with a drain deadline.
//! - [`routes`]: every public path, and the HTTP-generic layers.
//! - [`request_id`]: `x-request-id` echo or generation.
//! - [`admission`]: load shedding (max in flight) and the request body limit.
//! - [`handlers`]: one file per endpoint; `handlers::proxy` is the shared pipeline.
//! - [`routing`]: model alias -> ordered plan of targets.
//! - [`dispatch`]: the attempt loop over the plan, up to the commit point.
//! - [`upstream`]: provider clients (pooled HTTP, credentials, per-phase deadlines).
//! - [`relay`]: streams a committed response to the client, with limits and in-band errors.
//! - [`record`]: the interaction record, emitted once per request.
//! - [`error`]: every failure as data, mapped to a status and the OpenAI error shape.
//!
//! Around the pipeline: [`config`] (load, expand, validate), [`runtime`] (the immutable
//! state a config becomes), [`cli`], [`telemetry`].

pub mod admission;
pub mod cli;
pub mod config;
pub mod dispatch;
pub mod error;
pub mod handlers;
pub mod record;
pub mod relay;
pub mod request_id;
pub mod routes;
pub mod routing;
pub mod runtime;
pub mod server;
pub mod telemetry;
pub mod upstream;

/// Installs the process-wide TLS crypto provider (ring). Call once before any client
/// is built; later calls are harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
