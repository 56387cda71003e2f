"""Device hand-out: one distinct device per holder, returns, quarantine, device counts."""

from __future__ import annotations

import pytest

from harness.backends.base import DeviceHandle
from harness.pool import DevicePool, PoolExhausted, devices_needed


def handles(n: int) -> list[DeviceHandle]:
    return [DeviceHandle(serial=f"emulator-{6000 + 2 * i}", kind="virtual") for i in range(n)]


def test_each_holder_gets_a_distinct_device() -> None:
    pool = DevicePool(handles(2))
    got = {pool.lease("gw0").serial, pool.lease("gw1").serial}
    assert got == {"emulator-6000", "emulator-6002"}


def test_a_holder_keeps_its_device() -> None:
    pool = DevicePool(handles(2))
    assert pool.lease("gw0") == pool.lease("gw0")
    assert pool.leases == {"gw0": "emulator-6000"}


def test_more_holders_than_devices_is_refused_with_the_picture() -> None:
    pool = DevicePool(handles(1))
    pool.lease("gw0")
    with pytest.raises(PoolExhausted, match="no free device for gw1: 1 device.*gw0"):
        pool.lease("gw1")


def test_a_released_device_goes_to_the_replacement_worker() -> None:
    pool = DevicePool(handles(1))
    first = pool.lease("gw0")
    assert pool.release("gw0") == first
    assert pool.lease("gw2") == first


def test_a_quarantined_device_is_never_handed_out_again() -> None:
    pool = DevicePool(handles(2))
    pool.lease("gw0")
    pool.quarantine("emulator-6000", "adb offline")
    assert pool.leases == {}
    assert pool.lease("gw1").serial == "emulator-6002"
    with pytest.raises(PoolExhausted, match="quarantined"):
        pool.lease("gw2")


def test_update_replaces_a_restarted_device() -> None:
    pool = DevicePool(handles(1))
    restarted = DeviceHandle(serial="emulator-6000", kind="virtual", generation=3)
    pool.update(restarted)
    assert pool.lease("main").generation == 3


def test_duplicate_serials_are_a_bug() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        DevicePool(handles(1) * 2)


@pytest.mark.parametrize(("workers", "requested", "needed"), [(1, None, 1), (4, None, 4), (2, 3, 3), (0, None, 1)])
def test_devices_needed(workers: int, requested: int | None, needed: int) -> None:
    assert devices_needed(workers, requested) == needed


def test_fewer_devices_than_workers_says_what_to_do() -> None:
    with pytest.raises(ValueError, match=r"--devices 1 is fewer than the 2 xdist workers.*-n 1"):
        devices_needed(2, 1)


def test_the_same_serial_on_two_adb_servers_is_two_devices() -> None:
    a = DeviceHandle(serial="emulator-5554", kind="farm", adb_host="10.0.0.1")
    b = DeviceHandle(serial="emulator-5554", kind="farm", adb_host="10.0.0.2")
    pool = DevicePool([a, b])
    assert [pool.lease("gw0"), pool.lease("gw1")] == [a, b]
    pool.quarantine("10.0.0.2:5037/emulator-5554", "dead")
    assert pool.quarantined == {"emulator-5554": "dead"}
    with pytest.raises(ValueError, match="duplicate devices"):
        DevicePool([a, a])
