"""The Norvik firmware family through the real harness: smoke scenarios on virtual emulators started with
`--device-prop firmware=norvik`, the harness knowing the family only from its profile
(harness/data/profiles/norvik.yaml), which it picks by the device's facts.

The catalogue's own scenarios are family-neutral (written against lock behaviour, not a firmware);
the Persian one here is Norvik's own (the reference family has no Persian). The whole catalogue on
both families, and against every defect variant, is measured by hand (figures in bench/README.md):
it costs minutes, too long for the suite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ("havana-cubacel.yaml", "madrid-movistar.yaml", "spanish-locale-havana.yaml", "no-sim-wifi-havana.yaml")
PERSIAN = """\
scenario: The restriction notice is in Persian when the OOBE language is Persian
tags: [norvik, iran]
device: {firmware: global}
steps:
  - reset
  - sim: IR
  - location: Tehran
  - activate: {language: fa}
  - expect: {state: locked, text: "تحریم‌های بین‌المللی"}
"""
RESET = ROOT / "scenarios" / "edge" / "factory-reset-keeps-lock.yaml"


def run_catalogue(workspace: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    events = workspace / "events.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "pytest", "scenarios", "-p", "harness.pytest_plugin",
                           "-p", "no:cacheprovider", "--rootdir", str(workspace), "-q", "-rfEs",
                           "--harness-summary", str(events), *args],
                          cwd=workspace, env=env, capture_output=True, text=True, timeout=600, check=False)
    records = [json.loads(line) for line in events.read_text().splitlines()] if events.exists() else []
    return done, [r for r in records if r.get("event") == "result"]


def test_smoke_scenarios_pass_on_the_norvik_family(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    for name in SMOKE:
        shutil.copy(ROOT / "scenarios" / "smoke" / name, scenarios / name)
    shutil.copy(RESET, scenarios / RESET.name)
    (scenarios / "persian-tehran.yaml").write_text(PERSIAN)
    done, results = run_catalogue(tmp_path, "-n", "2", "--device-prop", "firmware=norvik", "--alluredir", "allure")
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(results) == len(SMOKE) + 2 and {r["outcome"] for r in results} == {"passed"}, results
    assert "6 passed" in done.stdout
    # the harness was told nothing but the firmware knob: it recognised the family by the device's facts
    environment = (tmp_path / "allure" / "environment.properties").read_text()
    assert "profile=norvik (matched: package com.norvik.oobe" in environment, environment
    assert "profile=reference" not in environment


def test_a_defect_variant_is_caught_on_the_norvik_family(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    shutil.copy(ROOT / "scenarios" / "smoke" / "simferopol-gps.yaml", scenarios / "simferopol-gps.yaml")
    done, results = run_catalogue(tmp_path, "--device-prop", "firmware=norvik",
                                  "--policy", "defect-crimea-blind")
    assert done.returncode == 1, done.stdout + done.stderr
    assert [r["outcome"] for r in results] == ["failed"], results
    assert "expected the device locked" in done.stdout, done.stdout
