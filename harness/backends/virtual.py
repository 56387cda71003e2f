"""The virtual backend: a private adb server, one activation server and N virtual emulators.

Theory of operation
-------------------
Everything runs on ports the OS picks, so several runs (and several engineers) share a machine:
- the adb server comes from the adbutils wheel, started with `adb -P P start-server` (and
  ADB_SERVER_ENV: without it a container's server waits 3 s for a USB scan); emulators get
  `ANDROID_ADB_SERVER_PORT=P` so they announce themselves to it (and we announce them ourselves
  with `host:emulator:<adb port>` if they have not after boot, as the SDK emulator would);
- console ports are free even ports N with N+1 free, outside 5554-5585 so no adb server's default
  probe ever adopts them, and outside the kernel's ephemeral range: a reset stops the emulator and
  starts the next one on the same port, and in that window any connect() on the machine may be given
  N as its local port (Linux hands connect() even ports, bind(0) odd ones), which would keep the
  device from ever coming back;
- the console token lives in a private HOME we create (and pre-fill, so concurrent first starts
  cannot race to write different tokens).

Processes are children of whoever started them, with PR_SET_PDEATHSIG so they die with their parent
even on SIGKILL; `teardown()` stops them (and the adb server) on session end, `atexit` and SIGTERM.
Each emulator's pid is written next to its data so a controller can also stop the ones a worker
restarted. A restart (`reset` step) never reuses a data dir: a new dir is a new hardware identity.
"""

from __future__ import annotations

import atexit
import base64
import ctypes
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from harness.backends.exitproxy import ExitProxyPool
from harness.errors import DeviceUnreplaceable, ServiceDown
from harness.resets import IdentityReport
from harness.scenario.model import SimSpec
from harness.session import poll

if TYPE_CHECKING:  # pragma: no cover
    from harness.session import DeviceSession

ONLINE_LINE = "Console listening on port"  # printed once console and adbd listen, before the boot ends
READY_LINE = "Boot completed"
BOOT_TIMEOUT = 90.0
RESERVED_CONSOLE_PORTS = range(5554, 5586)
DEFAULT_ADB_PORT = 5037  # never touched: a developer's own adb server
CONSOLE_PORT_FLOOR = 20000  # below it sit the fixed ports of common services (5432, 6379, 8080...)
LOCAL_PORT_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"
TOKEN_NAME = ".emulator_console_auth_token"
ACTIVATION_PIDFILE = "activation-server.pid"
JOURNAL_NAME = "lab-restarts.log"
DEVICE_PROBE_TIMEOUT = 5.0  # a device that cannot run `echo` within this is dead or stopped


# --------------------------------------------------------------------------------------------
# Ports and processes (small, pure-ish helpers)
# --------------------------------------------------------------------------------------------

def _port_free(port: int) -> bool:
    """Bindable as a listener would bind it (SO_REUSEADDR: TIME_WAIT leftovers do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ephemeral_ports() -> range:
    """The ports the kernel gives connect() and bind(0) (Linux: net.ipv4.ip_local_port_range)."""
    try:
        low, high = (int(v) for v in Path(LOCAL_PORT_RANGE).read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 65535  # Linux's default start, up to the BSDs' 49152-65535
    return range(low, high + 1)


def console_port_candidates(ephemeral: range) -> range | list[int]:
    """Even ports N (N and N+1 outside `ephemeral` and the adb probe range), above the ports fixed
    services usually take; the whole unprivileged range when that leaves nothing."""
    avoid = {*RESERVED_CONSOLE_PORTS, DEFAULT_ADB_PORT}

    def usable(floor: int) -> list[int]:
        return [p for p in range(floor, 65534, 2)
                if p not in avoid and p + 1 not in avoid and p not in ephemeral and p + 1 not in ephemeral]

    return usable(CONSOLE_PORT_FLOOR) or usable(1024)


def free_console_port(taken: set[int] = frozenset(), attempts: int = 200) -> int:  # type: ignore[assignment]
    """An even port N with N and N+1 free, outside the adb server's emulator probe range and outside
    the ephemeral range (see the module docstring: a restart must find its port still free)."""
    candidates = console_port_candidates(ephemeral_ports())
    if not candidates:
        raise BackendError(f"no console port pair outside the ephemeral port range {LOCAL_PORT_RANGE}; "
                           "narrow it (sysctl net.ipv4.ip_local_port_range)")
    for _ in range(attempts):
        port = random.choice(candidates)
        if port in taken or port + 1 in taken:
            continue
        if _port_free(port) and _port_free(port + 1):
            return port
    raise BackendError(f"no free even console port pair found in {attempts} attempts")


def tool_path(name: str) -> str:
    """A console script of this venv (next to sys.executable), falling back to PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise BackendError(f"{name!r} not found next to {sys.executable} or on PATH: run scripts/setup.sh")
    return found


