//! Upstreams over TLS (rustls): a provider behind a private CA is trusted through
//! `ca_file`, HTTP/2 is negotiated by ALPN, and without the CA the certificate is refused.
//! The TLS side is a small terminating proxy in front of the mock provider.

use crate::support::{DEFAULT_CONFIG, Harness, chat, chat_stream, loopback, read_sse, start_with};
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// Terminates TLS on a free port and pipes each connection to `backend`; records the
/// ALPN protocol each client negotiated.
async fn tls_proxy(backend: SocketAddr) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    sluice::install_tls_provider();
    let certs = CertificateDer::pem_file_iter(fixture("server.pem"))
        .expect("cert file")
        .collect::<Result<Vec<_>, _>>()
        .expect("certs");
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).expect("key");
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind(loopback())
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let alpn = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&alpn);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let protocol = tls
                    .get_ref()
                    .1
                    .alpn_protocol()
                    .map(|p| String::from_utf8_lossy(p).into_owned());
                seen.lock()
                    .expect("lock")
                    .push(protocol.unwrap_or_default());
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (addr, alpn)
}

async fn harness_behind_tls(with_ca: bool) -> (Harness, Arc<Mutex<Vec<String>>>) {
    // The proxy must exist before the config that points at it, so this mock is started
    // here rather than by the harness.
    let mock = crate::support::default_mock().await;
    let (proxy, alpn) = tls_proxy(mock.addr()).await;
    let ca = if with_ca {
        format!("ca_file = \"{}\"\n", fixture("ca.pem").display())
    } else {
        String::new()
    };
    let config = DEFAULT_CONFIG.replace(
        "base_url = \"${MOCK_URL}\"",
        &format!("base_url = \"https://localhost:{}/v1\"\n{ca}", proxy.port()),
    );
    let mut h = start_with(&config).await;
    // Requests go through the TLS proxy to `mock`; keep it as the harness's mock so
    // assertions on what the provider saw read the right one.
    h.mock = mock;
    (h, alpn)
}

#[tokio::test]
async fn reaches_a_provider_over_tls_with_http2_by_alpn() {
    let (h, alpn) = harness_behind_tls(true).await;
    let response = h
        .post("/v1/chat/completions", &chat("gpt-4o", "over tls"))
        .await;
    assert_eq!(response.status(), 200);
    let seen = read_sse(
        h.post(
            "/v1/chat/completions",
            &chat_stream("gpt-4o", json!({"chunks": 5})),
        )
        .await,
    )
    .await;
    assert!(seen.ends_with_done());
    let protocols = alpn.lock().expect("lock").clone();
    assert!(
        !protocols.is_empty() && protocols.iter().all(|p| p == "h2"),
        "{protocols:?}"
    );
    assert_eq!(h.mock.stats().requests(), 2);
}

#[tokio::test]
async fn refuses_a_certificate_it_cannot_verify() {
    let (h, _) = harness_behind_tls(false).await;
    let response = h.post("/v1/chat/completions", &chat("gpt-4o", "x")).await;
    assert_eq!(response.status(), 502);
    assert_eq!(h.mock.stats().requests(), 0);
}

#[tokio::test]
async fn a_tls_handshake_that_never_answers_is_a_connect_timeout() {
    sluice::install_tls_provider();
    // Accepts TCP, then says nothing: the handshake never completes.
    let listener = tokio::net::TcpListener::bind(loopback())
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&held);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            keep.lock().expect("lock").push(socket);
        }
    });
    let config = DEFAULT_CONFIG
        .replace(
            "base_url = \"${MOCK_URL}\"",
            &format!("base_url = \"https://localhost:{port}/v1\"\nconnect_timeout = \"300ms\""),
        )
        .replace(
            "first_byte_timeout = \"2s\"",
            "first_byte_timeout = \"20s\"",
        );
    let h = start_with(&config).await;
    // The first-byte deadline (20 s) used to end it, named as that.
    let response = h
        .client
        .post(h.url("/v1/chat/completions"))
        .json(&chat("gpt-4o", "hi"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 504);
    let body: serde_json::Value = response.json().await.expect("json");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("connect timeout"), "{body}");
    assert!(
        !held.lock().expect("lock").is_empty(),
        "the TCP connection was made"
    );
}
