//! Keys and spend in PostgreSQL; a reload swaps the keys and keeps the counters.

use super::*;

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

/// How many of `outcomes` won, and how many were refused as a conflict.
fn one_won<T>(
    outcomes: &[Result<Result<T, sluice::store::keyspec::KeyError>, tokio::task::JoinError>],
) -> (usize, usize) {
    use sluice::store::keyspec::KeyError;
    let won = outcomes.iter().filter(|o| matches!(o, Ok(Ok(_)))).count();
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Err(KeyError::Conflict(_)))))
        .count();
    (won, refused)
}

/// Creations racing for one name, from two stores on one database (two replicas): one
/// wins, every other is a conflict, and one key holds the name. The same for renames.
async fn one_name_one_key(url: &str) {
    use sluice::store::Store;
    use sluice::store::keyspec::KeySpec;
    let replicas = [
        Store::open(url).await.expect("store"),
        Store::open(url).await.expect("store"),
    ];
    let spec = |name: &str| KeySpec {
        name: Some(name.to_owned()),
        ..KeySpec::default()
    };
    let creates = (0..12).map(|i| {
        let store = replicas[i % 2].clone();
        let spec = spec("contested");
        tokio::spawn(async move { store.create_key(spec).await })
    });
    let outcomes = futures_util::future::join_all(creates).await;
    assert_eq!(one_won(&outcomes), (1, 11), "{outcomes:?}");

    // Twelve keys renamed to one new name at once: one rename wins.
    let mut ids = Vec::new();
    for i in 0..12 {
        let (key, _) = replicas[0]
            .create_key(spec(&format!("renamed-{i}")))
            .await
            .expect("create");
        ids.push(key.id);
    }
    let renames = ids.iter().enumerate().map(|(i, id)| {
        let store = replicas[i % 2].clone();
        let (id, spec) = (id.clone(), spec("taken-by-rename"));
        tokio::spawn(async move { store.change_key(&id, spec).await })
    });
    let outcomes = futures_util::future::join_all(renames).await;
    assert_eq!(one_won(&outcomes), (1, 11), "{outcomes:?}");
    let keys = replicas[1].keys().await.expect("keys");
    for name in ["contested", "taken-by-rename"] {
        assert_eq!(keys.iter().filter(|k| k.name == name).count(), 1, "{name}");
    }
}

#[tokio::test]
async fn racing_creations_and_renames_leave_one_key_per_name_in_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    one_name_one_key(&format!("sqlite://{}/race.db", dir.path().display())).await;
}

#[tokio::test]
async fn racing_creations_and_renames_leave_one_key_per_name_in_postgresql() {
    let Some(url) = crate::services::postgres_database().await else {
        return;
    };
    one_name_one_key(&url).await;
}
