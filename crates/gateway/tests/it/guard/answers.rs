//! Whole answers: redacted on every path; a blocked answer is a 400 and its value
//! never leaves.

use super::*;

#[tokio::test]
async fn whole_answers_are_redacted_on_every_path() {
    let h = guarded("").await;
    h.mock
        .set_script("content=Your key is AKIAIOSFODNN7EXAMPLE and mail ops@example.org now");
    for (path, model) in ROUTES {
        let response = send(&h, path, &ask(path, model, "hello")).await;
        assert_eq!(response.status(), 200, "{path} -> {model}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(
            answer_text(path, &body),
            "Your key is [AWS_KEY] and mail [EMAIL] now",
            "{path} -> {model}"
        );
    }
}

#[tokio::test]
async fn a_blocked_answer_is_a_400_and_its_value_never_leaves() {
    let (h, mut records) =
        start_observed(&config("output_actions = { secrets = \"block\" }", "")).await;
    h.mock
        .set_script("content=here it is: AKIAIOSFODNN7EXAMPLE");
    for (path, model) in ROUTES {
        let response = send(&h, path, &ask(path, model, "hello")).await;
        assert_eq!(response.status(), 400, "{path} -> {model}");
        let id = request_id(&response);
        let text = response.text().await.expect("body");
        assert!(
            text.contains("guard_blocked") || text.contains("blocked"),
            "{text}"
        );
        assert!(!text.contains("AKIA"), "{text}");
        let record = records.of(&h, &id).await.pop().expect("record");
        assert!(
            record
                .guard
                .iter()
                .any(|f| f.action == "block" && f.detector == "aws_access_key"),
            "{:?}",
            record.guard
        );
        // The provider answered: its usage is kept for the cost.
        assert!(record.usage.is_some());
    }
}
