//! Times building a scanner with every built-in detector, piece by piece (a development
//! aid: `cargo run --release --example build_cost`).
use regex_automata::meta::Regex;
use sluice_guard::{Kind, Scanner, detect::pattern};
use std::time::Instant;

fn main() {
    let t = Instant::now();
    let _ = Scanner::new(&Kind::BUILT_IN, &[]);
    println!("whole scanner: {:?}", t.elapsed());
    let sources: Vec<&str> = Kind::BUILT_IN.iter().map(|k| pattern(*k)).collect();
    let t = Instant::now();
    let _ = Regex::new_many(&sources);
    println!("multi-pattern regex: {:?}", t.elapsed());
    for kind in Kind::BUILT_IN {
        let t = Instant::now();
        let _ = Regex::new(pattern(kind));
        let single = t.elapsed();
        let t = Instant::now();
        let _ = sluice_guard::prefix::OpenEnd::new(&[pattern(kind).to_owned()]);
        println!(
            "{:<20} single {:>9.2?}  prefix {:>9.2?}",
            kind.name(),
            single,
            t.elapsed()
        );
    }
}
