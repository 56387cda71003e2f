#!/usr/bin/env bash
# Creates .venv with everything the project needs. Idempotent: a second run only checks.
# Nothing here may rely on what someone installed by hand: CI runs it on a clean clone.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# Screenshots of Spanish screens need a font with accents; Pillow's bundled one has none.
if [ ! -d /usr/share/fonts/truetype/dejavu ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq fonts-dejavu-core) >/dev/null 2>&1 || \
    echo "note: fonts-dejavu-core not installed; screenshots fall back to ASCII" >&2
fi
# The virtual device's userland: Android's shell (mksh) and tools (toybox; one-true-awk = original-awk;
# busybox for the applets Debian's toybox lacks) in a bubblewrap sandbox, whose small init is compiled
# once with cc (emulators/virtual/sandbox/androidd.c). The farm's shared leases live in Redis: its
# tests start a real redis-server (Debian's).
missing=""
for tool in mksh:mksh toybox:toybox original-awk:original-awk busybox:busybox bwrap:bubblewrap cc:gcc \
            redis-server:redis-server; do
  command -v "${tool%%:*}" >/dev/null || missing="$missing ${tool#*:}"
done
[ -e /usr/include/stdio.h ] || missing="$missing libc6-dev"
if [ -n "$missing" ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq $missing >/dev/null
  else
    echo "error: the virtual device's shell and the farm's tests need:$missing (apt-get install$missing)" >&2
    exit 1
  fi
fi
# Persian screens (the Norvik firmware family) are drawn with a Persian face when one is installed.
if [ ! -f /usr/share/fonts/truetype/farsiweb/nazli.ttf ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq fonts-farsiweb) >/dev/null 2>&1 || \
    echo "note: fonts-farsiweb not installed; Persian screens use DejaVu Sans" >&2
fi
# `harness report` runs the Allure 2 CLI (Java 17+, from npm: package.json); its test opens the report in
# Chromium. CI's clean machine has none of them.
need=()
command -v java >/dev/null || need+=(default-jre-headless)
command -v chromium >/dev/null || need+=(chromium)
command -v npm >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}") >/dev/null 2>&1 || \
    echo "note: could not install ${need[*]}: harness report and its test need them" >&2
fi
if command -v npm >/dev/null && [ ! -x node_modules/.bin/allure ]; then
  npm ci --no-audit --no-fund --silent >/dev/null || echo "note: npm ci failed: no Allure CLI for harness report" >&2
fi
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
# The peer suites' adbutils e2etests/ come from adbutils' sdist: fetched once here, never at run time.
.venv/bin/python -m tests.peer.runner --fetch >/dev/null
