//! `sluice check` (every problem with its place, exit 1) and `sluice healthcheck`.

use super::{BIN, config_file, serve};
use tokio::process::Command;

async fn check(text: &str) -> (bool, String) {
    let file = config_file(text);
    let out = Command::new(BIN)
        .args(["check", "--config"])
        .arg(file.path())
        .env_remove("SLUICE_TEST_UNSET")
        .output()
        .await
        .expect("run sluice check");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn check_accepts_a_good_config() {
    let (ok, out) = check("[providers.p]\nkind = \"openai-compatible\"\nbase_url = \"http://127.0.0.1:1/v1\"\n[[models]]\nname = \"m\"\ntargets = [{ provider = \"p\" }]\n").await;
    assert!(ok, "{out}");
    assert!(out.contains("ok (1 providers, 1 models)"), "{out}");
}

#[tokio::test]
async fn check_lists_every_problem_with_its_location_and_exits_1() {
    let (ok, out) = check(
        "[server]\nlisten = \"nowhere\"\ncolour = \"blue\"\n[providers.p]\nkind = \"openai\"\napi_key = \"${SLUICE_TEST_UNSET}\"\n[[models]]\nname = \"m\"\ntargets = [{ provider = \"q\" }]\n",
    )
    .await;
    assert!(!ok);
    for expected in [
        "server.colour: unknown key",
        "server.listen: invalid address",
        "providers.p.api_key: environment variable `SLUICE_TEST_UNSET` not set",
        "models[0].targets[0].provider: no provider named \"q\"",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
}

#[tokio::test]
async fn check_reports_syntax_errors_with_line_and_column() {
    let (ok, out) = check("[server]\nlisten = \n").await;
    assert!(!ok);
    assert!(out.contains("line 2, column"), "{out}");
}

#[tokio::test]
async fn serve_refuses_a_bad_config_with_the_same_messages() {
    let file = config_file("[server]\nbogus = 1\n");
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(file.path())
        .output()
        .await
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("server.bogus: unknown key"));
}

#[tokio::test]
async fn healthcheck_exits_0_for_a_live_sluice_and_1_otherwise() {
    let served = serve(&["--listen", "127.0.0.1:0"]).await;
    let run = |url: String| async move {
        Command::new(BIN)
            .args(["healthcheck", "--url", &url])
            .output()
            .await
            .expect("run sluice healthcheck")
    };
    let ok = run(format!("{}/healthz", served.base)).await;
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let dead = run(format!("http://{}/healthz", crate::support::dead_addr())).await;
    assert_eq!(dead.status.code(), Some(1));
    let missing = run(format!("{}/nope", served.base)).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("404"));
}
