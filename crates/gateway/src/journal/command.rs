//! `sluice journal verify|query|export|tail`: the journal from the terminal, reading the
//! store a config names (the demo journal, `./sluice.db`, without one).
//!
//! Must never write to the journal: every verb only reads.

use super::chain::key_bytes;
use super::query::{self, Filter, Found, Page};
use super::verify;
use crate::cli::{ExportFormat, FilterArgs, JournalCommand};
use crate::config::Config;
use crate::store::Store;
use std::io::Write;
use std::time::Duration;

pub async fn run(command: JournalCommand, config: &Config) -> Result<(), String> {
    let Some(store) = &config.store else {
        return Err("the config has no [store]: there is no journal to read".to_owned());
    };
    let store = Store::open(store.url.expose())
        .await
        .map_err(|e| e.to_string())?;
    match command {
        JournalCommand::Verify { .. } => verify_store(&store, config).await,
        JournalCommand::Query { filter, .. } => {
            let page = page(&store, &filter_of(&filter, None)).await?;
            print_jsonl(&page.data)
        }
        JournalCommand::Export { format, filter, .. } => export(&store, format, &filter).await,
        JournalCommand::Tail { filter, .. } => tail(&store, &filter).await,
    }
}

async fn verify_store(store: &Store, config: &Config) -> Result<(), String> {
    let rows = verify::read_store(store).await.map_err(|e| e.to_string())?;
    let checkpoints = match &config.journal.checkpoints {
        Some(path) => verify::read_checkpoints(path).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    let key = key_bytes(config.journal.key.as_ref().map(|k| k.expose()));
    let pruned = super::retention::markers(store)
        .await
        .map_err(|e| e.to_string())?;
    let report = verify::check(&rows, &key, &checkpoints, &pruned);
    match report.first_bad {
        None => {
            println!(
                "journal ok: {} entries from {} writers, {} checkpoints",
                report.entries, report.writers, report.checkpoints
            );
            Ok(())
        }
        Some(bad) => Err(format!(
            "journal NOT ok: writer {} entry {} (request {}): {} ({} entries checked)",
            bad.writer,
            bad.seq,
            if bad.id.is_empty() { "-" } else { &bad.id },
            bad.why,
            report.entries
        )),
    }
}

fn filter_of(args: &FilterArgs, cursor: Option<String>) -> Filter {
    Filter {
        id: args.id.clone(),
        key: args.key.clone(),
        team: args.team.clone(),
        model: args.model.clone(),
        provider: args.provider.clone(),
        status: args.status,
        since: args.since,
        until: args.until,
        limit: args.limit,
        cursor,
    }
}

async fn page(store: &Store, filter: &Filter) -> Result<Page, String> {
    query::page(store, filter).await.map_err(|e| e.to_string())
}

fn print_jsonl(found: &[Found]) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    for f in found {
        let line = serde_json::to_string(f).map_err(|e| e.to_string())?;
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    Ok(())
}

async fn export(store: &Store, format: ExportFormat, args: &FilterArgs) -> Result<(), String> {
    let mut cursor = None;
    let mut limit_left = args.limit;
    if format == ExportFormat::Csv {
        println!("{CSV_HEADER}");
    }
    loop {
        let mut filter = filter_of(args, cursor);
        filter.limit = Some(limit_left.unwrap_or(query::MAX_LIMIT).min(query::MAX_LIMIT));
        let page = page(store, &filter).await?;
        match format {
            ExportFormat::Jsonl => print_jsonl(&page.data)?,
            ExportFormat::Csv => {
                for f in &page.data {
                    println!("{}", csv_row(f));
                }
            }
        }
        if let Some(left) = &mut limit_left {
            *left = left.saturating_sub(u32::try_from(page.data.len()).unwrap_or(u32::MAX));
            if *left == 0 {
                return Ok(());
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

async fn tail(store: &Store, args: &FilterArgs) -> Result<(), String> {
    let mut since = args.since.unwrap_or_else(super::now_ms);
    let mut seen = std::collections::HashSet::new();
    loop {
        let mut filter = filter_of(args, None);
        filter.since = Some(since);
        filter.limit = Some(query::MAX_LIMIT);
        let mut found = page(store, &filter).await?.data;
        found.reverse();
        let fresh: Vec<Found> = found
            .into_iter()
            .filter(|f| seen.insert((f.writer.clone(), f.seq)))
            .collect();
        print_jsonl(&fresh)?;
        if let Some(newest) = fresh.iter().map(|f| f.entry.at_ms).max() {
            since = newest;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

const CSV_HEADER: &str = "at_ms,id,key,team,endpoint,model,provider,upstream_model,status,outcome,stream,attempts,first_byte_us,latency_us,input_tokens,output_tokens,cached_tokens,writer,seq";

fn csv_row(f: &Found) -> String {
    let e = &f.entry;
    let opt = |v: &Option<String>| csv(v.as_deref().unwrap_or_default());
    [
        e.at_ms.to_string(),
        csv(&e.id),
        opt(&e.key),
        opt(&e.team),
        csv(&e.endpoint),
        csv(&e.model),
        opt(&e.provider),
        opt(&e.upstream_model),
        e.status.to_string(),
        csv(&e.outcome),
        e.stream.to_string(),
        e.attempts.len().to_string(),
        e.first_byte_us.map(|v| v.to_string()).unwrap_or_default(),
        e.latency_us.to_string(),
        e.input_tokens.to_string(),
        e.output_tokens.to_string(),
        e.cached_tokens.to_string(),
        csv(&f.writer),
        f.seq.to_string(),
    ]
    .join(",")
}

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; a
/// leading `=`, `+`, `-` or `@` is prefixed with `'` so spreadsheets do not run it.
fn csv(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}
