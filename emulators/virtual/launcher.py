"""`virtual-emulator`: starts one virtual device with the SDK emulator's command line.

Theory of operation
-------------------
`parse_args` turns the SDK-style command line (single-dash options, `-prop k=v` repeated) into a
frozen `LaunchOptions`; it never touches the disk. `main` then resolves the AVD and the data
directory, binds the console port and the adb port *before* booting (so a taken port fails fast
with the SDK's message and nothing left running), boots the device, announces it to the adb server
at $ANDROID_ADB_SERVER_PORT and prints `INFO    | Boot completed in N ms`, the line scripts wait for.
SIGTERM, SIGINT and the console's `kill` all end in the same `Emulator.stop()`: adb and console
sockets closed, firmware shut down, read-only data discarded, exit code 0.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.virtual.avd import Avd, AvdError, avd_home, find_avd, list_avds
from emulators.virtual.console import ConsoleState
from emulators.virtual.console_server import ConsoleServer, PortInUse, bind_listener
from emulators.virtual.device import DeviceConfig, DeviceError, Firmware, VirtualDevice
from emulators.virtual.snapshots import SnapshotStore

log = logging.getLogger("emulator")

DEFAULT_PORT = 5554
BOOT_TIMEOUT = 600.0  # realistic timing boots in ~20 s; a hung firmware should not wait forever

# Options that take a value. Ours are listed with the SDK's; the ignored ones are accepted quietly
# because scripts written for the SDK emulator pass them.
VALUE_OPTIONS = {"-avd", "-port", "-snapshot", "-prop", "-change-locale", "-icc-profile", "-http-proxy",
                 "--data-dir", "-netspeed", "-netdelay", "-timezone"}
IGNORED_VALUE_OPTIONS = {"-gpu", "-memory", "-partition-size", "-skin", "-dns-server", "-camera-back",
                         "-camera-front", "-cores", "-accel", "-engine", "-sdcard", "-grpc", "-id",
                         "-feature", "-logcat", "-shell-serial", "-qemu-args", "-ramdisk", "-kernel",
                         "-system", "-data", "-cache", "-initdata", "-qt-hide-window", "-writable-system"}
FLAG_OPTIONS = {"-no-window", "-no-audio", "-no-boot-anim", "-wipe-data", "-read-only", "-no-snapshot",
                "-no-snapshot-save", "-no-snapshot-load", "-no-sim", "-list-avds", "-verbose",
                "-no-accel", "-no-metrics", "-show-kernel", "-no-cache", "-writable-system",
                "-no-passive-gps", "-delay-adb", "-quit-after-boot", "-debug-init", "-help", "--help"}


class UsageError(Exception):
    """A bad command line; the message is printed as `ERROR   | <message>`, exit code 1."""


@dataclass(frozen=True)
class LaunchOptions:
    avd: str | None = None
    port: int = DEFAULT_PORT
    data_dir: Path | None = None
    props: dict[str, str] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()
    snapshot: str | None = None
    change_locale: str | None = None
    icc_profile: str | None = None
    http_proxy: str | None = None
    netspeed: str | None = None
    netdelay: str | None = None
    timezone: str | None = None
    unknown: tuple[str, ...] = ()

    def has(self, flag: str) -> bool:
        return flag in self.flags

    @property
    def load_snapshot(self) -> bool:
        return self.snapshot is not None and not (self.has("-no-snapshot") or self.has("-no-snapshot-load"))

    @property
    def save_snapshot(self) -> bool:
        return (self.snapshot is not None and not self.has("-read-only")
                and not (self.has("-no-snapshot") or self.has("-no-snapshot-save")))


def parse_args(argv: Sequence[str]) -> LaunchOptions:
    """The SDK emulator's command line -> LaunchOptions (pure: no file or port is looked at)."""
    values: dict[str, Any] = {"props": {}, "flags": set(), "unknown": []}
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg.startswith("@") and len(arg) > 1:
            values["avd"] = arg[1:]
        elif arg in FLAG_OPTIONS:
            values["flags"].add(arg)
        elif arg in VALUE_OPTIONS or arg in IGNORED_VALUE_OPTIONS:
            if i >= len(args):
                raise UsageError(f"option {arg} needs an argument")
            _take_value(values, arg, args[i])
            i += 1
        elif arg == "-qemu":
            break  # everything after -qemu goes to QEMU: nothing for us
        else:
            values["unknown"].append(arg)
            if i < len(args) and not args[i].startswith("-"):
                i += 1  # an unknown option's value
    values["flags"] = frozenset(values["flags"])
    values["unknown"] = tuple(values["unknown"])
    return LaunchOptions(**values)


def _take_value(values: dict[str, Any], option: str, value: str) -> None:
    if option == "-prop":
        key, sep, prop_value = value.partition("=")
        if not sep or not key:
            raise UsageError(f"-prop needs key=value, got '{value}'")
        values["props"][key] = prop_value
    elif option == "-port":
        values["port"] = _port(value)
    elif option == "--data-dir":
        values["data_dir"] = Path(value)
    elif option in VALUE_OPTIONS:
        values[option.lstrip("-").replace("-", "_")] = value


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise UsageError(f"Invalid port number: {text}") from None
    if port % 2 or not 1024 <= port <= 65534:
        raise UsageError(f"Invalid port number: {port}. The console port must be an even number "
                         f"between 1024 and 65534")
    return port


