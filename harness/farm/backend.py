"""The `farm` backend: devices leased from a farm inventory, shared with other runs through Redis.

A run (or each xdist worker needing a replacement) leases devices by their farm id; the leases are
renewed by a heartbeat while the process lives and released at teardown. Devices are used as found
(like `--backend adb`), with two farm-specific powers:
- a device on a host with `respawn: true` gets a new identity for `reset`: the harness stops the
  emulator through its console (`kill`) and the host's supervisor (Kubernetes' restart, systemd)
  boots a factory-fresh one on the same port, which the harness waits for;
- before each scenario the device must answer `echo`; one that does not is quarantined with the
  error as evidence and the scenario moves to another leased farm device; after it, a device that
  no longer answers makes the outcome a lab error (ServiceDown), whatever the scenario saw.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.backends.base import BackendOptions, DeviceHandle, open_session
from harness.errors import CapabilityMissing, DeviceError, InfrastructureError, ServiceDown
from harness.farm.discovery import FarmDevice, adb_client, discover
from harness.farm.inventory import Inventory, Labels, load_inventory
from harness.farm.state import FarmState, Heartbeat, Quarantine, RedisFarmState, holder_id, now, open_state

PROBE_TIMEOUT = 5.0
RESPAWN_TIMEOUT = 120.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class FarmExhausted(InfrastructureError):
    """The farm cannot give this run the devices it needs (busy past the deadline, or quarantined)."""


def device_id(handle: DeviceHandle) -> str:
    return f"{handle.adb_host}:{handle.adb_server_port}/{handle.serial}"


def parse_select(items: tuple[str, ...]) -> dict[str, str]:
    wanted = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in Labels.model_fields:
            raise ValueError(f"--farm-select wants LABEL=VALUE with LABEL one of {', '.join(Labels.model_fields)}, "
                             f"got {item!r}")
        wanted[key] = value
    return wanted


class FarmBackend:
    name = "farm"

    def __init__(self, options: BackendOptions, role: str = "run") -> None:
        if not options.farm:
            raise ValueError("the farm backend needs an inventory: --farm farm.yaml")
        self.options = options
        self.inventory: Inventory = load_inventory(Path(options.farm))
        self.state: FarmState = open_state(options.redis_url, self.inventory.name)
        self.shared = isinstance(self.state, RedisFarmState)
        self.holder = holder_id(role)
        self.heartbeat = Heartbeat(self.state, self.holder)
        self.select = parse_select(options.farm_select)

    # --- leasing ---------------------------------------------------------------------------
    def provision(self, count: int) -> list[DeviceHandle]:
        return [self.handle_for(d) for d in self.lease(count)]

    def lease(self, count: int, avoid: frozenset[str] = frozenset()) -> list[FarmDevice]:
        """`count` devices, all or none; waits while the farm is busy, up to `--lease-wait`."""
        deadline = time.monotonic() + self.options.lease_wait
        while True:
            devices, statuses = discover(self.inventory)
            matching = [d for d in devices if d.state == "device" and d.labels.matches(self.select)
                        and d.id not in avoid]
            quarantined = self.state.quarantined()
            usable = [d for d in matching if d.id not in quarantined]
            if len(usable) < count:
                raise FarmExhausted(self._shortage(count, matching, usable, quarantined, statuses))
            got = []
            for device in random.sample(usable, len(usable)):  # spread runs over the farm
                if self.state.acquire(device.id, self.holder):
                    got.append(device)
                    if len(got) == count:
                        for taken in got:
                            self.heartbeat.hold(taken.id)
                        return got
            for taken in got:  # all or none: two runs holding half each would wait for each other
                self.state.release(taken.id, self.holder)
            if time.monotonic() > deadline:
                holders = self.state.holders([d.id for d in usable])
                raise FarmExhausted(
                    f"the farm {self.inventory.name!r} is busy: this run needs {count} device(s), "
                    f"{len(usable)} match and all but {len(usable) - len(holders)} are leased "
                    f"({', '.join(f'{d} by {h}' for d, h in sorted(holders.items()))}); waited "
                    f"{self.options.lease_wait:g} s (--lease-wait)")
            time.sleep(0.5 + random.random())

    def _shortage(self, count: int, matching: list[FarmDevice], usable: list[FarmDevice],
                  quarantined: dict[str, Quarantine], statuses: list[Any]) -> str:
        where = f"the farm {self.inventory.name!r} ({self.options.farm})"
        selection = f" matching {self.select}" if self.select else ""
        text = f"{where} has {len(usable)} usable device(s){selection}, this run needs {count}"
        held_back = [d.id for d in matching if d.id in quarantined]
        if held_back:
            text += "; quarantined: " + "; ".join(f"{d} ({quarantined[d].reason})" for d in held_back)
            text += " (`harness farm release SERIAL` returns one)"
        down = [s for s in statuses if s.error]
        if down:
            text += "; " + "; ".join(f"adb server {s.adb} {s.error}" for s in down)
        return text

    def handle_for(self, device: FarmDevice) -> DeviceHandle:
        host = self.inventory.host(device.adb)
        console = None
        if device.serial.startswith("emulator-") and device.host in LOOPBACK:
            console = int(device.serial.removeprefix("emulator-"))  # SDK consoles listen on loopback only
        token = host.console_token if host is not None and console is not None else None
        return DeviceHandle(serial=device.serial, kind="farm", adb_host=device.host,
                            adb_server_port=device.port, console_port=console,
                            console_token_path=token, firmware=device.labels.firmware)

    def labels(self, handle: DeviceHandle) -> Labels:
        return self.inventory.labels_for(f"{handle.adb_host}:{handle.adb_server_port}", handle.serial)

    def respawns(self, handle: DeviceHandle) -> bool:
        host = self.inventory.host(f"{handle.adb_host}:{handle.adb_server_port}")
        return bool(host and host.respawn and self.console_address(handle) is not None)

    def console_address(self, handle: DeviceHandle) -> tuple[str, int] | None:
        """Where this emulator's console answers from here (for `kill`), if anywhere.

        Only the respawn uses a remote console: the runtime's session reaches consoles on loopback
        only, so a remote device's handle has no console port (GPS then goes through the shell)."""
        if not handle.serial.startswith("emulator-") or not handle.serial[9:].isdigit():
            return None
        port = int(handle.serial[9:])
        if handle.adb_host in LOOPBACK:
            return handle.adb_host, port
        host = self.inventory.host(f"{handle.adb_host}:{handle.adb_server_port}")
        if host is None or host.console_offset is None:
            return None
        return handle.adb_host, port + host.console_offset

    # --- failures and quarantine -----------------------------------------------------------
    def replace(self, handle: DeviceHandle, reason: str | None, evidence: str = "") -> DeviceHandle:
        """Lease another device in place of this one, quarantining it when there is a reason."""
        if reason is not None:
            self.quarantine(handle, reason, evidence)
        if not self.shared and os.environ.get("PYTEST_XDIST_WORKER"):
            # this worker's leases are its own memory: it cannot know what its siblings hold
            raise FarmExhausted(f"{handle.serial} {reason or 'was lost'}; an xdist worker replaces a farm "
                                f"device only through shared leases (--redis)")
        new = self.lease(1, avoid=frozenset({device_id(handle)}))[0]
        return self.handle_for(new)

    def lease_lost(self, handle: DeviceHandle) -> str | None:
        """Who holds this device now, when it is no longer this run (its lease expired while the run
        was stopped, and another run took it). The run is this process or, under xdist, its
        controller (the worker's parent), which leased the device the worker was handed."""
        if not self.shared:
            return None  # one process's own leases are never taken from it
        ours = {self.holder, holder_id("run", os.getppid())}
        holder = self.state.holders([device_id(handle)]).get(device_id(handle))
        return None if holder in ours else holder or "nobody (the lease expired)"

    def quarantine(self, handle: DeviceHandle, reason: str, evidence: str = "") -> None:
        ident = device_id(handle)
        self.state.quarantine(ident, Quarantine(reason, evidence[-2000:], self.holder, now()))
        if ident in self.heartbeat.held:
            self.heartbeat.drop(ident)

    def infrastructure_failure(self, handle: DeviceHandle, message: str) -> bool:
        """Count one; True when this made the device reach the quarantine threshold."""
        count = self.state.failed(device_id(handle))
        if count >= self.options.quarantine_after:
            self.quarantine(handle, f"{count} consecutive infrastructure failures", message)
            return True
        return False

    def success(self, handle: DeviceHandle) -> None:
        self.state.succeeded(device_id(handle))

    # --- Backend protocol ------------------------------------------------------------------
    def teardown(self) -> None:
        self.heartbeat.stop()

    def facts(self, handle: DeviceHandle) -> dict[str, str]:
        getprop = adb_client(f"{handle.adb_host}:{handle.adb_server_port}").device(handle.serial).getprop
        return {"model": getprop("ro.product.model"), "fingerprint": getprop("ro.build.fingerprint"),
                "backend": "farm", "farm.device": device_id(handle), "farm.labels": self.labels(handle).text()}

    def device_ops(self, handle: DeviceHandle) -> FarmDeviceOps:
        return FarmDeviceOps(self, handle)


