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
use std::collections::HashMap;
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
    let checkpoints = match &config.journal.checkpoints {
        Some(path) => verify::read_checkpoints(path).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    let key = key_bytes(config.journal.key.as_ref().map(|k| k.expose()));
    let pruned = super::retention::markers(store)
        .await
        .map_err(|e| e.to_string())?;
    let report = verify::check_store(store, &key, &checkpoints, &pruned)
        .await
        .map_err(|e| e.to_string())?;
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

/// How often `tail` looks for new entries.
const TAIL_POLL: Duration = Duration::from_millis(500);
/// A writer that wrote within this long is looked at on every poll, whatever its mark
/// says: two batches in one millisecond leave the mark unchanged, and the writer's
/// clock may differ from this one's.
const TAIL_RECENT_MS: i64 = 10_000;

/// Follows the journal: every entry written after `tail` starts (with `--since`, first
/// the newest entries since then, oldest first), each writer by its sequence numbers,
/// which count in the order entries are written. Following `at_ms` instead lost
/// entries: a long stream is stamped with its start but written at its end, after
/// shorter requests had moved the cursor past it. Holds one position per writer.
async fn tail(store: &Store, args: &FilterArgs) -> Result<(), String> {
    let filter = filter_of(args, None);
    let err = |e: query::QueryError| e.to_string();
    // Where each writer stood when `tail` started, and its last mark seen.
    let mut after: HashMap<String, i64> = HashMap::new();
    let mut marks: HashMap<String, i64> = HashMap::new();
    for (writer, mark) in query::writers(store).await.map_err(err)? {
        let seq = query::last_seq(store, &writer).await.map_err(err)?;
        after.insert(writer.clone(), seq);
        marks.insert(writer, mark);
    }
    if args.since.is_some() {
        let mut backlog = filter.clone();
        backlog.limit = Some(query::MAX_LIMIT);
        let mut found = page(store, &backlog).await?.data;
        found.reverse();
        // What was written after the positions were taken is printed by the loop. A
        // writer without a mark wrote before marks existed (migration 0004).
        found.retain(|f| after.get(&f.writer).is_none_or(|&seq| f.seq <= seq));
        print_jsonl(&found)?;
    }
    loop {
        let now = super::now_ms();
        for (writer, mark) in query::writers(store).await.map_err(err)? {
            let moved = marks.insert(writer.clone(), mark) != Some(mark);
            if !moved && mark < now - TAIL_RECENT_MS {
                continue;
            }
            // A writer first seen now had written nothing when `tail` started: its
            // mark is made in the transaction of its first entries. All of it is new.
            let from = after.get(&writer).copied().unwrap_or(0);
            let upto = query::last_seq(store, &writer).await.map_err(err)?;
            let mut at = from;
            while at < upto {
                let found =
                    query::written_after(store, &filter, &writer, (at, upto), query::MAX_LIMIT)
                        .await
                        .map_err(err)?;
                print_jsonl(&found)?;
                match found.last() {
                    Some(last) if found.len() == query::MAX_LIMIT as usize => at = last.seq,
                    _ => at = upto,
                }
            }
            after.insert(writer, upto.max(from));
        }
        tokio::time::sleep(TAIL_POLL).await;
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
