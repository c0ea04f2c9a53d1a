//! Virtual keys: authentication on every `/v1` endpoint in each format's error shape,
//! model allow-lists, expiry, the admin API (create, list, rotate, revoke, change) with
//! its master-key check, and the `sluice keys` CLI against the same store.

use crate::support::{Harness, chat, start_with};
use serde_json::{Value, json};

pub const MASTER: &str = "sk-master-key-for-tests";
pub const TEAM_A: &str = "sk-team-a-0123456789abcdef";

/// A gateway with the default providers, a SQLite store in `dir`, a master key, and
/// `extra` (more `[[keys]]`, `[limits]`, ...).
pub async fn gateway(dir: &tempfile::TempDir, extra: &str) -> Harness {
    let store = dir.path().join("sluice.db");
    let text = format!(
        "{}\n[store]\nurl = \"sqlite://{}\"\n[admin]\nmaster_key = \"{MASTER}\"\n[limits]\nkeys_refresh = \"100ms\"\n{extra}",
        crate::support::DEFAULT_CONFIG,
        store.display()
    );
    start_with(&text).await
}

pub async fn send(h: &Harness, path: &str, key: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = h.client.post(h.url(path)).json(body);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    req.send().await.expect("request sent")
}

/// A chat request for `model` saying "hi", with `key`.
pub async fn hi(h: &Harness, key: Option<&str>, model: &str) -> reqwest::Response {
    send(h, "/v1/chat/completions", key, &chat(model, "hi")).await
}

