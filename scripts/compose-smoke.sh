#!/usr/bin/env bash
# Compose smoke test (run by .ci/run): the quickstart scenario on three
# agent containers and a coordinator container, from docker-compose.yml.
#
#   1. build the image: docker/build-image.sh (cargo build --release, then
#      docker build FROM scratch; no registry is used)
#   2. start agent1..3 (docker compose up -d) and wait until each has
#      printed "edgesim agent listening on" and its healthcheck (an HTTP/2
#      answer on its port) passes; at most 60 s
#   3. run the coordinator (docker compose run), at most 180 s
#   4. check its report (summary.json, timeseries.csv, latency_offload.svg
#      and .png) and that summary.json is byte-identical to a local run:
#      edgesim run scenarios/quickstart.toml --agents 1
#
# The project is named edgesim-smoke, so a developer's own `docker compose
# up` in this checkout is left alone; the report goes to a temporary
# directory (EDGESIM_REPORTS_DIR), written as the calling user. Whatever
# happens, the containers, network and temporary files are removed on
# exit. Every wait is bounded. Without a Docker engine the test is skipped
# (exit 0). Last line: "compose smoke test: 1 passed, 0 failed" (exit 0) or
# "compose smoke test: 0 passed, 1 failed" (exit 1).
#   5. stop an agent container in the middle of a run: the same scenario
#      with 100 ms epochs (6,000 of them) and on_agent_failure = reassign;
#      once the coordinator's epoch log (in the host-mounted report
#      directory) shows that epochs are being completed, `docker stop`
#      agent2; the run must still complete, its summary.json must record
#      the incident (agent2's regions reassigned to the survivors) and
#      every epoch must have traffic.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

if ! command -v docker > /dev/null 2>&1 || ! timeout 30 docker info > /dev/null 2>&1; then
    echo "compose smoke test: skipped (no Docker engine)"
    exit 0
fi
if timeout 30 docker compose version > /dev/null 2>&1; then
    compose_cmd=(docker compose)
elif command -v docker-compose > /dev/null 2>&1 && timeout 30 docker-compose version > /dev/null 2>&1; then
    compose_cmd=(docker-compose)
else
    echo "compose smoke test: skipped (no Docker Compose: neither 'docker compose' nor 'docker-compose')"
    exit 0
fi

export COMPOSE_PROJECT_NAME=edgesim-smoke
# compose SECS ARGS...: the compose tool on docker-compose.yml, killed after SECS.
compose() {
    local secs=$1
    shift
    timeout "$secs" "${compose_cmd[@]}" -f docker-compose.yml "$@"
}

started=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "compose smoke: $*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/edgesim-compose-smoke.XXXXXX")
chmod 755 "$work"
mkdir -p "$work/reports"
export EDGESIM_REPORTS_DIR="$work/reports"
EDGESIM_UID=$(id -u)
EDGESIM_GID=$(id -g)
export EDGESIM_UID EDGESIM_GID

finish() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    if [ "$rc" -ne 0 ]; then
        say "container logs (last 40 lines each):"
        compose 30 logs --no-color --tail 40 2>&1 | sed 's/^/  | /'
    fi
    compose 90 down -v --remove-orphans --timeout 5 > /dev/null 2>&1 ||
        say "warning: 'compose down' failed; remove the edgesim-smoke containers by hand"
    rm -rf "$work"
    say "total $(elapsed "$started") s"
    if [ "$rc" -eq 0 ]; then
        echo "compose smoke test: 1 passed, 0 failed"
    else
        echo "compose smoke test: 0 passed, 1 failed"
    fi
    exit "$rc"
}
trap finish EXIT
trap 'say "interrupted"; exit 130' INT TERM

fail() {
    say "FAIL: $*"
    exit 1
}

say "using ${compose_cmd[*]} ($("${compose_cmd[@]}" version --short 2> /dev/null || echo '?'))"
# Leftovers of an interrupted earlier run would be reused by `up`.
compose 90 down -v --remove-orphans --timeout 5 > /dev/null 2>&1

# 1. The image.
t=$(date +%s.%N)
docker/build-image.sh || fail "docker/build-image.sh failed"
say "image built in $(elapsed "$t") s"
bin="${CARGO_TARGET_DIR:-target}/release/edgesim"

# 2. The agents, and their readiness.
t=$(date +%s.%N)
compose 120 up -d agent1 agent2 agent3 || fail "could not start the agents"
agents=(agent1 agent2 agent3)
declare -A ids
for svc in "${agents[@]}"; do
    ids[$svc]=$(compose 20 ps -q "$svc" 2> /dev/null)
    [ -n "${ids[$svc]}" ] || fail "$svc has no container"
