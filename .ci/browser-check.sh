#!/usr/bin/env bash
# Renders a drift report in headless Chromium: it must render with no console messages
# (no errors, no failed requests), show the verdict and every feature, and give a screenshot.
# Usage: .ci/browser-check.sh NORMSHIFT_BINARY [SCREENSHOT.png]
set -euo pipefail
bin=$1
shot=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

set +e
"$bin" drift examples/data/auto-mpg-1970-1976.csv examples/data/auto-mpg-1977-1982.csv \
  --exclude model_year --html "$work/report.html" --quiet > /dev/null
code=$?
set -e
[ "$code" = 1 ] || { echo "browser check: expected exit code 1 (drift), got $code"; exit 1; }

# Flags as this machine kind documents: no background networking, fresh profile.
chrome=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --user-data-dir="$work/profile" --enable-logging=stderr --v=0)
"${chrome[@]}" --dump-dom "file://$work/report.html" > "$work/dom.html" 2> "$work/console.log"

if grep -E ':CONSOLE\(' "$work/console.log"; then
  echo "browser check: the page wrote to the console (above)"; exit 1
fi
for needle in 'DRIFT: 7 of 7 features drifted' 'id="f-mpg"' 'id="f-weight"' 'id="f-horsepower"' \
  'id="f-displacement"' 'id="f-cylinders"' 'id="f-acceleration"' 'id="f-origin"' 'Europe'; do
  grep -q -- "$needle" "$work/dom.html" || { echo "browser check: rendered page lacks $needle"; exit 1; }
done
if [ -n "$shot" ]; then
  "${chrome[@]}" --hide-scrollbars --window-size=1100,1500 --screenshot="$shot" "file://$work/report.html" 2>> "$work/console.log"
  [ -s "$shot" ] || { echo "browser check: no screenshot"; exit 1; }
fi
echo "browser check: report rendered without console messages; verdict and all 7 features present"