def _die_with_parent() -> None:
    """preexec_fn: SIGTERM this child when the process that started it dies (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def spawn(argv: list[str], log: Path, env: dict[str, str], *, with_parent: bool = True) -> subprocess.Popen[bytes]:
    """Start a service. `with_parent=False`: it outlives this process (a shared service one worker
    restarted for all); whoever tears the run down stops it by its pidfile."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        preexec = _die_with_parent if sys.platform.startswith("linux") and with_parent else None
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, preexec_fn=preexec,  # noqa: PLW1509 -- only prctl, async-signal-safe
                                start_new_session=not with_parent)


def stop_process(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(grace)


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    result = poll(condition, timeout, interval)
    if not result:
        raise BackendError(f"timed out after {timeout:.0f}s waiting for {what}")
    return result


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def write_console_token(home: Path) -> Path:
    """The token file the emulator console checks (16 base64 chars, 0600), created once."""
    path = home / TOKEN_NAME
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(base64.b64encode(os.urandom(12)).decode())
        path.chmod(0o600)
    return path


def announce_emulator(adb_server_port: int, device_adb_port: int) -> None:
    """Tell the adb server about an emulator, as the SDK emulator does at boot (no reply)."""
    payload = f"host:emulator:{device_adb_port}".encode()
    with socket.create_connection(("127.0.0.1", adb_server_port), timeout=5) as sock:
        sock.sendall(b"%04x" % len(payload) + payload)


# --------------------------------------------------------------------------------------------
# One emulator
# --------------------------------------------------------------------------------------------

def emulator_argv(handle: DeviceHandle) -> list[str]:
    argv = [tool_path("virtual-emulator"), "-port", str(handle.console_port), "-no-window", "-no-audio",
            "--data-dir", str(handle.data_dir)]
    if handle.avd:
        argv += ["-avd", handle.avd]
    if handle.http_proxy:
        argv += ["-http-proxy", handle.http_proxy]
    for key, value in sorted(handle.props.items()):
        argv += ["-prop", f"{key}={value}"]
    return argv


def emulator_env(handle: DeviceHandle) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HOME=str(handle.home), ANDROID_EMULATOR_HOME=str(handle.home),
               ANDROID_AVD_HOME=str(Path(str(handle.home)) / "avd"),
               ANDROID_ADB_SERVER_PORT=str(handle.adb_server_port))
    return env


class EmulatorProcess:
    """A running `virtual-emulator`; knows how to wait for it and stop it."""

    def __init__(self, handle: DeviceHandle) -> None:
        self.handle = handle
        self.data_dir = Path(str(handle.data_dir))
        self.log = self.data_dir.with_name(self.data_dir.name + ".log")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = spawn(emulator_argv(handle), self.log, emulator_env(handle))
        (self.data_dir / "emulator.pid").write_text(str(self.proc.pid))

    def wait_online(self, timeout: float = BOOT_TIMEOUT) -> None:
        """Its console and adbd listen and the adb server lists it; its boot may still be running."""
        wait_for(lambda: self._logged(ONLINE_LINE), timeout, f"{self.handle.serial} to print {ONLINE_LINE!r}")
        if not wait_for_listed(adb_client(self.handle), self.handle.serial, 5.0):
            announce_emulator(self.handle.adb_server_port, int(self.handle.console_port or 0) + 1)

    def wait_ready(self, timeout: float = BOOT_TIMEOUT) -> None:
        self.wait_online(timeout)
        wait_for(lambda: self._logged(READY_LINE), timeout, f"{self.handle.serial} to print {READY_LINE!r}")
        adb = adb_client(self.handle)
        wait_for(lambda: _boot_completed(adb, self.handle.serial), timeout,
                 f"{self.handle.serial} to report sys.boot_completed=1 over adb")

    def _logged(self, line: str) -> bool:
        if self.proc.poll() is not None:
            raise BackendError(f"virtual emulator {self.handle.serial} exited with {self.proc.returncode} "
                               f"during boot; last log lines ({self.log}):\n{_tail(self.log)}")
        try:
            return line in self.log.read_text(errors="replace")
        except OSError:
            return False

    def stop(self) -> None:
        stop_process(self.proc)


