#!/usr/bin/env bash
# Sets up and runs the whole test suite (unit, integration with real adb + virtual emulators, e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Lint and types first: seconds, and a finding here is cheaper than a red integration run.
.venv/bin/ruff check .
.venv/bin/mypy harness emulators
# Integration tests mostly wait on devices (about 1 CPU-minute in 6), so 4 workers fit 2 cores.
exec .venv/bin/python -m pytest tests -p pytester -n "${TEST_WORKERS:-4}" -q "$@"
