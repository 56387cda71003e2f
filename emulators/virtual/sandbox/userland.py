"""One device's userland: its sandbox, the framework tool server, its processes, and adb's shells.

`userland_for(device)` gives the device's `Userland`, started on first use. adbd's `shell:`,
`shell,v2:` and `exec:` run `/system/bin/sh -c CMD` (or an interactive `-sh`) in it through
`run_shell`, pumping the client's stream to and from the process's pipes or pty with bounded
buffers; a client that goes away takes the shell's whole session with it.

`adb root` / `unroot` restart adbd on a phone; here they restart the sandbox as uid 0 or 2000 (one
uid is mapped per sandbox), so the processes in it are started again: the system processes and the
apps that were running.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import termios
import threading
import weakref
from collections.abc import Callable

from emulators.virtual.device import ShellIO, VirtualDevice
from emulators.virtual.sandbox import SYSTEM_PROCESSES, Child, Limits, Sandbox, SandboxUnavailable
from emulators.virtual.sandbox.toolserver import ToolServer

log = logging.getLogger(__name__)
CHUNK = 64 * 1024  # what one pump moves at a time; the adb stream's flow control does the rest

_userlands: weakref.WeakKeyDictionary[VirtualDevice, Userland] = weakref.WeakKeyDictionary()
_userlands_lock = threading.Lock()


def userland_for(device: VirtualDevice) -> Userland:
    with _userlands_lock:
        userland = _userlands.get(device)
        if userland is None:
            userland = _userlands[device] = Userland(device)
        return userland


def stop_all() -> None:
    with _userlands_lock:
        userlands = list(_userlands.values())
    for userland in userlands:
        userland.stop()


class Userland:
    def __init__(self, device: VirtualDevice) -> None:
        self.device = device
        self._lock = threading.RLock()
        self._sandbox: Sandbox | None = None
        self._tools: ToolServer | None = None
        self._system: list[Child] = []
        self._apps: dict[str, Child] = {}
        device.on_reboot.append(self.stop)
        device.on_shutdown.append(self.stop)
        device.on_ui_change.append(self._top_app_runs)
        device.on_force_stop.append(self.stop_app)

    # --- the sandbox -------------------------------------------------------------------------
    def sandbox(self) -> Sandbox:
        """The running sandbox for the current root state (started or restarted as needed)."""
        with self._lock:
            sandbox = self._sandbox
            if (sandbox is not None and sandbox.alive() and sandbox.root == self.device.root
                    and sandbox.binds_current()):
                return sandbox
            apps = [name for name, child in self._apps.items() if child.running()]
            self._stop_locked()
            sandbox = Sandbox(self.device.fs.root, self.device.root, self._limits())
            self._tools = ToolServer(self.device, sandbox.tool_socket_path, sandbox.root)
            try:
                sandbox.start()
            except SandboxUnavailable:
                self._tools.stop()
                self._tools = None
                raise
            self._sandbox = sandbox
            self._system = [sandbox.spawn_idle(name) for name in SYSTEM_PROCESSES]
            for name in apps:
                self._apps[name] = sandbox.spawn_idle(name)
            self._top_app_runs()
            return sandbox

    def _limits(self) -> Limits:
        """The defaults, or `-prop sandbox.cpu_seconds=N` (tests bound an escaped spinner quickly)."""
        cpu = self.device.config.knob("sandbox.cpu_seconds")
        return Limits(cpu_seconds=int(cpu)) if cpu.isdigit() else Limits()

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()
            self._apps.clear()

    def _stop_locked(self) -> None:
        if self._tools is not None:
            self._tools.stop()
            self._tools = None
        if self._sandbox is not None:
            self._sandbox.stop()
            self._sandbox = None
        self._system = []

    # --- app processes -----------------------------------------------------------------------
    def _top_app_runs(self) -> None:
        """The top activity's app has a process (started activities run as processes)."""
        screen = self.device.top_screen()
        if screen is None or self._sandbox is None:
            return
        package = screen.component.split("/")[0]
        with self._lock:
            sandbox = self._sandbox
            child = self._apps.get(package)
            if sandbox is None or (child is not None and child.running()):
                return
            try:
                self._apps[package] = sandbox.spawn_idle(package)
            except SandboxUnavailable as error:
                log.warning("could not start %s's process: %s", package, error)

    def app_pid(self, package: str) -> int:
        """The pid of `package`'s process as the device's `ps` shows it, or 0 when it runs none."""
        self._top_app_runs()  # a dumpsys may come right after the screen changed
        with self._lock:
            child = self._apps.get(package)
        return child.pid if child is not None and child.running() else 0

    def stop_app(self, package: str) -> None:
        with self._lock:
            child = self._apps.pop(package, None)
        if child is not None:
            child.stop()

    # --- adb shells ----------------------------------------------------------------------------
    def run_shell(self, command: str, io: ShellIO) -> int:
        try:
            sandbox = self.sandbox()
        except SandboxUnavailable as error:
            log.error("shell refused: %s", error)
            _write_quietly(io.stderr, f"/system/bin/sh: the device's userland is unavailable: {error}\n")
            return 1
        session = _ShellSession(sandbox, command, io)
        return session.run()