done
deadline=$((SECONDS + 60))
while :; do
    ready=0
    waiting=()
    for svc in "${agents[@]}"; do
        id=${ids[$svc]}
        state=$(timeout 20 docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id" 2> /dev/null)
        case "$state" in
            exited* | dead*) fail "$svc stopped before it was ready ($state)" ;;
        esac
        if [ "$state" = "running healthy" ]; then
            # Read the logs whole first: `... | grep -q` would fail under
            # pipefail when grep stops reading early.
            logs=$(compose 20 logs --no-color "$svc" 2> /dev/null)
            if grep -q "edgesim agent listening on" <<< "$logs"; then
                ready=$((ready + 1))
                continue
            fi
        fi
        waiting+=("$svc ($state)")
    done
    [ "$ready" -eq "${#agents[@]}" ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
        for svc in "${agents[@]}"; do
            say "$svc last healthcheck: $(timeout 20 docker inspect -f \
                '{{if .State.Health}}{{range .State.Health.Log}}{{.Output}}{{end}}{{end}}' \
                "${ids[$svc]}" 2> /dev/null | sed '/^$/d' | tail -n 1)"
        done
        fail "agents not ready after 60 s: ${waiting[*]}"
    fi
    sleep 0.5
done
say "agents ready in $(elapsed "$t") s"

# 3. The coordinator (entrypoint: edgesim-wait, then edgesim run ...).
t=$(date +%s.%N)
compose 180 run --rm -T --no-deps coordinator 2>&1 | sed 's/^/  coordinator | /'
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] || fail "the coordinator exited with status $rc (124: timed out after 180 s)"
say "coordinator run in $(elapsed "$t") s"

# 4. The report, against a local run of the same scenario.
report="$work/reports/quickstart-compose"
for f in summary.json timeseries.csv latency_offload.svg latency_offload.png; do
    [ -s "$report/$f" ] || fail "missing or empty: reports/quickstart-compose/$f"
done
grep -q '"complete": *true' "$report/summary.json" || fail "summary.json does not say complete: true"
t=$(date +%s.%N)
timeout 120 "$bin" run scenarios/quickstart.toml --agents 1 --out "$work/local" --quiet ||
    fail "local run of scenarios/quickstart.toml failed"
say "local run in $(elapsed "$t") s"
if ! cmp "$work/local/summary.json" "$report/summary.json"; then
    diff "$work/local/summary.json" "$report/summary.json" | head -20
    fail "summary.json of the compose run differs from the local run's"
fi
say "summary.json of the compose run (3 agent containers) is byte-identical to the local run's"

# 5. An agent container stopped mid-run; its regions are reassigned.
t=$(date +%s.%N)
faults="$work/reports/faults"
compose 300 run --rm -T --no-deps coordinator \
    run /scenarios/quickstart.toml \
    --connect agent1:7070,agent2:7070,agent3:7070 \
    --set simulation.epoch_ms=100 --on-agent-failure reassign \
    --out /reports/faults --quiet > "$work/faults.log" 2>&1 &
coordinator=$!
deadline=$((SECONDS + 120))
# The header is small; 1 MB of records is a few hundred epochs in (the
# run is staged in faults.partial/ until it is complete).
until [ "$(stat -c %s "$faults.partial/epochs.log" 2> /dev/null || echo 0)" -gt 1000000 ]; do
    if ! kill -0 "$coordinator" 2> /dev/null; then
        sed 's/^/  coordinator | /' "$work/faults.log"
        fail "the coordinator ended before agent2 could be stopped"
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail "no epochs logged after 120 s"
    sleep 0.2
done
timeout 30 docker stop -t 2 "${ids[agent2]}" > /dev/null || fail "could not stop agent2"
say "agent2 stopped mid-run after $(elapsed "$t") s"
wait "$coordinator"
rc=$?
sed 's/^/  coordinator | /' "$work/faults.log"
[ "$rc" -eq 0 ] || fail "the run with agent2 stopped exited with status $rc"
grep -q '"complete": *true' "$faults/summary.json" || fail "the run with agent2 stopped is not complete"
grep -q '"action": *"reassigned"' "$faults/summary.json" || fail "summary.json records no reassignment"
grep -q 'agent2:7070' "$faults/summary.json" || fail "the incident does not name agent2"
awk -F, 'NR > 1 && $4 == 0 { bad = 1 } END { exit bad }' "$faults/timeseries.csv" ||
    fail "an epoch without requests in timeseries.csv"
say "agent2 stopped mid-run: its regions were reassigned and the run completed ($(elapsed "$t") s)"
