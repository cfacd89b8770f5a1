//! Requests per second and metadata bytes per object for every policy.
//!
//! `CARGO_TARGET_DIR=/work/target-cache cargo bench -p edgesim-cache --bench throughput`
//!
//! Workloads: a generated Zipf trace, and the libCacheSim sample trace
//! `cloudPhysicsIO.oracleGeneral.bin` when it is found (`EDGESIM_TRACE`, or
//! `../shared/data/` from the repository root); it is skipped when absent.
//! Times are single-threaded, trace already in memory, best of several runs.
//! `EDGESIM_BENCH=zipf,trace,memory` (the default) selects the parts to run.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use edgesim_cache::synth::ZipfWorkload;
use edgesim_cache::trace::{Request, TraceFormat, TraceReader};
use edgesim_cache::{AnyCache, Cache, Capacity, Entry, PolicyKind, build};

/// Simulates `requests` on a fresh cache; returns the misses and the elapsed time.
fn simulate(policy: PolicyKind, capacity: Capacity, requests: &[Request]) -> (u64, Duration) {
    let mut cache = build(policy, capacity);
    let start = Instant::now();
    let misses = match &mut cache {
        AnyCache::Lru(c) => run(c, requests),
        AnyCache::Fifo(c) => run(c, requests),
        AnyCache::Clock(c) => run(c, requests),
        AnyCache::Sieve(c) => run(c, requests),
        AnyCache::S3Fifo(c) => run(c, requests),
        AnyCache::Arc(c) => run(c, requests),
    };
    let elapsed = start.elapsed();
    black_box(&cache);
    (misses, elapsed)
}

#[inline(never)]
fn run<C: Cache>(cache: &mut C, requests: &[Request]) -> u64 {
    let mut misses = 0;
    for request in requests {
        if cache.get(request.key).is_none() {
            misses += 1;
            cache.insert(
                request.key,
                Entry {
                    size: request.size,
                    expires_at_us: 0,
                    tag: 0,
                },
            );
        }
    }
    misses
}

/// Best time over repeated runs lasting at least `budget` in total.
fn best_of(
    policy: PolicyKind,
    capacity: Capacity,
    requests: &[Request],
    budget: Duration,
) -> (u64, Duration) {
    let mut best = Duration::MAX;
    let mut misses = 0;
    let mut spent = Duration::ZERO;
    let mut runs = 0;
    while runs < 3 || (spent < budget && runs < 50) {
        let (run_misses, elapsed) = simulate(policy, capacity, requests);
        misses = run_misses;
        best = best.min(elapsed);
        spent += elapsed;
        runs += 1;
    }
    (misses, best)
}

fn report(title: &str, requests: &[Request], capacities: &[Capacity]) {
    println!("\n{title}: {} requests", requests.len());
    println!(
        "{:<8} {:>14} {:>10} {:>12} {:>14}",
        "policy", "capacity", "misses", "Mreq/s", "ns/request"
    );
    for policy in PolicyKind::ALL {
        for &capacity in capacities {
            let (misses, best) = best_of(policy, capacity, requests, Duration::from_millis(400));
            let seconds = best.as_secs_f64();
            println!(
                "{:<8} {:>14} {:>10} {:>12.2} {:>14.1}",
                policy.to_string(),
                capacity.to_string(),
                misses,
                requests.len() as f64 / seconds / 1e6,
                seconds * 1e9 / requests.len() as f64
            );
        }
    }
}

/// Heap bytes of metadata per resident object once the cache is full. The
/// heap bytes are everything the cache allocated (slab, key index, ghost
/// records and their index), so `B/resident` charges the ghosts of S3-FIFO
/// and ARC to the cached objects; `B/tracked` divides by resident + ghosts.
fn memory_report() {
    println!(
        "\nmetadata heap bytes per object at full capacity (Zipf 0.8 over 4M objects, 6M requests)"
    );
    println!(
        "{:<8} {:>16} {:>10} {:>10} {:>14} {:>14}",
        "policy", "capacity", "resident", "tracked", "B/resident", "B/tracked"
    );
    let requests = ZipfWorkload::new(4_000_000, 0.8, 1, 1, 99).take_requests(6_000_000);
    for policy in PolicyKind::ALL {
        for capacity in [Capacity::Objects(1_000_000), Capacity::Bytes(1_000_000)] {
            let mut cache = build(policy, capacity);
            for request in &requests {
                if cache.get(request.key).is_none() {
                    cache.insert(
                        request.key,
                        Entry {
                            size: request.size,
                            expires_at_us: 0,
                            tag: 0,
                        },
                    );
                }
            }
            let heap = cache.heap_bytes() as f64;
            println!(
                "{:<8} {:>16} {:>10} {:>10} {:>14.1} {:>14.1}",
                policy.to_string(),
                format!("{capacity:?}"),
                cache.len(),
                cache.tracked_objects(),
                heap / cache.len() as f64,
                heap / cache.tracked_objects() as f64
            );
        }
    }
}

fn shared_trace() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("EDGESIM_TRACE").map(PathBuf::from),
        Some(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/data/cloudPhysicsIO.oracleGeneral.bin"),
        ),
        Some(PathBuf::from(
            "/work/shared/data/cloudPhysicsIO.oracleGeneral.bin",
        )),
    ];
    candidates.into_iter().flatten().find(|path| path.exists())
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent; keep that quick.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("run with `cargo bench` to measure");
        return;
    }
    let parts = std::env::var("EDGESIM_BENCH").unwrap_or_else(|_| "zipf,trace,memory".into());
    let wanted = |part: &str| parts.split(',').any(|p| p.trim() == part);
    if wanted("zipf") {
        let zipf = ZipfWorkload::new(1_000_000, 0.9, 100, 1_000_000, 7).take_requests(5_000_000);
        report(
            "Zipf(0.9), 1M objects, 100 B - 1 MB",
            &zipf,
            &[
                Capacity::Bytes(1 << 30),
                Capacity::Bytes(8 << 30),
                Capacity::Objects(100_000),
            ],
        );
    }
    if wanted("trace") {
        trace_report();
    }
    if wanted("memory") {
        memory_report();
    }
}

fn trace_report() {
    match shared_trace() {
        Some(path) => {
            let requests: Vec<Request> = TraceReader::open(&path, &TraceFormat::OracleGeneral)
                .and_then(|reader| reader.collect())
                .unwrap_or_else(|error| panic!("{error}"));
            report(
                &format!("{}", path.display()),
                &requests,
                &[
                    Capacity::Bytes(64 << 20),
                    Capacity::Bytes(256 << 20),
                    Capacity::Bytes(1 << 30),
                ],
            );
        }
        None => {
            println!("\ncloudPhysicsIO.oracleGeneral.bin not found (set EDGESIM_TRACE); skipped")
        }
    }
}
