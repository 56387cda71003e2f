"""A worker whose device cannot be replaced retires; its scenarios run on the healthy worker.

pytest under `-n 2` in a pytester sandbox with the fake lab (tests/fakelab.py), whose devices are
real processes standing for emulators: one is killed with kill -9 during a scenario and its restart
really fails (the restart command exits non-zero). Nothing may be judged on the dead device, and
every scenario, the one it died in included, must run on the other worker and pass.
"""

from __future__ import annotations

import os
import signal

import pytest

from tests.fakelab import events, write_lab

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

CONFTEST = '''
import json, os, signal, subprocess, sys, time
from pathlib import Path
from harness.backends import health
from harness.errors import DeviceError, DeviceUnreplaceable

HERE = Path(os.environ["FAKELAB_LOG"]).parent

def _log(**event):
    with open(os.environ["FAKELAB_LOG"], "a") as out:
        out.write(json.dumps(event) + "\\n")

def _emulator(serial):
    """The device's emulator: a real process, started with the worker's first scenario."""
    pidfile = HERE / f"{serial}.pid"
    if not pidfile.exists():
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        pidfile.write_text(str(proc.pid))
    return int(pidfile.read_text())

def pytest_harness_run_scenario(item, scenario, device):
    serial = device.handle.serial
    pid = _emulator(serial)
    if health.process_state(pid) in (None, "Z", "X"):  # the health check before a scenario
        restart = subprocess.run([sys.executable, "-c", "import sys; sys.exit('no system image')"],
                                 capture_output=True, text=True)
        raise DeviceUnreplaceable(f"device {serial}", f"its emulator process {pid} is gone; it could not "
                                  f"be replaced: restart exited {restart.returncode}: {restart.stderr.strip()}")
    # the healthy worker's scenarios wait for the kill (bounded): on a loaded machine it could
    # otherwise finish them all before the other worker even starts, and nothing would be handed over
    waited_until = time.monotonic() + 20
    while "dies" not in scenario.name and not (HERE / "killed").exists() and time.monotonic() < waited_until:
        time.sleep(0.05)
    _log(event="run", id=str(scenario.id), serial=serial, worker=os.environ["PYTEST_XDIST_WORKER"])
    if "dies" in scenario.name and not (HERE / "killed").exists():
        (HERE / "killed").write_text(serial)
        os.kill(pid, signal.SIGKILL)
        # SIGKILL is delivered asynchronously: until the process is really gone the next scenario's
        # health check could still see it running and use the dead device
        waited_until = time.monotonic() + 10
        while health.process_state(pid) not in (None, "Z", "X") and time.monotonic() < waited_until:
            time.sleep(0.01)
        _log(event="kill", serial=serial)
        raise DeviceError(serial, "adb: device offline")
    time.sleep(0.3)
    return "ok"
'''


def test_a_worker_whose_device_cannot_be_replaced_hands_its_scenarios_to_the_other(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    log = pytester.path / "fakelab.jsonl"
    monkeypatch.setenv("FAKELAB_LOG", str(log))
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider --backend fakelab:FakeLab\n")
    names = {"a-dies": ("The device dies mid-run", "edge")}
    names.update({f"s{i:02d}": (f"Scenario {i} locks", "smoke") for i in range(11)})
    write_lab(pytester.path, names)
    (pytester.path / "conftest.py").write_text(CONFTEST)
    try:
        result = pytester.runpytest_subprocess("-n", "2", "scenarios", "-p", "no:randomly")
    finally:
        for pidfile in pytester.path.glob("fake-*.pid"):
            try:
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass
    dead = (pytester.path / "killed").read_text()
    result.stdout.fnmatch_lines([(f"*worker gw* retired: device {dead}: its emulator process * is gone; it could not "
                                 f"be replaced: restart exited 1: no system image; its * queued scenario(s)*")])
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 12 and not outcomes.get("failed") and not outcomes.get("errors"), outcomes
    assert result.ret == 0
    runs = [dict(e) for e in events(log, "run")]
    killed_at = next(i for i, e in enumerate(runs) if "dies" in str(e["id"]))
    assert runs[killed_at]["serial"] == dead
    later = runs[killed_at + 1:]
    assert later and all(e["serial"] != dead for e in later), "nothing ran on the dead device after the kill"
    assert {str(e["id"]) for e in runs if e["serial"] != dead} >= {"a-dies", *(f"s{i:02d}" for i in range(11))} - {
        str(e["id"]) for e in runs[:killed_at]}, "every scenario not done before the kill ran on the healthy worker"
