"""The virtual backend against real processes: a private adb server, activation server, emulators."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest

from harness.backends.base import BackendError, BackendOptions, adb_client
from harness.backends.virtual import VirtualBackend

pytestmark = pytest.mark.integration


def imei(backend_handle: object) -> str:
    device = adb_client(backend_handle).device(backend_handle.serial)  # type: ignore[attr-defined]
    match = re.search(r"IMEI\) slot 0: (\d+)", device.shell("dumpsys iphonesubinfo"))
    assert match, "no IMEI in dumpsys iphonesubinfo"
    return match.group(1)


def test_provision_restart_and_teardown(tmp_path: Path) -> None:
    backend = VirtualBackend(BackendOptions(work_dir=tmp_path / "lab", policy="defect-crimea-blind"))
    try:
        first, second = backend.provision(2)
        assert first.serial != second.serial and first.adb_server_port == second.adb_server_port
        listed = {d.serial for d in adb_client(first).device_list()}
        assert {first.serial, second.serial} <= listed
        assert backend.facts(first)["policy"] == "defect-crimea-blind"
        before = imei(first)
        ops = backend.device_ops(first)
        session = ops.fresh_device(ops.current_session(), "custom-rom", None, 1)
        assert session.getprop("vendor.regionlock.policy") == "custom-rom"
        assert ops.handle.generation == 1 and imei(ops.handle) != before, "a reset must be a new identity"
        assert not Path(str(first.data_dir)).exists(), "the old identity's data is removed"
        with pytest.raises(BackendError, match=r"no firmware build 'no-such-build'; it has: .*defect-lock-forgotten"):
            ops.fresh_device(session, "no-such-build", None, 1)  # the emulator says which builds exist
        pids = [int(p.read_text()) for p in (tmp_path / "lab").glob("*/emulator.pid")]
    finally:
        backend.teardown()
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids), "an emulator outlived teardown"
    assert not listening(first.adb_server_port), "the private adb server is still running"
    assert not listening(int(second.console_port or 0))


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


PROBE = '''
import json, os
pytest_plugins = ["harness.pytest_plugin"]

def pytest_harness_run_scenario(item, scenario, device):
    session = device.ops.current_session()
    with open(os.environ["PROBE_LOG"], "a") as out:
        out.write(json.dumps([os.environ.get("PYTEST_XDIST_WORKER"), session.serial,
                              session.getprop("ro.product.model")]) + "\\n")
    return "probed"  # a result ends the firstresult hook: the real runner is not called
'''


def test_each_xdist_worker_drives_its_own_virtual_emulator(pytester: pytest.Pytester,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    log = pytester.path / "probe.jsonl"
    monkeypatch.setenv("PROBE_LOG", str(log))
    pytester.makeconftest(PROBE)
    (pytester.path / "scenarios").mkdir()
    for n in range(4):
        (pytester.path / "scenarios" / f"s{n}.yaml").write_text(
            f"scenario: probe {n}\nsteps:\n  - reset\n  - activate\n  - expect: locked\n")
    result = pytester.runpytest_subprocess("-n", "2", "scenarios", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
    rows = [tuple(__import__("json").loads(line)) for line in log.read_text().splitlines()]
    pairs = {(worker, serial) for worker, serial, _ in rows}
    assert len({w for w, _ in pairs}) == len({s for _, s in pairs}) == len(pairs), pairs
    assert {model for _, _, model in rows} == {"Redmi Note 9"}
    assert os.path.exists(log)


FIRST_BOOT = 4.0  # s, every boot of these devices (timing.boot_seconds): long enough to see who waits
HAVANA_STEPS = "  - location: Havana\n  - activate\n  - expect: locked\n"  # no unlocked settle to wait out


def run_one(pytester: pytest.Pytester, lab: Path, steps: str) -> dict[str, str]:
    """One scenario on a freshly provisioned device; each emulator instance's log, by generation."""
    scenarios = pytester.path / "scenarios"
    scenarios.mkdir(exist_ok=True)
    (scenarios / "one.yaml").write_text(f"scenario: one\nsteps:\n{steps}")
    result = pytester.runpytest_subprocess("scenarios", "--harness-workdir", str(lab), "-p", "no:cacheprovider",
                                           "--device-prop", f"timing.boot_seconds={FIRST_BOOT}")
    result.assert_outcomes(passed=1)
    return {log.name.split("-g")[1].removesuffix(".log"): log.read_text() for log in lab.glob("dev-*-g*.log")}


def test_a_run_does_not_wait_for_a_first_boot_that_its_first_reset_replaces(pytester: pytest.Pytester) -> None:
    logs = run_one(pytester, pytester.path / "lab", f"  - reset\n{HAVANA_STEPS}")
    assert sorted(logs) == ["0", "1"]
    assert "Boot completed" not in logs["0"], "the provisioned instance was waited for, then replaced"
    assert "Boot completed" in logs["1"]


def test_a_scenario_without_a_reset_waits_for_the_first_boot(pytester: pytest.Pytester) -> None:
    # the profile match asks the package manager, which answers only once the boot is done
    logs = run_one(pytester, pytester.path / "lab", HAVANA_STEPS)
    assert sorted(logs) == ["0"] and "Boot completed" in logs["0"]


def test_without_await_boot_a_device_is_handed_over_in_its_boot_with_only_the_shell_up(tmp_path: Path) -> None:
    backend = VirtualBackend(BackendOptions(work_dir=tmp_path / "lab", await_boot=False,
                                            extra_props=(("timing.boot_seconds", str(FIRST_BOOT)),)))
    try:
        (handle,) = backend.provision(1)
        device = adb_client(handle).device(handle.serial)
        # as on a real device: properties and the shell answer at once, system services at the boot's end
        assert device.getprop("sys.boot_completed") == "" and device.getprop("ro.product.model")
        assert backend.facts(handle)["model"] == device.getprop("ro.product.model")
        early = device.shell2("pm list packages")
        assert (early.returncode, early.output) == (20, "cmd: Can't find service: package\n")
        assert device.shell("dumpsys location").strip() == "Can't find service: location"
        session = backend.device_ops(handle).current_session()
        session.wait_boot_completed(timeout=30)
        assert "package:android" in device.shell("pm list packages").split()
    finally:
        backend.teardown()
