//! `free-port`: prints free TCP ports on 127.0.0.1 for `bench/run.sh` to give its servers.
//!
//! It must never keep a port bound after it returns.

use crate::cli::FreePortArgs;
use std::process::ExitCode;

pub fn free_port(a: &FreePortArgs) -> ExitCode {
    let mut listeners = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..a.count.max(1) {
        match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| {
            let port = l.local_addr()?.port();
            Ok((l, port))
        }) {
            Ok((l, port)) => {
                listeners.push(l);
                ports.push(port.to_string());
            }
            Err(e) => {
                eprintln!("cannot bind 127.0.0.1:0: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("{}", ports.join(" "));
    ExitCode::SUCCESS
}
