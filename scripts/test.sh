#!/usr/bin/env bash
# Sets up and runs the whole test suite (unit, integration with real adb + virtual emulators, e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Lint and types first: seconds, and a finding here is cheaper than a red integration run.
.venv/bin/ruff check .
.venv/bin/mypy harness emulators
exec .venv/bin/python -m pytest tests -p pytester -n 2 -q "$@"
