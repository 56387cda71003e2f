"""Who holds which farm device, and which devices are quarantined.

One contract, two stores: `RedisFarmState` (shared by every run given the same Redis URL) and
`MemoryFarmState` (one process; the default without Redis). Device ids are `adbhost:port/serial`:
serials repeat across hosts (every host has its emulator-5554).

Redis layout, under `regionlock:<farm name>:`
- `lease:<id>` = holder, with a TTL (`SET NX PX`); renewed by the holder's heartbeat thread only
  while it still holds it, deleted only by its holder (compare-and-set in Lua, so an expired lease
  taken over by another run is never renewed or released by the old one).
- `quarantine:<id>` = JSON {reason, evidence, by, at}: no TTL, until `harness farm release`.
- `failures:<id>` = consecutive infrastructure failures; a success deletes it.
Why Redis rather than our own server: the issue asks for a real distributed part, and expiring keys
plus atomic scripts are exactly the lease primitive.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from harness.errors import InfrastructureError
from harness.redact import redact, register_secret

LEASE_TTL = 30.0  # seconds a lease outlives its holder's last heartbeat


class FarmStateError(InfrastructureError):
    """The shared lease store cannot be reached or answered wrongly."""


@dataclass(frozen=True)
class Quarantine:
    reason: str
    evidence: str = ""
    by: str = ""
    at: float = 0.0

    def to_json(self) -> str:
        return json.dumps(vars(self))

    @classmethod
    def from_json(cls, text: str | bytes) -> Quarantine:
        data = json.loads(text)
        return cls(str(data.get("reason", "")), str(data.get("evidence", "")), str(data.get("by", "")),
                   float(data.get("at", 0.0)))


def holder_id(role: str, pid: int | None = None) -> str:
    """`host:pid:role`: unique per process, and tells an operator where the run is."""
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}:{role}"


class FarmState(Protocol):
    def acquire(self, device: str, holder: str) -> bool: ...

    def renew(self, device: str, holder: str) -> bool: ...

    def release(self, device: str, holder: str) -> None: ...

    def holders(self, devices: list[str]) -> dict[str, str]: ...

    def quarantine(self, device: str, record: Quarantine) -> None: ...

    def unquarantine(self, device: str) -> bool: ...

    def quarantined(self) -> dict[str, Quarantine]: ...

    def failed(self, device: str) -> int: ...

    def succeeded(self, device: str) -> None: ...


class MemoryFarmState:
    """The contract inside one process (no TTL needed: the process's death ends its leases)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._leases: dict[str, str] = {}
        self._quarantine: dict[str, Quarantine] = {}
        self._failures: dict[str, int] = {}

    def acquire(self, device: str, holder: str) -> bool:
        with self._lock:
            if self._leases.get(device, holder) != holder:
                return False
            self._leases[device] = holder
            return True

    def renew(self, device: str, holder: str) -> bool:
        return self._leases.get(device) == holder

    def release(self, device: str, holder: str) -> None:
        with self._lock:
            if self._leases.get(device) == holder:
                del self._leases[device]

    def holders(self, devices: list[str]) -> dict[str, str]:
        return {d: self._leases[d] for d in devices if d in self._leases}

    def quarantine(self, device: str, record: Quarantine) -> None:
        self._quarantine[device] = record

    def unquarantine(self, device: str) -> bool:
        self._failures.pop(device, None)
        return self._quarantine.pop(device, None) is not None

    def quarantined(self) -> dict[str, Quarantine]:
        return dict(self._quarantine)

    def failed(self, device: str) -> int:
        with self._lock:
            self._failures[device] = self._failures.get(device, 0) + 1
            return self._failures[device]

    def succeeded(self, device: str) -> None:
        self._failures.pop(device, None)


_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class RedisFarmState:
    def __init__(self, url: str, farm: str, ttl: float = LEASE_TTL) -> None:
        import redis

        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        register_secret(urlsplit(url).password)  # the URL reaches messages; its password never does
        self.url = url
        self.ttl_ms = int(ttl * 1000)
        self.prefix = f"regionlock:{farm}:"
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, decode_responses=True)
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)
        self._call(self.client.ping)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except self._errors as exc:
            raise FarmStateError(redact(f"Redis {self.url}: {exc}")) from exc

    def _key(self, kind: str, device: str) -> str:
        return f"{self.prefix}{kind}:{device}"

    def acquire(self, device: str, holder: str) -> bool:
        return bool(self._call(self.client.set, self._key("lease", device), holder, nx=True, px=self.ttl_ms))

    def renew(self, device: str, holder: str) -> bool:
        return bool(self._call(self._renew, keys=[self._key("lease", device)], args=[holder, self.ttl_ms]))

    def release(self, device: str, holder: str) -> None:
        self._call(self._release, keys=[self._key("lease", device)], args=[holder])

    def holders(self, devices: list[str]) -> dict[str, str]:
        if not devices:
            return {}
        values = self._call(self.client.mget, [self._key("lease", d) for d in devices])
        return {d: v for d, v in zip(devices, values, strict=True) if v is not None}

    def quarantine(self, device: str, record: Quarantine) -> None:
        self._call(self.client.set, self._key("quarantine", device), record.to_json())

    def unquarantine(self, device: str) -> bool:
        self._call(self.client.delete, self._key("failures", device))
        return bool(self._call(self.client.delete, self._key("quarantine", device)))

    def quarantined(self) -> dict[str, Quarantine]:
        keys = list(self._call(self.client.scan_iter, match=f"{self.prefix}quarantine:*"))
        values = self._call(self.client.mget, keys) if keys else []
        start = len(f"{self.prefix}quarantine:")
        return {k[start:]: Quarantine.from_json(v) for k, v in zip(keys, values, strict=True) if v}

    def failed(self, device: str) -> int:
        return int(self._call(self.client.incr, self._key("failures", device)))

    def succeeded(self, device: str) -> None:
        self._call(self.client.delete, self._key("failures", device))


def open_state(redis_url: str | None, farm: str) -> FarmState:
    return RedisFarmState(redis_url, farm) if redis_url else MemoryFarmState()


class Heartbeat:
    """Renews this process's leases every third of their TTL until stopped.

    A lease it finds lost (expired while the process was stopped, and taken by another run) is
    dropped from `held`; the device's user finds out before its next scenario (FarmBackend.lease_lost)."""

    def __init__(self, state: FarmState, holder: str, interval: float = LEASE_TTL / 3) -> None:
        self.state = state
        self.holder = holder
        self.interval = interval
        self.held: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, device: str) -> None:
        self.held.add(device)
        if self._thread is None and isinstance(self.state, RedisFarmState):
            self._thread = threading.Thread(target=self._run, name="farm-lease-heartbeat", daemon=True)
            self._thread.start()

    def drop(self, device: str) -> None:
        self.held.discard(device)
        self.state.release(device, self.holder)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for device in list(self.held):
                try:
                    if not self.state.renew(device, self.holder):
                        self.held.discard(device)
                except FarmStateError:
                    pass  # Redis blinked: the TTL leaves room for the next beat

    def stop(self) -> None:
        self._stop.set()
        for device in list(self.held):
            try:
                self.drop(device)
            except FarmStateError:
                pass  # the leases expire by themselves
        if self._thread is not None:
            self._thread.join(timeout=5)


def now() -> float:
    return time.time()
