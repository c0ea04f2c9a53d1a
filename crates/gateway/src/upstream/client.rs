//! The pooled HTTP client behind one provider.
//!
//! TLS is rustls with the ring provider (installed once in `main`): aws-lc-sys would
//! triple clean build times here for no measured gain. HTTP/2 is negotiated by ALPN on
//! https; `http2_prior_knowledge` forces cleartext HTTP/2 for servers that want it.
//!
//! Must never set a whole-request timeout: streams would be cut. Deadlines per phase are
//! enforced by `send` and `relay`.

use crate::config::ProviderConfig;
use std::time::Duration;

pub fn build(config: &ProviderConfig) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(config.timeouts.connect)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .tcp_keepalive(Duration::from_secs(60))
        // Providers do not redirect API calls; following one would resend credentials.
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")));
    if config.http2_prior_knowledge {
        builder = builder.http2_prior_knowledge();
    }
    for root in &config.extra_roots {
        builder = builder.add_root_certificate(root.clone());
    }
    builder.build()
}
