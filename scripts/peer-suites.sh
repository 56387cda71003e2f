#!/usr/bin/env bash
# Runs the device test suites of adbutils (e2etests/) and uiautomator2 (mobile_tests/, demo_tests/)
# against one virtual emulator and prints pass/fail counts, each not-runnable test with its reason.
# The only download is, once, pip fetching the installed adbutils version's sdist into .peer-cache/.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || scripts/setup.sh
exec .venv/bin/python -m tests.peer.runner "$@"
