//! Replays one trace through many (policy, capacity) pairs in a single pass.
//!
//! The trace is decoded once, in batches; each batch is simulated by every
//! cache, the caches spread over worker threads, while the next batch is
//! decoded (with a single worker everything runs on the calling thread). Every request counts (no warm-up), as in libCacheSim's
//! `process_trace`; zero-byte requests are skipped by default because
//! libCacheSim's readers drop them (`ignore_size_zero_req`).

use std::thread;

use serde::ser::SerializeMap;

use crate::trace::{Request, TraceError, TraceReader};
use crate::{AnyCache, Cache, Capacity, Entry, PolicyKind, build, dispatch};

/// One cache configuration to simulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplaySpec {
    /// The eviction policy.
    pub policy: PolicyKind,
    /// The cache capacity.
    pub capacity: Capacity,
}

/// Outcome of one (policy, capacity) pair.
///
/// Serialises as an object with exactly the keys `policy`, `cache_bytes`,
/// `requests`, `misses`, `byte_misses`, `miss_ratio`, `byte_miss_ratio`
/// (`cache_objects` replaces `cache_bytes` for an object-count capacity).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReplayResult {
    /// The eviction policy.
    pub policy: PolicyKind,
    /// The cache capacity.
    pub capacity: Capacity,
    /// Requests simulated.
    pub requests: u64,
    /// Requests that missed.
    pub misses: u64,
    /// Bytes requested by the requests that missed.
    pub byte_misses: u64,
    /// `misses / requests` (0 for an empty trace).
    pub miss_ratio: f64,
    /// `byte_misses / bytes requested` (0 for an empty trace).
    pub byte_miss_ratio: f64,
}

impl serde::Serialize for ReplayResult {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(7))?;
        map.serialize_entry("policy", &self.policy)?;
        match self.capacity {
            Capacity::Bytes(bytes) => map.serialize_entry("cache_bytes", &bytes)?,
            Capacity::Objects(objects) => map.serialize_entry("cache_objects", &objects)?,
        }
        map.serialize_entry("requests", &self.requests)?;
        map.serialize_entry("misses", &self.misses)?;
        map.serialize_entry("byte_misses", &self.byte_misses)?;
        map.serialize_entry("miss_ratio", &self.miss_ratio)?;
        map.serialize_entry("byte_miss_ratio", &self.byte_miss_ratio)?;
        map.end()
    }
}

/// How to run a replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Worker threads; 0 uses the available parallelism (capped at the number of caches).
    pub threads: usize,
    /// Skip zero-byte requests, as libCacheSim's readers do by default.
    pub skip_zero_size: bool,
    /// Requests decoded per batch.
    pub batch_requests: usize,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            threads: 0,
            skip_zero_size: true,
            batch_requests: 1 << 16,
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    requests: u64,
    requested_bytes: u64,
    misses: u64,
    byte_misses: u64,
}

/// One simulated cache and its counters.
struct Lane {
    spec: ReplaySpec,
    cache: AnyCache,
    counters: Counters,
}

/// Simulates `batch` on one concrete cache type (monomorphised per policy).
#[inline(never)]
fn simulate<C: Cache>(
    cache: &mut C,
    batch: &[Request],
    counters: &mut Counters,
    skip_zero_size: bool,
) {
    let mut local = *counters;
    for request in batch {
        if skip_zero_size && request.size == 0 {
            continue;
        }
        local.requests += 1;
        local.requested_bytes += request.size;
        if cache.get(request.key).is_none() {
            local.misses += 1;
            local.byte_misses += request.size;
            cache.insert(
                request.key,
                Entry {
                    size: request.size,
                    expires_at_us: u64::MAX,
                    tag: 0,
                },
            );
        }
    }
    *counters = local;
}

/// Runs every lane over `batch`, spread over `threads` workers, while
/// `alongside` runs on the calling thread (used to decode the next batch).
fn run_batch<T>(
    lanes: &mut [Lane],
    batch: &[Request],
    threads: usize,
    skip_zero_size: bool,
    alongside: impl FnOnce() -> T,
) -> T {
    if threads <= 1 {
        // One worker: no thread to start, decode after simulating.
        for lane in lanes.iter_mut() {
            dispatch!(&mut lane.cache, cache => simulate(cache, batch, &mut lane.counters, skip_zero_size));
        }
        return alongside();
    }
    let per_thread = lanes.len().div_ceil(threads.max(1)).max(1);
    thread::scope(|scope| {
        for group in lanes.chunks_mut(per_thread) {
            scope.spawn(move || {
                for lane in group {
                    dispatch!(&mut lane.cache, cache => simulate(cache, batch, &mut lane.counters, skip_zero_size));
                }
            });
        }
        alongside()
    })
}

