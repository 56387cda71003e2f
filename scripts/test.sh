#!/usr/bin/env bash
# Sets up and runs the whole test suite (unit, integration with real adb + virtual emulators, e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Lint and types first: seconds, and a finding here is cheaper than a red integration run.
.venv/bin/ruff check .
.venv/bin/mypy harness emulators
# Integration tests often wait on devices, so more workers than cores: 7 measured best on 2 cores
# (fresh clones, idle machine: 185 and 196 s of pytest against 195-231 s with 6; bench/README.md).
# tests/conftest.py schedules them: longest first, one test per unit to whichever worker is free, a
# module that shares one lab (a module fixture) on one worker.
# Bytecode caching on, whatever the machine's default (this one sets PYTHONDONTWRITEBYTECODE=1):
# the suite starts ~260 emulators and ~80 pytest runs, and without a cache each one compiles every
# module it imports again, and each pytest run re-rewrites the asserts of every test module and of
# the harness (a pytest plugin's package is rewritten too): ~20 CPU-s per suite. __pycache__ is
# ignored by git.
unset PYTHONDONTWRITEBYTECODE
exec .venv/bin/python -m pytest tests -p pytester -n "${TEST_WORKERS:-7}" -q "$@"
