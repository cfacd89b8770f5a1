#!/usr/bin/env bash
# Docker Swarm smoke test: deploy/swarm/stack.yml (a replicated agent
# service, a coordinator that finds the agents with
# `--connect dns:tasks.agent:7070`) with `docker stack deploy` on this
# engine as a one-node swarm.
#
#   1. swarm mode: `docker swarm init` if the engine is not in a swarm
#      (and only then `docker swarm leave --force` at the end, removing the
#      docker_gwbridge network too if the init created it)
#   2. the image: docker/build-image.sh (cargo build --release, docker
#      build FROM scratch; no registry), unless --reuse-image is given and
#      edgesim:local and target/release/edgesim exist (CI, after the
#      compose smoke test built them)
#   3. docker stack deploy (EDGESIM_AGENTS=3 agent replicas); wait, at
#      most 240 s, until the coordinator task has completed; its
#      edgesim-wait must have seen all three agents behind tasks.agent
#   4. its report must be complete and its summary.json byte-identical to
#      a local run: edgesim run scenarios/quickstart.toml --agents 1
#   5. whatever happens: the stack is removed (and waited for), the swarm
#      left if this script joined it, temporary files deleted.
#
# Without a Docker engine the test is skipped (exit 0). An engine already
# in a swarm is used as it is (its other services are left alone); one
# that is a swarm worker, not a manager, is skipped. Last line: "swarm
# smoke test: 1 passed, 0 failed" (exit 0) or "... 0 passed, 1 failed".
#
# Usage: scripts/swarm-smoke.sh [--reuse-image]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

reuse=0
for arg in "$@"; do
    case "$arg" in
        --reuse-image) reuse=1 ;;
        -h | --help)
            sed -n '2,27p' "$0"
            exit 0
            ;;
        *)
            echo "swarm-smoke.sh: unknown argument $arg" >&2
            exit 2
            ;;
    esac
done

if ! command -v docker > /dev/null 2>&1 || ! timeout 30 docker info > /dev/null 2>&1; then
    echo "swarm smoke test: skipped (no Docker engine)"
    exit 0
fi

stack=edgesim-swarm-smoke
agents=3
started=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "swarm smoke: $*"; }

state=$(timeout 30 docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2> /dev/null)
case "$state" in
    "active true") initialised=0 ;;
    active*)
        echo "swarm smoke test: skipped (this engine is a swarm worker, not a manager)"
        exit 0
        ;;
    *) initialised=1 ;;
esac
had_gwbridge=0
timeout 30 docker network inspect docker_gwbridge > /dev/null 2>&1 && had_gwbridge=1

work=$(mktemp -d "${TMPDIR:-/tmp}/edgesim-swarm-smoke.XXXXXX")
chmod 755 "$work"
mkdir -p "$work/reports"

finish() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    if [ "$rc" -ne 0 ]; then
        for svc in agent coordinator; do
            say "$svc logs (last 30 lines):"
            timeout 30 docker service logs --no-trunc --tail 30 "${stack}_$svc" 2>&1 | sed 's/^/  | /'
        done
    fi
    if timeout 30 docker stack ls --format '{{.Name}}' 2> /dev/null | grep -qx "$stack"; then
        timeout 60 docker stack rm "$stack" > /dev/null 2>&1
    fi
    # stack rm returns before its containers and network are gone.
    local deadline=$((SECONDS + 60))
    while [ "$SECONDS" -lt "$deadline" ] &&
        { [ -n "$(timeout 20 docker ps -aq --filter "label=com.docker.stack.namespace=$stack" 2> /dev/null)" ] ||
            timeout 20 docker network inspect "${stack}_edgesim" > /dev/null 2>&1; }; do
        sleep 1
    done
    if [ "$initialised" = 1 ]; then
        timeout 60 docker swarm leave --force > /dev/null 2>&1 ||
            say "warning: 'docker swarm leave --force' failed; leave the swarm by hand"
        if [ "$had_gwbridge" = 0 ]; then
            timeout 30 docker network rm docker_gwbridge > /dev/null 2>&1
        fi
    fi
    rm -rf "$work"
    say "total $(elapsed "$started") s"
    if [ "$rc" -eq 0 ]; then
        echo "swarm smoke test: 1 passed, 0 failed"
    else
        echo "swarm smoke test: 0 passed, 1 failed"
    fi
    exit "$rc"
}
trap finish EXIT
trap 'say "interrupted"; exit 130' INT TERM

