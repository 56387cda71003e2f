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
