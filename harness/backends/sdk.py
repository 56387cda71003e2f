"""The sdk backend: the Android SDK emulator, started on AVDs as `avdmanager` makes them.

Theory of operation
-------------------
Finding things: the SDK is `--sdk DIR`, else `$ANDROID_SDK_ROOT`, else `$ANDROID_HOME`; in it
`emulator/emulator` and `platform-tools/adb`. An AVD is `NAME.ini` (its `path=`, else `path.rel=`)
and `NAME.avd/config.ini` in the AVD home (`$ANDROID_AVD_HOME`, `$ANDROID_EMULATOR_HOME/avd`,
`~/.android/avd`). `--avd NAME` is the build under test; `--avd FIRMWARE=NAME` names the AVD a
scenario asking for that firmware boots (a scenario naming a firmware no AVD has is skipped).

Instances: every instance boots a *copy* of the AVD of its own (config and `modem_simulator/`, not
the disk images: `-wipe-data` rebuilds userdata from the system image), chosen over `-read-only`
because the SIM lives in the AVD's `modem_simulator/` files and must differ per instance (a shared
`numeric_operator.xml` cannot), the user's AVD is never written to, and a `-read-only` instance
refuses snapshot saves. Each instance runs on an even console port in 5554-5682 free at that moment
(adb on console+1; a port that is taken is never touched: another is picked and the start retried),
`-no-window -no-audio -no-boot-anim -no-snapshot -wipe-data`, `-no-sim`/`-http-proxy` where the
scenario says so, and announces itself to a private adb server (an OS-chosen port, never 5037,
passed as `ANDROID_ADB_SERVER_PORT`). HOME is a private folder holding the console token.

Readiness is more than `sys.boot_completed=1`: the boot animation stopped, the package manager
answering `pm path android`, a focused window (`dumpsys window`: the setup wizard or the launcher),
and no "isn't responding" dialog (dismissed with "Wait", as a tester would). A timeout names what
it was still waiting for.

Stopping: the console `kill`, then SIGTERM/SIGKILL to the process; the instance folder goes with
it. A `reset` is a new copy booted with `-wipe-data` (and the scenario's SIMs); a SIM change after
activation is a cold boot of the same copy with new ICC profiles (harness.simboot).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import adbutils

from harness.backends import health
from harness.backends.base import (
    ADB_SERVER_ENV,
    BackendError,
    BackendOptions,
    DeviceHandle,
    adb_client,
    build_facts,
    open_session,
)
from harness.backends.virtual import (
    DEFAULT_ADB_PORT,
    _install_sigterm,
    _is_zombie,
    _port_free,
    _tail,
    announce_emulator,
    free_port,
    spawn,
    stop_process,
    wait_for,
    write_console_token,
)
from harness.console import ConsoleClient
from harness.errors import CapabilityMissing, DeviceError, HarnessError
from harness.iccprofile import MODEM_DIR, write_modem_files
from harness.resets import IdentityReport
from harness.scenario.model import SimSpec
from harness.session import DeviceSession

CONSOLE_PORTS = range(5554, 5683, 2)  # the even console ports the SDK emulator accepts
BOOT_TIMEOUT = 300.0  # cold boots take 25 s to 3 min on CI
START_ATTEMPTS = 3
EMULATOR_FLAGS = ("-no-window", "-no-audio", "-no-boot-anim", "-no-snapshot")
# What a copy leaves out: disk state -wipe-data rebuilds, snapshots, and the running instance's locks.
NO_SIM_MARK = "no-sim"
NOT_COPIED = ("*.img", "*.qcow2", "*.lock", "snapshots", "virtual-data", "tmpAdbCmds")
_FOCUS = re.compile(r"mCurrentFocus=(?:Window\{\S+ \S+ (?P<window>[^}]*)\}|null)")
_ANR = re.compile(r"Application Not Responding|isn't responding|not responding", re.IGNORECASE)
_ANR_WAIT_ID = "android:id/aerr_wait"
ANR_DUMP = "/data/local/tmp/harness-anr.xml"


# --------------------------------------------------------------------------------------------
# Finding the SDK and the AVD (pure parts take their inputs; errors name what was tried)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sdk:
    root: Path

    @property
    def emulator(self) -> Path:
        return self.root / "emulator" / "emulator"

    @property
    def adb(self) -> Path:
        return self.root / "platform-tools" / "adb"


def find_sdk(explicit: str | None, env: Mapping[str, str]) -> Sdk:
    """`--sdk`, else ANDROID_SDK_ROOT, else ANDROID_HOME; with an emulator and adb inside."""
    tried = [(name, value) for name, value in (("--sdk", explicit), ("ANDROID_SDK_ROOT", env.get("ANDROID_SDK_ROOT")),
                                               ("ANDROID_HOME", env.get("ANDROID_HOME"))) if value]
    if not tried:
        raise BackendError("the sdk backend needs an Android SDK: pass --sdk DIR or set ANDROID_SDK_ROOT")
    source, root = tried[0]
    sdk = Sdk(Path(root).expanduser())
    for tool in (sdk.emulator, sdk.adb):
        if not os.access(tool, os.X_OK):
            raise BackendError(f"Android SDK {sdk.root} (from {source}) has no executable {tool.relative_to(sdk.root)}"
                               " (install the emulator and platform-tools packages with sdkmanager)")
    return sdk


def avd_home(env: Mapping[str, str], home: Path) -> Path:
    """Where AVDs live: ANDROID_AVD_HOME, else ANDROID_EMULATOR_HOME/avd, else ~/.android/avd."""
    if env.get("ANDROID_AVD_HOME"):
        return Path(env["ANDROID_AVD_HOME"])
    if env.get("ANDROID_EMULATOR_HOME"):
        return Path(env["ANDROID_EMULATOR_HOME"]) / "avd"
    return home / ".android" / "avd"


def parse_ini(text: str) -> dict[str, str]:
    """avdmanager's `key=value` lines (blank lines and `#` comments skipped; the last key wins)."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


