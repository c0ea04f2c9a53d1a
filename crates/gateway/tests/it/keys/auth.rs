//! Authentication on every `/v1` endpoint in each format's error shape, model
//! allow-lists, expiry.

use super::*;

const TEAM_A_KEY: &str = r#"
[[keys]]
name = "team-a"
key = "sk-team-a-0123456789abcdef"
team = "a"
models = ["gpt-4o*", "alias"]
"#;

#[tokio::test]
async fn a_missing_or_unknown_key_is_401_in_each_formats_shape() {
    let dir = tempfile::tempdir().unwrap();
    let h = gateway(&dir, TEAM_A_KEY).await;
    let r = hi(&h, None, "gpt-4o").await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_api_key");
    let r = hi(&h, Some("sk-wrong-key-000000000"), "gpt-4o").await;
    assert_eq!(r.status(), 401);
    let messages = json!({"model": "gpt-4o", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});
    let r = h
        .client
        .post(h.url("/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .header("x-api-key", "sk-wrong-key-000000000")
        .json(&messages)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");
    let r = h.client.get(h.url("/v1/models")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // Nothing reached the provider.
    assert_eq!(h.mock.stats().requests(), 0);
    // The right key in either header works.
    let r = hi(&h, Some(TEAM_A), "gpt-4o").await;
    assert_eq!(r.status(), 200);
    let r = h
        .client
        .post(h.url("/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .header("x-api-key", TEAM_A)
        .json(&messages)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn the_allow_list_decides_models_and_what_v1_models_lists() {
    let dir = tempfile::tempdir().unwrap();
    let h = gateway(&dir, TEAM_A_KEY).await;
    let r = hi(&h, Some(TEAM_A), "failover").await;
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "model_not_allowed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("failover")
    );
    let r = hi(&h, Some(TEAM_A), "alias").await;
    assert_eq!(r.status(), 200);
    let listed: Value = h
        .client
        .get(h.url("/v1/models"))
        .bearer_auth(TEAM_A)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["alias", "gpt-4o"]);
    let r = h
        .client
        .get(h.url("/v1/models/failover"))
        .bearer_auth(TEAM_A)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn an_expired_key_is_refused_and_the_journal_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let extra = r#"
[[keys]]
name = "old"
key = "sk-old-key-0123456789abcdef"
expires = "2020-01-01T00:00:00Z"
"#;
    let h = gateway(&dir, &format!("{TEAM_A_KEY}{extra}")).await;
    let r = hi(&h, Some("sk-old-key-0123456789abcdef"), "gpt-4o").await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "key_expired");
    let ok = hi(&h, Some(TEAM_A), "gpt-4o").await;
    let id = ok.headers()["x-request-id"].to_str().unwrap().to_owned();
    h.flush().await;
    let (_, page) = admin(&h, reqwest::Method::GET, "/admin/journal?key=team-a", None).await;
    let entries = page["data"].as_array().unwrap();
    let mine = entries
        .iter()
        .find(|e| e["entry"]["id"] == id.as_str())
        .expect("journaled");
    assert_eq!(mine["entry"]["team"], "a");
    assert_eq!(mine["entry"]["key"], "team-a");
}

#[tokio::test]
async fn a_store_whose_keys_cannot_be_read_refuses_instead_of_accepting_any_key() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sluice.db").display());
    let store = sluice::store::Store::open(&url).await.unwrap();
    let spec = sluice::store::keyspec::KeySpec {
        name: Some("real".to_owned()),
        ..Default::default()
    };
    let (_, secret) = store.create_key(spec).await.unwrap();
    // A row the ring cannot read: every refresh fails, so whether keys exist is unknown.
    let sluice::store::Store::Sqlite(pool) = &store else {
        panic!("a SQLite store")
    };
    sqlx::query("UPDATE keys SET limits = 'not json'")
        .execute(pool)
        .await
        .unwrap();
    let h = gateway(&dir, "").await;
    for key in [Some("anything"), None, Some(secret.as_str())] {
        let r = hi(&h, key, "gpt-4o").await;
        assert_eq!(r.status(), 503, "{key:?} was not refused");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "store_unavailable", "{body}");
    }
    // Once the store reads again, the key works and others are refused.
    sqlx::query("UPDATE keys SET limits = '{}'")
        .execute(pool)
        .await
        .unwrap();
    let mut status = 0;
    for _ in 0..50 {
        status = hi(&h, Some(&secret), "gpt-4o").await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200);
    assert_eq!(hi(&h, Some("anything"), "gpt-4o").await.status(), 401);
}
