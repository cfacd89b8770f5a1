//! Replays an oracleGeneral trace through one policy and size, single-threaded,
//! and prints the misses and the time: a small harness for profiling the
//! replay path without the CLI (`perf record target/release/examples/replay_file ...`).
//!
//! `replay_file TRACE POLICY SIZE_BYTES [TIMES]` (TIMES replays the file that many times)

use std::time::Instant;

use edgesim_cache::replay::{ReplayOptions, ReplaySpec, replay_trace};
use edgesim_cache::trace::{TraceFormat, TraceReader};
use edgesim_cache::{Capacity, PolicyKind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, policy, size) = match args.as_slice() {
        [path, policy, size, ..] => (path, policy.parse::<PolicyKind>()?, size.parse::<u64>()?),
        _ => return Err("usage: replay_file TRACE POLICY SIZE_BYTES [TIMES]".into()),
    };
    let times: usize = args.get(3).map_or(Ok(1), |t| t.parse())?;
    let specs = [ReplaySpec {
        policy,
        capacity: Capacity::Bytes(size),
    }];
    let options = ReplayOptions {
        threads: 1,
        ..ReplayOptions::default()
    };
    let start = Instant::now();
    let mut total = (0, 0);
    for _ in 0..times {
        let mut reader = TraceReader::open(path, &TraceFormat::OracleGeneral)?;
        let result = replay_trace(&mut reader, &specs, &options)?;
        total.0 += result[0].requests;
        total.1 += result[0].misses;
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{policy} {size}: requests {} misses {} in {:.3} ms = {:.1} M req/s",
        total.0,
        total.1,
        elapsed * 1e3,
        total.0 as f64 / elapsed / 1e6
    );
    Ok(())
}
