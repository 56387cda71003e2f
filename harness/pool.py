"""Device leasing: which worker holds which device.

Theory of operation
-------------------
A device is leased to exactly one holder at a time. Under pytest-xdist the controller owns the pool:
it provisions the devices once, and `pytest_configure_node` leases one per worker and ships the
handle in `workerinput`; when a worker goes down (`pytest_testnodedown`) its lease returns, so a
replacement worker gets the same device. Without xdist the single process is the only holder.

The pool knows nothing about pytest or processes: holders are plain ids, devices plain handles. That
keeps the seam for a later quarantine/retry policy here: `quarantine()` takes a device out of
circulation with a reason, and `lease()` never hands it out again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.backends.base import DeviceHandle
from harness.errors import InfrastructureError


class PoolExhausted(InfrastructureError):
    """More holders than healthy devices."""

    def __init__(self, holder: str, total: int, leased: dict[str, str], quarantined: dict[str, str]) -> None:
        self.holder = holder
        detail = f"{total} device(s), leased: {leased or 'none'}"
        if quarantined:
            detail += f", quarantined: {quarantined}"
        super().__init__(f"no free device for {holder}: {detail}")


@dataclass
class DevicePool:
    """Hands out distinct devices; one lease per holder."""

    handles: list[DeviceHandle]
    _leases: dict[str, str] = field(default_factory=dict)  # holder -> serial
    _quarantine: dict[str, str] = field(default_factory=dict)  # serial -> reason

    def __post_init__(self) -> None:
        serials = [h.serial for h in self.handles]
        if len(set(serials)) != len(serials):
            raise ValueError(f"duplicate serials in pool: {serials}")

    def lease(self, holder: str) -> DeviceHandle:
        """The holder's device; the same one again if it already holds a lease."""
        if holder in self._leases:
            return self._by_serial(self._leases[holder])
        taken = set(self._leases.values()) | set(self._quarantine)
        for handle in self.handles:
            if handle.serial not in taken:
                self._leases[holder] = handle.serial
                return handle
        raise PoolExhausted(holder, len(self.handles), dict(self._leases), dict(self._quarantine))

    def release(self, holder: str) -> DeviceHandle | None:
        serial = self._leases.pop(holder, None)
        return None if serial is None else self._by_serial(serial)

    def update(self, handle: DeviceHandle) -> None:
        """Replace a device's handle (after a restart gave it a new data dir)."""
        self.handles = [handle if h.serial == handle.serial else h for h in self.handles]

    def quarantine(self, serial: str, reason: str) -> None:
        """Take a broken device out of circulation; its holder loses the lease."""
        self._by_serial(serial)
        self._quarantine[serial] = reason
        self._leases = {h: s for h, s in self._leases.items() if s != serial}

    def holder_of(self, serial: str) -> str | None:
        return next((h for h, s in self._leases.items() if s == serial), None)

    @property
    def leases(self) -> dict[str, str]:
        return dict(self._leases)

    @property
    def quarantined(self) -> dict[str, str]:
        return dict(self._quarantine)

    def _by_serial(self, serial: str) -> DeviceHandle:
        for handle in self.handles:
            if handle.serial == serial:
                return handle
        raise KeyError(serial)


def devices_needed(workers: int, requested: int | None) -> int:
    """How many devices a run needs: one per worker, or what `--devices` asks if that is more.

    Fewer devices than workers cannot work (each worker holds its device for the whole run), so
    that is refused with the numbers in the message.
    """
    workers = max(workers, 1)
    if requested is None:
        return workers
    if requested < workers:
        raise ValueError(
            f"--devices {requested} is fewer than the {workers} xdist workers: each worker needs its own "
            f"device (use -n {requested} or --devices {workers})"
        )
    return requested
