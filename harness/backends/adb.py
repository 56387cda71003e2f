"""The adb backend: devices that already sit on an adb server (a desk, a rack, a remote farm).

Nothing is provisioned or torn down: `--serial S` names the devices (repeatable). A serial of the form
`host:port` is a network device and is `adb connect`ed first. The adb server is the one the
environment names (`ANDROID_ADB_SERVER_HOST`/`ANDROID_ADB_SERVER_PORT`, default 127.0.0.1:5037).
Such devices cannot get a new hardware identity or another firmware, so a `reset` that asks for one
raises `CapabilityMissing` (the scenario is skipped with that reason, never passed).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from harness.backends.base import BackendError, BackendOptions, DeviceHandle
from harness.errors import CapabilityMissing

_EMULATOR = re.compile(r"^emulator-(\d+)$")


def adb_server_address() -> tuple[str, int]:
    host = os.environ.get("ANDROID_ADB_SERVER_HOST", "127.0.0.1")
    return host, int(os.environ.get("ANDROID_ADB_SERVER_PORT", "5037"))


def handle_for(serial: str, host: str, port: int) -> DeviceHandle:
    """A local emulator (`emulator-N`) also has a console on N, with the usual token file."""
    match = _EMULATOR.match(serial)
    console = int(match.group(1)) if match and host in ("127.0.0.1", "localhost") else None
    token = str(Path.home() / ".emulator_console_auth_token") if console else None
    return DeviceHandle(serial=serial, kind="adb", adb_host=host, adb_server_port=port,
                        console_port=console, console_token_path=token)


class AdbBackend:
    name = "adb"

    def __init__(self, options: BackendOptions) -> None:
        self.options = options
        self.host, self.port = adb_server_address()

    def _client(self) -> Any:
        import adbutils

        return adbutils.AdbClient(host=self.host, port=self.port, socket_timeout=10)

    def provision(self, count: int) -> list[DeviceHandle]:
        serials = list(self.options.serials) or self._attached()
        if len(serials) < count:
            raise BackendError(
                f"the adb backend needs {count} device(s) but has {len(serials)}: {serials or 'none'} "
                f"(adb server {self.host}:{self.port}; name them with --serial)")
        client = self._client()
        for serial in serials[:count]:
            if ":" in serial:
                client.connect(serial, timeout=10)
            state = client.device(serial).get_state()
            if state != "device":
                raise BackendError(f"<Device|{serial}> is {state!r} on the adb server, not 'device'")
        return [handle_for(s, self.host, self.port) for s in serials[:count]]

    def _attached(self) -> list[str]:
        return [d.serial for d in self._client().device_list()]

    def teardown(self) -> None:
        """Devices we did not start are left as they were."""

    def facts(self, handle: DeviceHandle) -> dict[str, str]:
        getprop = self._client().device(handle.serial).getprop
        return {"model": getprop("ro.product.model"), "fingerprint": getprop("ro.build.fingerprint"),
                "firmware.version": getprop("ro.build.version.incremental"), "backend": "adb"}

    def device_ops(self, handle: DeviceHandle) -> AdbDeviceOps:
        return AdbDeviceOps(self, handle)


class AdbDeviceOps:
    """DeviceOps for a device we do not own: no new identity, no firmware swap, only configured proxies."""

    def __init__(self, backend: AdbBackend, handle: DeviceHandle) -> None:
        self.backend = backend
        self.handle = handle
        self._session: Any = None

    def current_session(self) -> Any:
        if self._session is None:
            from harness.session import DeviceSession

            token = Path(self.handle.console_token_path) if self.handle.console_token_path else None
            self._session = DeviceSession(self.handle.serial, self.backend._client(),
                                          self.handle.console_port, token)
        return self._session

    def fresh_device(self, session: Any, firmware: str | None, profile: str | None, slots: int) -> Any:
        raise CapabilityMissing(
            "a factory-fresh device with a new hardware identity", self.handle.serial,
            "devices on an adb server are used as they are; run this scenario on the virtual backend")

    def sim_profile_supported(self) -> bool:
        return False

    def capabilities(self) -> frozenset[str]:
        """Nothing the backend does: root, console and factory reset are found on the device."""
        return frozenset()

    def proxy_for_country(self, country: str | None) -> str | None:
        """Only what the user configured (`--exit-proxy CC=host:port`): a device we do not own reaches
        the host's loopback only by chance, so no local stand-in proxy is offered."""
        return None if country is None else self.backend.options.exit_proxy(country)
