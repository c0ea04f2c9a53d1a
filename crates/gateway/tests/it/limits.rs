//! Limits on one replica (memory store): rpm, tpm, concurrency and budgets per key,
//! team, model and globally; the rate-limit headers counting down; 429s that name the
//! limit that refused, with `retry-after`; windows recovering; reservations settled on
//! the real usage; a stream ended when its budget runs out.

use crate::keys::{MASTER, admin, gateway, hi, send};
use crate::support::{Seen, chat, read_sse};
use serde_json::{Value, json};

const KEY: &str = "sk-limited-0123456789abcdef";
const OTHER: &str = "sk-limited-other-0123456789";

fn key(name: &str, secret: &str, team: &str, limits: &str) -> String {
    format!("[[keys]]\nname = \"{name}\"\nkey = \"{secret}\"\nteam = \"{team}\"\n{limits}\n")
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn rpm_counts_down_in_the_headers_then_refuses_before_the_provider() {
    let dir = tempfile::tempdir().unwrap();
    let h = gateway(&dir, &key("k", KEY, "a", "rpm = 3")).await;
    for left in ["2", "1", "0"] {
        let r = hi(&h, Some(KEY), "gpt-4o").await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "x-ratelimit-limit-requests"), "3");
        assert_eq!(header(&r, "x-ratelimit-remaining-requests"), left);
    }
    let r = hi(&h, Some(KEY), "gpt-4o").await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "x-ratelimit-scope"), "rpm");
    // The 429 carries the rate-limit headers of the limit that refused it.
    assert_eq!(header(&r, "x-ratelimit-limit-requests"), "3");
    assert_eq!(header(&r, "x-ratelimit-remaining-requests"), "0");
    let wait: u64 = header(&r, "retry-after").parse().unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert_eq!(body["error"]["type"], "requests");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("key `k`") && message.contains("3 requests per minute"),
        "{message}"
    );
    assert_eq!(h.mock.stats().requests(), 3);
    // Anthropic's shape for the same refusal.
    let r = h
        .client
        .post(h.url("/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .header("x-api-key", KEY)
        .json(&json!({"model": "gpt-4o", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(!header(&r, "retry-after").is_empty());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");
    // The journal has the refusal too.
    h.flush().await;
    let (_, page) = admin(&h, reqwest::Method::GET, "/admin/journal?status=429", None).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_spent_window_comes_back_continuously() {
    let dir = tempfile::tempdir().unwrap();
    // 600 per minute: ten come back every second.
    let h = gateway(&dir, &key("k", KEY, "a", "rpm = 600")).await;
    let mut refused = false;
    for _ in 0..700 {
        let r = send(
            &h,
            "/v1/embeddings",
            Some(KEY),
            &json!({"model": "text-embedding-3-small", "input": "x"}),
        )
        .await;
        if r.status() == 429 {
            refused = true;
            break;
        }
    }
    assert!(refused, "600 rpm never refused");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let r = send(
        &h,
        "/v1/embeddings",
        Some(KEY),
        &json!({"model": "text-embedding-3-small", "input": "x"}),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn tpm_reserves_the_estimate_and_settles_on_the_real_usage() {
    let dir = tempfile::tempdir().unwrap();
    let h = gateway(&dir, &key("k", KEY, "a", "tpm = 100")).await;
    // Reserves the prompt estimate plus max_tokens 80; the mock uses a handful.
    let body = json!({"model": "gpt-4o", "max_tokens": 80, "messages": [{"role": "user", "content": "hi"}]});
    let r = send(&h, "/v1/chat/completions", Some(KEY), &body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-ratelimit-limit-tokens"), "100");
    let remaining: i64 = header(&r, "x-ratelimit-remaining-tokens").parse().unwrap();
    assert!(remaining < 20, "{remaining}");
    // Settled on the usage, so a second one fits although 2 x 80 would not.
    h.flush().await;
    let r = send(&h, "/v1/chat/completions", Some(KEY), &body).await;
    assert_eq!(r.status(), 200);
    // Too big for what is left: refused as tpm, naming tokens.
    let big = json!({"model": "gpt-4o", "max_tokens": 99, "messages": [{"role": "user", "content": "hi"}]});
    h.flush().await;
    let r = send(&h, "/v1/chat/completions", Some(KEY), &big).await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "x-ratelimit-scope"), "tpm");
    assert_eq!(header(&r, "x-ratelimit-limit-tokens"), "100");
    assert_eq!(header(&r, "x-ratelimit-remaining-tokens"), "0");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "tokens");
}

#[tokio::test]
async fn concurrency_refuses_while_a_stream_is_open_with_a_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let h = gateway(&dir, &key("k", KEY, "a", "max_concurrent = 1")).await;
    let slow = json!({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "a b c d e"}], "mock": {"chunk_delay_ms": 150}});
    let open = send(&h, "/v1/chat/completions", Some(KEY), &slow).await;
    assert_eq!(open.status(), 200);
    let r = hi(&h, Some(KEY), "gpt-4o").await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "x-ratelimit-scope"), "concurrency");
    assert_eq!(header(&r, "retry-after"), "1");
    let seen = read_sse(open).await;
    assert!(seen.ends_with_done());
    h.flush().await;
    let r = hi(&h, Some(KEY), "gpt-4o").await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_team_limit_is_shared_by_its_keys_and_named_as_the_team() {
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "{}{}[limits.teams.a]\nrpm = 2\n",
        key("one", KEY, "a", ""),
        key("two", OTHER, "a", "")
    );
    let h = gateway(&dir, &extra).await;
    assert_eq!(hi(&h, Some(KEY), "gpt-4o").await.status(), 200);
    assert_eq!(hi(&h, Some(OTHER), "gpt-4o").await.status(), 200);
    let r = hi(&h, Some(KEY), "gpt-4o").await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("team `a`"), "{message}");
}

