//! Times `open_from` on the short tails a stream holds (a development aid).
use sluice_guard::{Kind, Scanner};
use std::time::Instant;

fn main() {
    let scanner = Scanner::new(&Kind::BUILT_IN, &[]).unwrap_or_else(|e| panic!("{e}"));
    for text in [" tok12", "Hello wor", "card 4111 11", "x"] {
        let _ = scanner.open_from(text);
        let t = Instant::now();
        let mut n = 0;
        for _ in 0..100_000 {
            n += scanner.open_from(std::hint::black_box(text));
        }
        println!("{text:?}: {:?} per call ({n})", t.elapsed() / 100_000);
        let t = Instant::now();
        for _ in 0..100_000 {
            n += scanner.scan(std::hint::black_box(text)).len();
        }
        println!("{text:?}: scan {:?} per call ({n})", t.elapsed() / 100_000);
    }
}