def wait_for_listed(adb: Any, serial: str, timeout: float) -> bool:
    try:
        wait_for(lambda: serial in {d.serial for d in adb.device_list()}, timeout, serial)
    except BackendError:
        return False
    return True


def _boot_completed(adb: Any, serial: str) -> bool:
    try:
        return bool(adb.device(serial).getprop("sys.boot_completed") == "1")
    except Exception:  # noqa: BLE001 -- not listed yet, offline, connection reset while it boots
        return False


def stop_by_pidfile(data_dir: Path) -> None:
    """Stop an emulator a sibling process started (its pid sits in its data dir)."""
    stop_pid(data_dir / "emulator.pid", (b"virtual-emulator", str(data_dir).encode()))


def stop_pid(pidfile: Path, marks: tuple[bytes, ...], grace: float = 5.0) -> None:
    """SIGTERM the process named in `pidfile` if its command line has every mark (a reused pid is
    someone else's), SIGKILL it after `grace` (a stopped process never handles SIGTERM)."""
    pid = health.pid_from_file(pidfile)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes() if pid else b""
    except OSError:
        return
    if pid is None or not all(mark in cmdline for mark in marks):
        return
    for sig in (signal.SIGTERM, signal.SIGCONT):
        os.kill(pid, sig)
    try:
        wait_for(lambda: not Path(f"/proc/{pid}").exists() or _is_zombie(pid), grace, f"pid {pid} to exit")
    except BackendError:
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not Path(f"/proc/{pid}").exists() or _is_zombie(pid), grace, f"pid {pid} to die")


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return True


# --------------------------------------------------------------------------------------------
# The fleet
# --------------------------------------------------------------------------------------------

