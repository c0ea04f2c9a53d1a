//! Budgets: exhausted and reported; streams ended or cut when they would overspend;
//! a budgeted stream stays on the pass-through path.

use super::*;

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
    let (status, by_model) =
        admin(&h, reqwest::Method::GET, "/admin/spend?model=gpt-4o", None).await;
    assert_eq!(status, 200);
    assert_eq!(by_model["model"], "gpt-4o");
    assert_eq!(by_model["requests"], spend["requests"], "{by_model}");
    assert_eq!(by_model["cost_usd"], spend["cost_usd"], "{by_model}");
    let (_, other) = admin(&h, reqwest::Method::GET, "/admin/spend?model=other", None).await;
    assert_eq!(other["requests"], 0, "{other}");
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

#[tokio::test]
async fn a_restart_reads_a_key_budget_spent_back_from_the_journal() {
    let budget = key(
        "k",
        KEY,
        "a",
        "budget_usd = 0.00006\nbudget_period = \"daily\"",
    );
    spend_restart_and_refuse(&budget).await;
}

#[tokio::test]
async fn a_restart_reads_a_model_budget_spent_back_from_the_journal() {
    let budget = format!(
        "{}[limits.models.gpt-4o]\nbudget_usd = 0.00006\nbudget_period = \"daily\"\n",
        key("k", KEY, "a", "")
    );
    spend_restart_and_refuse(&budget).await;
}

/// Sends `body` with `KEY` until the budget refuses it (at most 20 times).
async fn spend_until_refused(h: &crate::support::Harness, body: &Value) {
    for _ in 0..20 {
        let r = send(h, "/v1/chat/completions", Some(KEY), body).await;
        h.flush().await;
        if r.status() == 429 {
            return;
        }
        assert_eq!(r.status(), 200);
    }
    panic!("the budget never ran out");
}

/// Spends `budget` (a config fragment) until refused, then starts a new gateway on the
/// same SQLite store, whose memory counters start empty: it must refuse at once.
async fn spend_restart_and_refuse(budget: &str) {
    let dir = tempfile::tempdir().unwrap();
    let extra = format!("{budget}{PRICED}");
    let body = json!({"model": "gpt-4o", "max_tokens": 10, "messages": [{"role": "user", "content": "hello there friend"}]});
    {
        let h = gateway(&dir, &extra).await;
        spend_until_refused(&h, &body).await;
    }
    let h = gateway(&dir, &extra).await;
    let r = send(&h, "/v1/chat/completions", Some(KEY), &body).await;
    assert_eq!(r.status(), 429, "a restart gave the spent budget back");
    assert_eq!(header(&r, "x-ratelimit-scope"), "budget");
}

#[tokio::test]
async fn spend_spooled_while_the_database_was_down_is_seeded_at_the_next_start() {
    let Some(url) = crate::services::postgres_database().await else {
        return;
    };
    let outage = crate::services::Outage::start("127.0.0.1:5432".parse().unwrap()).await;
    let via = url.replacen("127.0.0.1:5432", &outage.addr.to_string(), 1);
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "{}\n[store]\nurl = \"{via}\"\n[journal]\nspool_dir = \"{}\"\nflush_interval = \"20ms\"\n{}{PRICED}",
        crate::support::DEFAULT_CONFIG,
        dir.path().join("spool").display(),
        key(
            "k",
            KEY,
            "a",
            "budget_usd = 0.00006\nbudget_period = \"daily\""
        )
    );
    let body = json!({"model": "gpt-4o", "max_tokens": 10, "messages": [{"role": "user", "content": "hello there friend"}]});
    {
        let h = crate::support::start_with(&config).await;
        outage.down();
        spend_until_refused(&h, &body).await;
    }
    let spool = dir.path().join("spool").join("postgres.spool.jsonl");
    assert!(
        std::fs::read_to_string(&spool).is_ok_and(|s| !s.is_empty()),
        "the spend was spooled"
    );
    outage.up().await;
    let h = crate::support::start_with(&config).await;
    let r = send(&h, "/v1/chat/completions", Some(KEY), &body).await;
    assert_eq!(r.status(), 429, "the spooled spend was not seeded");
    assert_eq!(header(&r, "x-ratelimit-scope"), "budget");
}

#[tokio::test]
async fn requests_every_provider_refused_or_never_received_cost_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Enough for two requests' reservations, no more.
    let budget = key(
        "k",
        KEY,
        "a",
        "budget_usd = 0.00006\nbudget_period = \"daily\"",
    );
    let h = gateway(&dir, &format!("{budget}{PRICED}")).await;
    let ask = |model: &str, mock: Value| json!({"model": model, "max_tokens": 10, "messages": [{"role": "user", "content": "hello there friend"}], "mock": mock});
    // Failures: five the provider answered with 500, fifteen never sent (a closed port),
    // the last five of them not even tried (the breaker open).
    for _ in 0..5 {
        let r = send(
            &h,
            "/v1/chat/completions",
            Some(KEY),
            &ask("gpt-4o", json!({"status": 500})),
        )
        .await;
        assert_eq!(r.status(), 502);
    }
    // Ten never sent open the dead target's breaker; the five after them reach no
    // provider at all (every target skipped, an empty attempt log).
    for i in 0..15 {
        let r = send(
            &h,
            "/v1/chat/completions",
            Some(KEY),
            &ask("dead-only", json!({})),
        )
        .await;
        assert!(r.status().is_server_error(), "{}", r.status());
        if i >= 10 {
            assert!(
                !header(&r, "retry-after").is_empty(),
                "not skipped: {}",
                r.status()
            );
        }
    }
    h.flush().await;
    // The budget is whole: the next request passes.
    let r = send(
        &h,
        "/v1/chat/completions",
        Some(KEY),
        &ask("gpt-4o", json!({})),
    )
    .await;
    assert_eq!(r.status(), 200, "failed requests were charged");
}