pub async fn admin(
    h: &Harness,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = h.client.request(method, h.url(path)).bearer_auth(MASTER);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.expect("admin request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

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
async fn admin_keys_need_the_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let h = gateway(&dir, "").await;
    let r = h.client.get(h.url("/admin/keys")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = h
        .client
        .post(h.url("/admin/keys"))
        .bearer_auth("sk-not-the-master-key")
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (status, _) = admin(&h, reqwest::Method::GET, "/admin/keys", None).await;
    assert_eq!(status, 200);
    // Admin bodies are bounded, with the API's error shape.
    let huge = json!({"name": "x", "metadata": {"blob": "x".repeat(100_000)}});
    let (status, body) = admin(&h, reqwest::Method::POST, "/admin/keys", Some(huge)).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "request_too_large");
}

#[tokio::test]
async fn created_keys_work_at_once_rotate_and_revoke_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let h = gateway(&dir, "").await;
    // No key anywhere yet: any key is accepted.
    let r = hi(&h, Some("anything"), "gpt-4o").await;
    assert_eq!(r.status(), 200);
    let (status, created) = admin(
        &h,
        reqwest::Method::POST,
        "/admin/keys",
        Some(
            json!({"name": "svc", "team": "b", "models": ["gpt-*"], "metadata": {"owner": "ops"}}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("sk-sluice-") && secret.len() > 60);
    // Keys exist now: an unknown key is refused, the new one works.
    let r = hi(&h, Some("anything"), "gpt-4o").await;
    assert_eq!(r.status(), 401);
    let r = hi(&h, Some(&secret), "gpt-4o").await;
    assert_eq!(r.status(), 200);
    // Lists and gets never show the secret.
    let (_, list) = admin(&h, reqwest::Method::GET, "/admin/keys", None).await;
    assert!(!list.to_string().contains(&secret));
    assert!(!list.to_string().contains(&secret[10..]));
    assert_eq!(list["data"][0]["metadata"]["owner"], "ops");
    let (status, one) = admin(&h, reqwest::Method::GET, &format!("/admin/keys/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(one["team"], "b");
    // Rotation: the old secret stops, the new one works.
    let (status, rotated) = admin(
        &h,
        reqwest::Method::POST,
        &format!("/admin/keys/{id}/rotate"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let fresh = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(fresh, secret);
    let r = hi(&h, Some(&secret), "gpt-4o").await;
    assert_eq!(r.status(), 401);
    let r = hi(&h, Some(&fresh), "gpt-4o").await;
    assert_eq!(r.status(), 200);
    // A change takes effect at once: an rpm of 1 refuses the next request.
    let (status, changed) = admin(
        &h,
        reqwest::Method::PATCH,
        &format!("/admin/keys/{id}"),
        Some(json!({"rpm": 1})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["limits"]["rpm"], 1);
    let r = hi(&h, Some(&fresh), "gpt-4o").await;
    assert_eq!(r.status(), 200);
    let r = hi(&h, Some(&fresh), "gpt-4o").await;
    assert_eq!(r.status(), 429);
    // A bad change is a 400 naming the field, and changes nothing.
    let (status, bad) = admin(
        &h,
        reqwest::Method::PATCH,
        &format!("/admin/keys/{id}"),
        Some(json!({"rpm": 0})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(bad["error"]["message"].as_str().unwrap().contains("rpm"));
    // Revocation: refused on the very next request.
    let (status, revoked) = admin(
        &h,
        reqwest::Method::POST,
        &format!("/admin/keys/{id}/revoke"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(revoked["revoked_at_ms"].as_i64().is_some());
    let r = hi(&h, Some(&fresh), "gpt-4o").await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "key_revoked");
    let (status, _) = admin(&h, reqwest::Method::GET, "/admin/keys/key_nope", None).await;
    assert_eq!(status, 404);
    let (status, _) = admin(
        &h,
        reqwest::Method::POST,
        "/admin/keys",
        Some(json!({"team": "x"})),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_cli_manages_keys_in_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let h = gateway(&dir, "").await;
    let config = dir.path().join("cli.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"sqlite://{}\"\n",
            dir.path().join("sluice.db").display()
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_sluice");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .arg("keys")
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .expect("run sluice keys");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let created: Value = serde_json::from_str(
        run(&["create", "--name", "cli-key", "--team", "ops", "--rpm", "5"]).trim(),
    )
    .unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(created["limits"]["rpm"], 5);
    // The running gateway picks the key up within keys_refresh (100 ms here).
    assert_eq!(status_becomes(&h, &secret, 200).await, 200);
    let listed = run(&["list"]);
    assert!(listed.contains("cli-key") && !listed.contains(&secret));
    run(&["revoke", "cli-key"]);
    assert_eq!(status_becomes(&h, &secret, 401).await, 401);
}

/// The status a chat request with `secret` gets once it is `want` (at most 2.5 s of
/// retries), or the last one seen.
async fn status_becomes(h: &Harness, secret: &str, want: u16) -> u16 {
    let mut status = 0;
    for _ in 0..50 {
        status = hi(h, Some(secret), "gpt-4o").await.status().as_u16();
        if status == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    status
}

#[tokio::test]
async fn keys_and_spend_live_in_postgresql_too() {
    let Some(url) = crate::services::postgres_database().await else {
        return;
    };
    let text = format!(
        "{}\n[store]\nurl = \"{url}\"\n[admin]\nmaster_key = \"{MASTER}\"\n[pricing.gpt-4o]\ninput = 1.0\noutput = 1.0\n",
        crate::support::DEFAULT_CONFIG
    );
    let h = start_with(&text).await;
    let (status, created) = admin(
        &h,
        reqwest::Method::POST,
        "/admin/keys",
        Some(json!({"name": "pg", "team": "t"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap();
    for _ in 0..3 {
        let r = send(
            &h,
            "/v1/chat/completions",
            Some(secret),
            &chat("gpt-4o", "hello there"),
        )
        .await;
        assert_eq!(r.status(), 200);
    }
    let (status, spend) = admin(&h, reqwest::Method::GET, "/admin/spend?team=t", None).await;
    assert_eq!(status, 200, "{spend}");
    assert_eq!(spend["requests"], 3);
    assert!(spend["cost_usd"].as_f64().unwrap() > 0.0, "{spend}");
    assert!(spend["input_tokens"].as_i64().unwrap() >= 3);
}

#[tokio::test]
async fn a_reload_swaps_the_keys_and_keeps_the_counters() {
    sluice::install_tls_provider();
    let mock = sluice_mock::spawn(
        crate::support::loopback(),
        sluice_mock::MockConfig::default(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sluice.toml");
    let text = |keys: &str| {
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[providers.mock]\nkind = \"openai-compatible\"\nbase_url = \"{}\"\n[[models]]\nname = \"gpt-4o\"\ntargets = [{{ provider = \"mock\" }}]\n{keys}",
            mock.base_url()
        )
    };
    let a = "[[keys]]\nname = \"a\"\nkey = \"sk-reload-a-0123456789\"\nrpm = 3\n";
    let b = "[[keys]]\nname = \"b\"\nkey = \"sk-reload-b-0123456789\"\n";
    std::fs::write(&path, text(a)).unwrap();
    let config = sluice::config::load_file(&path).unwrap();
    let server = sluice::server::start(&config).await.unwrap();
    let base = format!("http://{}", server.addr());
    let client = reqwest::Client::new();
    let call = |key: &'static str| {
        let (client, url) = (client.clone(), format!("{base}/v1/chat/completions"));
        async move {
            client
                .post(url)
                .bearer_auth(key)
                .json(&chat("gpt-4o", "hi"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(call("sk-reload-a-0123456789").await, 200);
    assert_eq!(call("sk-reload-a-0123456789").await, 200);
    assert_eq!(call("sk-reload-b-0123456789").await, 401);
    std::fs::write(&path, text(&format!("{a}{b}"))).unwrap();
    assert!(sluice::reload::reload(server.gateway(), &path, &config).is_some());
    assert_eq!(call("sk-reload-b-0123456789").await, 200);
    // Key a's counter survived the reload: one request left of its three.
    assert_eq!(call("sk-reload-a-0123456789").await, 200);
    assert_eq!(call("sk-reload-a-0123456789").await, 429);
}