@dataclass(frozen=True)
class Avd:
    name: str
    folder: Path  # NAME.avd
    config: dict[str, str]  # its config.ini
    target: str = ""  # NAME.ini `target=`, e.g. android-33

    @property
    def api_level(self) -> int | None:
        """From the system image (`image.sysdir.1=system-images/android-33/...`) or the target."""
        for text in (self.config.get("image.sysdir.1", ""), self.target):
            match = re.search(r"android-(\d+)", text)
            if match:
                return int(match.group(1))
        return None


def read_avd(name: str, home: Path) -> Avd:
    ini = home / f"{name}.ini"
    if not ini.is_file():
        known = sorted(p.stem for p in home.glob("*.ini")) if home.is_dir() else []
        raise BackendError(f"no AVD named {name!r} in {home} (AVDs there: {', '.join(known) or 'none'})")
    entry = parse_ini(ini.read_text(errors="replace"))
    folder = Path(entry["path"]) if entry.get("path") and Path(entry["path"]).is_dir() else \
        home.parent / entry["path.rel"] if entry.get("path.rel") else home / f"{name}.avd"
    config_file = folder / "config.ini"
    if not config_file.is_file():
        raise BackendError(f"AVD {name!r}: {config_file} (from {ini}) does not exist")
    return Avd(name, folder, parse_ini(config_file.read_text(errors="replace")), entry.get("target", ""))


def parse_avd_option(values: Collection[str]) -> dict[str | None, str]:
    """`--avd NAME` (the build under test) and `--avd FIRMWARE=NAME` -> {None: NAME, FIRMWARE: NAME}."""
    avds: dict[str | None, str] = {}
    for value in values:
        firmware, sep, name = value.rpartition("=")
        if not name or (sep and not firmware):
            raise ValueError(f"--avd wants NAME or FIRMWARE=NAME, got {value!r}")
        avds[firmware or None] = name
    return avds


# --------------------------------------------------------------------------------------------
# Ports, command line, readiness (pure)
# --------------------------------------------------------------------------------------------

