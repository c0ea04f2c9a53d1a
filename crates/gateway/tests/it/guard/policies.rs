//! Policies per key, then team, then the default; findings in the journal and the
//! metrics, never their values.

use super::*;

const KEYS: &str = r#"
[[keys]]
name = "strict-key"
key = "sk-strict-0123456789abcdef"
team = "a"
[[keys]]
name = "team-b-key"
key = "sk-team-b-0123456789abcdef"
team = "b"
[[keys]]
name = "plain"
key = "sk-plain-0123456789abcdef"
team = "a"
[guard.policies.strict]
keys = ["strict-key"]
input = ["pii"]
action = "block"
[guard.policies.relaxed]
teams = ["b"]
input = ["pii"]
action = "log"
"#;

#[tokio::test]
async fn policies_follow_the_key_then_the_team_then_the_default() {
    let (h, mut records) = start_observed(&config("", KEYS)).await;
    let mail = ask(
        "/v1/chat/completions",
        "gpt",
        "reach me at jane@example.com",
    );
    let as_key = |key: &'static str| {
        h.client
            .post(h.url("/v1/chat/completions"))
            .bearer_auth(key)
            .json(&mail)
            .send()
    };
    let strict = as_key("sk-strict-0123456789abcdef").await.expect("sent");
    assert_eq!(strict.status(), 400, "the key's own policy blocks");
    let relaxed = as_key("sk-team-b-0123456789abcdef").await.expect("sent");
    assert_eq!(relaxed.status(), 200);
    let id = request_id(&relaxed);
    assert!(
        h.upstream_body().to_string().contains("jane@example.com"),
        "log only"
    );
    let record = records.of(&h, &id).await.pop().expect("record");
    assert_eq!(record.guard[0].action, "log");
    let plain = as_key("sk-plain-0123456789abcdef").await.expect("sent");
    assert_eq!(
        plain.status(),
        200,
        "team a has no policy: the default masks"
    );
    assert!(h.upstream_body().to_string().contains("<EMAIL_1>"));
}

#[tokio::test]
async fn findings_reach_the_journal_and_metrics_but_never_the_values() {
    let dir = tempfile::tempdir().expect("tempdir");
    let jsonl = dir.path().join("journal.jsonl");
    let h = start_with(&config(
        "",
        &format!("[journal]\njsonl = \"{}\"\n", jsonl.display()),
    ))
    .await;
    let prompt = "mail jane@example.com key AKIAIOSFODNN7EXAMPLE";
    let response = send(
        &h,
        "/v1/chat/completions",
        &ask("/v1/chat/completions", "gpt", prompt),
    )
    .await;
    assert_eq!(response.status(), 200);
    h.flush().await;
    let journal = std::fs::read_to_string(&jsonl).expect("journal written");
    assert!(
        !journal.contains("jane@example.com") && !journal.contains("AKIA"),
        "{journal}"
    );
    let entry: Value =
        serde_json::from_str(journal.lines().last().expect("an entry")).expect("json");
    let findings = entry["entry"]["guard"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let has = |category: &str, detector: &str, action: &str| {
        findings.iter().any(|f| {
            f["direction"] == "input"
                && f["category"] == category
                && f["detector"] == detector
                && f["action"] == action
        })
    };
    assert!(has("pii", "email", "mask"), "{findings:?}");
    assert!(has("secrets", "aws_access_key", "redact"), "{findings:?}");
    let metrics = h.metrics().await;
    assert!(
        metrics.contains(
            r#"sluice_guard_findings_total{direction="input",category="pii",action="mask"} 1"#
        ),
        "{metrics}"
    );
    assert!(!metrics.contains("jane@example.com"));
}

#[tokio::test]
async fn journaled_bodies_are_the_guarded_ones_and_never_hold_a_masked_value() {
    let (h, mut records) = start_observed(&config(
        "",
        "[journal]\nbodies = true\njsonl = \"/dev/null\"\n",
    ))
    .await;
    let prompt = "mail jane@example.com key AKIAIOSFODNN7EXAMPLE";
    for stream in [false, true] {
        let mut body = ask("/v1/chat/completions", "gpt", prompt);
        body["stream"] = json!(stream);
        let response = send(&h, "/v1/chat/completions", &body).await;
        let id = request_id(&response);
        let text = response.text().await.expect("body");
        assert!(
            text.contains("jane@example.com"),
            "the client gets the original: {text}"
        );
        let record = records.of(&h, &id).await.pop().expect("record");
        let request = String::from_utf8_lossy(record.request_body.as_deref().unwrap_or_default())
            .into_owned();
        let answer = record.response_body.clone().unwrap_or_default();
        for kept in [&request, &answer] {
            assert!(
                !kept.contains("jane@example.com") && !kept.contains("AKIA"),
                "stream {stream}: {kept}"
            );
            assert!(kept.contains("<EMAIL_1>"), "stream {stream}: {kept}");
        }
    }
}
