//! The pass-through fast path: bytes Sluice does not read reach the provider untouched.

use crate::support::{start, text};

#[tokio::test]
async fn same_model_body_reaches_the_provider_byte_for_byte() {
    let h = start().await;
    let body = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"x_vendor":{"n":1.50,"list":[1, 2]},"seed":7}"#;
    let response = h.post_raw("/v1/chat/completions", body).await;
    assert_eq!(response.status(), 200);
    let seen = h.mock.stats().last_request().expect("request recorded");
    assert_eq!(text(&seen.body), body);
}

#[tokio::test]
async fn alias_rewrite_keeps_every_other_byte() {
    let h = start().await;
    let body = r#"{"messages":[{"role":"user","content":"hi"}],"model":"alias","x_vendor":{"n":1.50,"s":"\u00e9"}}"#;
    let response = h.post_raw("/v1/chat/completions", body).await;
    assert_eq!(response.status(), 200);
    let seen = h.mock.stats().last_request().expect("request recorded");
    assert_eq!(
        text(&seen.body),
        r#"{"messages":[{"role":"user","content":"hi"}],"model":"upstream-model","x_vendor":{"n":1.50,"s":"\u00e9"}}"#
    );
}

#[tokio::test]
async fn provider_key_is_sent_upstream_as_bearer() {
    let h = start().await;
    h.post_raw(
        "/v1/chat/completions",
        r#"{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}"#,
    )
    .await;
    let seen = h.mock.stats().last_request().expect("request recorded");
    let header = |name: &str| {
        seen.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        header("authorization"),
        ["Bearer sk-upstream-secret-key-123456"]
    );
    // The provider's headers are built once per provider: the user agent and the body's
    // type go with every request, once each.
    assert_eq!(
        header("user-agent"),
        [concat!("sluice/", env!("CARGO_PKG_VERSION"))]
    );
    assert_eq!(header("content-type"), ["application/json"]);
}

/// The values of header `name` in a request the mock received.
fn headers(r: &sluice_mock::RecordedRequest, name: &str) -> Vec<String> {
    r.headers
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

#[tokio::test]
async fn forward_headers_lets_listed_client_headers_through_on_either_path_never_credentials() {
    let config = crate::support::DEFAULT_CONFIG.replace(
        "api_key = \"sk-upstream-secret-key-123456\"",
        "api_key = \"sk-upstream-secret-key-123456\"\nforward_headers = [\"x-team\", \"x-trace-*\", \"x-*\"]",
    );
    let h = crate::support::start_with(&config).await;
    // OpenAI ingress (pass-through) and Anthropic ingress (translated) to the same provider.
    for (path, body) in [
        (
            "/v1/chat/completions",
            serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}),
        ),
        (
            "/v1/messages",
            serde_json::json!({"model": "gpt-4o", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}),
        ),
    ] {
        let response = h
            .client
            .post(h.url(path))
            .header("anthropic-version", "2023-06-01")
            .header("x-team", "team-a")
            .header("x-trace-id", "t-1")
            .header("x-api-key", "client-secret")
            .header("authorization", "Bearer client-secret")
            .header("x-sluice-timeout", "30s")
            .json(&body)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 200, "{path}");
        let seen = h.mock.stats().last_request().expect("upstream saw it");
        assert_eq!(headers(&seen, "x-team"), ["team-a"], "{path}");
        assert_eq!(headers(&seen, "x-trace-id"), ["t-1"], "{path}");
        assert!(
            headers(&seen, "x-api-key").is_empty(),
            "{path}: client key forwarded"
        );
        assert!(headers(&seen, "x-sluice-timeout").is_empty(), "{path}");
        assert_eq!(
            headers(&seen, "authorization"),
            ["Bearer sk-upstream-secret-key-123456"],
            "{path}: only the provider's own key"
        );
    }
}

#[tokio::test]
async fn the_upstream_sees_its_own_host_never_the_clients() {
    let h = crate::support::start().await;
    let response = h
        .client
        .post(h.url("/v1/chat/completions"))
        .header("host", "gateway.example")
        .json(&serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let seen = h.mock.stats().last_request().expect("upstream saw it");
    assert_eq!(headers(&seen, "host"), [h.mock.addr().to_string()]);
}

#[tokio::test]
async fn forward_headers_refuses_credentials_at_load_time() {
    let config = crate::support::DEFAULT_CONFIG.replace(
        "api_key = \"sk-upstream-secret-key-123456\"",
        "api_key = \"k\"\nforward_headers = [\"authorization\", \"proxy-*\", \"bad header\"]",
    );
    let problems = sluice::config::parse(&config, |_| Some("http://127.0.0.1:1/v1".to_owned()))
        .err()
        .unwrap_or_default();
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    for at in [
        "forward_headers[0]",
        "forward_headers[1]",
        "forward_headers[2]",
    ] {
        assert!(
            text.iter().any(|p| p.contains(at)),
            "{at} missing in {text:?}"
        );
    }
}

#[tokio::test]
async fn legacy_completions_pass_through_to_openai_format_providers_and_are_a_400_for_others() {
    let config = format!(
        "{}[providers.claude]\nkind = \"anthropic\"\nbase_url = \"${{MOCK_URL}}\"\napi_key = \"k\"\n[[models]]\nname = \"claude-only\"\ntargets = [{{ provider = \"claude\" }}]\n",
        crate::support::DEFAULT_CONFIG
    );
    let h = crate::support::start_with(&config).await;
    let response = h
        .post(
            "/v1/completions",
            &serde_json::json!({"model": "alias", "prompt": "hi", "max_tokens": 20}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-sluice-provider"], "mock");
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["object"], "text_completion");
    assert_eq!(
        body["model"], "upstream-model",
        "the alias went upstream renamed"
    );
    assert_eq!(body["choices"][0]["text"], "Mock reply to: hi");
    assert_eq!(
        h.mock.stats().last_request().map(|r| r.path),
        Some("/v1/completions".to_owned())
    );
    // Streamed: the chunks as the provider sent them, to the end.
    let response = h
        .post(
            "/v1/completions",
            &serde_json::json!({"model": "gpt-4o", "prompt": "hi", "stream": true}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let seen = crate::support::read_sse(response).await;
    assert!(seen.ends_with_done(), "{:?}", seen.data());
    let text: String = seen
        .json()
        .iter()
        .filter_map(|c| {
            c.pointer("/choices/0/text")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "Mock reply to: hi");
    assert!(
        seen.json()
            .iter()
            .all(|c| c["choices"] != serde_json::json!([])),
        "the usage chunk Sluice asked for is not shown"
    );
    // A provider that has no legacy completions: a 400 naming them, nothing sent.
    let before = h.mock.stats().requests();
    let response = h
        .post(
            "/v1/completions",
            &serde_json::json!({"model": "claude-only", "prompt": "hi"}),
        )
        .await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.expect("json");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("completions")),
        "{body}"
    );
    assert_eq!(h.mock.stats().requests(), before);
    // The prompt is required.
    let response = h
        .post("/v1/completions", &serde_json::json!({"model": "gpt-4o"}))
        .await;
    assert_eq!(response.status(), 400);
}