def pick_console_port(is_free: Callable[[int], bool], taken: Collection[int] = ()) -> int:
    """The first even console port of the SDK's range with it and its adb port free and not ours yet."""
    for port in CONSOLE_PORTS:
        if port not in taken and is_free(port) and is_free(port + 1):
            return port
    raise BackendError(f"no free console port pair in {CONSOLE_PORTS.start}-{CONSOLE_PORTS.stop - 1} "
                       "(the SDK emulator accepts no other)")


def emulator_argv(sdk: Sdk, handle: DeviceHandle, *, wipe: bool, no_sim: bool) -> list[str]:
    argv = [str(sdk.emulator), "-avd", str(handle.avd), "-port", str(handle.console_port), *EMULATOR_FLAGS]
    if wipe:
        argv.append("-wipe-data")
    if no_sim:
        argv.append("-no-sim")
    if handle.http_proxy:
        argv += ["-http-proxy", handle.http_proxy]
    for key, value in sorted(handle.props.items()):
        argv += ["-prop", f"{key}={value}"]
    return argv


def focused_window(dumpsys_window: str) -> str | None:
    """`mCurrentFocus=Window{hash u0 COMPONENT}` -> COMPONENT; None when null or not printed."""
    match = _FOCUS.search(dumpsys_window)
    return match.group("window") if match and match.group("window") else None


def is_anr(window: str | None) -> bool:
    return bool(window and _ANR.search(window))


def wait_button(hierarchy_xml: str) -> tuple[int, int] | None:
    """The centre of an ANR dialog's "Wait" button in a uiautomator dump, if one is on screen."""
    try:
        root = ET.fromstring(hierarchy_xml)
    except ET.ParseError:
        return None
    for node in root.iter("node"):
        if node.get("resource-id") == _ANR_WAIT_ID or (node.get("text") == "Wait" and node.get("clickable") == "true"):
            numbers = [int(n) for n in re.findall(r"-?\d+", node.get("bounds", ""))]
            if len(numbers) == 4:
                return (numbers[0] + numbers[2]) // 2, (numbers[1] + numbers[3]) // 2
    return None


def still_waiting_for(props: Mapping[str, str], pm_answer: str, window: str | None) -> list[str]:
    """What readiness still lacks, in boot order (an empty list: ready)."""
    missing = []
    if props.get("sys.boot_completed") != "1":
        missing.append("sys.boot_completed=1")
    if props.get("init.svc.bootanim", "stopped") != "stopped":
        missing.append("init.svc.bootanim=stopped")
    if not pm_answer.startswith("package:"):
        missing.append("the package manager (pm path android)")
    if window is None:
        missing.append("a focused window (dumpsys window mCurrentFocus)")
    elif is_anr(window):
        missing.append(f"the dialog {window!r} to go")
    return missing


# --------------------------------------------------------------------------------------------
# One instance: its AVD copy, its process
# --------------------------------------------------------------------------------------------

def copy_avd(avd: Avd, instance_dir: Path) -> Path:
    """`instance_dir/avd/NAME.ini` + `NAME.avd/` (config and modem files); returns the AVD home."""
    home = instance_dir / "avd"
    folder = home / f"{avd.name}.avd"
    shutil.copytree(avd.folder, folder, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)
    lines = ["avd.ini.encoding=UTF-8", f"path={folder}", f"path.rel=avd/{avd.name}.avd"]
    if avd.target:
        lines.append(f"target={avd.target}")
    (home / f"{avd.name}.ini").write_text("\n".join(lines) + "\n")
    return home


