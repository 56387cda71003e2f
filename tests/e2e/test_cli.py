"""`harness run` end to end: real virtual emulators, a private adb server, Allure results, the summary.

A small subset of the smoke catalogue plus one scenario whose expectation is deliberately wrong: the
run must fail with a message that says what lock state was expected and what was seen, and that
scenario's Allure result must carry the screenshot, the UI dump and the device log.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
HARNESS = [sys.executable, "-c", "from harness.cli import main; main()"]
WRONG = """\
scenario: A wrong expectation - Madrid with a Movistar SIM expected locked
tags: [selftest]
device: {firmware: global}
steps:
  - reset
  - sim: ES
  - location: Madrid
  - activate
  - expect: {state: locked, timeout: 8s}   # short: the notice never comes, no need to wait long
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    for name in ("havana-cubacel.yaml", "madrid-movistar.yaml"):
        shutil.copy(ROOT / "scenarios" / "smoke" / name, scenarios / name)
    (scenarios / "wrong-expectation.yaml").write_text(WRONG)
    return tmp_path


def harness_run(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    return subprocess.run([*HARNESS, "run", "scenarios", "--alluredir", "allure", *args], cwd=workspace,
                          env=env, capture_output=True, text=True, timeout=600, check=False)


def allure_results(alluredir: Path) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in (json.loads(p.read_text()) for p in alluredir.glob("*-result.json"))}


def attachment_types(node: dict[str, Any]) -> set[str]:
    found = {a.get("type", "") for a in node.get("attachments", [])}
    for step in node.get("steps", []):
        found |= attachment_types(step)
    return found


def test_run_reports_a_wrong_expectation_with_evidence(workspace: Path) -> None:
    done = harness_run(workspace, "-n", "2")
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "Scenario results" in out and "emulator-" in out
    assert "2 passed" in out and "1 failed" in out, out
    assert "Madrid (Spain): expected locked, seen unlocked — home screen" in out, out
    results = allure_results(workspace / "allure")
    wrong = results["A wrong expectation - Madrid with a Movistar SIM expected locked"]
    assert wrong["status"] == "failed"
    assert wrong["statusDetails"]["message"].startswith("Madrid (Spain): expected locked, seen unlocked")
    assert {"name": "feature", "value": "Madrid (Spain)"} in wrong["labels"]
    assert wrong["steps"][-1]["status"] == "failed"  # the verdict step is red
    assert {"image/png", "application/xml", "text/plain"} <= attachment_types(wrong), wrong
    assert (workspace / "allure" / "categories.json").exists()
    assert "model=" in (workspace / "allure" / "environment.properties").read_text()


def test_run_selects_with_k_and_m(workspace: Path) -> None:
    done = harness_run(workspace, "-m", "smoke", "-k", "havana")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout and "Madrid" not in done.stdout
