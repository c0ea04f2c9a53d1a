//! A revocation reaches every replica on its next request, and a rotation or a
//! revocation of a key no limit applies to reaches every replica at once.

use super::*;

/// A key made with `sluice keys create --name NAME ARGS` against the config in `file`:
/// its secret and id.
fn create_key(file: &std::path::Path, name: &str, args: &[&str]) -> (String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["keys", "create", "--name", name])
        .args(args)
        .arg("--config")
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        created["secret"].as_str().unwrap().to_owned(),
        created["id"].as_str().unwrap().to_owned(),
    )
}

/// Two replicas sharing a Redis, re-reading the store only hourly (so only Redis can
/// tell them in time), with a key made in the store with `args`: the replicas, the
/// config file they read, and the key's secret and id.
async fn two_replicas_and_a_key(
    redis: &str,
    mock: &str,
    dir: &std::path::Path,
    args: &[&str],
) -> (Vec<Served>, tempfile::NamedTempFile, String, String) {
    let store = format!("sqlite://{}", dir.join("keys.db").display());
    let extra = format!(
        "keys_refresh = \"1h\"\n[store]\nurl = \"{store}\"\n[admin]\nmaster_key = \"{MASTER}\""
    );
    let text = config(mock, redis, "local", "", &extra);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
    let (secret, id) = create_key(file.path(), &unique("rev"), args);
    // The replicas' own config file lives as long as they do.
    let (served, theirs) = replicas(2, &text).await;
    (served, theirs, secret, id)
}

const MASTER: &str = "sk-master-replicas-0123456789";

async fn revoke_on(client: &reqwest::Client, served: &Served, id: &str) {
    let r = client
        .post(format!("{}/admin/keys/{id}/revoke", served.base))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_revocation_reaches_every_replica_on_its_next_request() {
    let Some(redis) = redis().await else { return };
    let mock = crate::support::default_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let (served, _file, secret, id) =
        two_replicas_and_a_key(&redis.url, &mock.base_url(), dir.path(), &["--rpm", "1000"]).await;
    let client = reqwest::Client::new();
    for s in &served {
        assert_eq!(
            post(&client, &s.base, &secret, &chat("gpt-4o", "hi"))
                .await
                .status(),
            200
        );
    }
    revoke_on(&client, &served[0], &id).await;
    for s in &served {
        let r = post(&client, &s.base, &secret, &chat("gpt-4o", "hi")).await;
        assert_eq!(r.status(), 401);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "key_revoked");
    }
}

/// A key no limit applies to never meets Redis's revoked set, and a rotated key's old
/// secret is not in it: both changes are announced, and the other replica re-reads its
/// keys at once.
#[tokio::test]
async fn a_rotation_or_revocation_of_a_key_without_limits_reaches_every_replica_at_once() {
    let Some(redis) = redis().await else { return };
    let mock = crate::support::default_mock().await;
    let dir = tempfile::tempdir().unwrap();
    let (served, _file, secret, id) =
        two_replicas_and_a_key(&redis.url, &mock.base_url(), dir.path(), &[]).await;
    let client = reqwest::Client::new();
    for s in &served {
        let r = post(&client, &s.base, &secret, &chat("gpt-4o", "hi")).await;
        assert_eq!(r.status(), 200);
    }
    subscribed(&redis.url, 2).await;
    // A rotation: the old secret stops on the other replica too, the new one works.
    let r = client
        .post(format!("{}/admin/keys/{id}/rotate", served[0].base))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rotated: Value = r.json().await.unwrap();
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    let old = refused_within_2s(&client, &served[1], &secret).await;
    assert_eq!(
        old, 401,
        "the other replica still accepted the rotated-out secret after 2 s"
    );
    let r = post(&client, &served[1].base, &new_secret, &chat("gpt-4o", "hi")).await;
    assert_eq!(r.status(), 200);
    revoke_on(&client, &served[0], &id).await;
    let status = refused_within_2s(&client, &served[1], &new_secret).await;
    assert_eq!(
        status, 401,
        "the other replica still accepted the revoked key after 2 s"
    );
}

/// The status `secret` gets from `served` once it is a 401 (at most 2 s of tries), or
/// the last one seen.
async fn refused_within_2s(client: &reqwest::Client, served: &Served, secret: &str) -> u16 {
    let mut status = 0;
    for _ in 0..40 {
        status = post(client, &served.base, secret, &chat("gpt-4o", "hi"))
            .await
            .status()
            .as_u16();
        if status == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    status
}

/// Waits (at most 5 s) until `n` replicas listen for key changes on the Redis at `url`.
async fn subscribed(url: &str, n: i64) {
    let client = ::redis::Client::open(url).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis connection");
    for _ in 0..100 {
        let (_, listening): (String, i64) = ::redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(sluice::limits::redis::KEY_CHANGES)
            .query_async(&mut conn)
            .await
            .expect("PUBSUB NUMSUB");
        if listening >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} replicas subscribed to key changes within 5 s");
}
