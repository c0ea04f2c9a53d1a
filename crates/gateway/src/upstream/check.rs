//! Active health checks (`health_check = "10s"` on a provider): a `GET {base}/models`
//! with the provider's own auth headers at that interval. A provider that fails its
//! check is routed to last and skipped like an open breaker until a check passes, so
//! a dead provider is found before a client's request finds it.
//!
//! Must never keep a gateway alive: the loop holds a `Weak` and ends with it; and
//! never log more than the provider's name and the status.

use super::Upstream;
use crate::config::ProviderKind;
use crate::state::Gateway;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often the loop looks for checks that are due.
const TICK: Duration = Duration::from_millis(100);

impl Upstream {
    /// One check: whether the provider answered its model list with a success.
    pub async fn check(&self, timeout: Duration) -> bool {
        let Some(url) = self.models_url() else {
            return false;
        };
        let mut request = axum::http::Request::new(http_body_util::Full::default());
        *request.uri_mut() = url;
        *request.headers_mut() = self.headers.clone();
        // A `GET` has no body to type.
        request
            .headers_mut()
            .remove(axum::http::header::CONTENT_TYPE);
        match tokio::time::timeout(timeout, self.client.request(request)).await {
            Ok(Ok(response)) if response.status().is_success() => true,
            Ok(Ok(response)) => {
                tracing::warn!(provider = %self.name, status = response.status().as_u16(), "health check failed");
                false
            }
            Ok(Err(_)) | Err(_) => {
                tracing::warn!(provider = %self.name, "health check failed: no answer");
                false
            }
        }
    }

    fn models_url(&self) -> Option<axum::http::Uri> {
        let mut url = self.base_url.clone();
        url.path_segments_mut().ok()?.pop_if_empty().push("models");
        if self.kind == ProviderKind::Azure
            && let Some(version) = &self.api_version
        {
            url.query_pairs_mut().append_pair("api-version", version);
        }
        super::address::to_uri(&url)
    }
}

/// Runs every configured provider's checks while the gateway lives, following config
/// reloads (each tick reads the current snapshot).
pub fn spawn(gateway: Weak<Gateway>) {
    tokio::spawn(async move {
        let mut due: std::collections::HashMap<String, tokio::time::Instant> =
            std::collections::HashMap::new();
        loop {
            tokio::time::sleep(TICK).await;
            let Some(gw) = gateway.upgrade() else { return };
            let snapshot = gw.snapshot();
            drop(gw);
            let now = tokio::time::Instant::now();
            for upstream in &snapshot.upstreams {
                let Some(interval) = upstream.health_check else {
                    continue;
                };
                let next = due.entry(upstream.name.clone()).or_insert(now);
                if *next > now {
                    continue;
                }
                *next = now + interval;
                let upstream = Arc::clone(upstream);
                tokio::spawn(async move {
                    let ok = upstream.check(interval.min(Duration::from_secs(5))).await;
                    upstream.health.checked(ok);
                });
            }
        }
    });
}
