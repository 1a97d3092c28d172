#!/usr/bin/env bash
# Render a report with headless Chromium and save a PNG screenshot, to check that it displays offline.
# Usage: scripts/screenshot_report.sh runs/demo/report.html [out.png] [height]
# Needs Debian's chromium (apt-get install chromium).
set -euo pipefail
report=$(realpath "${1:?report.html}")
out=${2:-${report%.html}.png}
height=${3:-4000}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
  --window-size=1200,"$height" --screenshot="$(realpath -m "$out")" "file://$report" 2>/dev/null
echo "$out"