class VirtualBackend:
    """Starts and owns the virtual lab. Also used, without provisioning, by workers to restart."""

    name = "virtual"

    def __init__(self, options: BackendOptions) -> None:
        self.options = options
        self._own_workdir = False
        self._work_dir: Path | None = options.work_dir
        self.adb_server_port: int | None = None
        self.activation_url: str | None = None
        self._activation: subprocess.Popen[bytes] | None = None
        self._emulators: dict[str, EmulatorProcess] = {}
        self._lock = threading.Lock()
        self._torn_down = False
        # stand-in country exits for the `ip` step, started on first use in whichever process
        # runs scenarios (a worker under xdist) and stopped by that process's teardown
        self.exit_proxies = ExitProxyPool()
        atexit.register(self.teardown)

    @property
    def work_dir(self) -> Path:
        """Created at first use, so a worker that only restarts devices never makes one."""
        if self._work_dir is None:
            self._work_dir = Path(tempfile.mkdtemp(prefix="harness-virtual-"))
            self._own_workdir = True
        self._work_dir.mkdir(parents=True, exist_ok=True)
        return self._work_dir

    # --- Backend protocol ------------------------------------------------------------------
    def provision(self, count: int) -> list[DeviceHandle]:
        _install_sigterm()
        try:
            self._start_adb_server()
            self._start_activation_server()
            handles = [self._new_handle(i) for i in range(count)]
            started = [EmulatorProcess(h) for h in handles]
            for emu in started:
                self._emulators[emu.handle.serial] = emu
            # without await_boot the first boots go on while the workers start: a scenario's first
            # reset replaces that instance anyway, and the runner waits for it where it needs it
            with ThreadPoolExecutor(max_workers=max(1, count)) as pool:
                list(pool.map(lambda e: e.wait_ready() if self.options.await_boot else e.wait_online(), started))
            return handles
        except BaseException:
            self.teardown()
            raise

    def teardown(self) -> None:
        with self._lock:
            if self._torn_down:
                return
            self._torn_down = True
        self.exit_proxies.stop_all()
        for emu in list(self._emulators.values()):
            emu.stop()
        if self.adb_server_port is not None and self._work_dir is not None:
            # the provisioner also stops what workers restarted (normally gone with them already)
            for pidfile in self._work_dir.glob("*/emulator.pid"):
                stop_by_pidfile(pidfile.parent)
        if self._activation is not None:
            stop_process(self._activation)
        if self._work_dir is not None:  # a worker may have restarted it after it died
            stop_pid(self._work_dir / ACTIVATION_PIDFILE, (b"activation-server", str(self._work_dir).encode()))
        if self.adb_server_port is not None:
            _kill_adb_server(self.adb_server_port)
        if self._own_workdir and self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)

    def facts(self, handle: DeviceHandle) -> dict[str, str]:
        facts = build_facts(adb_client(handle).device(handle.serial).getprop)
        facts.update(backend="virtual", policy=str(handle.firmware))
        return facts

    def device_ops(self, handle: DeviceHandle) -> VirtualDeviceOps:
        return VirtualDeviceOps(self, handle)

    # --- restarts --------------------------------------------------------------------------
    def restart(self, handle: DeviceHandle, fresh: bool = True, props: dict[str, str] | None = None,
                sims: tuple[SimSpec, ...] | None = None) -> DeviceHandle:
        """Stop the device and start it again; `fresh` = new data dir = new hardware identity.

        `sims`: cards to put in the modem before it boots (a per-device AVD holds their ICC
        profiles); a fresh device without them boots with the image's built-in SIM.
        """
        old = self._emulators.pop(handle.serial, None)
        if old is not None:
            old.stop()
        else:
            stop_by_pidfile(Path(str(handle.data_dir)))
        wait_for(lambda: _port_free(int(handle.console_port or 0)), 10, f"{handle.serial} console port to close")
        new = replace(handle, props={**handle.props, **(props or {})})
        if fresh:
            new = replace(new, generation=handle.generation + 1,
                          data_dir=str(Path(str(handle.data_dir)).parent
                                       / f"dev-{handle.console_port}-g{handle.generation + 1}"))
        if fresh:
            new = replace(new, avd=None, props={k: v for k, v in new.props.items() if k != "sim0.absent"})
        if sims:
            new = _with_modem_files(new, sims)
        emu = EmulatorProcess(new)
        self._emulators[new.serial] = emu
        emu.wait_ready()
        if fresh and handle.data_dir and handle.data_dir != new.data_dir:
            shutil.rmtree(str(handle.data_dir), ignore_errors=True)
            shutil.rmtree(str(handle.data_dir) + ".avd", ignore_errors=True)
            if handle.avd:
                (Path(str(handle.home)) / "avd" / f"{handle.avd}.ini").unlink(missing_ok=True)
        return new

    # --- the shared services ---------------------------------------------------------------
    def _new_handle(self, index: int) -> DeviceHandle:
        taken = {int(str(e.handle.console_port)) for e in self._emulators.values()}
        port = free_console_port(taken)
        home = self.work_dir / "home"
        props = {"activation.url": str(self.activation_url), "timing": "fast"}
        if self.options.policy:
            props["regionlock.policy"] = self.options.policy
        props.update(dict(self.options.extra_props))
        firmware = props.get("regionlock.policy", "global")
        return DeviceHandle(
            serial=f"emulator-{port}", kind="virtual", adb_server_port=int(self.adb_server_port or 0),
            console_port=port, console_token_path=str(write_console_token(home)),
            data_dir=str(self.work_dir / f"dev-{port}-g0"), home=str(home),
            activation_url=self.activation_url, props=props, firmware=firmware)

    def _start_adb_server(self) -> None:
        port = free_port()
        start_adb_server(port)
        self.adb_server_port = port

    def _start_activation_server(self) -> None:
        log = self.work_dir / "activation-server.log"
        self._activation = spawn(activation_argv(self.work_dir, 0), log, dict(os.environ))
        (self.work_dir / ACTIVATION_PIDFILE).write_text(str(self._activation.pid))
        self.activation_url = wait_for(lambda: self._activation_url(log), 30, "the activation server's URL")

    def _activation_url(self, log: Path) -> str | None:
        assert self._activation is not None
        if self._activation.poll() is not None:
            raise BackendError(f"activation-server exited with {self._activation.returncode}:\n{_tail(log)}")
        match = re.search(r"https?://[\w.\-]+:\d+", log.read_text(errors="replace")) if log.exists() else None
        return match.group(0) if match else None


