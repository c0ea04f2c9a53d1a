//! The log's writer: every thread appends whole lines to one bounded buffer, and one
//! background thread writes what has gathered in a single write, at most every
//! `GATHER` or as soon as `FLUSH_AT` bytes wait.
//!
//! Our own, not `tracing-appender`'s non-blocking writer: that one hands each line to
//! its thread through a channel, so each line woke the thread (a futex wake, a context
//! switch and a `write` per line). At one access line per request that cost 5–7 µs of
//! CPU per request, about a tenth of the whole pipeline (BENCHMARKS.md). Here an idle
//! writer is woken by the first line only, and a busy one wakes once per gather.
//!
//! Must never block a caller on I/O or grow without bound: past `MAX_PENDING` waiting
//! bytes a line is dropped and counted. Never splits a line: each `write` call is kept
//! whole, in the order callers took the lock.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the writer lets lines gather after the first one.
const GATHER: Duration = Duration::from_millis(50);
/// Waiting bytes that wake the writer before `GATHER` is over.
const FLUSH_AT: usize = 64 * 1024;
/// Waiting bytes past which lines are dropped (the sink is slower than the logging).
const MAX_PENDING: usize = 4 * 1024 * 1024;

/// A handle to the buffer; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct Lines {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    dropped: AtomicUsize,
}

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    closed: bool,
}

/// Flushes what is left and stops the writer thread when dropped.
pub struct Guard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Lines {
    /// Starts the writer thread over `sink` (stderr in the binary).
    pub fn start(sink: impl Write + Send + 'static) -> std::io::Result<(Self, Guard)> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            dropped: AtomicUsize::new(0),
        });
        let thread = std::thread::Builder::new()
            .name("sluice-log".into())
            .spawn({
                let shared = Arc::clone(&shared);
                move || run(&shared, sink)
            })?;
        let guard = Guard {
            shared: Arc::clone(&shared),
            thread: Some(thread),
        };
        Ok((Self { shared }, guard))
    }

    /// Queues one whole line (or several: `line` is kept as one piece).
    pub fn push(&self, line: &[u8]) {
        let mut state = self.shared.lock();
        if state.closed || state.pending.len() + line.len() > MAX_PENDING {
            drop(state);
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let was_empty = state.pending.is_empty();
        state.pending.extend_from_slice(line);
        let full = state.pending.len() >= FLUSH_AT;
        drop(state);
        // An idle writer waits for the first line; a gathering one only for a full buffer.
        if was_empty || full {
            self.shared.wake.notify_one();
        }
    }

    /// Lines dropped since start because too much was waiting.
    pub fn dropped(&self) -> usize {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves a buffer of whole lines: still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn run(shared: &Shared, mut sink: impl Write) {
    let mut out = Vec::new();
    loop {
        let mut state = shared.lock();
        while state.pending.is_empty() && !state.closed {
            state = shared
                .wake
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if !state.closed && state.pending.len() < FLUSH_AT {
            state = shared
                .wake
                .wait_timeout(state, GATHER)
                .map_or_else(|e| e.into_inner().0, |(s, _)| s);
        }
        std::mem::swap(&mut state.pending, &mut out);
        let closed = state.closed && state.pending.is_empty();
        drop(state);
        if !out.is_empty() {
            // Nowhere to report a failing log sink; the lines are lost, the gateway goes on.
            let _ = sink.write_all(&out).and_then(|()| sink.flush());
            out.clear();
            // Give a burst's big buffer back rather than keep it for the process's life.
            out.shrink_to(FLUSH_AT);
        }
        if closed {
            return;
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `tracing_subscriber`'s formatter writes each event with one `write_all`.
impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(self)
    }
}

pub struct LineWriter<'a>(&'a Lines);

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[expect(
    clippy::disallowed_methods,
    reason = "plain threads, like the writer's own; no tokio worker to block"
)]
mod tests {
    use super::*;

    /// A sink the test can read after the writer stopped.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_from_every_thread_is_written_whole_and_in_order() {
        let sink = Sink::default();
        let (lines, guard) = Lines::start(sink.clone()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let lines = lines.clone();
                std::thread::spawn(move || {
                    for i in 0..2_000 {
                        lines.push(format!("thread {t} line {i}\n").as_bytes());
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
        let written = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(written.lines().count(), 8_000);
        for t in 0..4 {
            let mine: Vec<_> = written
                .lines()
                .filter(|l| l.starts_with(&format!("thread {t} ")))
                .collect();
            let expected: Vec<_> = (0..2_000).map(|i| format!("thread {t} line {i}")).collect();
            assert_eq!(mine, expected);
        }
        assert_eq!(lines.dropped(), 0);
    }

    #[test]
    fn a_line_reaches_the_sink_without_a_flush_from_anyone() {
        let sink = Sink::default();
        let (lines, _guard) = Lines::start(sink.clone()).unwrap();
        lines.push(b"alone\n");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while sink.0.lock().unwrap().is_empty() {
            assert!(std::time::Instant::now() < deadline, "never written");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(&*sink.0.lock().unwrap(), b"alone\n");
    }

    /// A sink that never returns while the test holds its gate.
    struct Stuck(Arc<Mutex<()>>);

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            drop(self.0.lock().unwrap());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_sink_costs_dropped_lines_not_memory_or_waiting() {
        let gate = Arc::new(Mutex::new(()));
        let held = gate.lock().unwrap();
        let (lines, guard) = Lines::start(Stuck(Arc::clone(&gate))).unwrap();
        // The writer takes the first line and is stuck writing it.
        lines.push(b"first\n");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !lines.shared.lock().pending.is_empty() {
            assert!(std::time::Instant::now() < deadline, "never taken");
            std::thread::sleep(Duration::from_millis(5));
        }
        let line = vec![b'x'; 1024];
        let pushed = 2 * MAX_PENDING / 1024;
        for _ in 0..pushed {
            lines.push(&line);
        }
        assert_eq!(lines.dropped(), pushed - MAX_PENDING / 1024);
        assert_eq!(lines.shared.lock().pending.len(), MAX_PENDING);
        drop(held);
        drop(guard);
    }
}
