"""The backend contract and the serialisable description of one device.

A `DeviceHandle` must cross a process boundary: with pytest-xdist the controller provisions the
devices and hands one to each worker through `workerinput`, which only carries plain data (execnet
serialises dicts of str/int/None). So a handle holds facts (ports, paths, serial), never live
objects; each worker opens its own adb client and console connection from them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from harness.errors import InfrastructureError

if TYPE_CHECKING:  # pragma: no cover
    from harness.session import DeviceSession


class BackendError(InfrastructureError):
    """A backend could not provide or manage a device (it did not start, boot or answer)."""


@dataclass(frozen=True)
class DeviceHandle:
    """Everything a worker needs to reach one device.

    `adb_host`/`adb_server_port` locate the adb *server* that knows `serial`; `console_port` is the
    emulator console (None for a device without one, e.g. a phone on a farm). `data_dir`, `home`
    and `launch` are set by the virtual backend so a worker can restart its device with a fresh
    identity without going back to the controller.
    """

    serial: str
    kind: str  # "virtual" | "sdk" | "adb"
    adb_server_port: int = 5037
    adb_host: str = "127.0.0.1"
    console_port: int | None = None
    console_token_path: str | None = None
    data_dir: str | None = None
    home: str | None = None  # HOME / ANDROID_EMULATOR_HOME of the emulator process
    activation_url: str | None = None
    props: dict[str, str] = field(default_factory=dict)  # -prop values it was started with
    generation: int = 0  # bumped on every restart, so data dirs never collide
    firmware: str | None = None  # the firmware build it was started with, when the backend chose it
    # the AVD the emulator boots (`-avd`): on `sdk` the user's, copied into the instance's folder;
    # on `virtual` one written per device to carry its SIMs' modem files (harness.iccprofile)
    avd: str | None = None
    sdk_root: str | None = None  # `sdk` backend: the Android SDK the emulator and adb come from
    http_proxy: str | None = None  # `-http-proxy` the emulator was started with

    @property
    def adb_port(self) -> int | None:
        """The device's adbd port (console + 1 on an emulator)."""
        return None if self.console_port is None else self.console_port + 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceHandle:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"DeviceHandle: unknown keys {sorted(unknown)}")
        values: dict[str, Any] = {k: (dict(v) if k == "props" else v) for k, v in data.items()}
        return cls(**values)

    def label(self) -> str:
        return f"{self.serial} ({self.kind}, {self.firmware or 'firmware as found'})"


# The build facts every backend reports for a device (Allure environment, `harness devices`).
BUILD_FACT_PROPS = {"model": "ro.product.model", "manufacturer": "ro.product.manufacturer",
                    "android": "ro.build.version.release", "sdk": "ro.build.version.sdk",
                    "fingerprint": "ro.build.fingerprint", "firmware.version": "ro.build.version.incremental"}


# The environment of every adb server the harness starts. Those servers serve emulators over TCP; with
# libusb, adb's default USB backend on Linux, a server that has no udev hotplug events (a container, a
# CI runner) waits 3 s at every start for a USB scan that never reports done. adb's own Linux USB
# backend (ADB_LIBUSB=0) starts the server in milliseconds.
ADB_SERVER_ENV = {"ADB_LIBUSB": "0"}


def adb_client(handle: DeviceHandle, timeout: float = 10.0) -> Any:
    """A client of the handle's adb server that never starts a server itself: adbutils' own runs
    `adb start-server` on a refused connect, which starts one on the default port 5037."""
    from harness.session import VersionCachingClient

    return VersionCachingClient(host=handle.adb_host, port=handle.adb_server_port, socket_timeout=timeout)


def open_session(handle: DeviceHandle, client: Any = None) -> DeviceSession:
    """The runtime's session with the handle's device: adb (through `client`, else `adb_client`),
    uiautomator2 and, when the handle has one, its console."""
    from harness.session import DeviceSession

    token = Path(handle.console_token_path) if handle.console_token_path else None
    return DeviceSession(handle.serial, client if client is not None else adb_client(handle), handle.console_port,
                         token)


