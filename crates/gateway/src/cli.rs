//! The `sluice` command line: `serve`, `check`, `journal`, `keys`, `healthcheck`, `mock`.
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
        /// Do not reload when the config file changes (SIGHUP still reloads).
        #[arg(long)]
        no_watch: bool,
    },
    /// Validate a config file and print every problem with its location.
    Check {
        #[arg(long)]
        config: PathBuf,
    },
    /// Read the interaction journal: verify its chain, query it, export it.
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
    },
    /// Exit 0 if a running Sluice answers its health endpoint with 2xx, else 1 (for the
    /// container image's HEALTHCHECK, which has no shell or curl).
    Healthcheck {
        #[arg(long, default_value = "http://127.0.0.1:4000/healthz")]
        url: String,
    },
    /// Manage virtual keys in the store the config names (the demo store without one).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Run the mock LLM provider: OpenAI Chat Completions, legacy Completions, Embeddings
    /// and Models (`/v1`), Anthropic Messages (`/v1/messages`), Google Gemini
    /// generateContent and streamGenerateContent (`/v1beta`), Azure OpenAI deployments
    /// (`/openai/deployments/...`); deterministic replies, scriptable faults per request
    /// (`"mock"` body field, `x-mock-*` headers, `model@key=value` suffix) or for the
    /// whole server (`PUT /mock/script`); see docs/mock.md.
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

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// Prove that no entry was altered, removed, inserted or reordered; exit 1 naming
    /// the first bad entry otherwise.
    Verify {
        /// Without it: the demo journal, ./sluice.db.
        #[arg(long, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Print matching entries as JSON Lines, newest first.
    Query {
        #[arg(long, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Print every matching entry, oldest page last, as JSON Lines or CSV.
    Export {
        #[arg(long, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Follow the journal: print new entries as they are written (Ctrl-C ends).
    Tail {
        #[arg(long, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
        #[command(flatten)]
        filter: FilterArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it with its secret (shown this once) as JSON.
    Create {
        #[arg(long, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
        #[arg(long)]
        name: String,
        #[arg(long)]
        team: Option<String>,
        /// A model glob this key may use (repeat it; none allows every model).
        #[arg(long = "model")]
        models: Vec<String>,
        #[arg(long)]
        rpm: Option<u64>,
        #[arg(long)]
        tpm: Option<u64>,
        #[arg(long)]
        max_concurrent: Option<u64>,
        #[arg(long)]
        budget_usd: Option<f64>,
        /// daily, monthly (the default) or total.
        #[arg(long)]
        budget_period: Option<String>,
        /// RFC 3339, e.g. 2027-01-31T00:00:00Z.
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// Print every key (never a secret) as JSON Lines.
    List {
        #[arg(long, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Refuse a key from now on (by id or name).
    Revoke {
        #[arg(long, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
        id: String,
    },
    /// Give a key a new secret; the old one stops working (by id or name).
    Rotate {
        #[arg(long, env = "SLUICE_CONFIG")]
        config: Option<PathBuf>,
        id: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

/// Journal filters on the command line (the same as `/admin/journal`'s).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterArgs {
    /// The request's id (its `x-request-id`).
    #[arg(long)]
    pub id: Option<String>,
    #[arg(long)]
    pub key: Option<String>,
    #[arg(long)]
    pub team: Option<String>,
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub provider: Option<String>,
    #[arg(long)]
    pub status: Option<u16>,
    /// Milliseconds since the Unix epoch.
    #[arg(long)]
    pub since: Option<i64>,
    /// Milliseconds since the Unix epoch.
    #[arg(long)]
    pub until: Option<i64>,
    #[arg(long)]
    pub limit: Option<u32>,
}

/// What `main` should do after parsing: the config is loaded before the async runtime
/// exists so that `server.worker_threads` can size it.
pub enum Plan {
    /// The config, the file it came from (reloaded on SIGHUP; none in demo mode), and
    /// whether to watch that file.
    Serve(Box<Config>, Option<PathBuf>, bool),
    Mock {
        listen: SocketAddr,
        config: sluice_mock::MockConfig,
    },
    Journal(JournalCommand, Box<Config>),
    Keys(KeysCommand, Box<Config>),
    Healthcheck(String),
    Exit(ExitCode),
}

pub fn plan(cli: Cli) -> Plan {
    match cli.command {
        Command::Serve {
            config,
            listen,
            no_watch,
        } => {
            let Some(mut loaded) = load_or_demo(config.as_deref()) else {
                return Plan::Exit(ExitCode::FAILURE);
            };
            if let Some(addr) = listen {
                loaded.server.listen = addr;
            }
            Plan::Serve(Box::new(loaded), config, !no_watch)
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
        Command::Journal { command } => {
            let path = match &command {
                JournalCommand::Verify { config }
                | JournalCommand::Query { config, .. }
                | JournalCommand::Export { config, .. }
                | JournalCommand::Tail { config, .. } => config.clone(),
            };
            let Some(loaded) = load_or_demo(path.as_deref()) else {
                return Plan::Exit(ExitCode::FAILURE);
            };
            Plan::Journal(command, Box::new(loaded))
        }
        Command::Healthcheck { url } => Plan::Healthcheck(url),
        Command::Keys { command } => {
            let path = match &command {
                KeysCommand::Create { config, .. }
                | KeysCommand::List { config }
                | KeysCommand::Revoke { config, .. }
                | KeysCommand::Rotate { config, .. } => config.clone(),
            };
            let Some(loaded) = load_or_demo(path.as_deref()) else {
                return Plan::Exit(ExitCode::FAILURE);
            };
            Plan::Keys(command, Box::new(loaded))
        }
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

/// The config at `path`, or demo mode without one; `None` after printing its problems.
fn load_or_demo(path: Option<&std::path::Path>) -> Option<Config> {
    let Some(path) = path else {
        return Some(Config::demo());
    };
    match config::load_file(path) {
        Ok(c) => Some(c),
        Err(problems) => {
            eprint!("{problems}");
            None
        }
    }
}
