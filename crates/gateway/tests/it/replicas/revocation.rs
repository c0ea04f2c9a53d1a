//! A revocation reaches every replica on its next request.

use super::*;

#[tokio::test]
async fn a_revocation_reaches_every_replica_on_its_next_request() {
    let Some(redis) = redis().await else { return };
    let mock = crate::support::default_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("keys.db").display());
    let master = "sk-master-replicas-0123456789";
    // Replicas re-read the store only hourly: only Redis can tell them in time.
    let extra = format!(
        "keys_refresh = \"1h\"\n[store]\nurl = \"{store}\"\n[admin]\nmaster_key = \"{master}\""
    );
    let text = config(&mock.base_url(), &redis.url, "local", "", &extra);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args([
            "keys",
            "create",
            "--name",
            &unique("rev"),
            "--rpm",
            "1000",
            "--config",
        ])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    let (served, _file) = replicas(2, &text).await;
    let client = reqwest::Client::new();
    for s in &served {
        assert_eq!(
            post(&client, &s.base, &secret, &chat("gpt-4o", "hi"))
                .await
                .status(),
            200
        );
    }
    let r = client
        .post(format!("{}/admin/keys/{id}/revoke", served[0].base))
        .bearer_auth(master)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for s in &served {
        let r = post(&client, &s.base, &secret, &chat("gpt-4o", "hi")).await;
        assert_eq!(r.status(), 401);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "key_revoked");
    }
}