def build_facts(getprop: Callable[[str], str]) -> dict[str, str]:
    """The device's build facts, one `getprop` per key (few keys)."""
    return {name: str(getprop(key)) for name, key in BUILD_FACT_PROPS.items()}


@runtime_checkable
class Backend(Protocol):
    """Provides devices. Implementations: `VirtualBackend`, `AdbBackend` (and fakes in tests).

    `provision(n)` starts or finds n devices and returns their handles; `teardown()` stops all it
    started and must be safe to call twice, after a partial `provision`, and from a signal handler.
    `facts(handle)` is what goes into Allure's environment (model, fingerprint, firmware...).
    `device_ops(handle)` is the runtime's `DeviceOps` for that device (reset, capabilities).
    """

    name: str

    def provision(self, count: int) -> list[DeviceHandle]: ...

    def teardown(self) -> None: ...

    def facts(self, handle: DeviceHandle) -> dict[str, str]: ...

    def device_ops(self, handle: DeviceHandle) -> Any: ...


@runtime_checkable
class WatchedLab(Protocol):
    """DeviceOps that can check the lab around their device (harness.backends.health).

    `before_scenario()` brings back what died (a dead device is replaced, a dead server restarted)
    and returns a mark; `after_scenario(mark)` raises ServiceDown if anything failed or was restarted
    since, because the scenario's outcome then says nothing about the product.
    """

    def before_scenario(self) -> int: ...

    def after_scenario(self, mark: int) -> None: ...


@dataclass(frozen=True)
class BackendOptions:
    """What the command line says about devices, independent of pytest (the CLI and bench use it)."""

    serials: tuple[str, ...] = ()
    policy: str | None = None
    work_dir: Path | None = None  # where the virtual backend puts its data; a temp dir if None
    extra_props: tuple[tuple[str, str], ...] = ()
    # country (upper case) -> "host:port" of an HTTP proxy the lab has that exits there (--exit-proxy)
    exit_proxies: tuple[tuple[str, str], ...] = ()
    sdk: str | None = None  # `sdk` backend: the Android SDK folder (else $ANDROID_SDK_ROOT, $ANDROID_HOME)
    avd: tuple[str, ...] = ()  # `sdk` backend: `NAME` (the build under test) and `FIRMWARE=NAME`
    # `farm` backend (harness.farm): inventory, shared lease store, label selection, quarantine, waiting
    farm: str | None = None
    redis_url: str | None = None
    farm_select: tuple[str, ...] = ()
    quarantine_after: int = 3
    lease_wait: float = 600.0
    # False: `provision` may return devices that answer adb but are still in their first boot, for a
    # caller that waits where it needs a booted device (the scenario runner); a reset replaces that
    # instance anyway, so nobody waits for a boot twice. The virtual backend honours it; `adb` and
    # `farm` find devices running, and `sdk` still waits for its fuller readiness (package manager,
    # focused window, an ANR dialog dismissed), which the runner's boot wait does not check.
    await_boot: bool = True

    def exit_proxy(self, country: str) -> str | None:
        return dict(self.exit_proxies).get(country.upper())


def load_backend(spec: str, options: BackendOptions) -> Backend:
    """`virtual`, `sdk`, `adb`, or `package.module:factory` (a callable taking BackendOptions).

    The dotted form is the seam for other labs (an AVD backend, a device farm) and for tests,
    which plug in a fake without patching anything.
    """
    if spec == "virtual":
        from harness.backends.virtual import VirtualBackend

        return VirtualBackend(options)
    if spec == "adb":
        from harness.backends.adb import AdbBackend

        return AdbBackend(options)
    if spec == "sdk":
        from harness.backends.sdk import SdkBackend

        return SdkBackend(options)
    if spec == "farm":
        from harness.farm.backend import FarmBackend

        return FarmBackend(options)
    if ":" not in spec:
        raise ValueError(f"unknown backend {spec!r}: use virtual, sdk, adb, farm or module:factory")
    module_name, _, attr = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    backend: Backend = factory(options)
    return backend
