//! `sluice-loadgen`: the load generator of Sluice's end-to-end benchmark.
//! See `bench/README.md` for the subcommands and how `bench/run.sh` uses them.
//!
//! This file only parses the command line and dispatches to a subcommand on the right
//! runtime; it must never define flags (`cli.rs`) nor do any subcommand's work.

mod cli;
mod ports;
mod procfs;
mod ready;
mod report;
mod run;
mod sse;
mod stats;
mod workload;

use clap::Parser as _;
use cli::{Cli, Cmd};
use run::{Mode, run_load};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // reqwest is built with `rustls-no-provider`; building a client needs a crypto
    // provider even though only plain http:// is ever used here.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cli.cmd {
        Cmd::FreePort(a) => ports::free_port(&a),
        Cmd::Report(a) => match report::render(&a.dir) {
            Ok(md) => {
                print!("{md}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("report: {e}");
                ExitCode::FAILURE
            }
        },
        Cmd::WaitReady(a) => run_in_runtime(1, ready::wait_ready(a)),
        Cmd::Seq(a) => {
            let threads = a.common.threads;
            run_in_runtime(threads, run_load(Mode::Seq(a)))
        }
        Cmd::Rate(a) => {
            let threads = a.common.threads;
            run_in_runtime(threads, run_load(Mode::Rate(a)))
        }
        Cmd::Max(a) => {
            let threads = a.common.threads;
            run_in_runtime(threads, run_load(Mode::Max(a)))
        }
        Cmd::Streams(a) => {
            let threads = a.common.threads;
            run_in_runtime(threads, run_load(Mode::Streams(a)))
        }
        Cmd::Hold(a) => {
            let threads = a.common.threads;
            run_in_runtime(threads, run_load(Mode::Hold(a)))
        }
    }
}

fn run_in_runtime(threads: usize, fut: impl Future<Output = ExitCode>) -> ExitCode {
    let rt = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    };
    match rt {
        Ok(rt) => rt.block_on(fut),
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
