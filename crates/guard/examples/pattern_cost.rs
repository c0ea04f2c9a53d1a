//! Times each built-in pattern alone over the benchmark corpus, to find the one that
//! slows the scan (a development aid: `cargo run --release --example pattern_cost`).
#[path = "../benches/corpus.rs"]
mod corpus;
fn main() {
    let text = corpus::mixed(1 << 20);
    for kind in sluice_guard::Kind::BUILT_IN {
        let pattern = sluice_guard::detect::pattern(kind);
        let Ok(re) = regex_automata::meta::Regex::new(pattern) else {
            continue;
        };
        let t = std::time::Instant::now();
        let n = re.find_iter(&text).count();
        let mbps = text.len() as f64 / t.elapsed().as_secs_f64() / 1e6;
        println!("{:<20} {mbps:>8.1} MB/s  {n} candidates", kind.name());
    }
}
