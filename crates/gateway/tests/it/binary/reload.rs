//! Config reloads: SIGHUP, a watched file edited under load, a Kubernetes ConfigMap
//! update, `--no-watch`; the last good config and open connections survive.

use super::{Served, config_file, serve};
use crate::support::{chat, chat_stream, default_mock, read_sse};
use serde_json::json;
use std::time::Duration;
use tokio::process::Child;

#[tokio::test]
async fn sighup_reloads_the_config_and_keeps_streams_and_the_last_good_config() {
    sluice::install_tls_provider();
    let mock = default_mock().await;
    let base = format!(
        "[providers.mock]\nkind = \"openai-compatible\"\nbase_url = \"{}\"\n[[models]]\nname = \"first\"\ntargets = [{{ provider = \"mock\", model = \"gpt-4o\" }}]\n",
        mock.base_url()
    );
    let file = config_file(&base);
    let path = file.path().to_string_lossy().into_owned();
    let mut served = serve(&["--config", &path, "--listen", "127.0.0.1:0"]).await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", served.base);
    assert_eq!(status_for(&client, &served, "second").await, 404);

    // A stream started on the old config must finish on it.
    let stream = client
        .post(&url)
        .json(&chat_stream(
            "first",
            json!({"chunks": 20, "chunk_delay_ms": 30}),
        ))
        .send()
        .await
        .expect("stream");
    std::fs::write(
        file.path(),
        format!("{base}[[models]]\nname = \"second\"\ntargets = [{{ provider = \"mock\", model = \"gpt-4o\" }}]\n"),
    )
    .expect("rewrite config");
    let hup = |child: &Child| {
        let pid = child.id().expect("running").to_string();
        std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
    };
    assert!(hup(&served.child).is_ok_and(|s| s.success()));
    until_served(&client, &served, "second", "the reload never took effect").await;
    let seen = read_sse(stream).await;
    assert!(
        seen.ends_with_done() && !seen.body_error,
        "the stream was cut by the reload"
    );

    // An invalid config is refused; the last good one keeps serving.
    std::fs::write(file.path(), "[server]\nbogus = 1\n").expect("break config");
    assert!(hup(&served.child).is_ok_and(|s| s.success()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !served
        .log
        .lock()
        .expect("log")
        .iter()
        .any(|l| l.contains("config reload refused"))
    {
        assert!(tokio::time::Instant::now() < deadline, "no refusal logged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        served
            .log
            .lock()
            .expect("log")
            .iter()
            .any(|l| l.contains("server.bogus")),
        "the problem is named"
    );
    assert_eq!(status_for(&client, &served, "second").await, 200);
    assert_eq!(status_for(&client, &served, "first").await, 200);
    assert!(
        served.child.try_wait().expect("status").is_none(),
        "still running"
    );
}

fn two_models(mock: &sluice_mock::MockHandle, second: bool) -> String {
    let mut text = format!(
        "[providers.mock]\nkind = \"openai-compatible\"\nbase_url = \"{}\"\n[[models]]\nname = \"first\"\ntargets = [{{ provider = \"mock\", model = \"gpt-4o\" }}]\n",
        mock.base_url()
    );
    if second {
        text.push_str("[[models]]\nname = \"second\"\ntargets = [{ provider = \"mock\", model = \"gpt-4o\" }]\n");
    }
    text
}

/// A mock, a config file with model `first` in a directory of its own, and a gateway
/// serving it with `extra` arguments.
struct Reloadable {
    mock: sluice_mock::MockHandle,
    dir: tempfile::TempDir,
    path: std::path::PathBuf,
    served: Served,
}

async fn reloadable(extra: &[&str]) -> Reloadable {
    sluice::install_tls_provider();
    let mock = default_mock().await;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("sluice.toml");
    std::fs::write(&path, two_models(&mock, false)).expect("write");
    let path_text = path.to_string_lossy().into_owned();
    let mut args = vec!["--config", &path_text, "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let served = serve(&args).await;
    Reloadable {
        mock,
        dir,
        path,
        served,
    }
}

impl Reloadable {
    /// Saves the config with model `second` added, as editors do: a new file beside
    /// it, renamed over the old.
    fn save_with_second_model(&self) {
        let fresh = self.dir.path().join(".sluice.toml.swp");
        std::fs::write(&fresh, two_models(&self.mock, true)).expect("write new");
        std::fs::rename(&fresh, &self.path).expect("rename over");
    }
}

/// The status of a chat request for `model` through `served`.
async fn status_for(client: &reqwest::Client, served: &Served, model: &str) -> u16 {
    client
        .post(format!("{}/v1/chat/completions", served.base))
        .json(&chat(model, "hi"))
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16()
}

/// Asks for `model` every 50 ms until it is served (a reload took effect), 5 s at most;
/// `what` says what did not happen otherwise.
async fn until_served(client: &reqwest::Client, served: &Served, model: &str, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while status_for(client, served, model).await != 200 {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn editing_the_config_file_under_load_reloads_it_with_no_failed_request() {
    let reloadable = reloadable(&[]).await;
    let served = &reloadable.served;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", served.base);

    let load = {
        let client = client.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..200 {
                let status = client
                    .post(&url)
                    .json(&chat("first", "hi"))
                    .send()
                    .await
                    .map(|r| r.status().as_u16());
                statuses.push(status.unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            statuses
        })
    };
    let stream = client
        .post(&url)
        .json(&chat_stream(
            "first",
            json!({"chunks": 30, "chunk_delay_ms": 30}),
        ))
        .send()
        .await
        .expect("stream");
    reloadable.save_with_second_model();
    until_served(&client, served, "second", "the edit was never picked up").await;
    let statuses = load.await.expect("load task");
    assert!(
        statuses.iter().all(|s| *s == 200),
        "a request failed during the reload: {statuses:?}"
    );
    let seen = read_sse(stream).await;
    assert!(
        seen.ends_with_done() && !seen.body_error,
        "the stream was cut by the reload"
    );
}

fn reloads_logged(served: &Served) -> usize {
    served
        .log
        .lock()
        .expect("log")
        .iter()
        .filter(|l| l.contains("config reloaded"))
        .count()
}

/// A watched config reloads once per edit and never by itself: reading the file (by
/// anyone, the reload included) raised access events, which set off a reload, which read
/// the file: about 13 reloads a second from then on, each emptying the providers'
/// connection pools.
#[tokio::test]
async fn a_watched_config_reloads_once_per_edit_and_never_by_itself() {
    let reloadable = reloadable(&[]).await;
    let served = &reloadable.served;
    let client = reqwest::Client::new();
    assert_eq!(status_for(&client, served, "first").await, 200);
    // Anyone reading the file (`cat`, an editor opening it, another gateway starting
    // with it) raised the events that started the loop.
    let text = std::fs::read_to_string(&reloadable.path).expect("read the config");
    assert!(text.contains("first"));
    // Several of the watcher's 300 ms settle times.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(reloads_logged(served), 0, "reloaded with no edit");

    reloadable.save_with_second_model();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while reloads_logged(served) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the edit was never picked up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(reloads_logged(served), 1, "one edit, one reload");
    assert_eq!(status_for(&client, served, "second").await, 200);
}

/// A reload that leaves a provider's client settings alone keeps its client and so its
/// open connections: for a real provider, no new TLS handshake after every edit.
#[tokio::test]
async fn a_reload_keeps_the_open_upstream_connections() {
    let reloadable = reloadable(&[]).await;
    let (served, mock) = (&reloadable.served, &reloadable.mock);
    let client = reqwest::Client::new();
    // The connection goes back to the pool once its response is read: requests 50 ms
    // apart find it there.
    let pause = || tokio::time::sleep(Duration::from_millis(50));
    for _ in 0..3 {
        assert_eq!(status_for(&client, served, "first").await, 200);
        pause().await;
    }
    assert_eq!(mock.stats().connections(), 1, "one pooled connection");

    reloadable.save_with_second_model();
    until_served(&client, served, "second", "the edit was never picked up").await;
    pause().await;
    assert_eq!(status_for(&client, served, "first").await, 200);
    assert_eq!(
        mock.stats().connections(),
        1,
        "the reload opened a new upstream connection"
    );
}

/// A config mounted from a Kubernetes ConfigMap is a symlink through `..data`, and an
/// update renames a new `..data` over the old: no event names the file itself.
#[cfg(unix)]
#[tokio::test]
async fn a_kubernetes_configmap_update_is_picked_up() {
    use std::os::unix::fs::symlink;
    sluice::install_tls_provider();
    let mock = default_mock().await;
    let dir = tempfile::tempdir().expect("dir");
    let version = |n: u32, second: bool| {
        let data = dir.path().join(format!("..2026_12_06_v{n}"));
        std::fs::create_dir(&data).expect("version dir");
        std::fs::write(data.join("sluice.toml"), two_models(&mock, second)).expect("write");
        format!("..2026_12_06_v{n}")
    };
    let first = version(1, false);
    symlink(&first, dir.path().join("..data")).expect("..data");
    symlink("..data/sluice.toml", dir.path().join("sluice.toml")).expect("sluice.toml");
    let path = dir
        .path()
        .join("sluice.toml")
        .to_string_lossy()
        .into_owned();
    let served = serve(&["--config", &path, "--listen", "127.0.0.1:0"]).await;
    let client = reqwest::Client::new();
    assert_eq!(status_for(&client, &served, "second").await, 404);

    // The kubelet's atomic update: a new version, a new `..data` renamed over the old.
    let second = version(2, true);
    symlink(&second, dir.path().join("..data_tmp")).expect("..data_tmp");
    std::fs::rename(dir.path().join("..data_tmp"), dir.path().join("..data")).expect("swap");
    std::fs::remove_dir_all(dir.path().join(&first)).expect("old version");
    until_served(
        &client,
        &served,
        "second",
        "the ConfigMap update was never picked up",
    )
    .await;
    assert_eq!(status_for(&client, &served, "first").await, 200);
}

#[tokio::test]
async fn no_watch_leaves_file_edits_to_sighup() {
    let Reloadable {
        mock,
        dir: _dir,
        path,
        served,
    } = reloadable(&["--no-watch"]).await;
    let client = reqwest::Client::new();
    std::fs::write(&path, two_models(&mock, true)).expect("edit");
    // Well past the watcher's 300 ms settle time: nothing may have reloaded.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(status_for(&client, &served, "second").await, 404);
    let pid = served.child.id().expect("running").to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .is_ok_and(|s| s.success())
    );
    until_served(&client, &served, "second", "SIGHUP did not reload").await;
}
