//! Scanner throughput on mixed prompt text, all built-in detectors on: the figure the
//! design asks to be at least 200 MB/s per core.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice_guard::Scanner;
use std::hint::black_box;

#[path = "corpus.rs"]
mod corpus;

fn scan(c: &mut Criterion) {
    let scanner =
        Scanner::new(&sluice_guard::Kind::BUILT_IN, &[]).unwrap_or_else(|e| panic!("{e}"));
    let mut group = c.benchmark_group("scan");
    for size in [4 << 10, 1 << 20] {
        let text = corpus::mixed(size);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("all_detectors_{}k", size >> 10), |b| {
            b.iter(|| black_box(scanner.scan(black_box(&text))).len())
        });
    }
    group.finish();
}

criterion_group!(benches, scan);
criterion_main!(benches);
