#!/usr/bin/env bash
# The test command: install everything the tests need, then run them. CI runs exactly this (.ci/run).
#   bash scripts/test.sh              # the whole suite
#   bash scripts/test.sh tests/experiments -x    # arguments go to pytest
#   TEST_WORKERS=0 bash scripts/test.sh          # in one process (easier to read a failure)
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --upgrade pip
# The report's browser tests drive Debian's chromium through the playwright package (never 'playwright install').
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq chromium
  else
    echo "The browser tests need Chromium, which is not installed." >&2
    echo "Install it (Debian/Ubuntu: sudo apt-get install -y chromium; elsewhere your system's chromium package), then run this again." >&2
    exit 1
  fi
fi
python -m pip install --quiet '.[test]'
# two worker processes (pytest-xdist), each test file on one of them: the suite takes 8-9 minutes on 2 cores
python -m pytest -q -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