class SdkEmulator:
    """A running SDK emulator instance (a child of this process)."""

    def __init__(self, sdk: Sdk, handle: DeviceHandle, *, wipe: bool, no_sim: bool) -> None:
        self.started = time.monotonic()
        self.sdk = sdk
        self.handle = handle
        self.dir = Path(str(handle.data_dir))
        self.log = self.dir / "emulator.log"
        self.proc = spawn(emulator_argv(sdk, handle, wipe=wipe, no_sim=no_sim), self.log, instance_env(sdk, handle))
        (self.dir / "emulator.pid").write_text(str(self.proc.pid))

    def wait_ready(self, timeout: float = BOOT_TIMEOUT) -> None:
        adb = adb_client(self.handle)
        session = DeviceSession(self.handle.serial, adb, None, None)
        deadline = time.monotonic() + timeout
        announced = False
        missing = ["the adb server to list the device"]
        while time.monotonic() < deadline:
            self._check_alive()
            if self._listed(adb):
                missing = readiness(session) if self._answers_itself() else [
                    f"its own console on port {self.handle.console_port} (another emulator holds it)"]
                if not missing:
                    return
            elif not announced and time.monotonic() > self.started + 5:  # ports outside adb's probe
                announce_emulator(self.handle.adb_server_port, int(self.handle.console_port or 0) + 1)
                announced = True
            time.sleep(0.2)
        raise BackendError(f"<Device|{self.handle.serial}> not ready after {timeout:.0f}s, still waiting for: "
                           f"{'; '.join(missing)}; last log lines ({self.log}):\n{_tail(self.log)}")

    def _answers_itself(self) -> bool:
        """The device listed under our serial is this process, not another lab's emulator that took
        the port first (this one then exits with 'port taken' and is started on another)."""
        return health.listens_on(self.proc.pid, int(self.handle.console_port or 0)) is not False

    def _check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise EmulatorExited(self.handle.serial, self.proc.returncode, _tail(self.log))

    def _listed(self, adb: adbutils.AdbClient) -> bool:
        try:
            return any(d.serial == self.handle.serial and d.state == "device" for d in adb.list())
        except Exception:  # noqa: BLE001 -- the adb server answers again in a moment
            return False


class EmulatorExited(BackendError):
    def __init__(self, serial: str, code: int | None, log_tail: str) -> None:
        self.log_tail = log_tail
        super().__init__(f"<Device|{serial}> the emulator exited with {code} during boot:\n{log_tail}")

    @property
    def port_taken(self) -> bool:
        return "already in use" in self.log_tail or "Address already in use" in self.log_tail


def readiness(session: DeviceSession) -> list[str]:
    """What this device still lacks to be ready; dismisses an ANR dialog with "Wait" on the way."""
    try:
        props = session.getprops()
        if props.get("sys.boot_completed") != "1":
            return still_waiting_for(props, "", None)
        pm_answer = session.shell(["pm", "path", "android"], timeout=10).text
        window = focused_window(session.shell(["dumpsys", "window"], timeout=10).output)
        if is_anr(window):
            dismiss_anr(session)
        return still_waiting_for(props, pm_answer, window)
    except DeviceError as exc:
        return [f"adb to answer ({exc})"]


def dismiss_anr(session: DeviceSession) -> None:
    """Tap "Wait" on a "System UI isn't responding" dialog (a slow cold boot, not a verdict)."""
    session.shell(["uiautomator", "dump", ANR_DUMP], timeout=20)
    dump = session.shell(["cat", ANR_DUMP], timeout=10).output
    point = wait_button(dump[dump.find("<"):] if "<" in dump else "")
    if point is not None:
        session.shell(["input", "tap", str(point[0]), str(point[1])], timeout=10)


def instance_env(sdk: Sdk, handle: DeviceHandle) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HOME=str(handle.home), ANDROID_EMULATOR_HOME=str(Path(str(handle.home)) / ".android"),
               ANDROID_AVD_HOME=str(Path(str(handle.data_dir)) / "avd"), ANDROID_SDK_ROOT=str(sdk.root),
               ANDROID_ADB_SERVER_PORT=str(handle.adb_server_port))
    env.pop("ANDROID_SERIAL", None)
    return env


def console_kill(handle: DeviceHandle) -> None:
    """The console's `kill` (the emulator shuts down cleanly); quiet when nothing answers."""
    token = Path(handle.console_token_path) if handle.console_token_path else None
    try:
        with ConsoleClient(int(handle.console_port or 0), token) as console:
            console.kill()
    except (HarnessError, OSError):
        pass


