//! The `[telemetry]` section: where traces go.
//!
//! Must never accept an endpoint that is not http(s): spans are posted there as is.

use super::ctx::Ctx;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct RawTelemetry {
    pub otlp_endpoint: Option<String>,
    pub service_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    /// OTLP/HTTP base URL (`http://collector:4318`); spans go to `{it}/v1/traces`.
    pub otlp_endpoint: Option<String>,
    pub service_name: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            service_name: "sluice".to_owned(),
        }
    }
}

pub fn telemetry(cx: &mut Ctx<'_>, raw: Option<&RawTelemetry>) -> TelemetryConfig {
    let defaults = TelemetryConfig::default();
    let Some(raw) = raw else { return defaults };
    let otlp_endpoint = raw
        .otlp_endpoint
        .as_ref()
        .and_then(|e| cx.string("telemetry.otlp_endpoint", e))
        .filter(|e| {
            let ok = e.starts_with("http://") || e.starts_with("https://");
            if !ok {
                cx.problem(
                    "telemetry.otlp_endpoint",
                    "must be an http:// or https:// URL (OTLP over HTTP)",
                );
            }
            ok
        })
        .map(|e| e.trim_end_matches('/').to_owned());
    let service_name = raw
        .service_name
        .as_ref()
        .and_then(|n| cx.string("telemetry.service_name", n))
        .unwrap_or(defaults.service_name);
    TelemetryConfig {
        otlp_endpoint,
        service_name,
    }
}