# --------------------------------------------------------------------------------------------
# Building the device
# --------------------------------------------------------------------------------------------

def base_data_dir(options: LaunchOptions, avd: Avd | None) -> Path:
    """Where this instance keeps /data between runs."""
    if options.data_dir is not None:
        return options.data_dir
    if avd is not None:
        return avd.path / "virtual-data"
    return avd_home() / f"virtual-{options.port}.data"


def boot_props(options: LaunchOptions) -> dict[str, str]:
    props = dict(options.props)
    if options.has("-no-sim"):
        props["sim0.absent"] = "1"
    if options.icc_profile:
        props["icc_profile"] = options.icc_profile
    if options.http_proxy:
        props["http_proxy"] = options.http_proxy
    return props


def make_firmware(config: DeviceConfig) -> Firmware:
    """`firmware=builtin` -> the trivial one; `firmware=norvik` -> the Norvik family; otherwise the
    reference firmware, when it is installed."""
    from emulators.virtual.builtin import BuiltinFirmware

    family = config.knob("firmware", "reference")
    if family == "builtin":
        return BuiltinFirmware()
    if family == "norvik":
        from emulators.virtual.norvik import load_firmware as load_norvik

        return load_norvik(config)
    if family != "reference":
        raise DeviceError(f"firmware={family!r} is unknown (known: reference, norvik, builtin)")
    try:
        from emulators.virtual.firmware import load_firmware
    except ImportError:
        log.warning("reference firmware not available, running the built-in firmware")
        return BuiltinFirmware()
    firmware: Firmware = load_firmware(config)
    return firmware


def _adb_secure(config: DeviceConfig) -> bool:
    return config.knob("ro.adb.secure", "0") == "1"


class Emulator:
    """One running instance: device, console, adbd, announcer, and how to stop them all."""

    def __init__(self, options: LaunchOptions, avd: Avd | None) -> None:
        self.options = options
        self.stopping = threading.Event()
        self._stopped = False
        self.base_dir = base_data_dir(options, avd)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.temp_dir: Path | None = None
        data_dir = self.base_dir
        if options.has("-read-only"):
            # several instances of one AVD: each works on a throwaway copy of its data
            self.temp_dir = Path(tempfile.mkdtemp(prefix=f"virtual-emulator-{options.port}-"))
            data_dir = self.temp_dir / "data"
            shutil.copytree(self.base_dir, data_dir, symlinks=True)
        config = DeviceConfig(console_port=options.port, avd_name=avd.name if avd else "virtual",
                              data_dir=data_dir, avd_dir=avd.path if avd else None,
                              config_ini=dict(avd.config) if avd else {}, boot_props=boot_props(options),
                              read_only=options.has("-read-only"))
        config.adb_secure = _adb_secure(config)
        self.device = VirtualDevice(config, make_firmware(config))
        # as the SDK emulator keeps them: in the AVD's folder (`<avd>/snapshots/NAME`), else with the data
        self.snapshots = SnapshotStore(self.device, (avd.path if avd else data_dir) / "snapshots")
        self.console_state = ConsoleState(snapshots=self.snapshots, read_only=config.read_only)
        self.console = ConsoleServer(self.device, self.console_state, options.port, self.request_stop)
        self.adbd: Any = None
        self.announcer: Any = None

    # --- start -------------------------------------------------------------------------
    def start(self) -> float:
        """Binds both ports, boots, announces. Returns the boot time in seconds."""
        started = time.monotonic()
        self.console.bind()
        try:
            self._start_adbd()
        except BaseException:
            self.console.stop()
            raise
        self.console.start()
        self._prepare_data()
        self.device.boot()
        self._apply_runtime_options()
        if self.options.load_snapshot and self.snapshots.exists(self.options.snapshot or ""):
            self.snapshots.load(self.options.snapshot or "")
        self._start_announcer()
        return time.monotonic() - started

    def _start_adbd(self) -> None:
        port = self.options.port + 1
        try:
            from emulators.virtual import adbd
        except ImportError:
            # no adbd yet: still refuse a taken adb port, so the port pair is ours alone
            bind_listener(port, "ADB").close()
            log.warning("adbd is not available: the device is reachable through its console only")
            return
        self.adbd = adbd.Adbd(self.device, host="127.0.0.1", port=port)
        try:
            self.adbd.start()
        except (adbd.AdbPortInUse, OSError):
            self.adbd = None
            raise PortInUse("ADB", port) from None

    def _start_announcer(self) -> None:
        if self.adbd is None:
            return
        from emulators.virtual import adbd

        announcer_cls = getattr(adbd, "Announcer", None)
        if announcer_cls is None:
            return
        self.announcer = announcer_cls(self.adbd)  # server port from $ANDROID_ADB_SERVER_PORT
        self.announcer.start()

    def _prepare_data(self) -> None:
        if self.options.has("-wipe-data"):
            log.info("wiping user data")
            self.device.wipe_data()
        if self.options.change_locale:
            self.device.props.load_persistent()  # keep the other persist.* when writing the store
            self.device.props.set("persist.sys.locale", self.options.change_locale, notify=False)
        if self.options.timezone:
            self.device.props.load_persistent()
            self.device.props.set("persist.sys.timezone", self.options.timezone, notify=False)

    def _apply_runtime_options(self) -> None:
        if self.options.netspeed:
            self.device.radio.network_speed = self.options.netspeed
        if self.options.netdelay:
            self.device.radio.network_delay = self.options.netdelay

    def wait_booted(self) -> bool:
        """Waits for sys.boot_completed (or a stop request). True when booted."""
        deadline = time.monotonic() + BOOT_TIMEOUT
        while not self.stopping.is_set() and time.monotonic() < deadline:
            if self.device.booted.wait(0.1):
                return True
        return False

    # --- stop ----------------------------------------------------------------------------
    def request_stop(self) -> None:
        self.stopping.set()

    def stop(self) -> None:
        """Everything down, each step independent of the others' failures."""
        if self._stopped:
            return
        self._stopped = True
        steps = [("announcer", self.announcer), ("adbd", self.adbd)]
        for name, service in steps:
            if service is not None:
                _quietly(name, service.stop)
        _quietly("console", self.console.stop)
        if self.options.save_snapshot and self.device.booted.is_set():
            _quietly("snapshot save", lambda: self.snapshots.save(self.options.snapshot or ""))
        _quietly("device shutdown", self.device.stop)
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)


