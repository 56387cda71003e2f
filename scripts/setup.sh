#!/usr/bin/env bash
# Creates .venv with everything the project needs. Idempotent: a second run only checks.
# Nothing here may rely on what someone installed by hand: CI runs it on a clean clone.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi
# The adb client/server binary ships inside the adbutils wheel; check it runs on this machine.
.venv/bin/python -c "import adbutils, subprocess; subprocess.run([adbutils.adb_path(), 'version'], check=True, capture_output=True)"
