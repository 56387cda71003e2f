#!/usr/bin/env bash
# Runs the device test suites of adbutils (e2etests/) and uiautomator2 (mobile_tests/, demo_tests/)
# against one virtual emulator and prints pass/fail counts, each not-runnable test with its reason.
# Fetches nothing: scripts/setup.sh put adbutils' sdist in .peer-cache/ (uiautomator2's are in third_party/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m tests.peer.runner "$@"
