"""DeviceSession: one leased device = adbutils + uiautomator2 + the emulator console.

Theory of operation
-------------------
A session is built by a backend for one lease and owns everything the harness does to that device.
Every device verb is an explicit typed method (no `__getattr__` dispatch), commands are always
argument lists quoted with `shlex` on the way out, so a scenario value such as `"; reboot; "` reaches
the device as text and never as shell syntax. Facts (model, SDK, fingerprint, root availability...)
are read once per lease from a single `getprop` listing. The uiautomator2 connection is opened
lazily and dropped on reboot; adbd's root state is forgotten on reboot too (as on a device).
Every failure talking to the device becomes `DeviceError(serial, msg)`, an InfrastructureError,
so a dead device is never mistaken for a product verdict.
"""

from __future__ import annotations

import functools
import re
import select
import shlex
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import adbutils

from harness.console import ConsoleClient, read_token
from harness.errors import ConsoleError, DeviceError, HarnessError

if TYPE_CHECKING:  # pragma: no cover
    import uiautomator2

T = TypeVar("T")

_PROP_LINE = re.compile(r"^\[(?P<key>[^\]]+)\]: \[(?P<value>.*)\]$")
_ROOT_REFUSED = "cannot run as root"
# How rooted phones take a command: Magisk/SuperSU's `su -c CMD`, AOSP's debug su `su 0 sh -c CMD`.
SU_FORMS = (("su", "-c"), ("su", "0", "sh", "-c"))
ADB_CALL_DEADLINE = 30.0  # seconds any one adb server exchange may take
HUNG_DEVICE_DEADLINE = 3.0  # per call, once a device has been seen hung
LONGEST_DEVICE_CALL = 120.0  # a device call asking for more than this gets the session's deadline
SNAPSHOT_TIMEOUT = 120.0  # an `avd snapshot save|load` of a large AVD on a slow disk


class DeviceKind(Enum):
    """What the spoof strategies need to know about a device."""

    EMULATOR_LEGACY = "emulator-api28-30"  # legacy modem: fixed test PLMN
    EMULATOR_MODERN = "emulator-api31+"  # modem simulator (the virtual emulator models this one)
    ROOTED_PHONE = "rooted-phone"
    PHONE = "phone"


@dataclass(frozen=True)
class ShellResult:
    """The outcome of one shell command. `output` is stdout+stderr as the device printed it."""

    args: tuple[str, ...]
    command: str  # the exact quoted text sent to the device
    output: str
    exit_code: int

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def text(self) -> str:
        return self.output.strip()


@dataclass(frozen=True)
class DeviceFacts:
    """Read once per lease; goes into the Allure environment."""

    serial: str
    manufacturer: str
    model: str
    android_version: str
    sdk: int
    fingerprint: str
    incremental: str
    build_type: str
    is_emulator: bool
    root: str | None  # "adbd" (adb root works), "su" (rooted phone), None (no root)

    @property
    def kind(self) -> DeviceKind:
        if self.is_emulator:
            return DeviceKind.EMULATOR_MODERN if self.sdk >= 31 else DeviceKind.EMULATOR_LEGACY
        return DeviceKind.ROOTED_PHONE if self.root else DeviceKind.PHONE

    def as_environment(self) -> dict[str, str]:
        return {"serial": self.serial, "device": f"{self.manufacturer} {self.model}",
                "android": f"{self.android_version} (SDK {self.sdk})", "fingerprint": self.fingerprint,
                "firmware": self.incremental, "kind": self.kind.value, "root": self.root or "none"}


@dataclass(frozen=True)
class LogMark:
    """Where the device log stood when a scenario began (line count of `logcat -d`)."""

    lines: int
    device_time: int


def parse_getprop_listing(text: str) -> dict[str, str]:
    """`getprop` with no argument prints `[key]: [value]` lines; multi-line values are rare, skipped."""
    props: dict[str, str] = {}
    for line in text.splitlines():
        match = _PROP_LINE.match(line.strip())
        if match:
            props[match["key"]] = match["value"]
    return props