fail() {
    say "FAIL: $*"
    exit 1
}

# 1. Swarm mode.
if [ "$initialised" = 1 ]; then
    t=$(date +%s.%N)
    if ! timeout 60 docker swarm init > "$work/init.log" 2>&1; then
        # Several addresses and none chosen: a one-node swarm can use loopback.
        timeout 60 docker swarm init --advertise-addr 127.0.0.1 > "$work/init.log" 2>&1 ||
            { sed 's/^/  | /' "$work/init.log"; fail "docker swarm init failed"; }
    fi
    say "swarm initialised in $(elapsed "$t") s (it will be left at the end)"
else
    say "the engine is already a swarm manager: using it as it is"
fi

# 2. The image.
bin="${CARGO_TARGET_DIR:-target}/release/edgesim"
if [ "$reuse" = 1 ] && timeout 30 docker image inspect edgesim:local > /dev/null 2>&1 && [ -x "$bin" ]; then
    say "reusing the image edgesim:local and $bin"
else
    t=$(date +%s.%N)
    docker/build-image.sh || fail "docker/build-image.sh failed"
    say "image built in $(elapsed "$t") s"
fi

# 3. The stack.
t=$(date +%s.%N)
export EDGESIM_SCENARIOS_DIR="$PWD/scenarios"
export EDGESIM_REPORTS_DIR="$work/reports"
export EDGESIM_AGENTS=$agents
EDGESIM_UID=$(id -u)
EDGESIM_GID=$(id -g)
export EDGESIM_UID EDGESIM_GID
timeout 120 docker stack deploy --resolve-image never -c deploy/swarm/stack.yml "$stack" 2>&1 |
    sed 's/^/  deploy | /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "docker stack deploy failed"
deadline=$((SECONDS + 240))
while :; do
    current=$(timeout 20 docker service ps --no-trunc --format '{{.CurrentState}}|{{.Error}}' "${stack}_coordinator" 2> /dev/null | head -n 1)
    case "$current" in
        Complete*) break ;;
        Failed* | Rejected* | Shutdown* | Orphaned*) fail "the coordinator task ended: $current" ;;
    esac
    [ "$SECONDS" -lt "$deadline" ] || fail "the coordinator has not completed after 240 s (state: ${current:-none})"
    sleep 1
done
say "stack deployed and the coordinator run completed in $(elapsed "$t") s"
logs=$(timeout 30 docker service logs --no-trunc --raw "${stack}_coordinator" 2>&1)
sed 's/^/  coordinator | /' <<< "$logs"
grep -q "dns:tasks.agent:7070 ($agents address(es) answering)" <<< "$logs" ||
    fail "the coordinator did not wait for $agents agents behind tasks.agent"
running=$(timeout 20 docker service ls --filter "name=${stack}_agent" --format '{{.Replicas}}')
say "agent replicas: $running"

# 4. The report, against a local run of the same scenario and seed.
report="$work/reports/quickstart-swarm"
for f in summary.json timeseries.csv; do
    [ -s "$report/$f" ] || fail "missing or empty: quickstart-swarm/$f"
done
grep -q '"complete": *true' "$report/summary.json" || fail "summary.json does not say complete: true"
t=$(date +%s.%N)
timeout 120 "$bin" run scenarios/quickstart.toml --agents 1 --out "$work/local" --quiet ||
    fail "local run of scenarios/quickstart.toml failed"
say "local run in $(elapsed "$t") s"
if ! cmp "$work/local/summary.json" "$report/summary.json"; then
    diff "$work/local/summary.json" "$report/summary.json" | head -20
    fail "summary.json of the swarm run differs from the local run's"
fi
say "summary.json of the swarm run ($agents agent tasks found by DNS) is byte-identical to the local run's"
