"""The pytest plugin, end to end in a pytester sandbox with a fake lab (no emulators).

The fake backend records each provision/teardown and the fake runner (the plugin's
`pytest_harness_run_scenario` hook) records which worker ran which scenario on which device, so the
hand-out across xdist workers is observable from outside.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

FAKELAB = '''
import json, os
from harness.backends.base import DeviceHandle

def _log(**event):
    with open(os.environ["FAKELAB_LOG"], "a") as out:
        out.write(json.dumps(event) + "\\n")

class FakeLab:
    name = "fake"
    def __init__(self, options):
        self.options = options
        self.provisioned = False
    def provision(self, count):
        self.provisioned = True
        _log(event="provision", count=count, pid=os.getpid())
        return [DeviceHandle(serial=f"fake-{i}", kind="fake") for i in range(count)]
    def teardown(self):
        if self.provisioned:
            _log(event="teardown", pid=os.getpid())
    def facts(self, handle):
        return {"model": "Fake Phone", "firmware.version": "1.0"}
    def device_ops(self, handle):
        return None
'''

CONFTEST = '''
import json, os
from harness.errors import CapabilityMissing, DeviceError, VerdictMismatch

pytest_plugins = ["harness.pytest_plugin"]

def pytest_harness_run_scenario(item, scenario, device):
    with open(os.environ["FAKELAB_LOG"], "a") as out:
        out.write(json.dumps({"event": "run", "id": scenario.id, "serial": device.handle.serial,
                              "worker": os.environ.get("PYTEST_XDIST_WORKER", "main")}) + "\\n")
    name = scenario.name.lower()
    if "wrong" in name:
        raise VerdictMismatch("locked", "unlocked", "notice state expected locked, seen absent")
    if "dies" in name:
        raise DeviceError(device.handle.serial, "adb: device offline")
    if "roaming" in name:
        raise CapabilityMissing("roaming", device.handle.serial, "stock emulator")
    return "ok"
'''


def scenario(name: str, tags: str) -> str:
    return f"scenario: {name}\ntags: [{tags}]\nsteps:\n  - reset\n  - activate\n  - expect: locked\n"


@pytest.fixture
def lab(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = pytester.path / "fakelab.jsonl"
    monkeypatch.setenv("FAKELAB_LOG", str(log))
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    pytester.makepyfile(fakelab=FAKELAB, conftest=CONFTEST)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider --backend fakelab:FakeLab\n")
    files = {
        "havana": scenario("First activation in Havana locks", "smoke, cuba"),
        "tehran": scenario("First activation in Tehran locks", "smoke, iran"),
        "wrong": scenario("A wrong expectation in Madrid", "smoke"),
        "dies": scenario("The device dies mid-run", "edge"),
        "roaming": scenario("Roaming needs a call box", "edge"),
    }
    for stem, text in files.items():
        target = pytester.path / "scenarios" / f"{stem}.yaml"
        target.parent.mkdir(exist_ok=True)
        target.write_text(text)
    return log


def events(log: Path, kind: str) -> list[dict[str, object]]:
    return [e for e in map(json.loads, log.read_text().splitlines()) if e["event"] == kind]


def test_two_workers_get_two_distinct_devices_from_one_provisioning(pytester: pytest.Pytester, lab: Path) -> None:
    result = pytester.runpytest_subprocess("-n", "2", "scenarios", "-m", "smoke or edge")
    result.stdout.fnmatch_lines(["*wrong.yaml:1: wrong verdict: expected the device locked, but it was unlocked*",
                                 "*1 failed, 2 passed, 1 skipped, 1 error*"])
    assert [e["count"] for e in events(lab, "provision")] == [2]
    assert len(events(lab, "teardown")) == 1
    runs = events(lab, "run")
    by_worker = {(e["worker"], e["serial"]) for e in runs}
    assert {w for w, _ in by_worker} == {"gw0", "gw1"} or len(runs) < 2
    assert len({s for _, s in by_worker}) == len({w for w, _ in by_worker}), "a device was shared"


def test_infrastructure_errors_are_errors_and_verdicts_are_failures(pytester: pytest.Pytester, lab: Path) -> None:
    result = pytester.runpytest_subprocess("scenarios", "-rfEs")
    result.stdout.fnmatch_lines([
        "*ERROR at call of scenario: The device dies mid-run*",
        "scenarios/dies.yaml:1: infrastructure: <Device|fake-0> adb: device offline",
        "*FAILURES*",
        "scenarios/wrong.yaml:1: wrong verdict: expected the device locked, but it was unlocked*",
        "*short test summary info*",
        "FAILED scenarios/wrong.yaml::wrong*",
        "ERROR scenarios/dies.yaml::dies*",
        "SKIPPED [[]1[]] scenarios/roaming.yaml:1: <Device|fake-0> cannot provide roaming: stock emulator",
    ])
    result.assert_outcomes(passed=2, failed=1, errors=1, skipped=1)


def test_tags_are_markers_and_names_are_keywords(pytester: pytest.Pytester, lab: Path) -> None:
    by_tag = pytester.runpytest_subprocess("scenarios", "-m", "cuba", "--strict-markers")
    by_tag.assert_outcomes(passed=1)
    by_name = pytester.runpytest_subprocess("scenarios", "-k", "tehran or Madrid")
    by_name.assert_outcomes(passed=1, failed=1)


def test_no_scenarios_no_devices(pytester: pytest.Pytester, lab: Path) -> None:
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    pytester.runpytest_subprocess("-n", "2", "test_plain.py").assert_outcomes(passed=1)
    pytester.runpytest_subprocess("test_plain.py").assert_outcomes(passed=1)
    assert not lab.exists() or not events(lab, "provision")


def test_fewer_devices_than_workers_is_a_usage_error(pytester: pytest.Pytester, lab: Path) -> None:
    result = pytester.runpytest_subprocess("-n", "2", "--devices", "1", "scenarios")
    result.stderr.fnmatch_lines(["*--devices 1 is fewer than the 2 xdist workers*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_allure_categories_environment_and_statuses(pytester: pytest.Pytester, lab: Path) -> None:
    alluredir = pytester.path / "allure"
    summary = pytester.path / "summary.jsonl"
    pytester.runpytest_subprocess("-n", "2", "scenarios", f"--alluredir={alluredir}",
                                  f"--harness-summary={summary}")
    categories = json.loads((alluredir / "categories.json").read_text())
    assert [(c["name"], c["matchedStatuses"]) for c in categories][:2] == [
        ("Product defects", ["failed"]), ("Infrastructure", ["broken"])]
    environment = (alluredir / "environment.properties").read_text()
    assert "fake-0.model=Fake Phone" in environment and "fake-1.model=Fake Phone" in environment
    statuses = {}
    for path in alluredir.glob("*-result.json"):
        result = json.loads(path.read_text())
        statuses[result["name"]] = result["status"]
    assert statuses == {"First activation in Havana locks": "passed", "First activation in Tehran locks": "passed",
                        "A wrong expectation in Madrid": "failed", "The device dies mid-run": "broken",
                        "Roaming needs a call box": "skipped"}
    lines = [json.loads(line) for line in summary.read_text().splitlines()]
    assert lines[0] == {"event": "collected", "count": 5}
    records = {r["scenario"]: r for r in lines[1:]}
    assert records["The device dies mid-run"]["outcome"] == "error"
    assert records["The device dies mid-run"]["kind"] == "infrastructure"
    assert records["A wrong expectation in Madrid"]["outcome"] == "failed"
    assert {r["device"] for r in records.values()} <= {"fake-0", "fake-1"}
