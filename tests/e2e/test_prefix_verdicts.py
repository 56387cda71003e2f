"""The catalogue's verdicts are the same with and without prefix sharing, in shuffled order (issue 12).

A representative part of `scenarios/`: scenarios whose prefixes the plan shares (pairs that begin
with the same reset, SIM and position, one with a SIM, one without), and one whose prefix nothing
shares (the whole catalogue is compared by hand: README, *Shared prefixes*). One run shares prefixes on one device, shuffled one way (every group
then lands on that device, so restores do happen); the other shares nothing, on two devices,
shuffled another way. Both through `harness run` (real emulators, adb server, console).
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
HARNESS = [sys.executable, "-c", "from harness.cli import main; main()"]
SUBSET = ("smoke/havana-cubacel.yaml", "smoke/spanish-locale-havana.yaml",  # share reset, CU SIM, Havana
          "smoke/no-sim-wifi-havana.yaml", "defects/gps-ignored.yaml",  # no SIM, Wi-Fi, Havana
          "smoke/simferopol-gps.yaml")  # a prefix nothing else here shares


def run(workspace: Path, name: str, *args: str) -> tuple[dict[str, tuple[str, str]], list[str]]:
    runs = workspace / name
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([*HARNESS, "run", "--runs-dir", str(runs), "scenarios", *args],
                          cwd=workspace, env=env, capture_output=True, text=True, timeout=300, check=False)
    events = sorted(runs.glob("*/events.jsonl"))
    assert events, done.stdout[-3000:] + done.stderr[-3000:]
    records = [json.loads(line) for line in events[-1].read_text().splitlines()]
    results = [r for r in records if r.get("event") == "result"]
    assert results, done.stdout[-3000:] + done.stderr[-3000:]
    verdicts = {r["nodeid"]: (r["outcome"], str(r.get("observed") or r.get("message") or "")) for r in results}
    kinds = [kind for r in results for kind, _ in r.get("steps") or []]
    return verdicts, kinds


def test_verdicts_are_the_same_with_and_without_prefix_sharing_in_shuffled_order(tmp_path: Path) -> None:
    for relative in SUBSET:
        target = tmp_path / "scenarios" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "scenarios" / relative, target)
    shared, shared_kinds = run(tmp_path, "shared", "--random-order-bucket=global", "--random-order-seed=7")
    alone, alone_kinds = run(tmp_path, "alone", "--no-prefix-sharing", "--random-order-bucket=global",
                              "--random-order-seed=1234", "-n", "2")
    assert shared == alone
    assert len(shared) == 5
    assert all(outcome == "passed" for outcome, _ in shared.values()), shared
    assert shared_kinds.count("prefix-restore") == 2, "one restore per group of two on the one device"
    assert "prefix-restore" not in alone_kinds
