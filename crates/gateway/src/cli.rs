//! The `sluice` command line: `serve`, `check`, `mock`.
//!
//! Must never start serving with a config that has problems: `serve` and `check` print
//! the same located messages and exit 1.

use crate::config::{self, Config};
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "sluice",
    version,
    about = "An LLM gateway: routing, limits, guards, journal."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway. Without --config: demo mode, every model goes to the built-in mock.
    Serve {
        #[arg(long, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
        /// Overrides `server.listen`.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Validate a config file and print every problem with its location.
    Check {
        #[arg(long)]
        config: PathBuf,
    },
    /// Run the mock LLM provider (OpenAI and Anthropic formats, scriptable faults).
    Mock {
        #[arg(long, default_value = "127.0.0.1:4010")]
        listen: SocketAddr,
        /// Default delay between stream events, in milliseconds.
        #[arg(long, default_value_t = 0)]
        chunk_delay_ms: u64,
        /// Default number of content chunks per stream.
        #[arg(long)]
        chunks: Option<usize>,
    },
}

/// What `main` should do after parsing: the config is loaded before the async runtime
/// exists so that `server.worker_threads` can size it.
pub enum Plan {
    Serve(Box<Config>),
    Mock {
        listen: SocketAddr,
        config: sluice_mock::MockConfig,
    },
    Exit(ExitCode),
}

pub fn plan(cli: Cli) -> Plan {
    match cli.command {
        Command::Serve { config, listen } => {
            let mut loaded = match config {
                None => Config::demo(),
                Some(path) => match config::load_file(&path) {
                    Ok(c) => c,
                    Err(problems) => {
                        eprint!("{problems}");
                        return Plan::Exit(ExitCode::FAILURE);
                    }
                },
            };
            if let Some(addr) = listen {
                loaded.server.listen = addr;
            }
            Plan::Serve(Box::new(loaded))
        }
        Command::Check { config } => match config::load_file(&config) {
            Ok(c) => {
                println!(
                    "{}: ok ({} providers, {} models)",
                    config.display(),
                    c.providers.len(),
                    c.models.len()
                );
                Plan::Exit(ExitCode::SUCCESS)
            }
            Err(problems) => {
                eprint!("{problems}");
                Plan::Exit(ExitCode::FAILURE)
            }
        },
        Command::Mock {
            listen,
            chunk_delay_ms,
            chunks,
        } => Plan::Mock {
            listen,
            config: sluice_mock::MockConfig {
                default_chunk_delay: Duration::from_millis(chunk_delay_ms),
                default_chunks: chunks,
            },
        },
    }
}
