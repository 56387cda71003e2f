"""`harness repro --run --policy A,B` end to end on virtual emulators: which builds reproduce a report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

HARNESS = [sys.executable, "-c", "from harness.cli import main; main()"]
REPORT = "No SIM, set up on Wi-Fi only at home in La Habana; a sanctions notice locked it after setup."


def test_repro_run_says_which_builds_reproduce(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text(REPORT, encoding="utf-8")
    proc = subprocess.run([*HARNESS, "repro", str(report), "--run", "--policy", "global,defect-gps-ignored"],
                          capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("global: reproduced: the report says locked, the device says locked"), proc.stdout
    # the build that ignores GPS has nothing else to place a SIM-less Wi-Fi phone: not reproduced
    assert lines[1].startswith("defect-gps-ignored: not reproduced: the report says locked, "
                               "the device says unlocked"), proc.stdout
    assert proc.returncode == 1
    assert "assumption: the phone was new and had never been activated" in proc.stderr
