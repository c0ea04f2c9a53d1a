//! The admin API (create, list, rotate, revoke, change) behind the master key, and
//! the `sluice keys` CLI on the same store.

use super::*;

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
    let keys = keys_cli(dir.path(), "");
    let run = |args: &[&str]| {
        let out = keys(args);
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

/// `sluice keys create` refuses a name the config's own keys hold, as the admin API does
/// (spend is journaled by key name: the two would share it), and creates nothing.
#[tokio::test]
async fn the_cli_refuses_a_config_keys_name() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys_cli(
        dir.path(),
        "[[keys]]\nname = \"ops\"\nkey = \"sk-config-ops-0123456789\"\n",
    );
    let refused = keys(&["create", "--name", "ops"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success(),
        "created a key named like a config key"
    );
    assert!(
        stderr.contains("ops") && stderr.contains("config"),
        "{stderr}"
    );
    let listed = keys(&["list"]);
    assert!(listed.status.success());
    assert!(
        String::from_utf8_lossy(&listed.stdout).trim().is_empty(),
        "a refused create left a key: {}",
        String::from_utf8_lossy(&listed.stdout)
    );
    // Another name is free.
    let created = keys(&["create", "--name", "ops-2"]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
}

/// `sluice keys ARGS --config C`, where C is a config in `dir` with a SQLite store in
/// `dir` and `more` after it.
fn keys_cli(dir: &std::path::Path, more: &str) -> impl Fn(&[&str]) -> std::process::Output {
    let config = dir.join("cli.toml");
    let store = dir.join("sluice.db");
    std::fs::write(
        &config,
        format!("[store]\nurl = \"sqlite://{}\"\n\n{more}", store.display()),
    )
    .unwrap();
    move |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("keys")
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .expect("run sluice keys")
    }
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

/// `POST /admin/keys` for a key named `name` with a budget.
async fn create_named(h: &Harness, name: &str) -> (u16, Value) {
    let body = json!({"name": name, "budget_usd": 5.0});
    admin(h, reqwest::Method::POST, "/admin/keys", Some(body)).await
}

/// `PATCH /admin/keys/{id}` renaming it to `name`.
async fn rename(h: &Harness, id: &str, name: &str) -> (u16, Value) {
    let path = format!("/admin/keys/{id}");
    admin(
        h,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"name": name})),
    )
    .await
}

#[tokio::test]
async fn a_key_name_is_taken_once_by_a_key_in_any_state() {
    let dir = tempfile::tempdir().expect("dir");
    let config_key = "[[keys]]\nname = \"from-config\"\nkey = \"sk-from-config-0123456789\"\n";
    let h = gateway(&dir, config_key).await;
    let (status, first) = create_named(&h, "ci-bot").await;
    assert_eq!(status, 201, "{first}");
    let id = first["id"].as_str().expect("id").to_owned();
    let (status, body) = create_named(&h, "ci-bot").await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&id)),
        "{body}"
    );
    // Revoked, the name still carries its spend: a successor may not take it.
    let revoke = format!("/admin/keys/{id}/revoke");
    let (status, _) = admin(&h, reqwest::Method::POST, &revoke, None).await;
    assert_eq!(status, 200);
    assert_eq!(create_named(&h, "ci-bot").await.0, 409);
    // Nor by a rename, nor from a config key's name.
    let (status, other) = create_named(&h, "other").await;
    assert_eq!(status, 201, "{other}");
    let other_id = other["id"].as_str().expect("id");
    assert_eq!(rename(&h, other_id, "ci-bot").await.0, 409);
    assert_eq!(create_named(&h, "from-config").await.0, 409);
    // Keys are found by id or name: a name spelled like an id is refused.
    assert_eq!(create_named(&h, "key_0011").await.0, 400);
    // Renaming a key to its own name is no change.
    assert_eq!(rename(&h, other_id, "other").await.0, 200);
}
