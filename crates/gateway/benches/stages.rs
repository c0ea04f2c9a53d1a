//! The gateway's hot stages one at a time, so a regression in one shows up without an
//! end-to-end run (`bench/run.sh`) or a callgrind count (`bench/instructions.sh`):
//!
//! - `auth`: a virtual key presented in `Authorization` found and checked;
//! - `limits`: the check-and-reserve of every limit kind on a key (rpm, tpm with the
//!   tokenizer, concurrency, budget) in the memory store, and its settle;
//! - `routing`: the plan for a one-target model, and for a weighted three-target model
//!   with a fallback (the strategy's ordering and the breakers' availability);
//! - `record`: a finished record turned into its journal entry, serialized and sealed
//!   into the HMAC chain, and counted in the metrics;
//! - `journal`: a batch of 150 sealed entries (about what one holds at 64 connections)
//!   written to a SQLite store, reported per row; and the same into the table without
//!   its five secondary indexes, the least a row of this shape costs in SQLite. The
//!   time is the CPU time of the whole process during the write (both sides: binding
//!   here, SQLite's thread there), read from Linux's per-thread schedstat; wall time
//!   elsewhere, which also counts the WAL's `fsync` waits.
//!
//! The guard's scanner has its own (`cargo bench -p sluice-guard --bench scan`).
//!
//!   cargo bench -p sluice --bench stages

use axum::http::{HeaderMap, HeaderValue, header};
use criterion::{Criterion, criterion_group, criterion_main};
use sluice::config::{self, Config};
use sluice::journal::chain::{Chain, Sealed};
use sluice::journal::entry::Entry;
use sluice::journal::sink::Sink;
use sluice::limits::{self, Request};
use sluice::record::{AttemptLog, Interaction, Outcome};
use sluice::routing;
use sluice::state::{Shared, Snapshot};
use sluice::store::Store;
use sluice::telemetry::metrics::Metrics;
use sluice_protocol::canonical::Usage;
use std::hint::black_box;
use std::time::{Duration, Instant};

const CONFIG: &str = r#"
[providers.a]
kind = "openai-compatible"
base_url = "http://127.0.0.1:9/v1"
api_key = "k"

[providers.b]
kind = "openai-compatible"
base_url = "http://127.0.0.1:9/v1"
api_key = "k"

[providers.c]
kind = "anthropic"
base_url = "http://127.0.0.1:9/v1"
api_key = "k"

[[models]]
name = "one"
targets = [{ provider = "a", model = "gpt-4o-mini" }]

[[models]]
name = "spread"
strategy = "weighted"
targets = [
  { provider = "a", model = "gpt-4o-mini", weight = 3 },
  { provider = "b", model = "gpt-4o-mini", weight = 1 },
  { provider = "c", model = "claude-3-5-haiku-latest", weight = 1 },
]
fallbacks = ["one"]

[[keys]]
name = "bench"
key = "sk-bench-stages-0123456789"
team = "bench"
rpm = 1_000_000_000
tpm = 1_000_000_000_000
max_concurrent = 1_000_000
budget_usd = 1_000_000_000.0

[pricing.gpt-4o-mini]
input = 0.15
output = 0.6
"#;

const BODY: &[u8] = br#"{"model":"one","max_tokens":256,"messages":[{"role":"system","content":"You are a terse assistant."},{"role":"user","content":"Summarise the plot of Hamlet in three sentences, naming the main characters."}]}"#;

struct Fixture {
    rt: tokio::runtime::Runtime,
    config: Config,
    shared: Shared,
    snapshot: Snapshot,
}

fn fixture() -> Fixture {
    sluice::install_tls_provider();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let config = config::parse(CONFIG, |_| None).unwrap_or_else(|e| panic!("config: {e:?}"));
    let shared = rt
        .block_on(Shared::start(&config, Vec::new()))
        .unwrap_or_else(|e| panic!("shared: {e}"));
    let snapshot =
        Snapshot::build(&config, &shared, None).unwrap_or_else(|e| panic!("snapshot: {e}"));
    // The tokenizer loads its vocabulary once; not what a request pays.
    limits::estimate::load_tokenizer();
    Fixture {
        rt,
        config,
        shared,
        snapshot,
    }
}