def stop_instance(handle: DeviceHandle, proc: subprocess.Popen[bytes] | None, grace: float = 10.0) -> None:
    """Console `kill`, then the process (ours, or one a sibling process started: by its pid file)."""
    console_kill(handle)
    if proc is not None:
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            stop_process(proc)
        return
    pid = _our_pid(Path(str(handle.data_dir)))
    if pid is not None:
        try:
            wait_for(lambda: _gone(pid), grace, f"pid {pid} to exit")
        except BackendError:
            os.kill(pid, signal.SIGKILL)


def _our_pid(instance_dir: Path) -> int | None:
    """The pid in the instance's pid file, if that process still runs with this instance's AVD home."""
    try:
        pid = int((instance_dir / "emulator.pid").read_text())
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if f"ANDROID_AVD_HOME={instance_dir / 'avd'}".encode() in environ else None


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists() or _is_zombie(pid)


# --------------------------------------------------------------------------------------------
# The backend
# --------------------------------------------------------------------------------------------

class SdkBackend:
    """Starts and owns SDK emulator instances; workers use it, without provisioning, to restart."""

    name = "sdk"
    boot_timeout = BOOT_TIMEOUT

    def __init__(self, options: BackendOptions) -> None:
        self.options = options
        self.avds = parse_avd_option(options.avd)
        self._work_dir: Path | None = None  # set in the process that provisions (and owns the lab)
        self.adb_server_port: int | None = None
        self._adb: Path | None = None
        self._procs: dict[str, tuple[DeviceHandle, subprocess.Popen[bytes]]] = {}
        self._lock = threading.Lock()
        self._torn_down = False
        atexit.register(self.teardown)

    @property
    def work_dir(self) -> Path | None:
        """The lab folder (instances, HOME, port claims) of the provisioning process."""
        return self._work_dir

    # --- Backend protocol ------------------------------------------------------------------
    def provision(self, count: int) -> list[DeviceHandle]:
        _install_sigterm()
        sdk = find_sdk(self.options.sdk, os.environ)
        avd = self.avd_for(None)
        try:
            self._work_dir = Path(tempfile.mkdtemp(prefix="harness-sdk-"))
            home = self._work_dir / "home"
            self._start_adb_server(sdk, home)
            base = DeviceHandle(serial="", kind="sdk", adb_server_port=int(self.adb_server_port or 0),
                                console_token_path=str(write_console_token(home)), home=str(home),
                                avd=avd.name, sdk_root=str(sdk.root),
                                props=dict(self.options.extra_props))
            return self._start_many(base, avd, count)
        except BaseException:
            self.teardown()
            raise

    def _start_many(self, base: DeviceHandle, avd: Avd, count: int) -> list[DeviceHandle]:
        """Spawn here (this thread outlives them), wait for all in parallel, respawn those whose port
        was taken meanwhile."""
        ready: dict[int, DeviceHandle] = {}
        todo = list(range(count))
        for attempt in range(START_ATTEMPTS):
            launched = {i: self.launch(base, avd, (), i, prefer_port=False) for i in todo}
            with ThreadPoolExecutor(max_workers=len(launched)) as pool:
                outcomes = dict(zip(launched, pool.map(_finish_or_error(self), launched.values()), strict=True))
            todo = []
            for i, outcome in outcomes.items():
                if isinstance(outcome, DeviceHandle):
                    ready[i] = outcome
                elif isinstance(outcome, EmulatorExited) and outcome.port_taken and attempt < START_ATTEMPTS - 1:
                    todo.append(i)
                else:
                    raise outcome
            if not todo:
                break
        return [ready[i] for i in range(count)]

    def teardown(self) -> None:
        """Stop what this process started; the provisioning process also stops what workers restarted,
        its adb server, and removes the lab folder."""
        with self._lock:
            if self._torn_down:
                return
            self._torn_down = True
        for handle, proc in list(self._procs.values()):
            stop_instance(handle, proc)
        self._procs.clear()
        work = self._work_dir
        if work is None:
            return
        for pidfile in work.glob("inst-*/emulator.pid"):
            stop_instance(_handle_of(pidfile.parent, work), None)
        if self.adb_server_port is not None and self._adb is not None:
            subprocess.run([str(self._adb), "-P", str(self.adb_server_port), "kill-server"], capture_output=True,
                           timeout=30, check=False,
                           env={**os.environ, "ANDROID_ADB_SERVER_PORT": str(self.adb_server_port)})
        shutil.rmtree(work, ignore_errors=True)

    def facts(self, handle: DeviceHandle) -> dict[str, str]:
        facts = build_facts(adb_client(handle).device(handle.serial).getprop)
        facts.update(backend="sdk", avd=str(handle.avd))
        return facts

    def device_ops(self, handle: DeviceHandle) -> SdkDeviceOps:
        return SdkDeviceOps(self, handle)

    # --- instances -------------------------------------------------------------------------
    def avd_for(self, firmware: str | None) -> Avd:
        """The AVD a scenario's firmware boots: `--avd FIRMWARE=NAME`, else the build under test."""
        name = self.avds.get(firmware) or (self.avds.get(None) if firmware in (None, "global") else None)
        if name is None:
            if None not in self.avds:
                raise BackendError("the sdk backend needs an AVD: pass --avd NAME")
            raise CapabilityMissing(f"firmware {firmware!r}", None,
                                    f"no AVD runs it (name one with --avd {firmware}=AVD_NAME)")
        return read_avd(name, avd_home(os.environ, Path.home()))

    def start(self, base: DeviceHandle, avd: Avd, sims: tuple[SimSpec, ...]) -> DeviceHandle:
        """A new instance of `avd` (a fresh copy, -wipe-data) with these SIMs, on a free console port
        (the one `base` had, when it still is); retried on another port when a port was taken."""
        for attempt in range(START_ATTEMPTS):
            try:
                return self.finish(self.launch(base, avd, sims, prefer_port=attempt == 0))
            except EmulatorExited as exc:
                if not exc.port_taken or attempt == START_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def launch(self, base: DeviceHandle, avd: Avd, sims: tuple[SimSpec, ...], index: int = 0,
               prefer_port: bool = True) -> SdkEmulator:
        """Claim a port, copy the AVD, write the SIMs, spawn. Call from a thread that outlives the
        emulator: PR_SET_PDEATHSIG fires when the spawning *thread* ends."""
        work = Path(str(base.data_dir)).parent if base.data_dir else self._require_work_dir()
        port = claim_port(work, base.console_port if prefer_port else None)
        generation = base.generation + 1
        instance = work / f"inst-{port}-g{generation}-{index}"
        shutil.rmtree(instance, ignore_errors=True)
        handle = replace(base, serial=f"emulator-{port}", console_port=port, data_dir=str(instance),
                         avd=avd.name, generation=generation)
        copy_avd(avd, instance)
        written = write_modem_files(modem_folder(handle), sims) if sims else None
        set_no_sim(instance, written is not None and written.no_sim)
        return self._spawn(handle, wipe=True)

    def finish(self, emulator: SdkEmulator) -> DeviceHandle:
        """Wait until `emulator` is ready; a failed instance is stopped and forgotten."""
        try:
            emulator.wait_ready(self.boot_timeout)
        except BaseException:
            self._procs.pop(emulator.handle.serial, None)
            stop_instance(emulator.handle, emulator.proc, grace=5.0)
            self.release(emulator.handle)
            raise
        return emulator.handle

    def reboot(self, handle: DeviceHandle, sims: tuple[SimSpec, ...]) -> DeviceHandle:
        """Power off, change these SIMs in the instance's modem files, cold boot the same copy."""
        self.stop(handle)
        written = write_modem_files(modem_folder(handle), sims)
        if any(sim.slot == 0 for sim in sims):
            set_no_sim(Path(str(handle.data_dir)), written.no_sim)
        emulator = self._spawn(handle, wipe=False)
        try:
            emulator.wait_ready(self.boot_timeout)
        except BaseException:
            self._procs.pop(handle.serial, None)
            stop_instance(handle, emulator.proc, grace=5.0)
            raise
        return handle

    def stop(self, handle: DeviceHandle) -> None:
        _, proc = self._procs.pop(handle.serial, (handle, None))
        stop_instance(handle, proc)
        wait_for(lambda: _port_free(int(handle.console_port or 0)), 15, f"{handle.serial} console port to close")

    def release(self, handle: DeviceHandle) -> None:
        """Forget a stopped instance: its folder and its port claim."""
        shutil.rmtree(str(handle.data_dir), ignore_errors=True)
        with contextlib.suppress(OSError):
            (Path(str(handle.data_dir)).parent / "ports" / str(handle.console_port)).rmdir()

    def _spawn(self, handle: DeviceHandle, *, wipe: bool) -> SdkEmulator:
        no_sim = (Path(str(handle.data_dir)) / NO_SIM_MARK).is_file()
        emulator = SdkEmulator(Sdk(Path(str(handle.sdk_root))), handle, wipe=wipe, no_sim=no_sim)
        self._procs[handle.serial] = (handle, emulator.proc)
        return emulator

    def _require_work_dir(self) -> Path:
        if self._work_dir is None:
            raise BackendError("the sdk backend has no work folder: provision() first")
        return self._work_dir

    def _start_adb_server(self, sdk: Sdk, home: Path) -> None:
        port = free_port()
        while port == DEFAULT_ADB_PORT:
            port = free_port()
        home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **ADB_SERVER_ENV, "ANDROID_ADB_SERVER_PORT": str(port), "HOME": str(home)}
        result = subprocess.run([str(sdk.adb), "-P", str(port), "start-server"], env=env, capture_output=True,
                                text=True, timeout=60, check=False)
        if result.returncode != 0:
            raise BackendError(f"{sdk.adb} -P {port} start-server failed: {result.stderr.strip()}")
        self.adb_server_port, self._adb = port, sdk.adb


