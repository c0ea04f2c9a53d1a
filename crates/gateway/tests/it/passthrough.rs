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
    let auth = seen
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.as_str());
    assert_eq!(auth, Some("Bearer sk-upstream-secret-key-123456"));
}
