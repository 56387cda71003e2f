"""`harness report` end to end: Allure 2's CLI makes the HTML twice (the second carries the first's
history), and Debian's Chromium, driven by scripts/check_report.py, shows the failing territories on
the Categories and Behaviors pages. Fake lab: the report is the point, not the devices."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_cli_fakelab import ROOT, harness
from tests.fakelab import scenario, write_lab

pytestmark = pytest.mark.e2e


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    write_lab(tmp_path, {"havana": ("First activation in Havana locks", "smoke")})
    (tmp_path / "scenarios" / "wrong.yaml").write_text(scenario("A wrong expectation in Sevastopol", "smoke",
                                                                "Sevastopol"))
    (tmp_path / "scenarios" / "dies.yaml").write_text(scenario("The device dies in Tehran", "smoke", "Tehran"))
    (tmp_path / "harness.toml").write_text('backend = "fakelab:FakeLab"\nretries = 0\n')
    return tmp_path


def test_the_second_report_carries_the_first_runs_history(workspace: Path) -> None:
    for _ in range(2):
        assert harness(workspace, "run").returncode == 1
        made = harness(workspace, "report", "-o", "report")
        assert made.returncode == 0, made.stdout + made.stderr
    assert "history carried forward" in made.stdout
    trend = json.loads((workspace / "report" / "widgets" / "history-trend.json").read_text())
    assert len(trend) == 2 and all(point["data"]["failed"] == 1 for point in trend)
    history = json.loads((workspace / "report" / "history" / "history.json").read_text())
    assert {len(entry["items"]) for entry in history.values()} == {2}  # every scenario: this run and the last
    single = harness(workspace, "report", "-o", "one-file", "--single-file")
    assert single.returncode == 0 and (workspace / "one-file" / "index.html").stat().st_size > 100_000

    found = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_report.py"), "--json",
                            str(workspace / "report")], capture_output=True, text=True, timeout=120, check=False)
    assert found.returncode == 0, found.stderr
    pages = json.loads(found.stdout)
    assert pages["failing_territories"] == ["Sevastopol (Crimea)", "Tehran (Iran)"]
    categories = {group["name"]: [c["name"] for c in group["children"]] for group in pages["categories"]}
    assert categories["missed lock"] == [
        "Sevastopol (Crimea): expected locked, seen unlocked — home screen, decision 'activated'"]
    assert categories["infrastructure: device lost"] == ["Tehran (Iran): device lost: adb: device offline"]
    behaviors = {group["name"] for group in pages["behaviors"]}
    assert {"Sevastopol (Crimea)", "Havana (Cuba)"} <= behaviors