def _finish_or_error(backend: SdkBackend) -> Callable[[SdkEmulator], DeviceHandle | BaseException]:
    def finish(emulator: SdkEmulator) -> DeviceHandle | BaseException:
        try:
            return backend.finish(emulator)
        except Exception as exc:  # noqa: BLE001 -- handed back to the provisioning thread, which raises it
            return exc
    return finish


def _handle_of(instance: Path, work: Path) -> DeviceHandle:
    """Enough of a handle to stop an instance found on disk (teardown)."""
    port = int(instance.name.split("-")[1])
    return DeviceHandle(serial=f"emulator-{port}", kind="sdk", console_port=port, data_dir=str(instance),
                        console_token_path=str(work / "home" / ".emulator_console_auth_token"))


def modem_folder(handle: DeviceHandle) -> Path:
    return Path(str(handle.data_dir)) / "avd" / f"{handle.avd}.avd" / MODEM_DIR


def set_no_sim(instance: Path, no_sim: bool) -> None:
    """Remember that slot 0 is empty (`-no-sim` at every boot of this instance) until a card goes in."""
    mark = instance / NO_SIM_MARK
    if no_sim:
        mark.touch()
    else:
        mark.unlink(missing_ok=True)


def claim_port(work: Path, preferred: int | None = None) -> int:
    """A console port free now and claimed for this lab across processes (an atomic mkdir per port)."""
    claims = work / "ports"
    claims.mkdir(parents=True, exist_ok=True)
    if preferred is not None and (claims / str(preferred)).exists() and _port_free(preferred) \
            and _port_free(preferred + 1):
        return preferred  # already ours (a reset keeps its serial)
    while True:
        taken = {int(p.name) for p in claims.iterdir() if p.name.isdigit()}
        port = pick_console_port(_port_free, taken)
        try:
            (claims / str(port)).mkdir()
        except FileExistsError:
            continue  # a sibling worker claimed it between our look and our claim
        return port


