"""A fake lab for plugin and CLI tests that are not about devices: no emulators, milliseconds per scenario.

`FAKELAB` is a backend (`--backend fakelab:FakeLab`) that logs each provision/teardown; `CONFTEST`
implements the plugin's `pytest_harness_run_scenario` hook and decides by the scenario's name:
"wrong" -> a wrong verdict (inside an Evidence step, as the real runner does), "dies" -> the device
went offline, "roaming" -> the device cannot, "hangs" -> never returns, "slow" -> takes two seconds.
$FAKELAB_TEARDOWN_SECONDS makes the lab's teardown take that long.
Every run is logged to $FAKELAB_LOG, so tests see what ran where.
"""

from __future__ import annotations

import json
from pathlib import Path

FAKELAB = '''
import json, os, time
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
            self.provisioned = False
            slow = float(os.environ.get("FAKELAB_TEARDOWN_SECONDS", "0"))
            if slow:  # a lab that takes its time to give its devices back (a farm returning leases)
                _log(event="teardown-start", pid=os.getpid())
                time.sleep(slow)
            _log(event="teardown", pid=os.getpid())
    def facts(self, handle):
        return {"model": "Fake Phone", "firmware.version": "1.0"}
    def device_ops(self, handle):
        return None
'''

CONFTEST = '''
import json, os, time
from harness.errors import CapabilityMissing, DeviceError, VerdictMismatch
from harness.evidence import Evidence

def pytest_harness_run_scenario(item, scenario, device):
    with open(os.environ["FAKELAB_LOG"], "a") as out:
        out.write(json.dumps({"event": "run", "id": scenario.id, "serial": device.handle.serial,
                              "worker": os.environ.get("PYTEST_XDIST_WORKER", "main")}) + "\\n")
    name = scenario.name.lower()
    evidence = Evidence(use_allure=bool(item.config.getoption("allure_report_dir", None)))
    if "wrong" in name:
        with evidence.step("expect: locked"):
            raise VerdictMismatch("locked", "unlocked", "notice state expected locked, seen absent",
                                  "home screen, decision 'activated'")
    if "dies" in name:
        raise DeviceError(device.handle.serial, "adb: device offline")
    if "roaming" in name:
        raise CapabilityMissing("roaming", device.handle.serial, "stock emulator")
    if "hangs" in name:
        time.sleep(60)
    if "slow" in name:
        time.sleep(2.0)
    return "ok"
'''


def scenario(name: str, tags: str, place: str = "Havana") -> str:
    return (f"scenario: {name}\ntags: [{tags}]\nsteps:\n  - reset\n  - sim: CU\n  - location: {place}\n"
            "  - activate: {wifi: HomeNet}\n  - expect: locked\n")


def write_lab(root: Path, scenarios: dict[str, tuple[str, str]], folder: str = "scenarios") -> None:
    """fakelab.py + conftest.py in `root`, and one scenario file per (name, tags) under `folder`."""
    (root / "fakelab.py").write_text(FAKELAB)
    (root / "conftest.py").write_text(CONFTEST)
    target = root / folder
    target.mkdir(parents=True, exist_ok=True)
    for stem, (name, tags) in scenarios.items():
        (target / f"{stem}.yaml").write_text(scenario(name, tags))


def events(log: Path, kind: str) -> list[dict[str, object]]:
    if not log.exists():
        return []
    return [e for e in map(json.loads, log.read_text().splitlines()) if e["event"] == kind]