fn make_lanes(specs: &[ReplaySpec]) -> Vec<Lane> {
    specs
        .iter()
        .map(|&spec| Lane {
            spec,
            cache: build(spec.policy, spec.capacity),
            counters: Counters::default(),
        })
        .collect()
}

fn thread_count(options: &ReplayOptions, lanes: usize) -> usize {
    let available = if options.threads == 0 {
        thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    available.clamp(1, lanes.max(1))
}

fn results(lanes: Vec<Lane>) -> Vec<ReplayResult> {
    lanes
        .into_iter()
        .map(|lane| {
            let counters = lane.counters;
            let ratio = |part: u64, whole: u64| {
                if whole == 0 {
                    0.0
                } else {
                    part as f64 / whole as f64
                }
            };
            ReplayResult {
                policy: lane.spec.policy,
                capacity: lane.spec.capacity,
                requests: counters.requests,
                misses: counters.misses,
                byte_misses: counters.byte_misses,
                miss_ratio: ratio(counters.misses, counters.requests),
                byte_miss_ratio: ratio(counters.byte_misses, counters.requested_bytes),
            }
        })
        .collect()
}

/// Replays a trace file reader through every spec, in one pass; results are in
/// the order of `specs`. Fails with the reader's first error.
pub fn replay_trace(
    reader: &mut TraceReader,
    specs: &[ReplaySpec],
    options: &ReplayOptions,
) -> Result<Vec<ReplayResult>, TraceError> {
    let mut lanes = make_lanes(specs);
    let threads = thread_count(options, lanes.len());
    let batch_size = options.batch_requests.max(1);
    let mut current = Vec::with_capacity(batch_size);
    reader.read_batch(&mut current, batch_size)?;
    let mut next = Vec::with_capacity(batch_size);
    while !current.is_empty() {
        next.clear();
        // Decode the next batch while the workers simulate this one.
        run_batch(
            &mut lanes,
            &current,
            threads,
            options.skip_zero_size,
            || reader.read_batch(&mut next, batch_size),
        )?;
        std::mem::swap(&mut current, &mut next);
    }
    Ok(results(lanes))
}

/// Replays any request stream through every spec; results are in the order
/// of `specs`. Fails with the stream's first error.
pub fn replay<E>(
    requests: impl IntoIterator<Item = Result<Request, E>>,
    specs: &[ReplaySpec],
    options: &ReplayOptions,
) -> Result<Vec<ReplayResult>, E> {
    let mut lanes = make_lanes(specs);
    let threads = thread_count(options, lanes.len());
    let batch_size = options.batch_requests.max(1);
    let mut requests = requests.into_iter();
    let mut batch = Vec::with_capacity(batch_size);
    loop {
        batch.clear();
        for request in requests.by_ref().take(batch_size) {
            batch.push(request?);
        }
        if batch.is_empty() {
            break;
        }
        run_batch(&mut lanes, &batch, threads, options.skip_zero_size, || ());
    }
    Ok(results(lanes))
}

/// Replays requests already in memory.
pub fn replay_requests(
    requests: &[Request],
    specs: &[ReplaySpec],
    options: &ReplayOptions,
) -> Vec<ReplayResult> {
    let mut lanes = make_lanes(specs);
    let threads = thread_count(options, lanes.len());
    for batch in requests.chunks(options.batch_requests.max(1)) {
        run_batch(&mut lanes, batch, threads, options.skip_zero_size, || ());
    }
    results(lanes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::ZipfWorkload;
    use crate::trace::TraceFormat;

    fn specs() -> Vec<ReplaySpec> {
        let mut specs = Vec::new();
        for policy in PolicyKind::ALL {
            for capacity in [Capacity::Bytes(50_000), Capacity::Objects(40)] {
                specs.push(ReplaySpec { policy, capacity });
            }
        }
        specs
    }

    /// Straightforward per-request loop to compare the batched replay with.
    fn sequential(requests: &[Request], spec: ReplaySpec) -> (u64, u64, u64) {
        let mut cache = build(spec.policy, spec.capacity);
        let (mut count, mut misses, mut byte_misses) = (0, 0, 0);
        for request in requests.iter().filter(|r| r.size > 0) {
            count += 1;
            if cache.get(request.key).is_none() {
                misses += 1;
                byte_misses += request.size;
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
        (count, misses, byte_misses)
    }

    #[test]
    fn batched_parallel_replay_matches_sequential() {
        let mut requests = ZipfWorkload::new(500, 0.9, 0, 3000, 11).take_requests(20_000);
        requests[5].size = 0;
        let specs = specs();
        for threads in [1, 3] {
            let options = ReplayOptions {
                threads,
                batch_requests: 777,
                ..ReplayOptions::default()
            };
            let batched = replay_requests(&requests, &specs, &options);
            let streamed =
                replay(requests.iter().map(|&r| Ok::<_, ()>(r)), &specs, &options).unwrap();
            assert_eq!(batched, streamed);
            for (result, &spec) in batched.iter().zip(&specs) {
                assert_eq!(result.policy, spec.policy);
                let (count, misses, byte_misses) = sequential(&requests, spec);
                assert_eq!(
                    (result.requests, result.misses, result.byte_misses),
                    (count, misses, byte_misses),
                    "{spec:?}"
                );
                assert!(result.requests < 20_000, "the zero-size request is skipped");
            }
        }
    }

    #[test]
    fn replay_trace_reads_once_and_reports_errors() {
        let requests = ZipfWorkload::new(300, 1.0, 1, 100, 3).take_requests(5000);
        let mut bytes = Vec::new();
        for request in &requests {
            bytes.extend_from_slice(&(request.time as u32).to_le_bytes());
            bytes.extend_from_slice(&request.key.to_le_bytes());
            bytes.extend_from_slice(&(request.size as u32).to_le_bytes());
            bytes.extend_from_slice(&(-1i64).to_le_bytes());
        }
        let options = ReplayOptions {
            batch_requests: 1000,
            ..ReplayOptions::default()
        };
        let specs = specs();
        let mut reader = TraceReader::from_reader(
            "zipf.bin",
            std::io::Cursor::new(bytes.clone()),
            &TraceFormat::OracleGeneral,
        )
        .unwrap();
        let from_file = replay_trace(&mut reader, &specs, &options).unwrap();
        assert_eq!(from_file, replay_requests(&requests, &specs, &options));

        bytes.truncate(bytes.len() - 5);
        let mut reader = TraceReader::from_reader(
            "zipf.bin",
            std::io::Cursor::new(bytes),
            &TraceFormat::OracleGeneral,
        )
        .unwrap();
        let error = replay_trace(&mut reader, &specs, &options).unwrap_err();
        assert_eq!(
            error.to_string(),
            "zipf.bin: truncated oracleGeneral trace: record 5000 has only 19 of 24 bytes"
        );
    }

    #[test]
    fn serialises_with_exact_keys() {
        let result = ReplayResult {
            policy: PolicyKind::S3Fifo,
            capacity: Capacity::Bytes(1024),
            requests: 4,
            misses: 3,
            byte_misses: 300,
            miss_ratio: 0.75,
            byte_miss_ratio: 0.5,
        };
        assert_eq!(
            serde_json::to_string(&result).unwrap(),
            r#"{"policy":"s3fifo","cache_bytes":1024,"requests":4,"misses":3,"byte_misses":300,"miss_ratio":0.75,"byte_miss_ratio":0.5}"#
        );
        let objects = ReplayResult {
            capacity: Capacity::Objects(10),
            ..result
        };
        assert!(
            serde_json::to_string(&objects)
                .unwrap()
                .contains(r#""cache_objects":10"#)
        );
    }

    #[test]
    fn empty_trace_gives_zero_ratios() {
        let results = replay_requests(&[], &specs()[..1], &ReplayOptions::default());
        assert_eq!(results[0].requests, 0);
        assert_eq!(results[0].miss_ratio, 0.0);
    }
}