def _quietly(what: str, action: Any) -> None:
    try:
        action()
    except Exception as error:  # noqa: BLE001 - teardown keeps going when one part fails
        log.warning("%s failed while stopping: %s", what, error)


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------

class _EmulatorFormatter(logging.Formatter):
    """`INFO    | message`, the SDK emulator's log style."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname:<8}| {record.getMessage()}"


def setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_EmulatorFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--check-policy"]:
        return check_policy_command(argv[1:])
    try:
        options = parse_args(argv)
    except UsageError as error:
        setup_logging(False)
        log.error("%s", error)
        return 1
    setup_logging(options.has("-verbose"))
    if options.has("-help") or options.has("--help"):
        print(__doc__)
        return 0
    if options.has("-list-avds"):
        for name in list_avds():
            print(name)
        return 0
    for unknown in options.unknown:
        log.warning("unknown option: %s", unknown)
    code = run(options)
    _finish_threads()
    return code


def check_policy_command(args: Sequence[str]) -> int:
    """`virtual-emulator --check-policy NAME|PATH`: validate a region-lock policy without booting, so
    a test lab can refuse a bad `--policy` before it starts any device. Exit 0 and a summary, or 1
    and `ERROR   | <file>: <key>: <what is wrong>`."""
    from emulators.virtual.firmware.policy import PolicyError, check_policy

    setup_logging(False)
    if len(args) != 1:
        log.error("--check-policy takes one policy name or path")
        return 1
    try:
        policy = check_policy(args[0])
    except PolicyError as error:
        log.error("%s", error)
        return 1
    print(f"policy {policy.name}: ok (prohibited {', '.join(sorted(policy.prohibited_territories)) or 'nothing'}"
          f"{'; regions ' + ', '.join(sorted(policy.prohibited_regions)) if policy.prohibited_regions else ''})")
    return 0


def run(options: LaunchOptions) -> int:
    try:
        avd = find_avd(options.avd) if options.avd else None
        emulator = Emulator(options, avd)
    except (AvdError, DeviceError, OSError) as error:
        log.error("%s", error)
        return 1
    previous = _install_signal_handlers(emulator)
    try:
        return _run_started(emulator)
    finally:
        emulator.stop()
        _restore_signal_handlers(previous)
        log.info("Emulator stopped")
        logging.shutdown()


def _run_started(emulator: Emulator) -> int:
    try:
        boot_start = time.monotonic()
        emulator.start()
    except PortInUse as error:
        log.error("%s", error)
        return 1
    except Exception:  # a firmware that cannot boot: say why, then stop what did start
        log.exception("the device failed to start")
        return 1
    log.info("Console listening on port %d, ADB on port %d (serial %s)", emulator.options.port,
             emulator.options.port + 1, emulator.device.config.serial)
    if emulator.wait_booted():
        log.info("Boot completed in %d ms", (time.monotonic() - boot_start) * 1000)
        _flush()
    while not emulator.stopping.wait(0.2):
        pass
    return 0


def _install_signal_handlers(emulator: Emulator) -> dict[int, Any]:
    previous: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous  # signal handlers can only be installed from the main thread (tests)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        previous[signum] = signal.signal(signum, lambda *_: emulator.request_stop())
    return previous


def _restore_signal_handlers(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def _finish_threads(timeout: float = 3.0) -> None:
    """Exit cleanly even when a part left a non-daemon thread behind (after a grace period)."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is threading.current_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() and not t.daemon and t is not threading.current_thread()
           for t in threading.enumerate()):
        _flush()
        os._exit(0)


if __name__ == "__main__":
    sys.exit(main())


