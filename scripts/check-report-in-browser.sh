#!/usr/bin/env bash
# Opens a report's index.html (a run's, a comparison's or a sweep's) in
# headless Chromium and checks what a reader would get:
#   1. the page renders: Chromium writes a screenshot (for a human to look
#      at) and returns the DOM (--dump-dom, after parsing and layout);
#   2. every <figure id="..."> of the file is in the rendered DOM with its
#      inline <svg> first inside it, drawn (a plotters SVG has <text>), and
#      the DOM has as many <svg> as the file;
#   3. no broken references: every local href/src of the file (the PNG and
#      SVG of each plot, summary.json, timeseries.csv, histograms.json, the
#      runs' own reports of a comparison) names a file that exists beside
#      it, every in-page link (#id) has its target, and nothing is fetched
#      from the network (no http(s) src, <script>, <link> or url()).
# Exits 0 with "skipped" when no Chromium is installed (apt-get install
# chromium); 1 when a check fails, naming it. Takes a few seconds.
#
# Usage: scripts/check-report-in-browser.sh REPORT_DIR [SCREENSHOT.png]
# The screenshot defaults to $TMPDIR/<report name>-index.png (the report
# directory itself is left untouched).
set -euo pipefail

dir=${1:?usage: $0 REPORT_DIR [SCREENSHOT.png]}
index="$dir/index.html"
if [[ ! -f "$index" ]]; then
    echo "check-report-in-browser: no $index" >&2
    exit 2
fi

browser=""
for candidate in chromium chromium-browser google-chrome; do
    if command -v "$candidate" >/dev/null 2>&1; then
        browser=$candidate
        break
    fi
done
if [[ -z "$browser" ]]; then
    echo "check-report-in-browser: skipped (chromium not installed)"
    exit 0
fi

abs_index="$(cd "$dir" && pwd)/index.html"
url="file://$abs_index"
shot=${2:-${TMPDIR:-/tmp}/$(basename "$(cd "$dir" && pwd)")-index.png}
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run)
run() { timeout 120 "$browser" "${flags[@]}" "$@" 2>/dev/null; }

run --window-size=1400,4000 --screenshot="$shot" "$url" >/dev/null
if [[ ! -s "$shot" ]]; then
    echo "check-report-in-browser: FAILED: no screenshot written to $shot" >&2
    exit 1
fi

dom=$(run --dump-dom "$url" | tr -d '\n')
if [[ -z "$dom" ]]; then
    echo "check-report-in-browser: FAILED: $browser returned no DOM for $url" >&2
    exit 1
fi

# Every <figure id="..."> of the file must reach the DOM with its <svg>
# first inside, drawn (a plotters SVG always has <text> and shapes).
figures=$(tr -d '\n' <"$index" | grep -o '<figure id="[^"]*">' | sed 's/<figure id="\([^"]*\)">/\1/')
in_file=$(grep -o '<svg' "$index" | wc -l)
in_dom=$(grep -o '<svg' <<<"$dom" | wc -l)
failed=0
if [[ -z "$figures" ]]; then
    echo "check-report-in-browser: FAILED: no figures in $index" >&2
    failed=1
fi
for id in $figures; do
    if ! grep -q "<figure id=\"$id\">[[:space:]]*<svg[^>]*>.*<text" <<<"$dom"; then
        echo "check-report-in-browser: FAILED: figure $id has no drawn <svg> in the DOM" >&2
        failed=1
    fi
done
if [[ "$in_dom" -ne "$in_file" ]]; then
    echo "check-report-in-browser: FAILED: $in_file <svg> in $index, $in_dom in the DOM" >&2
    failed=1
fi

# References: local files must exist, in-page anchors must have targets.
refs=$(grep -o '\(href\|src\)="[^"]*"' "$index" | sed 's/^[a-z]*="\(.*\)"$/\1/' | sort -u)
checked=0
while IFS= read -r ref; do
    [[ -z "$ref" ]] && continue
    case "$ref" in
    http://* | https://*)
        # Links a reader may follow (e.g. price sources) are fine; a page
        # that fetches something is caught below.
        ;;
    '#'*)
        id=${ref#\#}
        if ! grep -q "id=\"$id\"" "$index"; then
            echo "check-report-in-browser: FAILED: link $ref has no target in $index" >&2
            failed=1
        fi
        ;;
    *)
        file=${ref%%#*}
        file=${file%%\?*}
        if [[ ! -e "$dir/$file" ]]; then
            echo "check-report-in-browser: FAILED: $index refers to $ref, which does not exist" >&2
            failed=1
        fi
        ;;
    esac
    checked=$((checked + 1))
done <<<"$refs"
if grep -q -e 'src="http' -e '<script' -e '<link' -e 'url(' "$index"; then
    echo "check-report-in-browser: FAILED: $index fetches something (src=http, <script>, <link> or url())" >&2
    failed=1
fi
if [[ "$failed" -ne 0 ]]; then
    exit 1
fi
echo "check-report-in-browser: ok: $in_dom plots rendered in $browser, $checked references resolved; screenshot $shot"
