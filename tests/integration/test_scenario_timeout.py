"""A real fault: the virtual emulator is stopped (SIGSTOP) mid-scenario. The per-scenario time limit
turns the hang into an infrastructure error (never a verdict), with the evidence gathered once the
device answers again, in bounded time."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

FREEZER = '''
import os, signal, threading, time
from pathlib import Path
import pytest

def freeze(pid):
    time.sleep(float(os.environ["FREEZE_AFTER"]))
    os.kill(pid, signal.SIGSTOP)            # the device hangs: every call to it blocks
    time.sleep(float(os.environ["FROZEN_FOR"]))
    os.kill(pid, signal.SIGCONT)            # ... and comes back, so the evidence can be read

@pytest.hookimpl(hookwrapper=True)
def pytest_harness_run_scenario(item, scenario, device):
    # The `sim` step boots the emulator with the card (a new process on the same port): freeze that one,
    # the device the rest of the scenario talks to.
    def booted(handle):
        pid = int((Path(handle.data_dir) / "emulator.pid").read_text())
        threading.Thread(target=freeze, args=(pid,), daemon=True).start()
    device.ops.on_restart.append(booted)
    try:
        yield
    finally:
        device.ops.on_restart.remove(booted)
'''

SCENARIO = """scenario: First activation in Havana while the device freezes
steps:
  - sim: CU
  - location: Havana
  - activate
  - expect: locked
"""


def test_a_stopped_device_times_out_as_a_lab_error_with_evidence(pytester: pytest.Pytester,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FREEZE_AFTER", "0.2")
    monkeypatch.setenv("FROZEN_FOR", "8")
    pytester.makeconftest(FREEZER)
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "freeze.yaml").write_text(SCENARIO)
    started = time.monotonic()
    result = pytester.runpytest_subprocess("scenarios", "-p", "no:cacheprovider", "--scenario-timeout", "5",
                                           "--retries", "0", "--alluredir", "allure", "-rE")
    elapsed = time.monotonic() - started
    result.stdout.fnmatch_lines(["*freeze.yaml:1: infrastructure: the scenario did not finish within its limit*"])
    assert result.ret == 8  # the lab failed; the product was not judged
    assert elapsed < 60, f"the run took {elapsed:.0f} s"
    allure = [json.loads(p.read_text()) for p in Path(pytester.path, "allure").glob("*-result.json")]
    assert allure[0]["status"] == "broken"
    assert allure[0]["statusDetails"]["message"].startswith("Havana (Cuba): timeout: ")
    names = {a["name"] for step in allure[0]["steps"] for a in step.get("attachments", [])}
    names |= {a["name"] for a in allure[0].get("attachments", [])}
    assert {"failure: screen", "failure: UI hierarchy"} <= names, names
