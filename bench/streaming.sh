#!/usr/bin/env bash
# Streaming inputs benchmark (issue 19, item 5): lines/s and peak memory
# of every reader of big inputs, on synthetic files this script writes
# (nothing is downloaded; the files are deleted at the end).
#
#   - a CloudFront standard log of LINES lines (default 10 M), plain and
#     gzip, from `edgesim workload sample-log` (5 edge locations, 4 content
#     classes of 3,350 x OBJECTS_SCALE objects with Zipf popularity,
#     diurnal rate, every device class), written line by line
#   - a libCacheSim oracleGeneral trace of LINES records, plain and zstd
#     (written by a few lines of Python here; compressed with the zstd tool)
#
# and it measures, each as one process under /usr/bin/time -v (wall time,
# max RSS):
#
#   replay-log        edgesim replay LOG --format cloudfront-log (LRU, 1 GiB, 1 thread)
#   replay-log.gz     the same on the gzip file
#   replay-trace      edgesim replay TRACE --format oracle-general
#   replay-trace.zst  the same on the zstd file
#   from-logs.gz      edgesim workload from-logs LOG.gz (the workload fit)
#   run-[replay]      edgesim run of the inferred scenario with its [replay]
#                     table on (every line one request, --agents 1); peak
#                     RSS of the coordinator and of all its processes
#                     together (sampled every 0.2 s from /proc)
#
# lines/s = lines / wall seconds of the whole process (start-up, reading,
# decompressing, parsing and the work on each line all included); per
# core: lines / CPU seconds (user + system) of the process (its children
# too for run-[replay]), which does not depend on what else the machine
# is running.
#
# Usage: bench/streaming.sh [LINES] [OBJECTS_SCALE]   (from the repository root)
# Environment: EDGESIM_BIN (default target/release/edgesim, built if missing),
# BENCH_DIR (default a temporary directory; needs about LINES x 0.5 KB).
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-10000000}
scale=${2:-300}
bin=${EDGESIM_BIN:-target/release/edgesim}
if [ ! -x "$bin" ]; then
    cargo build --release -p edgesim
fi
dir=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/edgesim-streaming.XXXXXX")}
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT

# measure NAME LINES CMD...: one row of the table.
measure() {
    local name=$1 n=$2
    shift 2
    /usr/bin/time -v "$@" > "$dir/out.txt" 2> "$dir/time.txt" || {
        cat "$dir/time.txt" >&2
        echo "bench: $name failed" >&2
        exit 1
    }
    local wall rss cpu
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$dir/time.txt")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$dir/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$dir/time.txt")
    awk -v name="$name" -v n="$n" -v w="$wall" -v c="$cpu" -v r="$rss" \
        'BEGIN { printf "%-18s %12d %9.2f %12.2f %9.2f %14.2f %10.1f\n", name, n, w, n / w / 1e6, c, n / c / 1e6, r / 1024 }'
}

# rss_tree PID: peak summed VmRSS (MB) of PID and its descendants while it runs.
rss_tree() {
    local pid=$1 peak=0 sum p
    while kill -0 "$pid" 2> /dev/null; do
        sum=0
        for p in $pid $(pgrep -P "$pid" 2> /dev/null); do
            sum=$((sum + $(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2> /dev/null || echo 0)))
        done
        [ "$sum" -gt "$peak" ] && peak=$sum
        sleep 0.2
    done
    echo $((peak / 1024))
}

echo "bench: writing $lines log lines (objects x $scale) to $dir"
t=$(date +%s.%N)
# 3,000 lines/s on average: 10 M lines span about 55 minutes.
"$bin" workload sample-log -o "$dir/big.log" --lines "$lines" --rate 3000 \
    --objects-scale "$scale" --no-unknown 2> /dev/null
gzip -1 -k "$dir/big.log"
python3 - "$dir/trace.bin" "$lines" << 'PY'
import random, struct, sys
path, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(1)
objects = 1_000_000
rec = struct.Struct("<IQIq")
with open(path, "wb") as f:
    buf = bytearray()
    for i in range(n):
        key = int(objects * rnd.random() ** 3)  # skewed popularity
        buf += rec.pack(i // 3000, key, 1000 + key % 50_000, -1)
        if len(buf) >= 1 << 22:
            f.write(buf)
            buf.clear()
    f.write(buf)
PY
zstd -q -3 -k "$dir/trace.bin" -o "$dir/trace.bin.zst"
echo "bench: inputs written in $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s: $(du -h "$dir/big.log" | cut -f1) log ($(du -h "$dir/big.log.gz" | cut -f1) gzip), $(du -h "$dir/trace.bin" | cut -f1) trace ($(du -h "$dir/trace.bin.zst" | cut -f1) zstd)"

printf "%-18s %12s %9s %12s %9s %14s %10s\n" what lines wall_s "M_lines/s" cpu_s "M_lines/cpu_s" max_rss_MB
replay=(--policy lru --cache-size 1GiB --threads 1)
measure replay-log "$lines" "$bin" replay "$dir/big.log" --format cloudfront-log "${replay[@]}"
measure replay-log.gz "$lines" "$bin" replay "$dir/big.log.gz" --format cloudfront-log "${replay[@]}"
measure replay-trace "$lines" "$bin" replay "$dir/trace.bin" --format oracle-general "${replay[@]}"
measure replay-trace.zst "$lines" "$bin" replay "$dir/trace.bin.zst" --format oracle-general "${replay[@]}"
measure from-logs.gz "$lines" "$bin" workload from-logs "$dir/big.log.gz" -o "$dir/inferred.toml"

# The inferred scenario with its [replay] table on: every line a request.
sed 's/^# \[replay\]$/[replay]/; s/^# logs = /logs = /' "$dir/inferred.toml" > "$dir/replay.toml"
grep -q '^\[replay\]' "$dir/replay.toml" || { echo "bench: no [replay] table in the inferred scenario" >&2; exit 1; }
/usr/bin/time -v "$bin" run "$dir/replay.toml" --agents 1 --out "$dir/report" -q \
    > "$dir/run.txt" 2> "$dir/time.txt" &
tpid=$!
sleep 0.5
cpid=$(pgrep -P "$tpid" | head -n 1 || true)
tree=$(rss_tree "${cpid:-$tpid}")
wait "$tpid" || { cat "$dir/time.txt" >&2; exit 1; }
requests=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['totals']['requests'])" "$dir/report/summary.json")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$dir/time.txt")
rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$dir/time.txt")
cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$dir/time.txt")
awk -v n="$requests" -v w="$wall" -v c="$cpu" -v r="$rss" \
    'BEGIN { printf "%-18s %12d %9.2f %12.2f %9.2f %14.2f %10.1f\n", "run-[replay]", n, w, n / w / 1e6, c, n / c / 1e6, r / 1024 }'
echo "run-[replay]: $requests requests replayed; peak RSS of the largest process ${rss} kB, of coordinator + agent together ${tree} MB (sampled)"