def facts_from_props(serial: str, props: dict[str, str], root: str | None) -> DeviceFacts:
    qemu = props.get("ro.kernel.qemu") == "1" or props.get("ro.boot.qemu") == "1"
    sdk = props.get("ro.build.version.sdk", "0")
    return DeviceFacts(
        serial=serial,
        manufacturer=props.get("ro.product.manufacturer", ""),
        model=props.get("ro.product.model", ""),
        android_version=props.get("ro.build.version.release", ""),
        sdk=int(sdk) if sdk.isdigit() else 0,
        fingerprint=props.get("ro.build.fingerprint", ""),
        incremental=props.get("ro.build.version.incremental", ""),
        build_type=props.get("ro.build.type", ""),
        is_emulator=qemu or props.get("ro.hardware", "") in ("ranchu", "goldfish"),
        root=root,
    )


def join_commands(commands: Iterable[list[str]]) -> str:
    """Several argv lists as one shell line (one adb round trip); each word quoted."""
    return " ; ".join(shlex.join(args) for args in commands)


# ---------------------------------------------------------------------------------------------
# Services (mobly's shape: start/stop/is_alive; a reboot stops and restores what was running)
# ---------------------------------------------------------------------------------------------

class Service(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    @property
    def is_alive(self) -> bool: ...


@dataclass
class ServiceManager:
    services: dict[str, Service] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def register(self, name: str, service: Service, *, start: bool = True) -> None:
        self.services[name] = service
        if start:
            service.start()

    def stop_all(self) -> list[str]:
        """Stop every service, continuing past failures; returns the names that were alive."""
        alive = [name for name, svc in self.services.items() if svc.is_alive]
        for name in alive:
            try:
                self.services[name].stop()
            except Exception as exc:  # noqa: BLE001 -- teardown keeps going: one broken service must not leak others
                self.errors.append(f"{name}: {exc}")
        return alive

    def start(self, names: Iterable[str]) -> None:
        for name in names:
            self.services[name].start()


# ---------------------------------------------------------------------------------------------
# What only a backend can do
# ---------------------------------------------------------------------------------------------

class SnapshotRefused(DeviceError):
    """The emulator console refused a snapshot command (`-read-only`, no room, unknown name...)."""

    def __init__(self, serial: str | None, command: str, reason: str) -> None:
        super().__init__(serial, f"`{command}` refused: {reason}")
        self.reason = reason


class DeviceOps(Protocol):
    """What only the backend can do to a device (implemented by the backend engineer)."""

    def fresh_device(self, session: DeviceSession, firmware: str | None, profile: str | None,
                     slots: int) -> DeviceSession:
        """`reset`: a factory-fresh, never-activated device with a NEW hardware identity."""
        ...

    def sim_profile_supported(self) -> bool: ...

    def capabilities(self) -> frozenset[str]:
        """What the backend can do to this device (harness.capabilities names: new-identity, ...)."""
        ...

    def proxy_for_country(self, country: str | None) -> str | None:
        """`host:port` of an HTTP proxy exiting in that country, or None if unavailable."""
        ...


# ---------------------------------------------------------------------------------------------
# The session
# ---------------------------------------------------------------------------------------------

class PrivateServerConnection(adbutils.AdbConnection):
    """A connection to one private adb server that never starts a server itself.

    When a connect fails (refused, or 3 s without an answer on a loaded machine) adbutils runs
    `adb start-server` with the environment it has: without ANDROID_ADB_SERVER_PORT that starts a
    server on the default port 5037, which the harness must never touch, and it still fails on the
    private port. Restarting the private server is the backend's job (harness.backends.health).
    """

    def _safe_connect(self) -> socket.socket:
        sock: socket.socket = self._create_socket()
        return sock

    def close(self) -> None:
        """Close at once when the server has already ended the connection (a shell read to its end).

        adbutils sleeps 10 ms after shutting down every connection, so that a request it will not
        read the answer of (root:, reboot:) reaches the server before our close could reset the
        connection. A connection the server closed first has nothing in flight: the sleep is then
        pure latency, about two thirds of each shell call through this client (bench/README.md).
        """
        if not self.closed and _ended_by_peer(self.conn):
            self.conn.close()
            self._AdbConnection__conn = None  # adbutils' own closed marker (a name-mangled private)
            return
        super().close()


U2_READY_POLL = 0.02  # seconds between pings of a just-launched uiautomator2 server
U2_READY_QUICK = 2.0  # how long we ping it that often before uiautomator2's own wait takes over


@functools.cache
def _prompt_uiautomator() -> type[uiautomator2.Device]:
    """uiautomator2's Device, noticing a freshly launched server as soon as it answers.

    After launching its server uiautomator2 pings it once and, when it is not up yet (it never is
    that soon), sleeps 0.5 s before the next ping: half a second of every connect after a boot or
    a snapshot load, which paid nothing for it (bench/README.md). This pings every 20 ms for up to
    2 s, then hands over to uiautomator2's own wait with its error reporting (a server that quit,
    an accessibility service already registered).
    """
    import uiautomator2

    class PromptDevice(uiautomator2.Device):
        def _wait_ready(self, launch_timeout: float = 30) -> None:
            deadline = time.monotonic() + U2_READY_QUICK
            while time.monotonic() < deadline and self._process is not None and self._process.pool() is None:
                if self._check_alive():
                    return
                time.sleep(U2_READY_POLL)
            super()._wait_ready(launch_timeout)

    return PromptDevice


def _ended_by_peer(sock: socket.socket) -> bool:
    """The peer closed and we read everything: readable now, and what is there is the end."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return False  # a broken socket: adbutils' own close handles it


class VersionCachingClient(adbutils.AdbClient):
    """An adb client that asks the server's version once, and never starts a server.

    adbutils asks it before every transport it opens by serial (to pick `host:tport:serial:`), on a
    connection of its own that it closes with a 10 ms sleep: half of each shell call's cost.
    """

    _version: int | None = None

    def make_connection(self, timeout: float | None = None) -> adbutils.AdbConnection:
        timeout = timeout or self._socket_timeout
        try:
            conn = PrivateServerConnection(self.host, self.port)
        except TimeoutError:
            raise adbutils.AdbTimeout("connect to adb server timeout") from None
        if timeout:
            conn.conn.settimeout(timeout)
        return conn

    def __init__(self, host: str = "127.0.0.1", port: int = 5037, socket_timeout: float | None = None) -> None:
        super().__init__(host, port, socket_timeout=socket_timeout)
        self._socket_timeout = socket_timeout

    def server_version(self) -> int:
        if self._version is None:
            self._version = int(super().server_version())
        return self._version


class LowLatencyDevice(adbutils.AdbDevice):
    """An adbutils device whose device-side connections send small writes at once, with a deadline.

    uiautomator2 posts each JSON-RPC call with http.client, which writes the headers and the body
    separately; without TCP_NODELAY, Nagle holds the body until the adb server acknowledges the
    headers, which Linux delays by 40 ms. That stall dominated every UI call (see bench/README.md).

    uiautomator2 hands these sockets to http.client without a timeout (its own HTTP timeout, 300 s,
    never reaches a socket made by adb), so a stopped device held a UI call for as long as it was
    stopped. Every device-side socket gets `deadline` instead: longer than the longest server-side
    wait the harness asks for (a wizard element wait), far shorter than a hang.
    """

    deadline: float = 30.0
    _streaming = False  # a stream shell (u2's server process) lives as long as it likes

    def open_transport(self, command: str | None = None, timeout: float | None = None) -> Any:
        # adbutils' own default is 10 minutes; a call that wants longer says so (up to 2 minutes)
        if not self._streaming and (timeout is None or timeout > LONGEST_DEVICE_CALL):
            timeout = self.deadline
        return super().open_transport(command, timeout=timeout)

    def shell(self, cmdargs: Any, stream: bool = False, *args: Any, **kwargs: Any) -> Any:
        self._streaming = stream
        try:
            return super().shell(cmdargs, stream, *args, **kwargs)
        finally:
            self._streaming = False

    def create_connection(self, network: Any, address: Any) -> socket.socket:
        sock: socket.socket = super().create_connection(network, address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.deadline)
        return sock


class DeviceSession:
    """One leased device. Every method raises DeviceError(serial, msg) on a device failure."""

    def __init__(self, serial: str, adb: adbutils.AdbClient, console_port: int | None,
                 console_token_path: Path | None) -> None:
        self.serial = serial
        self.adb = adb
        # every call through the adb server has a deadline too (adbutils' default is none)
        client = VersionCachingClient(adb.host, adb.port, socket_timeout=ADB_CALL_DEADLINE)
        self.device = LowLatencyDevice(client, serial=serial)
        self.console_port = console_port
        self.console_token_path = console_token_path
        if console_token_path is not None:
            read_token(console_token_path)  # registers it as a secret before any evidence is taken
        self.services = ServiceManager()
        self.on_reboot: list[Callable[[], None]] = []  # e.g. the spoofer re-applies radio props
        self._facts: DeviceFacts | None = None
        self._console: ConsoleClient | None = None
        self._u2: uiautomator2.Device | None = None
        self._is_root = False
        self._su: tuple[str, ...] | None = None  # the su form that answered uid 0, once probed
        self.unresponsive = False  # a call ran into its deadline (see _note_timeout)
        self._seen_booted = False  # a device seen booted stays so but for a reboot, which waits it out

    def __repr__(self) -> str:
        return f"<DeviceSession|{self.serial}>"

    # --- facts -------------------------------------------------------------------------------
    @property
    def facts(self) -> DeviceFacts:
        if self._facts is None:
            props = self.getprops()
            self._facts = facts_from_props(self.serial, props, self._root_availability(props))
        return self._facts

    def _root_availability(self, props: dict[str, str]) -> str | None:
        """`adbd` where `adb root` is allowed (debuggable builds), `su` where a su answers uid 0
        (a rooted phone: found by trying, since `which su` says nothing about whether it grants)."""
        if props.get("ro.debuggable") == "1" or props.get("ro.build.type") in ("userdebug", "eng"):
            return "adbd"
        return "su" if self._probe_su() else None

    def _probe_su(self) -> tuple[str, ...] | None:
        if self._su is None:
            for form in SU_FORMS:
                result = self.shell_line(shlex.join([*form, "id -u"]), (*form, "id -u"), timeout=10)
                if result.ok and result.text == "0":
                    self._su = form
                    break
            else:
                self._su = ()
        return self._su or None

    # --- shell -------------------------------------------------------------------------------
    def shell(self, args: list[str], *, timeout: float = 30.0, root: bool = False) -> ShellResult:
        """Run one command given as an argument list; every word is quoted for the device shell."""
        return self.shell_line(shlex.join(args), tuple(args), timeout=timeout, root=root)

    def shell_batch(self, commands: list[list[str]], *, timeout: float = 30.0,
                    root: bool = False) -> ShellResult:
        """Several commands in one round trip; exit code is the last command's."""
        flat = tuple(word for args in commands for word in (*args, ";"))[:-1]
        return self.shell_line(join_commands(commands), flat, timeout=timeout, root=root)

    def shell_line(self, line: str, args: tuple[str, ...], *, timeout: float = 30.0,
                   root: bool = False) -> ShellResult:
        """A pre-quoted line (only from `shell`/`shell_batch`, or harness-written constants)."""
        if root:
            line = self._as_root(line)
        timeout = min(timeout, self.device.deadline) if self.unresponsive else timeout
        result = self._adb_call(lambda: self.device.shell2(line, timeout=timeout, v2=True), line)
        return ShellResult(args, line, result.output, result.returncode)

    def check(self, args: list[str], *, timeout: float = 30.0, root: bool = False) -> str:
        """Run and insist on exit code 0; returns the stripped output."""
        result = self.shell(args, timeout=timeout, root=root)
        if not result.ok:
            raise DeviceError(self.serial, f"`{result.command}` exited {result.exit_code}: {result.text}")
        return result.text

    def _as_root(self, line: str) -> str:
        self.root()
        return shlex.join([*self._su, line]) if self._su else line

    def _adb_call(self, call: Callable[[], T], what: str) -> T:
        try:
            return call()
        except (adbutils.AdbError, OSError, EOFError) as exc:  # EOFError: adbutils' read of a dropped stream
            self._note_timeout(exc)
            raise DeviceError(self.serial, f"adb failed on `{what}`: {exc or type(exc).__name__}") from exc

    def _note_timeout(self, exc: BaseException) -> None:
        """After one call ran into its deadline the device is hung (stopped, wedged): the calls that
        follow (failure evidence, teardown) get a short deadline, so gathering what can still be had
        costs seconds, not one full deadline per attachment."""
        if isinstance(exc, adbutils.AdbTimeout | TimeoutError):
            self.unresponsive = True
            self.device.deadline = min(self.device.deadline, HUNG_DEVICE_DEADLINE)

    # --- properties and settings -------------------------------------------------------------
    def getprop(self, name: str) -> str:
        # only the line end is the tool's: spaces at the end belong to the value
        return self.shell(["getprop", name]).output.rstrip("\r\n")

    def getprops(self) -> dict[str, str]:
        """Every property in one round trip (cheaper than N getprop calls for a read-back)."""
        return parse_getprop_listing(self.shell(["getprop"]).output)

    def setprop(self, name: str, value: str, *, root: bool = True) -> None:
        self.check(["setprop", name, value], root=root)

    def settings_get(self, namespace: str, key: str) -> str | None:
        """`settings get`; None when unset (the tool prints `null`)."""
        value = self.check(["settings", "get", namespace, key])
        return None if value == "null" else value

    def settings_put(self, namespace: str, key: str, value: str) -> None:
        self.check(["settings", "put", namespace, key, value])

    # --- root ---------------------------------------------------------------------------------
    def root(self, timeout: float = 30.0) -> None:
        """adbd as root (`adb root`), else `su`; DeviceError when the device grants neither.

        A debuggable build whose adbd refuses root (some vendors lock it) falls back to su.
        """
        if self._is_root:
            return
        if self.facts.root == "su" or self.shell(["id", "-u"]).text == "0":
            self._is_root = True
            return
        reply = str(self._adb_call(self.device.root, "root:"))
        if _ROOT_REFUSED in reply:
            if self._probe_su():
                self._is_root = True
                return
            raise DeviceError(self.serial, f"adb root refused and no su grants root: {reply.strip()}")
        self._wait(lambda: self._id_is_root(), timeout, "adbd to come back as root")
        self._is_root = True

    def _id_is_root(self) -> bool:
        try:
            return self.shell(["id", "-u"], timeout=5).text == "0"
        except DeviceError:
            return False  # adbd restarting: the transport drops for a moment

    # --- lifecycle ----------------------------------------------------------------------------
    def wait_boot_completed(self, timeout: float = 120.0) -> None:
        """Boot is done when sys.boot_completed=1 and the boot animation has stopped (if any)."""
        self._wait(self.boot_completed, timeout, "sys.boot_completed=1")
        self._seen_booted = True

    def may_be_booting(self) -> bool:
        """Whether the device may still be in its first boot (a lab hands devices over booting,
        BackendOptions.await_boot): one `getprop` until it has been seen booted, none after."""
        if not self._seen_booted:
            self._seen_booted = self.getprop("sys.boot_completed") == "1"
        return not self._seen_booted

    def boot_completed(self) -> bool:
        # two named reads, not the whole listing: a listing of a few hundred properties costs ~5x one
        try:
            return self.getprop("sys.boot_completed") == "1" and \
                self.getprop("init.svc.bootanim") in ("", "stopped")
        except DeviceError:
            return False

    def reboot_and_wait(self, timeout: float = 120.0, trigger: Callable[[], None] | None = None) -> None:
        """Reboot and wait for the new boot (not the old one still answering) to complete.

        `trigger` replaces `adb reboot` for reboots the device does itself (a factory reset).
        """
        marker = f"{time.time_ns()}"
        marked = self.shell(["setprop", "debug.harness.boot", marker]).ok and \
            self.getprop("debug.harness.boot") == marker
        running = self.services.stop_all()
        (trigger or self._send_reboot)()
        self._forget_connection_state()  # after the trigger: it may itself have needed root
        started = time.monotonic()
        self._wait(lambda: self._rebooted(marker, marked, started), timeout, "the device to reboot")
        self.wait_boot_completed(max(1.0, timeout - (time.monotonic() - started)))
        self.services.start(running)
        for callback in list(self.on_reboot):
            callback()

    def _send_reboot(self) -> None:
        try:
            with self.device.open_transport() as conn:  # what `adb reboot` sends
                conn.send_command("reboot:")
                conn.check_okay()
        except (adbutils.AdbError, OSError):
            self.shell(["reboot"], timeout=5)

    def _rebooted(self, marker: str, marked: bool, started: float) -> bool:
        try:
            props = self.getprops()
        except DeviceError:
            return False
        if marked:  # volatile props are gone after a reboot: that is the proof of a new boot
            return props.get("debug.harness.boot") != marker
        return time.monotonic() - started > 2.0  # no marker: give the old boot time to go down

    # --- snapshots (the console's `avd snapshot`, harness.resets) ---------------------------------
    def snapshot_save(self, name: str, timeout: float = SNAPSHOT_TIMEOUT) -> None:
        """`avd snapshot save NAME`; SnapshotRefused with the console's own reason on `KO`."""
        reply = self.console.request(f"avd snapshot save {name}", timeout)
        if not reply.ok:
            raise SnapshotRefused(self.serial, f"avd snapshot save {name}", reply.reason or reply.text())

    def snapshot_load(self, name: str, timeout: float = SNAPSHOT_TIMEOUT) -> None:
        """`avd snapshot load NAME`, then wait until the device answers as booted again.

        The loaded state is a running system: what this session knew of the one before (root,
        uiautomator2, forwarded services) is stale, so it is dropped and started again."""
        running = self.services.stop_all()
        reply = self.console.request(f"avd snapshot load {name}", timeout)
        if not reply.ok:
            raise SnapshotRefused(self.serial, f"avd snapshot load {name}", reply.reason or reply.text())
        self._forget_connection_state()
        self.wait_online(timeout)
        self.wait_boot_completed(timeout)
        self.services.start(running)
        for callback in list(self.on_reboot):
            callback()

    def _forget_connection_state(self) -> None:
        self._is_root = False
        self._u2 = None

    def wait_online(self, timeout: float = 60.0) -> None:
        """The adb server lists the device as `device` again (after a root or reboot)."""
        self._adb_call(lambda: self.adb.wait_for(self.serial, state="device", timeout=timeout),
                       "wait-for-device")

    # --- console --------------------------------------------------------------------------------
    @property
    def console(self) -> ConsoleClient:
        """The emulator console, connected on first use; DeviceError on a device without one."""
        if self.console_port is None:
            raise DeviceError(self.serial, "this device has no emulator console")
        if self._console is None or not self._console.connected:
            self._console = ConsoleClient(self.console_port, self.console_token_path)
            self._console.connect()
        return self._console

    @property
    def has_console(self) -> bool:
        return self.console_port is not None

    def console_command(self, command: str) -> list[str]:
        """One console command, reconnecting once if the connection dropped (e.g. idle timeout)."""
        try:
            return self.console.command(command)
        except ConsoleError as exc:
            if self._console is not None and self._console.connected:
                raise
            if "KO:" in exc.reply:
                raise
            return self.console.command(command)

    # --- UI -------------------------------------------------------------------------------------
    @property
    def ui(self) -> uiautomator2.Device:
        """The uiautomator2 device, connected lazily (and again after a reboot)."""
        if self._u2 is None:
            device_class = _prompt_uiautomator()  # heavy import, only when a UI is needed
            self._u2 = self._adb_call(lambda: device_class(self.device), "uiautomator2 connect")
        return self._u2

    def ui_call(self, call: Callable[[uiautomator2.Device], T], what: str) -> T:
        """Run a uiautomator2 call, turning its connection errors into DeviceError."""
        try:
            return call(self.ui)
        except HarnessError:
            raise
        except Exception as exc:  # u2 raises many unrelated types (HTTP, RPC, adb) for a dead link
            self._note_timeout(exc)
            self._u2 = None
            raise DeviceError(self.serial, f"uiautomator2 failed on {what}: {exc!r}") from exc

    def forget_ui(self) -> None:
        """Drop the u2 connection (the framework restarted); the next UI call reconnects."""
        self._u2 = None

    def dump_hierarchy(self) -> str:
        return self.ui_call(lambda d: str(d.dump_hierarchy()), "dump_hierarchy")

    def screenshot_png(self) -> bytes:
        """PNG bytes of the screen via `screencap -p` (no u2 needed, works on the wizard)."""
        data = self._adb_call(lambda: self.device.shell(["screencap", "-p"], encoding=None,
                                                        timeout=self.device.deadline), "screencap")
        if not data.startswith(b"\x89PNG"):
            raise DeviceError(self.serial, f"screencap returned no PNG ({len(data)} bytes)")
        return bytes(data)

    # --- log ------------------------------------------------------------------------------------
    def log_mark(self) -> LogMark:
        lines = self._logcat_lines()
        now = self.shell(["date", "+%s"]).text
        return LogMark(len(lines), int(now) if now.isdigit() else 0)

    def logcat_since(self, mark: LogMark) -> str:
        """The device log written after `mark` (everything, if the buffer was cleared by a reboot)."""
        lines = self._logcat_lines()
        tail = lines[mark.lines:] if len(lines) >= mark.lines else lines
        return "\n".join(tail)

    def _logcat_lines(self) -> list[str]:
        return self.shell(["logcat", "-d", "-v", "threadtime"], timeout=30).output.splitlines()

    # --- time -----------------------------------------------------------------------------------
    def device_time(self) -> int:
        text = self.shell(["date", "+%s"]).text
        if not text.lstrip("-").isdigit():
            raise DeviceError(self.serial, f"`date +%s` printed {text!r}")
        return int(text)

    # --- teardown -------------------------------------------------------------------------------
    def close(self) -> None:
        self.services.stop_all()
        if self._console is not None:
            self._console.close()
            self._console = None
        self._u2 = None

    # --- helpers --------------------------------------------------------------------------------
    def _wait(self, condition: Callable[[], bool], timeout: float, what: str,
              interval: float = 0.2) -> None:
        if not poll(condition, timeout, interval):
            raise DeviceError(self.serial, f"timed out after {timeout:.0f}s waiting for {what}")


FIRST_PAUSE = 0.02  # s: the first pause of a poll; an emulator's adbd restart or boot flag takes tens of ms


def poll(condition: Callable[[], Any], timeout: float, interval: float = 0.2) -> Any:
    """The first truthy value of `condition()` within `timeout`, else its last (falsy) value.

    The pauses start at FIRST_PAUSE and double up to `interval`: an event that comes within tens of
    milliseconds (an emulator's) is seen then, not a whole interval later, and a long wait (a real
    device's seconds) costs a handful more reads than a fixed interval would."""
    deadline = time.monotonic() + timeout
    pause = min(FIRST_PAUSE, interval)
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(pause)
        pause = min(pause * 2, interval)
