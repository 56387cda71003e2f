"""Leases and quarantine on a real redis-server (and the same contract in process)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.farm.state import FarmState, Heartbeat, MemoryFarmState, Quarantine, RedisFarmState


@pytest.fixture(params=["memory", "redis"])
def state(request: pytest.FixtureRequest, redis_url: str) -> FarmState:
    if request.param == "memory":
        return MemoryFarmState()
    return RedisFarmState(redis_url, f"t{time.monotonic_ns()}")


def test_a_device_has_one_holder_at_a_time(state: FarmState) -> None:
    assert state.acquire("h:1/emulator-5554", "run-a")
    assert not state.acquire("h:1/emulator-5554", "run-b")
    assert state.holders(["h:1/emulator-5554", "h:2/emulator-5554"]) == {"h:1/emulator-5554": "run-a"}
    state.release("h:1/emulator-5554", "run-b")  # not its lease: nothing happens
    assert state.holders(["h:1/emulator-5554"]) == {"h:1/emulator-5554": "run-a"}
    state.release("h:1/emulator-5554", "run-a")
    assert state.acquire("h:1/emulator-5554", "run-b")


def test_quarantine_and_consecutive_failures(state: FarmState) -> None:
    assert [state.failed("d"), state.failed("d")] == [1, 2]
    state.succeeded("d")
    assert state.failed("d") == 1
    state.quarantine("d", Quarantine("3 consecutive infrastructure failures", "adb: closed", "run-a", 1.0))
    assert state.quarantined() == {"d": Quarantine("3 consecutive infrastructure failures", "adb: closed",
                                                   "run-a", 1.0)}
    assert state.unquarantine("d") and not state.unquarantine("d")
    assert state.quarantined() == {} and state.failed("d") == 1


def test_a_crashed_holders_lease_expires_and_a_live_one_is_renewed(redis_url: str) -> None:
    state = RedisFarmState(redis_url, f"t{time.monotonic_ns()}", ttl=0.6)
    assert state.acquire("crashed", "run-a")  # nobody renews it
    beat = Heartbeat(state, "run-b", interval=0.15)
    assert state.acquire("alive", "run-b")
    beat.hold("alive")
    time.sleep(1.2)
    assert state.holders(["crashed", "alive"]) == {"alive": "run-b"}
    assert state.acquire("crashed", "run-c")
    beat.stop()  # releases what it held
    assert state.holders(["alive"]) == {}


def test_an_expired_lease_taken_over_is_not_renewed_by_the_old_holder(redis_url: str) -> None:
    state = RedisFarmState(redis_url, f"t{time.monotonic_ns()}", ttl=0.3)
    assert state.acquire("d", "old")
    time.sleep(0.5)  # the old holder was stopped (SIGSTOP, GC pause): its lease expired
    assert state.acquire("d", "new")
    assert not state.renew("d", "old")
    state.release("d", "old")
    assert state.holders(["d"]) == {"d": "new"}


def test_the_password_never_reaches_a_message() -> None:
    from harness.errors import InfrastructureError
    from tests.support import free_port

    with pytest.raises(InfrastructureError) as info:
        RedisFarmState(f"redis://ci:s3cret-pw@127.0.0.1:{free_port()}/0", "x")
    assert "s3cret-pw" not in str(info.value) and "ci:<redacted>@127.0.0.1" in str(info.value)


def test_an_unreachable_redis_is_an_infrastructure_error(tmp_path: Path) -> None:
    from harness.errors import InfrastructureError
    from tests.support import free_port

    with pytest.raises(InfrastructureError, match=r"Redis redis://127\.0\.0\.1:\d+/0"):
        RedisFarmState(f"redis://127.0.0.1:{free_port()}/0", "x")


def test_a_run_notices_a_device_it_no_longer_holds(redis_url: str, tmp_path: Path) -> None:
    """A run stopped longer than the TTL (SIGSTOP, a paused VM) finds its device taken by another run."""
    from harness.backends.base import BackendOptions, DeviceHandle
    from harness.farm.backend import FarmBackend

    inventory = tmp_path / "farm.yaml"
    inventory.write_text(f"name: t{time.monotonic_ns()}\nhosts:\n  - adb: 127.0.0.1:1\n")
    backend = FarmBackend(BackendOptions(farm=str(inventory), redis_url=redis_url))
    device = DeviceHandle(serial="emulator-6000", kind="farm", adb_host="127.0.0.1", adb_server_port=1)
    assert backend.state.acquire("127.0.0.1:1/emulator-6000", backend.holder)
    assert backend.lease_lost(device) is None
    backend.state.release("127.0.0.1:1/emulator-6000", backend.holder)
    assert backend.state.acquire("127.0.0.1:1/emulator-6000", "ci-9:77:run")
    assert backend.lease_lost(device) == "ci-9:77:run"
