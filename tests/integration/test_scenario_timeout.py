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
import pytest

def _emulator_pid(console_port):
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                argv = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\\0")
            except OSError:
                continue
            if b"-port" in argv and argv[argv.index(b"-port") + 1] == str(console_port).encode():
                return int(entry)
    raise RuntimeError("emulator process not found")

@pytest.hookimpl(hookwrapper=True)
def pytest_harness_run_scenario(item, scenario, device):
    pid = _emulator_pid(device.handle.console_port)
    def freeze():
        time.sleep(float(os.environ["FREEZE_AFTER"]))
        os.kill(pid, signal.SIGSTOP)            # the device hangs: every call to it blocks
        time.sleep(float(os.environ["FROZEN_FOR"]))
        os.kill(pid, signal.SIGCONT)            # ... and comes back, so the evidence can be read
    threading.Thread(target=freeze, daemon=True).start()
    yield
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
    monkeypatch.setenv("FREEZE_AFTER", "1.0")
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
