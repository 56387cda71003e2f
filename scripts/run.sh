#!/usr/bin/env bash
# Sets up and runs the main job: the smoke catalogue on 4 virtual emulators in parallel.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/harness run scenarios -m smoke -n 4 "$@"
