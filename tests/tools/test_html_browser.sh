#!/bin/sh
# test_html_browser.sh OBJMEM [SCREENSHOT.png] - the HTML report in a real
# browser: headless Chromium (Debian's chromium) loads a report and a diff
# report made from the tour's dumps; the flame graph must have rendered
# (the page marks <body data-flamegraph="rendered"> when d3-flame-graph drew
# its frames, and the DOM must hold them). With SCREENSHOT, also saves a
# screenshot of the report. Exit 77 (skipped) without chromium.
# (ctest: tool_html_browser, label browser; make html-test)
set -u
OBJMEM=$1
SHOT=${2:-}
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$CHROME" ] || { echo "test_html_browser: no chromium (apt-get install chromium): skipped"; exit 77; }
T=$(mktemp -d "${TMPDIR:-/tmp}/om-html.XXXXXX")
trap 'rm -rf "$T"' EXIT
"$OBJMEM" snapshot demo "$T/old.omsnap" "$T/new.omsnap" || exit 1
"$OBJMEM" snapshot html "$T/new.omsnap" -o "$T/report.html" || exit 1
"$OBJMEM" snapshot html "$T/old.omsnap" "$T/new.omsnap" -o "$T/diff.html" || exit 1
run() { # headless, no sandbox (CI runs as root), no GPU, no user profile
  timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --user-data-dir="$T/profile" --virtual-time-budget=5000 "$@" 2>>"$T/chrome.log"
}
fails=0
for page in report diff; do
  run --dump-dom "file://$T/$page.html" >"$T/$page.dom"
  frames=$(grep -o 'class="frame' "$T/$page.dom" | wc -l)
  if grep -q 'data-flamegraph="rendered"' "$T/$page.dom" && [ "$frames" -ge 6 ]; then
    echo "test_html_browser: $page.html rendered ($frames frames in the flame graph)"
  else
    echo "FAIL $page.html: flame graph not rendered ($frames frames)"; tail -5 "$T/chrome.log"
    fails=$((fails + 1))
  fi
done
if [ -n "$SHOT" ]; then
  run --hide-scrollbars --window-size=1200,1150 --screenshot="$SHOT" "file://${REPORT:-$T/report.html}" >/dev/null
  [ -s "$SHOT" ] || { echo "FAIL screenshot"; fails=$((fails + 1)); }
fi
exit $((fails != 0))
