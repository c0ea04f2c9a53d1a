//! The pooled HTTP client behind one provider: hyper-util's pooled client over rustls.
//!
//! hyper's client directly, not reqwest: reqwest wrapped each request in its own layers
//! (the `Url` parsed again and converted to a `Uri`, a redirect policy consulted even
//! when off, a retry layer, futures moved through several boxes): about a tenth of the
//! instructions of a whole proxied request (BENCHMARKS.md). Here the `Uri`s and headers
//! are built once per provider (`address.rs`), and a request is one call.
//!
//! TLS is rustls with the ring provider (installed once in `main`): aws-lc-sys would
//! triple clean build times here for no measured gain. Certificates are verified by the
//! platform's verifier with the provider's `ca_file` roots added, as reqwest did. HTTP/2
//! is negotiated by ALPN on https; `http2_prior_knowledge` forces cleartext HTTP/2 for
//! servers that want it.
//!
//! Must never set a whole-request timeout: streams would be cut. Deadlines per phase are
//! enforced by `send` and `relay`. Never follows redirects (a redirect would resend the
//! credentials elsewhere) and never uses a proxy from the environment.

use crate::config::ProviderConfig;
use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::sync::Arc;
use std::time::Duration;

/// One provider's client: requests carry their whole body.
pub type Http = Client<ConnectDeadline<HttpsConnector<HttpConnector>>, Full<Bytes>>;

/// The connector under one deadline for TCP and TLS together. `HttpConnector`'s own
/// timeout covers TCP only: a server that accepted and never answered the handshake
/// held the attempt until the first-byte deadline (60 s by default), reported as that.
/// Expiry is an `io::Error` of kind `TimedOut`, which `send` reports as a connect
/// timeout.
#[derive(Clone)]
pub struct ConnectDeadline<C> {
    inner: C,
    limit: Duration,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<C> tower::Service<hyper::Uri> for ConnectDeadline<C>
where
    C: tower::Service<hyper::Uri>,
    C::Future: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: hyper::Uri) -> Self::Future {
        // Boxed once per new connection, not per request.
        let connecting = self.inner.call(uri);
        let limit = self.limit;
        Box::pin(async move {
            match tokio::time::timeout(limit, connecting).await {
                Ok(connected) => connected.map_err(Into::into),
                Err(_) => Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "connect (TCP and TLS) timed out",
                )) as BoxError),
            }
        })
    }
}

/// What a client is built from. A reload that leaves these alone keeps the provider's
/// client, and with it the pool of open (TLS) connections.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    connect_timeout: Duration,
    http2_prior_knowledge: bool,
    extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl Settings {
    pub fn of(config: &ProviderConfig) -> Self {
        Self {
            connect_timeout: config.timeouts.connect,
            http2_prior_knowledge: config.http2_prior_knowledge,
            extra_roots: config.extra_roots.clone(),
        }
    }
}

pub fn build(settings: &Settings) -> Result<Http, rustls::Error> {
    let mut http = HttpConnector::new();
    // The TLS layer above decides what https means; this one only opens TCP.
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_keepalive(Some(Duration::from_secs(60)));
    http.set_connect_timeout(Some(settings.connect_timeout));
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls(settings)?)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    let connector = ConnectDeadline {
        inner: connector,
        limit: settings.connect_timeout,
    };
    let mut builder = Client::builder(TokioExecutor::new());
    builder
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(1024)
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new());
    if settings.http2_prior_knowledge {
        builder.http2_only(true);
    }
    Ok(builder.build(connector))
}

fn tls(settings: &Settings) -> Result<rustls::ClientConfig, rustls::Error> {
    // `main` installs ring as the process default; a gateway embedded without it (tests,
    // a library user) gets ring too instead of a panic.
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let verifier = if settings.extra_roots.is_empty() {
        rustls_platform_verifier::Verifier::new(Arc::clone(&provider))?
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(
            settings.extra_roots.iter().cloned(),
            Arc::clone(&provider),
        )?
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}