fn auth(c: &mut Criterion, f: &Fixture) {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("Bearer sk-bench-stages-0123456789"),
    );
    c.bench_function("auth/virtual_key", |b| {
        b.iter(|| {
            let principal = sluice::auth::authenticate(&f.snapshot, &f.shared.keys, &headers);
            black_box(principal.map(|p| p.is_some()).unwrap_or(false))
        })
    });
}

fn limits(c: &mut Criterion, f: &Fixture) {
    let principal = sluice::auth::authenticate(&f.snapshot, &f.shared.keys, &{
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer sk-bench-stages-0123456789"),
        );
        h
    })
    .ok()
    .flatten()
    .unwrap_or_else(|| panic!("the bench key authenticates"));
    let plan = routing::plan(
        &f.snapshot.routes,
        &f.snapshot.upstreams,
        &f.snapshot.breaker,
        "one",
    )
    .unwrap_or_else(|e| panic!("plan: {e}"));
    c.bench_function("limits/reserve_and_settle_all_kinds", |b| {
        b.iter(|| {
            let admitted = f.rt.block_on(limits::reserve(
                &f.shared.limiter,
                &f.config.limits,
                Request {
                    principal: Some(&principal),
                    route: "one",
                    body: black_box(BODY),
                    targets: &plan.targets,
                    pricing: &f.snapshot.pricing,
                    lease: "bench-lease",
                    stream: false,
                    generates: true,
                },
            ));
            let Ok(admitted) = admitted else {
                panic!("the bench key's limits admit every request")
            };
            let mut record = Interaction::start("r".into(), "chat.completions", Instant::now());
            record.attempts = 1;
            record.usage = Some(Usage {
                input_tokens: 30,
                output_tokens: 60,
                ..Usage::default()
            });
            record.reservation = admitted.reservation.map(Box::new);
            limits::settle(&f.shared.limiter, &mut record);
            black_box(record.cost_usd)
        })
    });
    // The tokenizer alone on a prompt of mixed prose, code and CJK (about 2 KB).
    let prompt = concat!(
        "The quick brown fox jumps over the lazy dog; it's 12,345 o'clock. ",
        "fn main() { let xs: Vec<u32> = (0..10).collect(); println!(\"{xs:?}\"); }\n",
        "日本語のテキストはスペースなしで長く続きます。 ===== !!! ??? \n\n",
    )
    .repeat(10);
    c.bench_function("limits/count_tokens_2kb", |b| {
        b.iter(|| black_box(limits::estimate::count(black_box(&prompt))))
    });
}

fn routing(c: &mut Criterion, f: &Fixture) {
    let s = &f.snapshot;
    c.bench_function("routing/plan_one_target", |b| {
        b.iter(|| {
            routing::plan(&s.routes, &s.upstreams, &s.breaker, black_box("one"))
                .map(|p| p.targets.len())
                .unwrap_or(0)
        })
    });
    c.bench_function("routing/plan_weighted_three_and_fallback", |b| {
        b.iter(|| {
            routing::plan(&s.routes, &s.upstreams, &s.breaker, black_box("spread"))
                .map(|p| p.targets.len())
                .unwrap_or(0)
        })
    });
}

fn finished_record() -> Interaction {
    let started = Instant::now();
    let mut record = Interaction::start(
        "01JEXAMPLE0REQUEST0ID00000".into(),
        "chat.completions",
        started,
    );
    record.model = "one".into();
    record.route = Some("one".into());
    record.provider = Some("a".into());
    record.upstream_model = Some("gpt-4o-mini".into());
    record.key = Some("bench".into());
    record.team = Some("bench".into());
    record.attempts = 1;
    record.attempt_log.push(AttemptLog {
        provider: "a".into(),
        model: "gpt-4o-mini".into(),
        status: 200,
        error: None,
        started,
        latency: Duration::from_micros(1234),
        span_id: [0; 8],
    });
    record.usage = Some(Usage {
        input_tokens: 30,
        output_tokens: 60,
        ..Usage::default()
    });
    record.cost_usd = Some(0.000_040_5);
    record.first_byte = Some(Duration::from_micros(1300));
    record.latency = Duration::from_micros(1500);
    record.end(200, Outcome::Ok);
    record
}

