#!/usr/bin/env python3
"""Compare edgesim's trace replay with libCacheSim (PyPI `libcachesim`) on one trace.

For every (policy, cache size) pair it runs both simulators on the same
oracleGeneral trace, prints both throughputs (requests/s), their ratio, and
whether the miss counts (and byte-miss counts) are identical.

edgesim side: `target/release/edgesim replay ... --json` (built with
`cargo build --release -p edgesim` when missing). Its time is
the wall time of the whole process (start-up and trace decoding included),
best of --repeat runs, single-threaded (--threads 1) for a fair comparison.

libCacheSim side: `cache.process_trace(reader)` with the package's default
parameters (hashpower 24, i.e. a 16M-bucket table; --lcs-hashpower sizes it
for the trace instead), best of --repeat runs, cache construction excluded.

--repeat-trace N replays the trace N times back to back (written to a temporary
file used by both sides), so that process start-up and table growth weigh less
on a short trace.

Usage (from the repository root):
    pip install libcachesim
    python3 bench/replay_vs_libcachesim.py
    python3 bench/replay_vs_libcachesim.py --policies lru,sieve --sizes 64MiB,1GiB --repeat 5
    python3 bench/replay_vs_libcachesim.py --object-count --sizes 1000,10000
    python3 bench/replay_vs_libcachesim.py --repeat-trace 20 --lcs-hashpower 17
    python3 bench/replay_vs_libcachesim.py --golden   # miss counts for tests/cache_model.rs
    python3 bench/replay_vs_libcachesim.py --metadata # edgesim metadata bytes per cached object

--metadata runs `cargo bench -p edgesim-cache --bench throughput` with
EDGESIM_BENCH=memory: heap bytes of each policy's metadata (slab, index and
ghost records) divided by the number of cached objects, once the cache is full.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_TRACE = REPO.parent / "shared" / "data" / "cloudPhysicsIO.oracleGeneral.bin"
POLICIES = ["lru", "fifo", "clock", "sieve", "s3fifo", "arc"]
LCS_CLASS = {
    "lru": "LRU",
    "fifo": "FIFO",
    "clock": "Clock",
    "sieve": "Sieve",
    "s3fifo": "S3FIFO",
    "arc": "ARC",
}
UNITS = {
    "": 1, "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}


def parse_size(text):
    match = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", text)
    if not match or match.group(2).lower() not in UNITS:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}")
    return int(match.group(1)) * UNITS[match.group(2).lower()]


def target_dirs():
    dirs = []
    if os.environ.get("CARGO_TARGET_DIR"):
        dirs.append(Path(os.environ["CARGO_TARGET_DIR"]))
    dirs.append(REPO / "target")
    return dirs


def find_edgesim():
    """Returns (command prefix, description) for running `replay`."""
    for directory in target_dirs():
        binary = directory / "release" / "edgesim"
        if binary.exists():
            probe = subprocess.run([str(binary), "replay", "--help"], capture_output=True, text=True)
            if probe.returncode == 0 and "--cache-size" in probe.stdout:
                return [str(binary), "replay"], f"{binary} replay"
    print("building edgesim (cargo build --release -p edgesim)...", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "-p", "edgesim"], cwd=REPO, check=True)
    binary = REPO / "target" / "release" / "edgesim"
    return [str(binary), "replay"], f"{binary} replay"


def run_edgesim(command, trace, policies, sizes, object_count, repeat):
    argv = command + [str(trace), "--format", "oracle-general", "--policy", ",".join(policies),
                      "--cache-size", ",".join(str(s) for s in sizes), "--json", "--threads", "1"]
    if object_count:
        argv.append("--object-count")
    best = None
    results = None
    for _ in range(repeat):
        start = time.perf_counter()
        completed = subprocess.run(argv, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if completed.returncode != 0:
            sys.exit(f"edgesim failed ({completed.returncode}): {completed.stderr.strip()}")
        results = json.loads(completed.stdout)
        best = elapsed if best is None else min(best, elapsed)
    return results, best


def run_libcachesim(lcs, trace, policy, size, object_count, repeat, hashpower=None):
    params = lcs.ReaderInitParam(ignore_obj_size=object_count)
    reader = lcs.TraceReader(str(trace), lcs.TraceType.ORACLE_GENERAL_TRACE, params)
    requests = reader.get_num_of_req()
    best = None
    ratios = None
    extra = {} if hashpower is None else {"hashpower": hashpower}
    for _ in range(repeat):
        cache = getattr(lcs, LCS_CLASS[policy])(size, **extra)
        start = time.perf_counter()
        ratios = cache.process_trace(reader)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return ratios, requests, best


def requested_bytes(trace, object_count):
    """Total bytes of the non-zero-size requests (what byte_miss_ratio divides by)."""
    import numpy as np

    record = np.dtype([("time", "<u4"), ("id", "<u8"), ("size", "<u4"), ("next", "<i8")])
    sizes = np.fromfile(trace, dtype=record)["size"].astype(np.uint64)
    nonzero = sizes[sizes > 0]
    return int(nonzero.size) if object_count else int(nonzero.sum())


def golden(lcs):
    """Prints libcachesim miss counts for the Zipf trace used by tests/cache_model.rs."""
    example = None
    for directory in target_dirs():
        candidate = directory / "release" / "examples" / "zipf_trace"
        if candidate.exists():
            example = candidate
            break
    if example is None:
        subprocess.run(["cargo", "build", "--release", "-p", "edgesim-cache", "--example", "zipf_trace"],
                       cwd=REPO, check=True)
        return golden(lcs)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "zipf.oracleGeneral.bin"
        subprocess.run([str(example), str(path), "100000", "5000", "0.8", "100", "100000", "42"], check=True)
        print("const GOLDEN: &[(PolicyKind, [u64; 3])] = &[")
        for policy in POLICIES:
            counts = []
            for size, object_count in [(8_000_000, False), (32_000_000, False), (500, True)]:
                (miss_ratio, _), requests, _ = run_libcachesim(lcs, path, policy, size, object_count, 1)
                counts.append(round(miss_ratio * requests))
            variant = {"lru": "Lru", "fifo": "Fifo", "clock": "Clock", "sieve": "Sieve",
                       "s3fifo": "S3Fifo", "arc": "Arc"}[policy]
            print(f"    (PolicyKind::{variant}, [{', '.join(str(c) for c in counts)}]),")
        print("];")


def metadata():
    """Prints edgesim's metadata bytes per cached object for every policy."""
    env = dict(os.environ, EDGESIM_BENCH="memory")
    subprocess.run(["cargo", "bench", "-p", "edgesim-cache", "--bench", "throughput"],
                   cwd=REPO, env=env, check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trace", type=Path, default=DEFAULT_TRACE, help="oracleGeneral trace (default: %(default)s)")
    parser.add_argument("--policies", default=",".join(POLICIES), help="comma-separated (default: all six)")
    parser.add_argument("--sizes", default="16MiB,64MiB,256MiB,1GiB",
                        help="comma-separated cache sizes, bytes with optional unit (default: %(default)s)")
    parser.add_argument("--object-count", action="store_true", help="sizes are object counts")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default: %(default)s)")
    parser.add_argument("--repeat-trace", type=int, default=1, help="replay the trace N times back to back")
    parser.add_argument("--lcs-hashpower", type=int, default=None,
                        help="libcachesim hash table size as a power of two (default: the package default, 24)")
    parser.add_argument("--golden", action="store_true", help="print miss counts for the Rust golden test")
    parser.add_argument("--metadata", action="store_true",
                        help="print edgesim's metadata bytes per cached object (cargo bench) and exit")
    args = parser.parse_args()

    if args.metadata:
        metadata()
        return

    try:
        import libcachesim as lcs
    except ImportError:
        sys.exit("libcachesim is not installed: pip install libcachesim")

    if args.golden:
        golden(lcs)
        return
    if not args.trace.exists():
        sys.exit(f"{args.trace}: trace not found (pass --trace)")

    scratch = None
    trace = args.trace
    if args.repeat_trace > 1:
        scratch = tempfile.TemporaryDirectory()
        trace = Path(scratch.name) / f"x{args.repeat_trace}.oracleGeneral.bin"
        data = args.trace.read_bytes()
        with open(trace, "wb") as out:
            for _ in range(args.repeat_trace):
                out.write(data)

    policies = [p.strip().lower() for p in args.policies.split(",") if p.strip()]
    for policy in policies:
        if policy not in LCS_CLASS:
            sys.exit(f"unknown policy {policy!r}; valid: {', '.join(POLICIES)}")
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    command, description = find_edgesim()
    total_bytes = requested_bytes(trace, args.object_count)
    print(f"trace: {args.trace}" + (f" x{args.repeat_trace}" if args.repeat_trace > 1 else ""))
    print(f"edgesim: {description}")
    hashpower = "default hashpower (24)" if args.lcs_hashpower is None else f"hashpower {args.lcs_hashpower}"
    print(f"libcachesim: {lcs.__name__} {getattr(lcs, '__version__', '')} process_trace, default parameters, {hashpower}")
    print(f"timing: best of {args.repeat}; edgesim = whole process wall time, libcachesim = process_trace only\n")

    header = (f"{'policy':<7} {'size':>12} {'requests':>9} {'misses':>9} {'lcs_misses':>10} {'same':>5} "
              f"{'byte_same':>9} {'edgesim_req/s':>14} {'lcs_req/s':>11} {'ratio':>6}")
    print(header)
    all_same = True
    ratios = []
    lcs_total_time = 0.0
    for policy in policies:
        for size in sizes:
            results, our_time = run_edgesim(command, trace, [policy], [size], args.object_count, args.repeat)
            ours = results[0]
            (miss_ratio, byte_miss_ratio), lcs_requests, lcs_time = run_libcachesim(
                lcs, trace, policy, size, args.object_count, args.repeat, args.lcs_hashpower)
            lcs_total_time += lcs_time
            lcs_misses = round(miss_ratio * lcs_requests)
            lcs_byte_misses = round(byte_miss_ratio * total_bytes)
            ours_bytes = ours["byte_misses"] if not args.object_count else None
            same = ours["misses"] == lcs_misses and ours["requests"] == lcs_requests
            byte_same = (ours_bytes == lcs_byte_misses) if ours_bytes is not None else same
            all_same &= same and byte_same
            our_rate = ours["requests"] / our_time
            lcs_rate = lcs_requests / lcs_time
            ratios.append(our_rate / lcs_rate)
            print(f"{policy:<7} {size:>12} {ours['requests']:>9} {ours['misses']:>9} {lcs_misses:>10} "
                  f"{'yes' if same else 'NO':>5} {'yes' if byte_same else 'NO':>9} "
                  f"{our_rate:>14,.0f} {lcs_rate:>11,.0f} {our_rate / lcs_rate:>6.1f}")

    # All pairs in one edgesim process (single pass over the trace) vs the sum of libcachesim runs.
    results, one_pass = run_edgesim(command, trace, policies, sizes, args.object_count, args.repeat)
    pairs = len(results)
    requests = results[0]["requests"] if results else 0
    print(f"\nall {pairs} pairs, one edgesim process (single pass, --threads 1): {one_pass:.3f} s "
          f"= {pairs * requests / one_pass:,.0f} simulated req/s; libcachesim sum: {lcs_total_time:.3f} s "
          f"= {pairs * requests / lcs_total_time:,.0f} req/s; ratio {lcs_total_time / one_pass:.1f}x")
    print(f"per-pair throughput ratio edgesim/libcachesim: min {min(ratios):.1f}x, max {max(ratios):.1f}x")
    print("miss counts identical for every pair" if all_same else "MISS COUNTS DIFFER (see 'NO' rows)")
    sys.exit(0 if all_same else 1)


if __name__ == "__main__":
    main()
