//! The `sluice` binary: parse the command line, size the async runtime, run.

use clap::Parser;
use sluice::cli::{Cli, Plan, plan};
use std::process::ExitCode;

#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let _log_guard = sluice::telemetry::init();
    sluice::install_tls_provider();
    let (workers, task) = match plan(Cli::parse()) {
        Plan::Exit(code) => return code,
        Plan::Serve(config, path, watch) => (
            config.server.worker_threads,
            Task::Serve(config, path, watch),
        ),
        Plan::Mock { listen, config } => (None, Task::Mock(listen, config)),
        Plan::Journal(command, config) => (Some(1), Task::Journal(command, config)),
        Plan::Keys(command, config) => (Some(1), Task::Keys(command, config)),
        Plan::Healthcheck(url) => (Some(1), Task::Healthcheck(url)),
    };
    // Unset: one worker per core the process may use, as tokio would choose.
    let threads = env_workers()
        .or(workers)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    // One worker (asked for, or a one-core machine): a current-thread runtime. The
    // work-stealing scheduler's bookkeeping (run-queue atomics, the clock read around
    // every batch of tasks for its tuning) buys nothing without a second worker to
    // steal (measured in BENCHMARKS.md).
    let mut builder = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    builder.enable_all();
    let runtime = match builder.build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sluice: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match task {
            Task::Serve(config, path, watch) => sluice::server::run(&config, path, watch)
                .await
                .map_err(|e| e.to_string()),
            Task::Mock(listen, config) => run_mock(listen, config).await,
            Task::Journal(command, config) => sluice::journal::command::run(command, &config).await,
            Task::Keys(command, config) => sluice::store::command::run(command, &config).await,
            Task::Healthcheck(url) => healthcheck(&url).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sluice: {e}");
            ExitCode::FAILURE
        }
    }
}

enum Task {
    Serve(
        Box<sluice::config::Config>,
        Option<std::path::PathBuf>,
        bool,
    ),
    Mock(std::net::SocketAddr, sluice_mock::MockConfig),
    Journal(sluice::cli::JournalCommand, Box<sluice::config::Config>),
    Keys(sluice::cli::KeysCommand, Box<sluice::config::Config>),
    Healthcheck(String),
}

/// One GET with a short deadline: 2xx is healthy.
async fn healthcheck(url: &str) -> Result<(), String> {
    sluice::install_tls_provider();
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("{url}: {}", response.status()))
    }
}

/// `SLUICE_WORKER_THREADS` overrides the config (the benchmark pins one core).
fn env_workers() -> Option<usize> {
    std::env::var("SLUICE_WORKER_THREADS")
        .ok()?
        .parse()
        .ok()
        .filter(|n| *n > 0)
}

async fn run_mock(
    listen: std::net::SocketAddr,
    config: sluice_mock::MockConfig,
) -> Result<(), String> {
    let listener =
        sluice::server::listen(listen).map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("sluice mock listening on http://{addr}/v1");
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    sluice_mock::serve(listener, config, stop)
        .await
        .map_err(|e| e.to_string())
}
