"""The virtual device's state: what every part of the virtual emulator reads and writes.

Theory of operation
-------------------
One `VirtualDevice` per emulator process. The protocol front ends (adbd, console, uiautomator2
server) and the shell never keep device state of their own: they call into this object, and the
firmware (the reference firmware, or the built-in trivial one) reacts through the `Firmware` hooks.
State that survives a reboot lives under `data_dir` (the instance's /data); the rest is rebuilt by
`boot()`. A single re-entrant lock guards the state, since adbd streams, console sessions and the
u2 server run on their own threads.

This module must never import `harness`.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from emulators.virtual.sensors import Sensors
from emulators.virtual.sysprops import SYSTEM_PROPS

if TYPE_CHECKING:  # pragma: no cover
    from emulators.virtual.ui.view import Screen


class DeviceError(Exception):
    """Base of the virtual emulator's own errors."""


class PermissionDenied(DeviceError):
    """An operation needs root (or is refused on this build)."""


# --------------------------------------------------------------------------------------------
# System properties
# --------------------------------------------------------------------------------------------

class Props:
    """Android system properties. `persist.*` survive a reboot (stored in data_dir)."""

    def __init__(self, store: Path, on_change: Callable[[str, str], None]) -> None:
        self._store = store
        self._values: dict[str, str] = {}
        self._on_change = on_change
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)

    def load_persistent(self) -> None:
        if self._store.exists():
            with self._lock:
                self._values.update(json.loads(self._store.read_text()))

    def get(self, key: str, default: str = "") -> str:
        with self._lock:
            return self._values.get(key, default)

    def set(self, key: str, value: str, *, notify: bool = True) -> None:
        """Set without permission checks (the firmware's own writes)."""
        with self._lock:
            changed = self._values.get(key) != value
            self._values[key] = value
            if key.startswith("persist."):
                self._save_persistent()
            self._cond.notify_all()
        if changed and notify:
            self._on_change(key, value)

    def set_many(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self.set(key, value)

    def all(self) -> dict[str, str]:
        with self._lock:
            return dict(sorted(self._values.items()))

    def restore(self, values: dict[str, str]) -> None:
        """Replace every property at once, without change hooks (a snapshot load)."""
        with self._lock:
            self._values = dict(values)
            self._save_persistent()
            self._cond.notify_all()

    def clear_volatile(self) -> None:
        """What a reboot does: everything but persist.* is gone."""
        with self._lock:
            self._values = {k: v for k, v in self._values.items() if k.startswith("persist.")}

    def wait_for(self, key: str, value: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._values.get(key) != value:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def _save_persistent(self) -> None:
        persistent = {k: v for k, v in self._values.items() if k.startswith("persist.")}
        self._store.parent.mkdir(parents=True, exist_ok=True)
        self._store.write_text(json.dumps(persistent, indent=1, sort_keys=True))


# --------------------------------------------------------------------------------------------
# Settings provider (settings get|put|delete|list system|secure|global)
# --------------------------------------------------------------------------------------------

SETTINGS_NAMESPACES = ("system", "secure", "global")


class Settings:
    """The settings provider, persisted under data_dir like Android's settings databases."""

    def __init__(self, store: Path, on_change: Callable[[str, str, str | None], None]) -> None:
        self._store = store
        self._on_change = on_change
        self._lock = threading.RLock()
        self._values: dict[str, dict[str, str]] = {ns: {} for ns in SETTINGS_NAMESPACES}

    def load(self) -> None:
        if self._store.exists():
            loaded = json.loads(self._store.read_text())
            with self._lock:
                for ns in SETTINGS_NAMESPACES:
                    self._values[ns] = dict(loaded.get(ns, {}))

    def get(self, ns: str, key: str) -> str | None:
        with self._lock:
            return self._values[self._ns(ns)].get(key)

    def put(self, ns: str, key: str, value: str, *, notify: bool = True) -> None:
        with self._lock:
            changed = self._values[self._ns(ns)].get(key) != value
            self._values[self._ns(ns)][key] = value
            self._save()
        if changed and notify:
            self._on_change(ns, key, value)

    def put_default(self, ns: str, key: str, value: str) -> None:
        """A firmware default: written only when the key has never been set."""
        with self._lock:
            if key not in self._values[self._ns(ns)]:
                self._values[self._ns(ns)][key] = value
                self._save()

    def delete(self, ns: str, key: str) -> bool:
        with self._lock:
            existed = self._values[self._ns(ns)].pop(key, None) is not None
            self._save()
        if existed:
            self._on_change(ns, key, None)
        return existed

    def list(self, ns: str) -> dict[str, str]:
        with self._lock:
            return dict(sorted(self._values[self._ns(ns)].items()))

    def reset(self) -> None:
        with self._lock:
            self._values = {ns: {} for ns in SETTINGS_NAMESPACES}
            self._save()

    @staticmethod
    def _ns(ns: str) -> str:
        if ns not in SETTINGS_NAMESPACES:
            raise DeviceError(f"Invalid namespace '{ns}'")
        return ns

    def _save(self) -> None:
        self._store.parent.mkdir(parents=True, exist_ok=True)
        self._store.write_text(json.dumps(self._values, indent=1, sort_keys=True))


# --------------------------------------------------------------------------------------------
# Files: device paths mapped into the instance's data directory
# --------------------------------------------------------------------------------------------

class DeviceFS:
    """Maps absolute device paths onto `root` on the host.

    Everything lives under one host folder so a snapshot is a copy of it and `-wipe-data` is an
    `rmtree`. Paths are normalised on the device side first, so `..` can never leave the root.
    `/sdcard` is an alias of `/storage/emulated/0`, as on a device.
    """

    ALIASES: ClassVar[dict[str, str]] = {"/sdcard": "/storage/emulated/0", "/mnt/sdcard": "/storage/emulated/0"}
    SKELETON = ("/data/local/tmp", "/storage/emulated/0/Download", "/system/bin", "/data/app",
                "/data/system", "/proc", "/dev")

    def __init__(self, root: Path) -> None:
        self.root = root

    def ensure_skeleton(self) -> None:
        for path in self.SKELETON:
            self.host_path(path).mkdir(parents=True, exist_ok=True)

    def normalise(self, path: str, cwd: str = "/") -> str:
        joined = PurePosixPath(cwd) / path
        parts: list[str] = []
        for part in joined.parts[1:]:
            if part == "..":
                if parts:
                    parts.pop()
            elif part not in (".", ""):
                parts.append(part)
        norm = "/" + "/".join(parts)
        for alias, target in self.ALIASES.items():
            if norm == alias or norm.startswith(alias + "/"):
                norm = target + norm[len(alias):]
        return norm

    def host_path(self, device_path: str, cwd: str = "/") -> Path:
        return self.root / self.normalise(device_path, cwd).lstrip("/")


# --------------------------------------------------------------------------------------------
# Logcat
# --------------------------------------------------------------------------------------------

LOG_PRIORITIES = "VDIWEF"


LOG_BUFFERS = ("main", "system", "radio", "events", "crash", "kernel")
CHATTER_SECONDS = 1.0  # an idle device's background logging (see LogBuffer.chatter)


@dataclass(frozen=True)
class LogEntry:
    wall_time: float  # device clock, seconds since the epoch
    pid: int
    tid: int
    priority: str  # one of V D I W E F
    tag: str
    message: str
    buffer: str = "main"  # one of LOG_BUFFERS


class LogBuffer:
    """The main log buffer: a bounded list plus waiters for `logcat` streaming."""

    def __init__(self, clock: Clock, capacity: int = 20000) -> None:
        self._clock = clock
        self._entries: list[LogEntry] = []
        self._capacity = capacity
        self._cond = threading.Condition()
        self._seq = 0  # total entries ever appended, so a streaming reader knows where it is

    def log(self, priority: str, tag: str, message: str, pid: int = 1000, buffer: str = "main") -> None:
        entry = LogEntry(self._clock.now(), pid, pid, priority, tag, message, buffer)
        with self._cond:
            self._entries.append(entry)
            self._seq += 1
            if len(self._entries) > self._capacity:
                del self._entries[: len(self._entries) - self._capacity]
            self._cond.notify_all()

    def i(self, tag: str, message: str) -> None:
        self.log("I", tag, message)

    def clear(self, buffers: tuple[str, ...] = LOG_BUFFERS) -> None:
        with self._cond:
            self._entries = [e for e in self._entries if e.buffer not in buffers]

    def chatter(self, running: threading.Event, interval: float = CHATTER_SECONDS) -> None:
        """An idle phone is never silent: system services log every second or so. Readers rely on
        it (adbutils' logcat reader only notices a stop between lines), so the device does too, with
        liblog's own rate-limit summary line, while `running` is set."""
        while running.is_set():
            time.sleep(interval)
            if running.is_set():
                self.log("I", "chatty", "uid=1000(system) Binder:526_2 expire 1 line", pid=526,
                         buffer="system")

    def snapshot(self) -> tuple[int, list[LogEntry]]:
        with self._cond:
            return self._seq, list(self._entries)

    def wait_after(self, seq: int, timeout: float) -> tuple[int, list[LogEntry]]:
        """Entries appended after sequence number `seq` (waits up to `timeout` for one)."""
        with self._cond:
            if self._seq == seq:
                self._cond.wait(timeout)
            new = self._seq - seq
            return self._seq, list(self._entries[-new:]) if new > 0 else []


# --------------------------------------------------------------------------------------------
# Clock
# --------------------------------------------------------------------------------------------

class Clock:
    """Device wall clock: host time plus an offset that `date` (as root) or the console moves."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def set(self, epoch_seconds: float) -> None:
        self.offset = epoch_seconds - time.time()


# --------------------------------------------------------------------------------------------
# Location and radio state, fed by the console and by `cmd location`
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fix:
    latitude: float
    longitude: float
    altitude: float = 0.0
    satellites: int = 0
    speed_knots: float = 0.0
    time: float = 0.0  # device clock
    mock: bool = False


@dataclass
class LocationState:
    last_fix: dict[str, Fix] = field(default_factory=dict)  # provider name -> last fix
    test_providers: dict[str, bool] = field(default_factory=dict)  # name -> enabled


@dataclass
class RadioState:
    """What the console's `gsm` and `network` commands change (registration, not the operator)."""

    voice: str = "home"  # unregistered|home|roaming|searching|denied|off|on
    data: str = "home"
    signal_rssi: int = 31
    signal_ber: int = 99
    network_speed: str = "full"
    network_delay: str = "none"


@dataclass
class BatteryState:
    """The emulated battery: set by the console's `power`, read by `dumpsys battery`."""

    ac: str = "online"  # online|offline
    status: str = "Charging"  # Unknown|Charging|Discharging|Not charging|Full
    health: str = "Good"  # Unknown|Good|Overheat|Dead|Overvoltage|Failure
    present: bool = True
    capacity: int = 100


# --------------------------------------------------------------------------------------------
# Packages and processes
# --------------------------------------------------------------------------------------------

@dataclass
class Package:
    """A package as PackageManager knows it; versions and SDK levels come from its manifest."""

    name: str
    apk_path: str
    version_code: int = 1
    system: bool = False
    version_name: str | None = "1.0"
    min_sdk: int = 21
    target_sdk: int = 31
    split_paths: list[str] = field(default_factory=list)  # install-multiple's split APKs
    installed_at: float = 0.0  # firstInstallTime / lastUpdateTime (device clock); 0 = the image's


@dataclass
class Process:
    pid: int
    name: str
    user: str
    stop: Callable[[], None] = lambda: None


class ProcessTable:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_pid = 2000
        self.procs: dict[int, Process] = {}

    def spawn(self, name: str, user: str = "shell", stop: Callable[[], None] = lambda: None) -> Process:
        with self._lock:
            self._next_pid += 1
            proc = Process(self._next_pid, name, user, stop)
            self.procs[proc.pid] = proc
            return proc

    def exit(self, pid: int) -> None:
        with self._lock:
            self.procs.pop(pid, None)

    def kill(self, pid: int) -> bool:
        with self._lock:
            proc = self.procs.pop(pid, None)
        if proc is None:
            return False
        proc.stop()
        return True

    def kill_all(self) -> None:
        for pid in list(self.procs):
            self.kill(pid)


# --------------------------------------------------------------------------------------------
# The firmware seam
# --------------------------------------------------------------------------------------------

class Firmware:
    """What a firmware can hook into. Every method has a harmless default.

    The built-in trivial firmware (home + settings screen) and the reference firmware in
    `emulators.virtual.firmware` both subclass this. Hooks are called without the device lock held.
    """

    name = "none"

    def attach(self, device: VirtualDevice) -> None:
        self.device = device

    def boot(self) -> None:
        """Called on every boot after props/settings are loaded. Must end with device.boot_done()."""
        self.device.boot_done()

    def shutdown(self) -> None:
        """Called before a reboot or exit."""

    def factory_reset(self) -> None:
        """Called after /data has been wiped and before the next boot."""

    def on_snapshot_loaded(self) -> None:
        """Called after a snapshot load restored /data, properties, location and radio.

        The default resumes by booting again on the restored state (volatile properties are kept).
        """
        self.boot()

    def snapshot_load_delay(self) -> float:
        """Seconds an `avd snapshot load` takes on this device (the timing profile's), 0 by default."""
        return 0.0

    def renew_identity(self) -> tuple[str, ...]:
        """Virtual-only (emulator README): give the device new IMEIs and serial; returns the IMEIs."""
        raise DeviceError("this firmware has no hardware identity to renew")

    def on_prop_changed(self, key: str, value: str) -> None: ...

    def on_setting_changed(self, ns: str, key: str, value: str | None) -> None: ...

    def on_broadcast(self, action: str, extras: dict[str, str]) -> None: ...

    def on_location(self, provider: str, fix: Fix) -> None: ...

    def on_radio_changed(self, radio: RadioState) -> None: ...

    def on_package_installed(self, package: Package) -> None: ...

    def system_packages(self) -> list[Package]:
        """The firmware's own apps (launcher, settings, wizard...), as the image's /system has them."""
        return []

    def am_start(self, component: str, extras: dict[str, str]) -> str | None:
        """Return None when handled, or an error text for `am start` to print."""
        return f"Error: Activity class {{{component}}} does not exist."

    def force_stop(self, package: str) -> None: ...

    def dumpsys(self, service: str, args: list[str]) -> str | None:
        """Text of `dumpsys SERVICE`, or None when this firmware has no such service."""
        return None

    def cmd(self, service: str, args: list[str]) -> tuple[str, int] | None:
        """Output and exit code of `cmd SERVICE ARGS` (location, phone, alarm...), or None."""
        return None

    def console_command(self, words: list[str]) -> str | None:
        """Extra console commands a firmware adds; None means not handled."""
        return None

    def ip_address(self) -> str:
        return "10.0.2.15"


# --------------------------------------------------------------------------------------------
# The device
# --------------------------------------------------------------------------------------------

@dataclass
class DeviceConfig:
    """How the instance was started (from the command line and the AVD's config.ini)."""

    console_port: int = 5554
    avd_name: str = "virtual"
    data_dir: Path = Path(".")
    avd_dir: Path | None = None  # the AVD folder (config.ini, modem_simulator/...), if any
    config_ini: dict[str, str] = field(default_factory=dict)
    boot_props: dict[str, str] = field(default_factory=dict)  # -prop k=v (stored as vendor.k)
    read_only: bool = False
    adb_secure: bool = False

    @property
    def adb_port(self) -> int:
        return self.console_port + 1

    @property
    def serial(self) -> str:
        return f"emulator-{self.console_port}"

    def knob(self, name: str, default: str = "") -> str:
        """A virtual-emulator knob: `-prop NAME=v` (seen as vendor.NAME) or config.ini `NAME=v`."""
        return self.boot_props.get(name, self.config_ini.get(name, default))


FRAMEWORK_SETTINGS = (
    ("system", "screen_brightness", "102"), ("system", "screen_brightness_mode", "0"),
    ("system", "accelerometer_rotation", "0"), ("system", "user_rotation", "0"),
    ("system", "screen_off_timeout", "60000"), ("global", "adb_enabled", "1"),
    ("global", "stay_on_while_plugged_in", "0"),
)


class VirtualDevice:
    """One virtual Android device. Shared by adbd, the console, the shell and the u2 server."""

    def __init__(self, config: DeviceConfig, firmware: Firmware) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.clock = Clock()
        self.fs = DeviceFS(config.data_dir / "fs")
        self.props = Props(config.data_dir / "persist-props.json", self._prop_changed)
        self.settings = Settings(config.data_dir / "settings.json", self._setting_changed)
        self.log = LogBuffer(self.clock)
        self._chatter: threading.Thread | None = None
        self.location = LocationState()
        self.radio = RadioState()
        self.battery = BatteryState()
        self.sensors = Sensors()
        self.processes = ProcessTable()
        self.packages: dict[str, Package] = {}
        self.root = False  # adbd runs as root after `adb root`
        self.booted = threading.Event()
        self.screens: list[Screen] = []  # the screen stack; last = on top (the firmware owns it)
        self.ui_changed = threading.Condition()
        # Device-side servers reachable through adb `tcp:PORT` / `localabstract:NAME`:
        # device port or name -> the host (address, port) the server really listens on.
        self.tcp_servers: dict[int | str, tuple[str, int]] = {}
        self.firmware = firmware
        self.on_reboot: list[Callable[[], None]] = []  # adbd drops its connections, etc.
        # The userland's hooks: its sandbox ends with the device; started apps run as processes.
        self.on_shutdown: list[Callable[[], None]] = []
        self.on_ui_change: list[Callable[[], None]] = []
        self.on_force_stop: list[Callable[[str], None]] = []
        firmware.attach(self)

    # --- lifecycle -----------------------------------------------------------------------
    def boot(self) -> None:
        with self.lock:
            self.booted.clear()
            self.fs.ensure_skeleton()
            self.props.clear_volatile()
            self.props.load_persistent()
            self.settings.load()
            self._settings_defaults()
            self._load_packages()
        for key, value in SYSTEM_PROPS.items():  # the image's build.prop; the firmware's come after
            self.props.set(key, value, notify=False)
        for key, value in self.config.boot_props.items():
            # goldfish renames boot properties to vendor.<name> (see shared/spoofing.md)
            self.props.set(f"vendor.{key}", value, notify=False)
        self.firmware.boot()

    def _settings_defaults(self) -> None:
        """SettingsProvider's defaults (frameworks/base defaults.xml) for keys nobody set yet;
        android_id is drawn once per data folder, so a wiped device gets a new one, as on Android 8+."""
        for ns, key, value in FRAMEWORK_SETTINGS:
            self.settings.put_default(ns, key, value)
        self.settings.put_default("secure", "android_id", os.urandom(8).hex())

    def boot_done(self) -> None:
        """The firmware calls this when the system is up: sys.boot_completed=1."""
        self.props.set("sys.boot_completed", "1")
        self.props.set("dev.bootcomplete", "1")
        self.booted.set()
        if self.config.knob("anr.at_boot"):
            self._show_anr(self.config.knob("anr.at_boot"))
        if self._chatter is None or not self._chatter.is_alive():
            self._chatter = threading.Thread(target=self.log.chatter, args=(self.booted,), daemon=True,
                                             name=f"log-chatter-{self.config.console_port}")
            self._chatter.start()

    def _show_anr(self, package: str) -> None:
        """A slow boot's "isn't responding" dialog over whatever is on screen (ui/anr.py)."""
        from emulators.virtual.ui.anr import anr_screen

        def dismiss() -> None:
            with self.lock:
                if dialog in self.screens:
                    self.screens.remove(dialog)
            self.notify_ui()

        dialog = anr_screen(package, dismiss)
        with self.lock:
            self.screens.append(dialog)
        self.log.log("E", "ActivityManager", f"ANR in {package}")
        self.notify_ui()

    def shutdown(self) -> None:
        self.firmware.shutdown()
        self.processes.kill_all()
        self.booted.clear()

    def stop(self) -> None:
        """The emulator exits: shut down, and end what runs for the device outside this process."""
        self.shutdown()
        for callback in list(self.on_shutdown):
            callback()

    def force_stop(self, package: str) -> None:
        """`am force-stop`: the firmware forgets the app, and its process ends."""
        self.firmware.force_stop(package)
        for callback in list(self.on_force_stop):
            callback(package)

    def reboot(self) -> None:
        """Drops adb connections, restarts the system, boots again (the console stays up)."""
        self.shutdown()
        self.root = False
        for callback in list(self.on_reboot):
            callback()
        self.boot()

    def wipe_data(self) -> None:
        import shutil

        with self.lock:
            for path in (self.fs.root, self.config.data_dir / "settings.json",
                         self.config.data_dir / "persist-props.json",
                         self.config.data_dir / "packages.json"):
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
            self.settings.reset()
            self.props.clear_volatile()
            self.props._values.clear()
            self.packages.clear()
        self.firmware.factory_reset()

    # --- packages ------------------------------------------------------------------------
    def install_package(self, package: Package) -> None:
        with self.lock:
            self.packages[package.name] = package
            self._save_packages()
        self.firmware.on_package_installed(package)

    def _load_packages(self) -> None:
        path = self.config.data_dir / "packages.json"
        if path.exists():
            self.packages.update({p["name"]: Package(**p) for p in json.loads(path.read_text())})

    def _save_packages(self) -> None:
        path = self.config.data_dir / "packages.json"
        user = [vars(p) for p in self.packages.values() if not p.system]
        path.write_text(json.dumps(user, indent=1))

    # --- UI --------------------------------------------------------------------------------
    def top_screen(self) -> Screen | None:
        with self.lock:
            return self.screens[-1] if self.screens else None

    def notify_ui(self) -> None:
        """Screens call this after any change, so waiters (waitForExists...) re-check."""
        with self.ui_changed:
            self.ui_changed.notify_all()
        for callback in list(self.on_ui_change):
            callback()

    def wait_ui(self, predicate: Callable[[], Any], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        with self.ui_changed:
            while True:
                result = predicate()
                left = deadline - time.monotonic()
                if result or left <= 0:
                    return result
                self.ui_changed.wait(min(left, 0.25))

    # --- hooks -----------------------------------------------------------------------------
    def _prop_changed(self, key: str, value: str) -> None:
        self.firmware.on_prop_changed(key, value)

    def _setting_changed(self, ns: str, key: str, value: str | None) -> None:
        self.firmware.on_setting_changed(ns, key, value)

    def set_fix(self, provider: str, fix: Fix) -> None:
        with self.lock:
            self.location.last_fix[provider] = fix
        self.firmware.on_location(provider, fix)

    def broadcast(self, action: str, extras: dict[str, str] | None = None) -> None:
        self.firmware.on_broadcast(action, extras or {})

    def radio_changed(self) -> None:
        self.firmware.on_radio_changed(self.radio)

    def iter_logs(self) -> Iterator[LogEntry]:
        return iter(self.log.snapshot()[1])


def env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false")


@dataclass
class ShellIO:
    """The streams a shell command runs with; adbd builds one per `shell:`/`exec:` stream.

    `stdout`/`stderr` raise BrokenPipeError once the client has closed the stream; long-running
    commands (logcat, sleep, the u2 server's app_process) also watch `closed` and return.
    With shell v1 (and pty), stderr goes to the same stream as stdout.
    """

    stdin: Callable[[int], bytes]  # read up to n bytes, b"" at end of input
    stdout: Callable[[bytes], None]
    stderr: Callable[[bytes], None]
    closed: threading.Event
    pty: bool = False
