#!/usr/bin/env bash
# Sets up and runs the whole test suite (unit, integration with real adb + virtual emulators, e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Lint and types first: seconds, and a finding here is cheaper than a red integration run.
.venv/bin/ruff check .
.venv/bin/mypy harness emulators
# Integration tests mostly wait on devices (about 1 CPU-minute in 6), so 6 workers fit 2 cores.
# tests/conftest.py schedules them: longest first, one test per unit to whichever worker is free, a
# module that shares one lab (a module fixture) on one worker.
exec .venv/bin/python -m pytest tests -p pytester -n "${TEST_WORKERS:-6}" -q "$@"
