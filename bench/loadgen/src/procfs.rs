//! CPU and memory readings from `/proc` around a measurement window: CPU seconds of the
//! gateway under test, of the other processes under test (the mock), of the load generator
//! itself, and of the whole machine, so that the CPU used by everything else ("noise") can
//! be reported next to each result.
//! It only reads `/proc`: it must never write there nor signal the processes it watches.

use serde::Serialize;
use std::time::Instant;

/// Which processes to watch.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    /// The gateway under test (for nginx: master and worker).
    pub gateway: Vec<u32>,
    /// Other processes under test (the mock provider).
    pub tested: Vec<u32>,
    /// Clock ticks per second (`getconf CLK_TCK`).
    pub clk_tck: u64,
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    at: Instant,
    gateway_ticks: u64,
    tested_ticks: u64,
    self_ticks: u64,
    machine: Option<MachineTicks>,
}

#[derive(Debug, Clone, Copy)]
struct MachineTicks {
    /// user + nice + system + irq + steal, all CPUs.
    busy: u64,
    softirq: u64,
    cpus: u64,
}

/// What happened between two snapshots.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub window_s: f64,
    /// Requests that the window is divided by.
    pub requests: u64,
    pub gateway_cpu_s: f64,
    /// Gateway CPU time per request, in microseconds.
    pub gateway_cpu_us_per_req: Option<f64>,
    /// Gateway CPU use as a percentage of one core.
    pub gateway_cpu_pct_of_core: f64,
    pub tested_cpu_s: f64,
    pub loadgen_cpu_s: f64,
    pub machine_busy_s: f64,
    pub softirq_s: f64,
    /// CPU used by processes not under test, as a percentage of the whole machine.
    pub noise_pct: f64,
    pub gateway_vmrss_kb: Option<u64>,
    pub gateway_vmhwm_kb: Option<u64>,
}

impl Watch {
    pub fn is_empty(&self) -> bool {
        self.gateway.is_empty() && self.tested.is_empty()
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            at: Instant::now(),
            gateway_ticks: self.gateway.iter().filter_map(|&p| pid_ticks(p)).sum(),
            tested_ticks: self.tested.iter().filter_map(|&p| pid_ticks(p)).sum(),
            self_ticks: self_ticks().unwrap_or(0),
            machine: machine_ticks(),
        }
    }

    pub fn window(&self, a: &Snapshot, b: &Snapshot, requests: u64) -> Window {
        let tck = self.clk_tck.max(1) as f64;
        let secs = |t: u64| t as f64 / tck;
        let window_s = b.at.duration_since(a.at).as_secs_f64();
        let gateway_cpu_s = secs(b.gateway_ticks.saturating_sub(a.gateway_ticks));
        let tested_cpu_s = secs(b.tested_ticks.saturating_sub(a.tested_ticks));
        let loadgen_cpu_s = secs(b.self_ticks.saturating_sub(a.self_ticks));
        let (machine_busy_s, softirq_s, noise_pct) = match (a.machine, b.machine) {
            (Some(ma), Some(mb)) => {
                let busy = secs(mb.busy.saturating_sub(ma.busy));
                let softirq = secs(mb.softirq.saturating_sub(ma.softirq));
                let other = (busy - gateway_cpu_s - tested_cpu_s - loadgen_cpu_s).max(0.0);
                let capacity = window_s * mb.cpus.max(1) as f64;
                let pct = if capacity > 0.0 {
                    other / capacity * 100.0
                } else {
                    0.0
                };
                (busy, softirq, round2(pct))
            }
            _ => (0.0, 0.0, 0.0),
        };
        let gateway_cpu_us_per_req = (requests > 0 && !self.gateway.is_empty())
            .then(|| round2(gateway_cpu_s * 1e6 / requests as f64));
        Window {
            window_s: round2(window_s),
            requests,
            gateway_cpu_s: round2(gateway_cpu_s),
            gateway_cpu_us_per_req,
            gateway_cpu_pct_of_core: if window_s > 0.0 {
                round2(gateway_cpu_s / window_s * 100.0)
            } else {
                0.0
            },
            tested_cpu_s: round2(tested_cpu_s),
            loadgen_cpu_s: round2(loadgen_cpu_s),
            machine_busy_s: round2(machine_busy_s),
            softirq_s: round2(softirq_s),
            noise_pct,
            gateway_vmrss_kb: sum_status_kb(&self.gateway, "VmRSS:"),
            gateway_vmhwm_kb: sum_status_kb(&self.gateway, "VmHWM:"),
        }
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// utime + stime of a process (all its threads), in clock ticks.
fn pid_ticks(pid: u32) -> Option<u64> {
    stat_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn self_ticks() -> Option<u64> {
    stat_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// Parses utime (field 14) and stime (field 15) of a `/proc/PID/stat` line. The command
/// name (field 2) may contain spaces, so fields are counted from the last `)`.
fn stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // After ')': field 3 (state) is index 0, so utime (14) is index 11.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn machine_ticks() -> Option<MachineTicks> {
    parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)
}

fn parse_proc_stat(text: &str) -> Option<MachineTicks> {
    let mut lines = text.lines();
    let first = lines.next()?;
    let mut f = first.split_whitespace();
    if f.next()? != "cpu" {
        return None;
    }
    let v: Vec<u64> = f.filter_map(|x| x.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest is already in user).
    let get = |i: usize| v.get(i).copied().unwrap_or(0);
    let busy = get(0) + get(1) + get(2) + get(5) + get(7);
    let cpus = text
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(|b| b.is_ascii_digit()))
        .count() as u64;
    Some(MachineTicks {
        busy,
        softirq: get(6),
        cpus,
    })
}

/// A `kB` field of `/proc/PID/status` (e.g. `VmRSS:`), summed over processes.
pub fn sum_status_kb(pids: &[u32], key: &str) -> Option<u64> {
    let mut total = None;
    for &pid in pids {
        if let Some(kb) = status_kb(pid, key) {
            total = Some(total.unwrap_or(0) + kb);
        }
    }
    total
}

pub fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_spaces_in_name() {
        let line =
            "1234 (tokio runtime) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 1 2 3";
        assert_eq!(stat_ticks(line), Some(325));
    }

    #[test]
    fn proc_stat_totals() {
        let text = "cpu  100 5 50 1000 10 1 7 2 0 0\ncpu0 50 2 25 500 5 1 3 1 0 0\ncpu1 50 3 25 500 5 0 4 1 0 0\nintr 1\n";
        let Some(m) = parse_proc_stat(text) else {
            panic!("parse");
        };
        assert_eq!(m.busy, 100 + 5 + 50 + 1 + 2);
        assert_eq!(m.softirq, 7);
        assert_eq!(m.cpus, 2);
    }

    #[test]
    fn own_process_is_readable() {
        assert!(self_ticks().is_some());
        assert!(status_kb(std::process::id(), "VmRSS:").is_some());
    }
}