def probe(handle: DeviceHandle) -> str | None:
    """Why the device cannot run a scenario now, or None when it answers a shell command."""
    try:
        device = adb_client(f"{handle.adb_host}:{handle.adb_server_port}").device(handle.serial)
        out = device.shell(["echo", "alive"], timeout=PROBE_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 -- adbutils raises several types for a dead link or server
        return f"does not answer over adb: {exc or type(exc).__name__}"
    return None if str(out).strip() == "alive" else f"`echo alive` printed {str(out)[:80]!r}"


class FarmDeviceOps:
    """DeviceOps on a leased farm device; moves to another farm device when this one is dead."""

    def __init__(self, backend: FarmBackend, handle: DeviceHandle) -> None:
        self.backend = backend
        self.handle = handle
        self._session: Any = None
        self.on_restart: list[Callable[[DeviceHandle], None]] = []

    # --- the lab around the device (harness.backends.base.WatchedLab) ------------------------
    def before_scenario(self) -> int:
        """Check the device answers; a dead one is quarantined and the scenario moves to another."""
        taken = self.backend.lease_lost(self.handle)
        problem = probe(self.handle) if taken is None else None
        if taken is not None:  # not broken, just not ours any more: no quarantine
            self._move(self.backend.replace(self.handle, None))
        elif problem is not None:
            self._move(self.backend.replace(self.handle, f"device {problem}", f"probe before a scenario: {problem}"))
        return 0

    def _move(self, handle: DeviceHandle) -> None:
        self.handle = handle
        self._notify()
        self._close()

    def after_scenario(self, mark: int) -> None:
        """A device (or its host's adb server) that died during the scenario: its outcome is no verdict."""
        problem = probe(self.handle)
        if problem is not None:
            raise ServiceDown(f"farm device {device_id(self.handle)}",
                              f"{problem} after the scenario, so its outcome is not a verdict")

    def current_session(self) -> Any:
        if self._session is None:
            self._session = self._open_session()
        return self._session

    def _open_session(self) -> Any:
        return open_session(self.handle, adb_client(f"{self.handle.adb_host}:{self.handle.adb_server_port}"))

    def _close(self) -> None:
        if self._session is not None:
            with contextlib.suppress(Exception):  # the device is gone; nothing to close cleanly
                self._session.close()
            self._session = None

    def _notify(self) -> None:
        for callback in self.on_restart:
            callback(self.handle)

    def fresh_device(self, session: Any, firmware: str | None, profile: str | None, slots: int) -> Any:
        labels = self.backend.labels(self.handle)
        if firmware is not None and labels.firmware is not None and firmware != labels.firmware:
            raise CapabilityMissing(f"firmware {firmware!r}", self.handle.serial,
                                    f"this farm device runs {labels.firmware!r} and cannot boot another "
                                    f"(select devices with --farm-select firmware={firmware})")
        if not self.backend.respawns(self.handle):
            raise CapabilityMissing(
                "a factory-fresh device with a new hardware identity", self.handle.serial,
                "its farm host does not respawn emulators (respawn: true in the inventory), or its console "
                "is not reachable from here (console_offset)")
        self._close()
        self._respawn()
        self._session = self._open_session()
        return self._session

    def _respawn(self) -> None:
        """Console `kill`; the host's supervisor boots a factory-fresh emulator on the same port."""
        from harness.console import ConsoleClient

        host = self.backend.inventory.host(f"{self.handle.adb_host}:{self.handle.adb_server_port}")
        token = Path(host.console_token) if host is not None and host.console_token else None
        client = adb_client(f"{self.handle.adb_host}:{self.handle.adb_server_port}")
        address = self.backend.console_address(self.handle)
        assert address is not None, "respawns() checked it"
        try:
            with ConsoleClient(address[1], token, host=address[0]) as console:
                console.command("kill")
        except (InfrastructureError, OSError):
            pass  # the console hangs up as the emulator exits
        gone_by = time.monotonic() + 30.0
        while _booted(client, self.handle.serial):  # first see the old one go...
            if time.monotonic() > gone_by:
                raise DeviceError(self.handle.serial, "the emulator is still running 30 s after console `kill`")
            time.sleep(0.1)
        limit = host.boot_timeout if host is not None else RESPAWN_TIMEOUT
        deadline = time.monotonic() + limit
        while not _booted(client, self.handle.serial):  # ...then the new one boot
            if time.monotonic() > deadline:
                raise DeviceError(self.handle.serial, f"the farm host did not bring a fresh emulator back within "
                                                      f"{limit:g} s of `kill` (boot_timeout; is its supervisor "
                                                      f"running?)")
            time.sleep(0.3)

    def sim_profile_supported(self) -> bool:
        return False

    def capabilities(self) -> frozenset[str]:
        has = {"new-identity"} if self.backend.respawns(self.handle) else set()
        if (self.backend.labels(self.handle).sim_slots or 1) >= 2:
            has.add("dual-sim")
        return frozenset(has)

    def proxy_for_country(self, country: str | None) -> str | None:
        return None if country is None else self.backend.options.exit_proxy(country)


def _booted(client: Any, serial: str) -> bool:
    try:
        return bool(client.device(serial).getprop("sys.boot_completed") == "1")
    except Exception:  # noqa: BLE001 -- gone, offline or booting
        return False