def _with_modem_files(handle: DeviceHandle, sims: tuple[SimSpec, ...]) -> DeviceHandle:
    """The device's own AVD (next to its data dir) with these SIMs' ICC profiles, as `-avd` gets it."""
    from harness.iccprofile import MODEM_DIR, write_modem_files

    name = handle.avd or Path(str(handle.data_dir)).name
    folder = Path(str(handle.data_dir) + ".avd")
    avd_home = Path(str(handle.home)) / "avd"
    avd_home.mkdir(parents=True, exist_ok=True)
    (avd_home / f"{name}.ini").write_text(f"avd.ini.encoding=UTF-8\npath={folder}\n")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.ini").touch()
    written = write_modem_files(folder / MODEM_DIR, sims)
    props = dict(handle.props)
    if written.no_sim:
        props["sim0.absent"] = "1"  # the virtual emulator's `-no-sim`
    elif any(sim.slot == 0 for sim in sims):
        props.pop("sim0.absent", None)
    return replace(handle, avd=name, props=props)


def check_policy(policy: str) -> None:
    """BackendError naming the file and key when the emulator side refuses `policy`.

    The harness does not import emulator code: it asks the emulator (`virtual-emulator
    --check-policy`), as a lab would ask its device image, before it starts anything.
    """
    try:
        result = subprocess.run([tool_path("virtual-emulator"), "--check-policy", policy], capture_output=True,
                                text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackendError(f"--policy {policy}: cannot ask the virtual emulator to check it: {exc}") from exc
    if result.returncode != 0:
        lines = [line.removeprefix("ERROR").strip(" |") for line in result.stderr.splitlines() if line.strip()]
        raise BackendError(f"--policy {policy}: {lines[-1] if lines else f'refused (exit {result.returncode})'}")


def activation_argv(work_dir: Path, port: int) -> list[str]:
    return [tool_path("activation-server"), "--port", str(port), "--db", str(work_dir / "activation.db")]


def start_adb_server(port: int) -> None:
    import adbutils

    env = {**os.environ, **ADB_SERVER_ENV, "ANDROID_ADB_SERVER_PORT": str(port)}
    result = subprocess.run([adbutils.adb_path(), "-P", str(port), "start-server"], env=env,
                            capture_output=True, text=True, timeout=30, check=False)
    if result.returncode != 0:
        raise BackendError(f"adb -P {port} start-server failed: {result.stderr.strip()}")


def _kill_adb_server(port: int) -> None:
    import adbutils

    env = {**os.environ, "ANDROID_ADB_SERVER_PORT": str(port)}
    subprocess.run([adbutils.adb_path(), "-P", str(port), "kill-server"], env=env,
                   capture_output=True, timeout=30, check=False)


_sigterm_installed = False


def _install_sigterm() -> None:
    """Turn SIGTERM into SystemExit so `finally`/atexit teardown runs (main thread, default handler)."""
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
        _sigterm_installed = True


# --------------------------------------------------------------------------------------------
# DeviceOps for the runtime
# --------------------------------------------------------------------------------------------

def _host_port(url: str | None) -> tuple[str, int] | None:
    match = re.match(r"https?://([^/:]+):(\d+)", url or "")
    return (match.group(1), int(match.group(2))) if match else None


def firmware_under_test(scenario_firmware: str | None, run_policy: str | None) -> str:
    """The policy a fresh virtual device boots with.

    A scenario's `firmware` says which family its expectations were written for; `--policy` names
    the build under test. Defect variants are builds of the reference `global` family, so the run's
    policy replaces `global`; a scenario that needs another family (`custom-rom`) still gets it.
    """
    if scenario_firmware in (None, "global"):
        return run_policy or "global"
    return scenario_firmware


_UNKNOWN_POLICY = re.compile(r"policy '([^']*)' not found \(known: ([^)]*)\)")


def _unknown_build(exc: BackendError, wanted: str) -> BackendError | None:
    """The emulator refused a firmware build it does not have: say so with the builds it has.

    Firmware names are what the emulator says it has (its boot error lists them), not a copy here.
    """
    found = _UNKNOWN_POLICY.search(str(exc))
    if found is None:
        return None
    return BackendError(f"the virtual emulator has no firmware build {wanted!r}; it has: {found.group(2)}")


class VirtualDeviceOps:
    """The runtime's `DeviceOps` on a virtual emulator: resets restart it with a new identity."""

    def __init__(self, backend: VirtualBackend, handle: DeviceHandle) -> None:
        self.backend = backend
        self.handle = handle
        self._session: Any = None
        self.on_restart: list[Callable[[DeviceHandle], None]] = []
        self.lost: str | None = None  # why this device is gone for good (a replacement failed)

    def current_session(self) -> Any:
        if self._session is None:
            self._session = self._open_session()
        return self._session

    def _open_session(self) -> Any:
        return open_session(self.handle)

    def fresh_device(self, session: Any, firmware: str | None, profile: str | None, slots: int) -> Any:
        return self._restarted(session, fresh=True, props=self._fresh_props(firmware, profile, slots))

    def _fresh_props(self, firmware: str | None, profile: str | None, slots: int) -> dict[str, str]:
        props = {"regionlock.policy": firmware_under_test(firmware, self.backend.options.policy),
                 "sim.slots": str(slots)}
        if profile:
            props["device.profile"] = profile
        return props

    def _restarted(self, session: Any, fresh: bool, props: dict[str, str],
                   sims: tuple[SimSpec, ...] | None = None, http_proxy: str | None = None) -> Any:
        if session is not None:
            session.close()
        if fresh:
            self.handle = replace(self.handle, http_proxy=http_proxy)
        try:
            self.handle = self.backend.restart(self.handle, fresh=fresh, props=props, sims=sims)
        except BackendError as exc:
            wanted = props.get("regionlock.policy")
            raise (_unknown_build(exc, wanted) if wanted else None) or exc from None
        if "regionlock.policy" in props:  # a fresh device: the build it now runs
            self.handle = replace(self.handle, firmware=props["regionlock.policy"])
        for callback in self.on_restart:
            callback(self.handle)
        self._session = self._open_session()
        return self._session

    def sim_profile_supported(self) -> bool:
        return True

    def capabilities(self) -> frozenset[str]:
        return frozenset({"new-identity", "firmware-swap", "dual-sim"})

    def fresh_device_with_sims(self, session: Any, firmware: str | None, profile: str | None, slots: int,
                               sims: tuple[SimSpec, ...], http_proxy: str | None = None) -> Any:
        return self._restarted(session, fresh=True, props=self._fresh_props(firmware, profile, slots),
                               sims=sims, http_proxy=http_proxy)

    def boot_http_proxy(self) -> str | None:
        return self.handle.http_proxy

    def reboot_with_sims(self, session: Any, sims: tuple[SimSpec, ...]) -> Any:
        return self._restarted(session, fresh=False, props={}, sims=sims)

    def renew_identity(self, session: DeviceSession) -> IdentityReport:
        """The virtual emulator's own console command `identity new` (a virtual-only affordance, see
        emulators/virtual/README.md): new IMEIs and serial after a snapshot load, as a new phone."""
        lines = session.console_command("identity new")
        imeis = [line.split()[-1] for line in lines if line.startswith("imei")]
        return IdentityReport(True, f"new IMEI(s) {', '.join(imeis)} (console `identity new`)")

    # --- the lab around this device (harness.backends.health) -------------------------------
    @property
    def _run_dir(self) -> Path:
        return Path(str(self.handle.home)).parent  # the provisioner's work dir: home/ sits in it

    @property
    def journal(self) -> health.Journal:
        return health.Journal(self._run_dir / JOURNAL_NAME)

    def before_scenario(self) -> int:
        """Bring back whatever of this device's lab died since the last scenario; a journal mark.

        Order matters: the device announces itself to the adb server, and its activation calls go
        to the activation server, so the servers come first. ServiceDown when something cannot be
        brought back (the scenario is then not run on a broken lab).
        """
        if self.lost is not None:  # do not pay another failed boot per scenario
            raise DeviceUnreplaceable(f"device {self.handle.serial}", self.lost)
        self._revive_adb_server()
        self._revive_activation_server()
        self._revive_device()
        return self.journal.mark()

    def after_scenario(self, mark: int) -> None:
        """ServiceDown if a service died or was restarted (by any worker) while the scenario ran."""
        restarts = self.journal.since(mark)
        down = [name for name, alive in self._service_probes() if not alive()]
        if down or restarts:
            detail = "; ".join([f"{name} is down" for name in down] + restarts)
            raise ServiceDown("lab", f"a service of the run failed while this scenario ran, so its outcome "
                                     f"is not a verdict: {detail}")

    def _service_probes(self) -> list[tuple[str, Callable[[], bool]]]:
        probes: list[tuple[str, Callable[[], bool]]] = [
            (f"adb server :{self.handle.adb_server_port}",
             lambda: health.adb_server_alive(self.handle.adb_server_port, self.handle.adb_host))]
        address = _host_port(self.handle.activation_url)
        if address is not None:
            probes.append((f"activation server {self.handle.activation_url}", lambda: health.http_alive(*address)))
        return probes

    def _revive_adb_server(self) -> None:
        port = self.handle.adb_server_port
        if health.adb_server_alive(port, self.handle.adb_host):
            return
        with health.file_lock(self._run_dir / "adb-server.lock"):
            if health.adb_server_alive(port, self.handle.adb_host):
                return  # another worker brought it back meanwhile
            try:
                start_adb_server(port)
            except (BackendError, OSError, subprocess.TimeoutExpired) as exc:
                raise ServiceDown(f"adb server :{port}", f"down and could not be restarted: {exc}") from exc
            self.journal.record(f"adb server :{port}", "was down; restarted")
        # emulators re-announce themselves within a second of the server coming back
        if not wait_for_listed(adb_client(self.handle), self.handle.serial, 15.0):
            announce_emulator(port, int(self.handle.console_port or 0) + 1)

    def _revive_activation_server(self) -> None:
        address = _host_port(self.handle.activation_url)
        if address is None or health.http_alive(*address):
            return
        name = f"activation server {self.handle.activation_url}"
        with health.file_lock(self._run_dir / "activation-server.lock"):
            if health.http_alive(*address):
                return
            pid = health.pid_from_file(self._run_dir / ACTIVATION_PIDFILE)
            if pid is not None and health.process_state(pid) == "T":
                stop_pid(self._run_dir / ACTIVATION_PIDFILE, (b"activation-server",))  # stopped: replace it
            log = self._run_dir / "activation-server.log"
            proc = spawn(activation_argv(self._run_dir, address[1]), log, dict(os.environ), with_parent=False)
            (self._run_dir / ACTIVATION_PIDFILE).write_text(str(proc.pid))
            try:
                wait_for(lambda: proc.poll() is None and health.http_alive(*address), 15, name)
            except BackendError as exc:
                raise ServiceDown(name, f"down and could not be restarted: {exc}\n{_tail(log)}") from exc
            self.journal.record(name, "was down; restarted on the same port")

    def _revive_device(self) -> None:
        problem = self._device_problem()
        if problem is None:
            return
        try:
            self.fresh_device(self._session, self.handle.firmware, self.handle.props.get("device.profile"),
                              int(self.handle.props.get("sim.slots", "1")))
        except Exception as exc:  # whatever stopped the restart, the device is gone
            self.lost = f"{problem}; it could not be replaced: {exc}"
            self.journal.record(f"device {self.handle.serial}", self.lost)
            raise DeviceUnreplaceable(f"device {self.handle.serial}", self.lost) from exc
        self.journal.record(f"device {self.handle.serial}", f"{problem}; replaced by a restarted emulator")

    def _device_problem(self) -> str | None:
        """Why this device cannot run a scenario now, or None when it answers a shell command."""
        pid = health.pid_from_file(Path(str(self.handle.data_dir)) / "emulator.pid")
        state = health.process_state(pid) if pid is not None else None
        if pid is not None and state in (None, "Z", "X"):
            return f"its emulator process {pid} is gone"
        if state == "T":
            return f"its emulator process {pid} is stopped"
        try:
            out = adb_client(self.handle).device(self.handle.serial).shell(
                ["echo", "alive"], timeout=DEVICE_PROBE_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 -- adbutils raises several types for a dead link
            return f"it does not answer over adb ({exc or type(exc).__name__})"
        return None if str(out).strip() == "alive" else f"`echo alive` printed {str(out)[:80]!r}"

    def proxy_for_country(self, country: str | None) -> str | None:
        """A proxy exiting in `country`: the user's (`--exit-proxy`), else a local stand-in that
        announces an address of the country in X-Forwarded-For (the virtual emulator runs on this
        host, so 127.0.0.1 reaches it). None when the harness's IP table has no range for it: the
        step is then skipped, never faked with a wrong address."""
        if country is None:
            return None
        configured = self.backend.options.exit_proxy(country)
        if configured is not None:
            return configured
        from harness.iprange import has_country

        if not has_country(country):
            return None
        return self.backend.exit_proxies.for_country(country).address
