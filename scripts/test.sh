#!/usr/bin/env bash
# Sets up and runs the whole test suite (unit, integration with real adb + virtual emulators, e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest tests -p pytester -n 2 -q "$@"