class SdkDeviceOps:
    """DeviceOps on an SDK emulator: resets are new AVD copies; SIMs are ICC profiles at boot."""

    def __init__(self, backend: SdkBackend, handle: DeviceHandle) -> None:
        self.backend = backend
        self.handle = handle
        self._session: DeviceSession | None = None
        self.on_restart: list[Callable[[DeviceHandle], None]] = []

    def current_session(self) -> DeviceSession:
        if self._session is None:
            self._session = open_session(self.handle)
        return self._session

    def fresh_device(self, session: DeviceSession, firmware: str | None, profile: str | None,
                     slots: int) -> DeviceSession:
        return self.fresh_device_with_sims(session, firmware, profile, slots, ())

    def fresh_device_with_sims(self, session: DeviceSession, firmware: str | None, profile: str | None,
                               slots: int, sims: tuple[SimSpec, ...],
                               http_proxy: str | None = None) -> DeviceSession:
        avd = self.backend.avd_for(firmware)
        self._check_hardware(avd, profile, slots)
        self._close(session)
        self.backend.stop(self.handle)
        self.backend.release(self.handle)
        claim = Path(str(self.handle.data_dir)).parent / "ports" / str(self.handle.console_port)
        claim.mkdir(parents=True, exist_ok=True)  # keep the serial across the reset when the port allows
        return self._now(self.backend.start(replace(self.handle, http_proxy=http_proxy), avd, sims))

    def boot_http_proxy(self) -> str | None:
        return self.handle.http_proxy

    def reboot_with_sims(self, session: DeviceSession, sims: tuple[SimSpec, ...]) -> DeviceSession:
        self._close(session)
        return self._now(self.backend.reboot(self.handle, sims))

    def renew_identity(self, session: DeviceSession) -> IdentityReport:
        """An SDK emulator cannot change its identity after a load: the console has no command for
        it, and the IMEI, serial and Android ID are the ones the snapshot saved (those a cold boot
        of this AVD copy gave it)."""
        return IdentityReport(False, "kept: an SDK emulator's IMEI, serial and Android ID after a snapshot load "
                                     "are those saved in the snapshot (the console cannot change them)")

    def sim_profile_supported(self) -> bool:
        """API 31+ images read the SIM from the modem simulator's ICC profile; older ones have a fixed one."""
        try:
            api = read_avd(str(self.handle.avd), Path(str(self.handle.data_dir)) / "avd").api_level
        except BackendError:
            return False
        return api is None or api >= 31

    def capabilities(self) -> frozenset[str]:
        """A reset is a new AVD copy booted with -wipe-data; two slots where the image has a second SIM."""
        has = {"new-identity"}
        if (self.backend.avd_for(None).folder / MODEM_DIR / "iccprofile_for_sim1.xml").is_file():
            has.add("dual-sim")
        return frozenset(has)

    def proxy_for_country(self, country: str | None) -> str | None:
        """Only what the lab configured (`--exit-proxy CC=host:port`)."""
        return None if country is None else self.backend.options.exit_proxy(country)

    def _check_hardware(self, avd: Avd, profile: str | None, slots: int) -> None:
        if profile:
            raise CapabilityMissing(f"device profile {profile!r}", self.handle.serial,
                                    f"an SDK emulator is the hardware its AVD {avd.name!r} describes")
        if slots > 1 and not any(avd.folder.glob(f"{MODEM_DIR}/iccprofile_for_sim1.xml")):
            raise CapabilityMissing(f"{slots} SIM slots", self.handle.serial,
                                    f"AVD {avd.name!r} has one SIM slot (no {MODEM_DIR}/iccprofile_for_sim1.xml)")

    def _close(self, session: DeviceSession | None) -> None:
        if session is not None:
            session.close()
        self._session = None

    def _now(self, handle: DeviceHandle) -> DeviceSession:
        self.handle = handle
        for callback in self.on_restart:
            callback(handle)
        return self.current_session()
