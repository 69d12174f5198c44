#!/usr/bin/env bash
# Makes sure the headless browser the report tests render with (Debian's chromium) is present.
# Idempotent and quiet: one line of output; never fails the build when the browser is already there.
# Without it (and without root to install it) tests/test_report_browser.py skips and says why.
set -u

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "browser-setup: $CHROMIUM present"
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "browser-setup: $CHROMIUM missing and not root; the browser test will be skipped (apt-get install chromium)"
    exit 0
fi
# apt's own output goes to a log: the build keeps one line, the log keeps the details if it fails.
log=$(mktemp -t browser-setup.XXXXXX.log)
if DEBIAN_FRONTEND=noninteractive apt-get update >"$log" 2>&1 \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >>"$log" 2>&1; then
    echo "browser-setup: installed $($CHROMIUM --version 2>/dev/null || echo chromium)"
    rm -f "$log"
else
    echo "browser-setup: could not install chromium (see $log); the browser test will be skipped"
fi
exit 0
