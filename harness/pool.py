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


def device_key(handle: DeviceHandle) -> str:
    """A device's identity in a pool: serials repeat across adb servers (every farm host has its
    emulator-5554), so the server is part of it."""
    return f"{handle.adb_host}:{handle.adb_server_port}/{handle.serial}"


@dataclass
class DevicePool:
    """Hands out distinct devices; one lease per holder."""

    handles: list[DeviceHandle]
    _leases: dict[str, str] = field(default_factory=dict)  # holder -> device key
    _quarantine: dict[str, str] = field(default_factory=dict)  # device key -> reason

    def __post_init__(self) -> None:
        keys = [device_key(h) for h in self.handles]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate devices in pool: {keys}")

    def lease(self, holder: str) -> DeviceHandle:
        """The holder's device; the same one again if it already holds a lease."""
        if holder in self._leases:
            return self._by_key(self._leases[holder])
        taken = set(self._leases.values()) | set(self._quarantine)
        for handle in self.handles:
            if device_key(handle) not in taken:
                self._leases[holder] = device_key(handle)
                return handle
        raise PoolExhausted(holder, len(self.handles), self.leases, self.quarantined)

    def release(self, holder: str) -> DeviceHandle | None:
        key = self._leases.pop(holder, None)
        return None if key is None else self._by_key(key)

    def update(self, handle: DeviceHandle) -> None:
        """Replace a device's handle (after a restart gave it a new data dir)."""
        self.handles = [handle if device_key(h) == device_key(handle) else h for h in self.handles]

    def quarantine(self, serial: str, reason: str) -> None:
        """Take a broken device out of circulation; its holder loses the lease."""
        key = device_key(self._by_serial(serial))
        self._quarantine[key] = reason
        self._leases = {h: k for h, k in self._leases.items() if k != key}

    def holder_of(self, serial: str) -> str | None:
        key = device_key(self._by_serial(serial))
        return next((h for h, k in self._leases.items() if k == key), None)

    @property
    def leases(self) -> dict[str, str]:
        return {h: self._by_key(k).serial for h, k in self._leases.items()}

    @property
    def quarantined(self) -> dict[str, str]:
        return {self._by_key(k).serial: reason for k, reason in self._quarantine.items()}

    def _by_key(self, key: str) -> DeviceHandle:
        return next(h for h in self.handles if device_key(h) == key)

    def _by_serial(self, serial: str) -> DeviceHandle:
        """By serial, or by `host:port/serial` where serials repeat."""
        found = [h for h in self.handles if serial in (h.serial, device_key(h))]
        if len(found) != 1:
            raise KeyError(serial if not found else f"{serial} is on several adb servers: name it host:port/serial")
        return found[0]


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