fn record(c: &mut Criterion) {
    let record = finished_record();
    let mut chain = Chain::new(Some("bench-journal-key-0123456789"), "bench".into());
    c.bench_function("record/journal_entry_sealed", |b| {
        // The entry takes the record's texts: each iteration gets its own record, made
        // outside the measured part.
        b.iter_batched(
            || record.clone(),
            |record| {
                let sealed = chain.seal(Entry::from_record(black_box(record)));
                black_box(sealed.json.len())
            },
            criterion::BatchSize::SmallInput,
        )
    });
    let metrics = Metrics::default();
    c.bench_function("record/metrics", |b| {
        b.iter(|| metrics.record(black_box(&record)))
    });
}

/// Rows per journal batch in the `journal` benchmarks.
const JOURNAL_ROWS: usize = 150;

fn journal(c: &mut Criterion, f: &Fixture) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let mut group = c.benchmark_group("journal");
    group.throughput(criterion::Throughput::Elements(JOURNAL_ROWS as u64));
    // Each batch adds rows for good: a short run keeps the file to a few hundred MB.
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(3));
    for (name, bare) in [
        ("store_write_per_row", false),
        ("store_write_per_row_without_secondary_indexes", true),
    ] {
        let url = format!(
            "sqlite://{}",
            dir.path().join(format!("{name}.db")).display()
        );
        let store =
            f.rt.block_on(Store::open(&url))
                .unwrap_or_else(|e| panic!("store: {e}"));
        if bare {
            let Store::Sqlite(pool) = &store else {
                panic!("a SQLite store")
            };
            for drop in [
                "DROP INDEX journal_at",
                "DROP INDEX journal_id",
                "DROP INDEX journal_model",
                "DROP INDEX journal_key",
                "DROP INDEX journal_team",
            ] {
                f.rt.block_on(sqlx::query(drop).execute(pool))
                    .unwrap_or_else(|e| panic!("{drop}: {e}"));
            }
        }
        let sink = Sink::for_store(&store).unwrap_or_else(|e| panic!("sink: {e}"));
        let mut chain = Chain::new(Some("bench-journal-key-0123456789"), "bench".into());
        let record = finished_record();
        let mut n = 0u128;
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                // Every batch sealed first, with ids that grow as real ones do (time
                // first): the clock is read twice a sample, not twice a batch (reading
                // it walks /proc, tens of microseconds).
                let batches: Vec<std::sync::Arc<[Sealed]>> = (0..iters)
                    .map(|_| {
                        (0..JOURNAL_ROWS)
                            .map(|_| {
                                n += 1;
                                let mut record = record.clone();
                                record.request_id = format!("req_{n:032x}");
                                chain.seal(Entry::from_record(record))
                            })
                            .collect()
                    })
                    .collect();
                let start = ProcessClock::now();
                for batch in &batches {
                    f.rt.block_on(sink.write(black_box(batch), false))
                        .unwrap_or_else(|e| panic!("write: {e}"));
                }
                let spent = start.elapsed();
                drop(batches);
                spent
            })
        });
    }
    group.finish();
}

/// The process's CPU time, every thread's (`/proc/self/task/*/schedstat`, nanoseconds),
/// or, where that cannot be read, the wall clock.
enum ProcessClock {
    Cpu(Duration),
    Wall(Instant),
}

impl ProcessClock {
    fn now() -> Self {
        cpu_time().map_or_else(|| Self::Wall(Instant::now()), Self::Cpu)
    }

    fn elapsed(&self) -> Duration {
        match self {
            Self::Cpu(at) => cpu_time().unwrap_or(*at).saturating_sub(*at),
            Self::Wall(at) => at.elapsed(),
        }
    }
}

fn cpu_time() -> Option<Duration> {
    let mut ns = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(ns))
}

fn stages(c: &mut Criterion) {
    let f = fixture();
    auth(c, &f);
    limits(c, &f);
    routing(c, &f);
    record(c);
    journal(c, &f);
}

criterion_group!(benches, stages);
criterion_main!(benches);
