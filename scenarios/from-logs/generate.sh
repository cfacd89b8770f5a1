#!/bin/sh
# Regenerates this directory: a synthetic CloudFront standard log, the
# scenario inferred from it, and the same scenario replaying the log.
set -e
cd "$(dirname "$0")"
edgesim workload sample-log -o logs/sample.log.gz --lines 3000 --rate 0.1 --seed 7
edgesim workload from-logs logs/sample.log.gz -o from-logs.toml
sed -e 's/^# \[replay\]/[replay]/; s/^# logs = /logs = /; s/^name = "from-logs"/name = "from-logs-replay"/' \
    -e "s/^# Uncomment to replay.*/# Replays the log line by line instead of the synthetic viewers:/" \
    from-logs.toml > replay.toml
