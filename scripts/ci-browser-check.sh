#!/usr/bin/env bash
# CI step: render real reports in headless Chromium and check them with
# scripts/check-report-in-browser.sh (every plot's inline SVG in the
# rendered DOM, no broken references, nothing fetched).
#
# Writes, into a temporary directory removed afterwards:
#   - the report of scenarios/ab-test.toml cut to 30 simulated seconds (it
#     has A/B variants and a Lambda@Edge function, so every kind of figure
#     is drawn: latency by country/PoP/variant, triggers, origin load, ...);
#   - a two-value sweep of it (the sweep page links to each run's report).
# With CI=true and no Chromium, installs Debian's `chromium` package with
# apt-get first; if that is not possible (no apt, no root, no network) the
# step is skipped with a message saying why, and does not fail CI.
# Takes about half a minute (mostly the debug build's runs).
set -euo pipefail
cd "$(dirname "$0")/.."

have_browser() {
    command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
        command -v google-chrome >/dev/null 2>&1
}

if ! have_browser && [[ "${CI:-}" == "true" ]]; then
    if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" -eq 0 ]]; then
        echo "ci-browser-check: installing chromium (apt-get)"
        if ! { apt-get update -qq >/dev/null 2>&1 &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; }; then
            echo "ci-browser-check: apt-get could not install chromium"
        fi
    else
        echo "ci-browser-check: no apt-get (or not root): cannot install chromium"
    fi
fi
if ! have_browser; then
    echo "ci-browser-check: skipped (chromium not installed; apt-get install chromium to run it)"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
edgesim() { cargo run --quiet -p edgesim -- "$@"; }

edgesim run scenarios/ab-test.toml --agents 1 --quiet \
    --set simulation.duration_secs=30 --out "$tmp/ab-test" >/dev/null
edgesim sweep scenarios/ab-test.toml --agents 1 --quiet \
    --set simulation.duration_secs=10 --vary viewers.requests_per_sec=500,1000 \
    --out "$tmp/sweep" >/dev/null

for figure in viewer_outcomes latency_offload offload_tiers latency_by_country latency_by_pop latency_by_variant triggers origin_load; do
    if ! grep -q "<figure id=\"$figure\">" "$tmp/ab-test/index.html"; then
        echo "ci-browser-check: FAILED: the ab-test report has no $figure figure" >&2
        exit 1
    fi
done
bash scripts/check-report-in-browser.sh "$tmp/ab-test" "$tmp/ab-test.png"
bash scripts/check-report-in-browser.sh "$tmp/sweep" "$tmp/sweep.png"
bash scripts/check-report-in-browser.sh "$tmp/sweep/viewers.requests_per_sec=500" "$tmp/run.png"
echo "ci-browser-check: ok"
