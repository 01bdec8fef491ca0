#!/usr/bin/env bash
# Make sure Debian's chromium is present for the headless-browser tests.
# Playwright drives this system browser; `playwright install` would download its own and
# cannot run offline, so it is never used here.
set -euo pipefail
. "$(dirname "$0")/apt_ensure.sh"

CHROMIUM=/usr/bin/chromium
chromium_present() { [ -x "$CHROMIUM" ]; }
ensure_with_apt ensure_chromium "$CHROMIUM" chromium chromium_present
