//! Sluice, an LLM gateway. One request flows through one pipeline; the modules below
//! are its stages, in request order (`pipeline` runs them in one function).
//!
//! - [`server`]: bind, serve, graceful shutdown with a drain deadline; [`startup`]: the
//!   start-up line (mode, logs, features).
//! - [`reload`]: SIGHUP re-reads the config and swaps the snapshot.
//! - [`routes`]: every public path; `App` sends the upstream-bound ones to the pipeline.
//! - [`request_id`]: `x-request-id` echo or generation.
//! - [`trace_context`]: the client's `traceparent`, continued (when tracing is on).
//! - [`handlers`]: the endpoints that answer from the snapshot: models, health, count_tokens.
//! - [`pipeline`]: the stages in order, in one short function.
//! - [`ingress`]: each ingress format's head decoder and header checks.
//! - [`auth`]: virtual key -> principal (config and store keys), model allow-lists.
//! - [`admission`]: load shedding (max in flight) and the request body limit.
//! - [`guard`]: the prompt's text scanned and rewritten or refused (input stage), the
//!   answer's too (whole, or streamed through the relay's transform), the hook.
//! - [`routing`]: model alias -> ordered plan of targets.
//! - [`limits`]: rpm / tpm / concurrency / budget reserved before dispatch, settled at
//!   the end (memory or Redis counters).
//! - [`dispatch`]: the attempt loop over the plan, up to the commit point.
//! - [`resilience`]: the policies it consults: strategies, breakers, retries, hedging.
//! - [`upstream`]: provider clients (pooled HTTP, credentials, per-phase deadlines).
//! - [`relay`]: the stream stage chain: source -> decode -> transforms -> encode.
//! - [`egress`]: the response in the ingress format, with the `x-sluice-*` headers.
//! - [`finish`]: the end-of-interaction hook, once per request, off the request path.
//! - [`record`]: the interaction record the stages fill.
//! - [`error`]: every failure as data, mapped to a status and the ingress error shape.
//!
//! Beside it: [`journal`] (the durable record of every interaction), [`store`] (the
//! database behind it, keys and spend), [`admin`] (`/admin/*`, master key only).
//!
//! Around the pipeline: [`state`] (the config snapshot behind an atomic swap, and the
//! long-lived shared state), [`config`] (load, expand, validate), [`cli`], [`telemetry`].

pub mod admin;
pub mod admission;
pub mod auth;
pub mod cli;
pub mod config;
pub mod dispatch;
pub mod egress;
pub mod error;
pub mod finish;
pub mod guard;
pub mod handlers;
pub mod header_number;
pub mod hex_digits;
pub mod ingress;
pub mod journal;
pub mod limits;
pub mod pipeline;
pub mod record;
pub mod relay;
pub mod reload;
pub mod request_id;
pub mod resilience;
pub mod routes;
pub mod routing;
pub mod server;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod trace_context;
pub mod upstream;

/// Installs the process-wide TLS crypto provider (ring). Call once before any client
/// is built; later calls are harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
