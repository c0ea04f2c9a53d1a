//! Virtual keys: authentication on every `/v1` endpoint in each format's error shape,
//! model allow-lists, expiry, the admin API (create, list, rotate, revoke, change) with
//! its master-key check, and the `sluice keys` CLI against the same store.
//!
//! One file per subject; here, the gateway and the helpers they (and `limits`) share.

mod admin;
mod auth;
mod store;

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
