"""The farm backend's bookkeeping without devices: K consecutive lab failures quarantine a device,
a success in between starts the count again, consoles are used only where they can be reached."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.backends.base import BackendOptions, DeviceHandle
from harness.farm.backend import FarmBackend, parse_select


@pytest.fixture
def backend(tmp_path: Path) -> FarmBackend:
    inventory = tmp_path / "farm.yaml"
    inventory.write_text("hosts:\n  - adb: 127.0.0.1:1\n    respawn: true\n"
                         "  - adb: 10.1.1.1:5037\n    respawn: true\n"
                         "  - adb: 10.1.1.2:5037\n    respawn: true\n    console_offset: 10000\n")
    return FarmBackend(BackendOptions(farm=str(inventory), quarantine_after=2))


def handle(host: str = "127.0.0.1", port: int = 1, serial: str = "emulator-6000") -> DeviceHandle:
    return DeviceHandle(serial=serial, kind="farm", adb_host=host, adb_server_port=port)


def test_k_consecutive_lab_failures_quarantine_with_the_evidence(backend: FarmBackend) -> None:
    device = handle()
    assert not backend.infrastructure_failure(device, "adb: closed")
    backend.success(device)  # a pass in between: the count starts again
    assert not backend.infrastructure_failure(device, "adb: closed")
    assert backend.infrastructure_failure(device, "wizard stuck on page welcome")
    record = backend.state.quarantined()["127.0.0.1:1/emulator-6000"]
    assert record.reason == "2 consecutive infrastructure failures"
    assert record.evidence == "wizard stuck on page welcome" and record.by == backend.holder


def test_consoles_only_where_reachable(backend: FarmBackend) -> None:
    assert backend.console_address(handle()) == ("127.0.0.1", 6000)
    assert backend.console_address(handle("10.1.1.1", 5037)) is None  # remote, not exposed
    assert backend.console_address(handle("10.1.1.2", 5037)) == ("10.1.1.2", 16000)
    assert not backend.respawns(handle("10.1.1.1", 5037))
    assert backend.console_address(handle(serial="R58M123ABC")) is None  # a phone has none


def test_selection_is_by_known_labels() -> None:
    assert parse_select(("firmware=global", "api=33")) == {"firmware": "global", "api": "33"}
    with pytest.raises(ValueError, match="LABEL=VALUE"):
        parse_select(("colour=red",))


def test_a_worker_without_shared_leases_does_not_take_a_siblings_device(backend: FarmBackend,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.farm.backend import FarmExhausted

    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    with pytest.raises(FarmExhausted, match="only through shared leases"):
        backend.replace(handle(), "device does not answer")
    assert backend.lease_lost(handle()) is None  # nothing to compare with: never "lost"