#[tokio::test]
async fn model_and_global_limits_apply_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    let h = gateway(
        &dir,
        "[limits.models.alias]\nrpm = 1\n[limits.global]\nrpm = 3\n",
    )
    .await;
    assert_eq!(
        h.post("/v1/chat/completions", &chat("alias", "hi"))
            .await
            .status(),
        200
    );
    let r = h.post("/v1/chat/completions", &chat("alias", "hi")).await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("model `alias`")
    );
    assert_eq!(
        h.post("/v1/chat/completions", &chat("gpt-4o", "hi"))
            .await
            .status(),
        200
    );
    // The model's refusal took nothing from the global limit: one more fits.
    assert_eq!(
        h.post("/v1/chat/completions", &chat("gpt-4o", "hi"))
            .await
            .status(),
        200
    );
    let r = h.post("/v1/chat/completions", &chat("gpt-4o", "hi")).await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the gateway")
    );
}

/// $1 per token in and out, so costs are easy to follow in micro-dollars.
const PRICED: &str = "[pricing.gpt-4o]\ninput = 1.0\noutput = 1.0\n";

#[tokio::test]
async fn a_budget_is_exhausted_stays_exhausted_and_spend_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    // 60 micro-dollars; each request reserves its prompt plus 10 output tokens.
    let extra = format!(
        "{}{PRICED}",
        key(
            "k",
            KEY,
            "a",
            "budget_usd = 0.00006\nbudget_period = \"daily\""
        )
    );
    let h = gateway(&dir, &extra).await;
    let body = json!({"model": "gpt-4o", "max_tokens": 10, "messages": [{"role": "user", "content": "hello there friend"}]});
    let mut ok = 0;
    let mut refused = None;
    for _ in 0..20 {
        let r = send(&h, "/v1/chat/completions", Some(KEY), &body).await;
        h.flush().await;
        if r.status() == 200 {
            ok += 1;
        } else {
            refused = Some(r);
            break;
        }
    }
    let r = refused.expect("the budget refused at some point");
    assert!(ok >= 2, "{ok}");
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "x-ratelimit-scope"), "budget");
    let wait: u64 = header(&r, "retry-after").parse().unwrap();
    assert!(wait <= 86_400, "until the day ends: {wait}");
    let body_json: Value = r.json().await.unwrap();
    assert_eq!(body_json["error"]["type"], "insufficient_quota");
    // Still exhausted.
    let again = send(&h, "/v1/chat/completions", Some(KEY), &body).await;
    assert_eq!(again.status(), 429);
    let (status, spend) = admin(&h, reqwest::Method::GET, "/admin/spend?key=k", None).await;
    assert_eq!(status, 200);
    let spent = spend["cost_usd"].as_f64().unwrap();
    assert!(spent > 0.0 && spent <= 0.00006 + 1e-9, "{spend}");
    assert_eq!(spend["requests"].as_i64().unwrap(), ok + 2);
    let (status, _) = admin(
        &h,
        reqwest::Method::GET,
        "/admin/spend?since=yesterday",
        None,
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_stream_that_would_overspend_ends_with_an_error_event() {
    let long = json!({"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "go"}], "mock": {"chunks": 400}});
    let seen = overspend("/v1/chat/completions", &long).await;
    assert!(!seen.content().is_empty());
}

/// A long stream on a key whose budget pays for a few tokens: 200, some text, then
/// `budget_exceeded` in band instead of the end marker.
async fn overspend(path: &str, body: &Value) -> Seen {
    let dir = tempfile::tempdir().unwrap();
    // No max_tokens: the reservation uses default_max_tokens (5), but the answer is long.
    let h = gateway_with_default_max(
        &dir,
        &format!("{}{PRICED}", key("k", KEY, "a", "budget_usd = 0.00004")),
    )
    .await;
    let r = send(&h, path, Some(KEY), body).await;
    assert_eq!(r.status(), 200);
    let seen = read_sse(r).await;
    assert_eq!(seen.error_code().as_deref(), Some("budget_exceeded"));
    assert!(!seen.ends_with_done());
    seen
}

#[tokio::test]
async fn a_budgeted_stream_stays_on_the_pass_through_path() {
    // The cut-off reads text pieces, not canonical events: a budget does not make an
    // OpenAI stream to an OpenAI-format provider cross translated.
    let dir = tempfile::tempdir().unwrap();
    let h = gateway_with_default_max(
        &dir,
        &format!("{}{PRICED}", key("k", KEY, "a", "budget_usd = 10.0")),
    )
    .await;
    // Bytes only the pass-through path keeps: a vendor field, a number's own spelling.
    let body = r#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"go"}],"x_vendor":{"n":1.50}}"#;
    let r = h
        .client
        .post(h.url("/v1/chat/completions"))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = read_sse(r).await;
    assert!(seen.ends_with_done(), "{:?}", seen.data());
    assert_eq!(seen.content(), "Mock reply to: go");
    // The provider's chunks as it wrote them: re-encoded, they lost the fields Sluice's
    // encoder does not write (`system_fingerprint`, `logprobs`).
    let chunks = seen.json();
    assert!(
        !chunks.is_empty() && chunks.iter().all(|c| c["system_fingerprint"] == "fp_mock"),
        "{chunks:?}"
    );
    let upstream = h.mock.stats().last_request().expect("request recorded");
    let sent = String::from_utf8_lossy(&upstream.body);
    assert!(sent.contains(r#""x_vendor":{"n":1.50}"#), "{sent}");
}

#[tokio::test]
async fn a_budgeted_stream_with_a_malformed_event_fails_as_an_unbudgeted_one_does() {
    // With a budget the stream's text is read, and that walk stands for the tap's JSON
    // check: a broken event must be caught exactly as the tap alone catches it.
    let body = crate::support::chat_stream("gpt-4o", json!({"chunks": 5, "malformed": "sse"}));
    let plain = crate::support::start().await;
    let r = plain.post("/v1/chat/completions", &body).await;
    let status = r.status();
    let unbudgeted = read_sse(r).await;
    let dir = tempfile::tempdir().unwrap();
    let h = gateway_with_default_max(
        &dir,
        &format!("{}{PRICED}", key("k", KEY, "a", "budget_usd = 10.0")),
    )
    .await;
    let r = h
        .client
        .post(h.url("/v1/chat/completions"))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), status);
    let budgeted = read_sse(r).await;
    assert_eq!(budgeted.error_code().as_deref(), Some("upstream_protocol"));
    assert_eq!(budgeted.error_code(), unbudgeted.error_code());
    assert!(!budgeted.ends_with_done(), "{:?}", budgeted.data());
    assert_eq!(budgeted.content(), unbudgeted.content());
}

#[tokio::test]
async fn a_legacy_completions_stream_that_would_overspend_is_cut_too() {
    // Legacy completions have no canonical form: only the pass-through path's text
    // pieces can meter them.
    let long = json!({"model": "gpt-4o", "prompt": "go", "stream": true, "mock": {"chunks": 400}});
    let seen = overspend("/v1/completions", &long).await;
    assert!(
        seen.json()
            .iter()
            .any(|c| c.pointer("/choices/0/text").is_some())
    );
}

async fn gateway_with_default_max(dir: &tempfile::TempDir, extra: &str) -> crate::support::Harness {
    let store = dir.path().join("cut.db");
    let text = format!(
        "{}\n[store]\nurl = \"sqlite://{}\"\n[admin]\nmaster_key = \"{MASTER}\"\n[limits]\ndefault_max_tokens = 5\n{extra}",
        crate::support::DEFAULT_CONFIG,
        store.display()
    );
    crate::support::start_with(&text).await
}

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
