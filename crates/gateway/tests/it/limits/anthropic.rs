//! Every limit refuses Anthropic clients in Anthropic's shape.

use super::*;

async fn messages(h: &crate::support::Harness, body: &Value) -> reqwest::Response {
    h.client
        .post(h.url("/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .header("x-api-key", KEY)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_limit_refuses_anthropic_clients_in_anthropics_shape() {
    for (limits, scope) in [
        ("tpm = 40", "tpm"),
        ("max_concurrent = 1", "concurrency"),
        ("budget_usd = 0.00005", "budget"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let h = gateway(&dir, &format!("{}{PRICED}", key("k", KEY, "a", limits))).await;
        // 30 output tokens reserved: the first fits every limit, the second does not
        // while (concurrency) or after (tpm, budget) the first.
        // (The mock's own body field does not survive translation: script it server-wide.)
        h.mock.set_script("chunk_delay_ms=100");
        let body = json!({"model": "gpt-4o", "max_tokens": 30, "stream": true, "messages": [{"role": "user", "content": "a b c"}]});
        let first = messages(&h, &body).await;
        assert_eq!(first.status(), 200, "{scope}");
        if scope == "tpm" {
            assert_eq!(header(&first, "x-ratelimit-limit-tokens"), "40");
        }
        let second = messages(&h, &body).await;
        assert_eq!(second.status(), 429, "{scope}");
        assert_eq!(header(&second, "x-ratelimit-scope"), scope);
        assert!(!header(&second, "retry-after").is_empty(), "{scope}");
        let error: Value = second.json().await.unwrap();
        assert_eq!(error["type"], "error", "{scope}");
        assert_eq!(error["error"]["type"], "rate_limit_error", "{scope}");
        let seen = read_sse(first).await;
        assert!(
            seen.data().iter().any(|d| d.contains("message_stop")),
            "{scope}"
        );
    }
}