class _ShellSession:
    """One `adb shell`: the process, its pipes (or pty), the pumps, and the hang-up rule."""

    def __init__(self, sandbox: Sandbox, command: str, io: ShellIO) -> None:
        self.sandbox = sandbox
        self.command = command
        self.io = io
        self.failed = threading.Event()  # the client's stream broke under a pump

    def run(self) -> int:
        io = self.io
        ours: list[int] = []  # our ends
        theirs: list[int] = []  # the child's 0, 1, 2
        if io.pty:
            master, slave = os.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
            os.set_inheritable(master, False)
            stdin_w, outputs, theirs = master, [(master, io.stdout)], [slave, slave, slave]
            ours = [master]
        else:
            stdin_r, stdin_w = os.pipe2(os.O_CLOEXEC)
            out_r, out_w = os.pipe2(os.O_CLOEXEC)
            if io.stderr == io.stdout:  # shell v1 and exec: one stream, in the order written
                outputs, theirs = [(out_r, io.stdout)], [stdin_r, out_w, out_w]
                ours = [stdin_w, out_r]
            else:
                err_r, err_w = os.pipe2(os.O_CLOEXEC)
                outputs, theirs = [(out_r, io.stdout), (err_r, io.stderr)], [stdin_r, out_w, err_w]
                ours = [stdin_w, out_r, err_r]
        argv = ["/system/bin/sh", "-c", self.command] if self.command.strip() else ["-sh"]
        env = self.sandbox.environment(TERM="xterm-256color" if io.pty else "dumb")
        try:
            child = self.sandbox.spawn(argv, theirs, path="/system/bin/sh", env=env, pty=io.pty)
        except SandboxUnavailable as error:
            _write_quietly(io.stderr, f"/system/bin/sh: {error}\n")
            for fd in {*ours, *theirs}:
                os.close(fd)
            return 1
        for fd in set(theirs):
            os.close(fd)
        pumps = [_start(f"shell-out-{fd}", self._pump_out, fd, write) for fd, write in outputs]
        _start("shell-in", self._pump_in, stdin_w, io.pty)
        try:
            status = self._wait(child, pumps)
        finally:
            for fd in ours:
                if fd != stdin_w or io.pty:
                    _close_quietly(fd)
        return status

    def _wait(self, child: Child, pumps: list[threading.Thread]) -> int:
        io = self.io
        while True:
            status = child.wait(0.05)
            if status is not None:
                break
            if io.closed.is_set() or self.failed.is_set():
                child.kill()
                return 137
        # Output may still come from what it left behind holding stdout (`cmd &`), as on a phone.
        for pump in pumps:
            while pump.is_alive():
                pump.join(0.05)
                if io.closed.is_set() or self.failed.is_set():
                    child.kill()
                    return status
        child.release()
        return status

    def _pump_out(self, fd: int, write: Callable[[bytes], None]) -> None:
        try:
            while data := os.read(fd, CHUNK):
                write(data)
        except OSError:  # EIO: the pty's last holder exited; BrokenPipeError: the client left
            if self.io.closed.is_set():
                self.failed.set()
        except Exception:
            self.failed.set()
            raise

    def _pump_in(self, fd: int, pty: bool) -> None:
        try:
            while data := self.io.stdin(CHUNK):
                os.write(fd, data)
        except OSError:
            pass
        finally:
            if not pty:  # end of input is EOF on the pipe; a terminal stays open until hang-up
                _close_quietly(fd)


def _start(name: str, target: Callable[..., None], *args: object) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _write_quietly(write: Callable[[bytes], None], text: str) -> None:
    try:
        write(text.encode())
    except OSError:
        pass
