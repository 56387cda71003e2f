"""`harness run -n 2` keeps each boot kind on one worker (harness.scheduling): fewer cold boots than
xdist's plain load scheduling, the same verdicts.

Six scenarios of two boot kinds (a Cuban and an Iranian SIM, folded into the reset's cold boot),
collected kind by kind. xdist's `load` sends each worker a first chunk of two, so the second worker
starts with a Cuban and an Iranian scenario and both workers end on the Iranian kind: four cold
boots. Kind-affine, each worker keeps one kind: two, or three if one worker runs out first and takes
the other's last scenario. The baseline is xdist's own LoadScheduling, put back by a conftest through
the same `pytest_xdist_make_scheduler` hook. Cold boot or snapshot load: the reset step's read-back
in the Allure results.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
HARNESS = [sys.executable, "-c", "from harness.cli import main; main()"]
KINDS = {"CU": ("Havana", "Santiago de Cuba", "Caimanera"), "IR": ("Tehran", "Isfahan", "Bandar Abbas")}
PLAIN_LOAD = """\
import pytest
from xdist.scheduler import LoadScheduling

@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    return LoadScheduling(config, log)
"""


def write(folder: Path) -> None:
    folder.mkdir(parents=True)
    for sim, places in KINDS.items():
        for place in places:
            (folder / f"{sim.lower()}-{place.lower().replace(' ', '-')}.yaml").write_text(
                f"scenario: {sim} SIM in {place} locks\ndevice: {{firmware: global}}\n"
                f"steps:\n  - reset\n  - sim: {sim}\n  - location: {place}\n  - activate\n  - expect: locked\n")


def start(workspace: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([*HARNESS, "run", "--runs-dir", "runs", "scenarios", "-n", "2"], cwd=workspace, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(workspace: Path, proc: subprocess.Popen[str]) -> tuple[dict[str, tuple[str, str]], int]:
    """(verdict per scenario, cold boots among the resets)."""
    output = proc.communicate(timeout=300)[0][-3000:]
    run_dir = max((workspace / "runs").glob("2*"))
    records = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    verdicts = {r["id"]: (r["outcome"], r["observed"]) for r in records if r.get("event") == "result"}
    assert len(verdicts) == 6, output
    return verdicts, sum(how.startswith("cold boot") for how in reset_hows(run_dir / "allure-results"))


def reset_hows(results: Path) -> list[str]:
    hows = []
    for path in results.glob("*-result.json"):
        reset = json.loads(path.read_text())["steps"][0]
        source = next(a["source"] for a in reset["attachments"] if a["name"] == "read-back: reset")
        hows.append(json.loads((results / source).read_text())["reset"]["how"])
    return hows


def test_kind_affinity_needs_fewer_cold_boots_than_plain_load_with_the_same_verdicts(tmp_path: Path) -> None:
    write(tmp_path / "affine" / "scenarios")
    write(tmp_path / "load" / "scenarios")
    (tmp_path / "load" / "scenarios" / "conftest.py").write_text(PLAIN_LOAD)
    runs = {name: start(tmp_path / name) for name in ("affine", "load")}  # at once: half the wall time
    try:
        (affine, affine_boots), (load, load_boots) = (finish(tmp_path / name, proc) for name, proc in runs.items())
    finally:
        for proc in runs.values():
            if proc.poll() is None:
                proc.terminate()  # the harness tears its emulators down on SIGTERM
                proc.wait(timeout=60)
    assert affine == load
    assert set(affine.values()) == {("passed", "locked")}
    assert load_boots == 4
    assert affine_boots in (2, 3), affine_boots
