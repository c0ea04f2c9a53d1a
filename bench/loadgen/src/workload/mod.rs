//! The workloads: closed loop (`seq`, `max`), open loop (`rate`, `streams`) and `hold`.
//!
//! Open loop: request *i* is scheduled at `start + i/R` by a pacer thread that sleeps with
//! the OS timer (finer than tokio's 1 ms wheel) and spawns one task per request onto the
//! runtime, whatever happened to earlier requests. Latency is measured from the scheduled
//! time, so a gateway that falls behind shows up as latency (no coordinated omission).
//!
//! This module only wires its parts together; it must never read command-line arguments
//! (that is `crate::cli` and `crate::run`) nor print anything itself.

mod closed;
mod hold;
mod output;
mod rate;
mod recorder;
mod request;
mod streams;
mod target;
mod window;

pub use closed::{ClosedLoop, closed_loop};
pub use hold::{HoldParams, hold};
pub use output::{Report, emit};
pub use rate::{OpenLoop, open_loop};
pub use target::{Target, build_client, request_body};
