#!/usr/bin/env bash
# Opens a report's index.html in headless Chromium: takes a screenshot for
# a human to look at, and checks from the rendered DOM that every plot's
# inline <svg> made it into the page. Exits 0 with "skipped" when no
# Chromium is installed (apt-get install chromium).
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
if [[ "$failed" -ne 0 ]]; then
    exit 1
fi
echo "check-report-in-browser: ok: $in_dom plots rendered in $browser; screenshot $shot"
