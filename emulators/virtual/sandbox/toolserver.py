"""The framework side of the device's tools: `getprop`, `am`, `pm`, `dumpsys`, `logcat`, ...

Inside the sandbox each tool is `/system/bin/init` under the tool's name (see androidd.c): it sends
its argv, environment, cwd and its own fds 0-2 over `/dev/socket/framework`. Here one thread per
call runs the tool's implementation (`emulators.virtual.shell.context.COMMANDS`) on those fds and
answers the exit status. The calling process's hang-up (killed, or its shell's client gone) sets
`ctx.closed`, which long-running tools watch.

Signals: the calling process catches SIGINT, SIGHUP, SIGTERM and SIGQUIT and sends `s`, the signal
number and whether its shell had it ignored (an `&` job's SIGINT); the server answers `d` (die by
it) unless the tool catches that signal (`ctx.signals`), in which case the process waits for the
tool's status like any other. Messages are read only once a tool watches `ctx.closed`, so a quick
tool runs to its end first.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from emulators.virtual.device import VirtualDevice
from emulators.virtual.shell import system_server
from emulators.virtual.shell.context import COMMANDS, Caller, Ctx, Signals, UsageError

log = logging.getLogger(__name__)
MAX_REQUEST = 256 * 1024


def tool_names() -> list[str]:
    import emulators.virtual.shell  # noqa: F401 (importing registers the tools)

    return sorted(COMMANDS)


class _Gate:
    """Closed when the calling process dies by a signal: a dead process writes nothing more, so
    nothing of the tool's can follow the shell's next output (`kill $!; wait; echo done`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.shut = False

    def close(self) -> None:
        # bounded: a write blocked on a full pipe must not keep the process from dying
        locked = self.lock.acquire(timeout=1.0)
        self.shut = True
        if locked:
            self.lock.release()


def _writer(fd: int, gate: _Gate) -> Callable[[bytes], None]:
    def write(data: bytes) -> None:
        with gate.lock:
            if gate.shut:
                raise BrokenPipeError("the calling process is gone")
            _write_all(fd, data)

    return write


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BrokenPipeError:
            raise
        except OSError as error:
            if error.errno == errno.EIO:  # a hung-up terminal
                raise BrokenPipeError(str(error)) from error
            raise


def _reader(fd: int) -> Callable[[int], bytes]:
    def read(n: int) -> bytes:
        try:
            return os.read(fd, n)
        except OSError:
            return b""

    return read


class ToolServer:
    def __init__(self, device: VirtualDevice, path: Path, root: bool) -> None:
        self.device = device
        self.root = root
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._listener.bind(str(path))
        os.chmod(path, 0o666)
        self._listener.listen(64)
        self._stopped = False
        threading.Thread(target=self._accept_loop, name="framework-tools", daemon=True).start()

    def stop(self) -> None:
        self._stopped = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="framework-tool", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        fds: list[int] = []
        try:
            payload, fds, _, _ = socket.recv_fds(conn, MAX_REQUEST, 3)
            if len(fds) != 3:
                return
            status = self._run(conn, payload, fds)
            for fd in fds:
                os.close(fd)
            fds = []
            conn.sendall(status.to_bytes(4, "little", signed=True))
        except OSError:
            pass
        finally:
            for fd in fds:
                os.close(fd)
            try:
                conn.shutdown(socket.SHUT_RDWR)  # wakes the hang-up watcher
            except OSError:
                pass
            conn.close()

    def _run(self, conn: socket.socket, payload: bytes, fds: list[int]) -> int:
        fields = [f.decode("utf-8", "surrogateescape") for f in payload.split(b"\0")]
        cwd, argc = fields[0], int(fields[1])
        args = fields[2:2 + argc]
        env = dict(item.split("=", 1) for item in fields[2 + argc:] if "=" in item)
        if not args:
            return 1
        args[0] = args[0].rsplit("/", 1)[-1]
        signals, gate = Signals(), _Gate()
        closed = _Hangup(conn, fds[1], signals, gate)
        caller = Caller(cwd=cwd or "/", root=self.root, pid=_peer_pid(conn))
        stdout, stderr = _writer(fds[1], gate), _writer(fds[2], gate)
        ctx = Ctx(self.device, caller, args, _reader(fds[0]), stdout, stderr, closed, env, signals)
        fn = COMMANDS.get(args[0])
        if fn is None:
            stderr(f"/system/bin/sh: {args[0]}: inaccessible or not found\n".encode())
            return 127
        # the property, not the device's `booted` event: that is set just after it, and a caller
        # that has read sys.boot_completed=1 must find the services up (on Android they come first)
        refused = system_server.refusal(args, self.device.props.get("sys.boot_completed") == "1")
        if refused is not None:  # a system service asked for before the boot published it
            _quietly(stderr, refused[0])
            return refused[1]
        try:
            return fn(ctx)
        except UsageError as error:
            _quietly(stderr, error.message + "\n")
            return error.status
        except BrokenPipeError:
            return 141
        except Exception as error:  # a tool bug is that tool's failure, never the device's
            log.exception("framework tool %r crashed", args)
            _quietly(stderr, f"{args[0]}: {type(error).__name__}: {error}\n")
            return 1
        finally:
            closed.set()


def _quietly(write: Callable[[bytes], None], text: str) -> None:
    try:
        write(text.encode("utf-8", "surrogateescape"))
    except OSError:
        pass


class _Hangup(threading.Event):
    """`ctx.closed`: watched only once a tool asks (logcat, app_process), so a quick `getprop`
    costs no extra thread."""

    def __init__(self, conn: socket.socket, stdout: int, signals: Signals, gate: _Gate) -> None:
        super().__init__()
        self._conn, self._stdout, self._signals, self._gate = conn, stdout, signals, gate
        self._watching = False
        self._start_lock = threading.Lock()

    def _watch(self) -> None:
        with self._start_lock:
            if self._watching or super().is_set():  # done already: its fds may be closed
                return
            self._watching = True
            threading.Thread(target=_watch_hangup, args=(self._conn, os.dup(self._stdout), self, self._signals, self._gate),
                             name="framework-tool-hangup", daemon=True).start()

    def is_set(self) -> bool:
        self._watch()
        return super().is_set()

    def wait(self, timeout: float | None = None) -> bool:
        self._watch()
        return super().wait(timeout)


def _watch_hangup(conn: socket.socket, stdout: int, closed: threading.Event, signals: Signals,
                  gate: _Gate) -> None:
    """Sets `closed` when the caller is gone, or nobody reads its stdout any more; passes on the
    signals it reports (see the module docstring).

    The second is what SIGPIPE tells a real tool on its next write; a quiet `logcat | grep -m 1 x`
    would otherwise wait for a log line to find out that grep has left.
    """
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    poller.register(stdout, 0)  # a pipe whose reader left reports POLLERR, a hung-up tty POLLHUP
    try:
        while True:
            events = dict(poller.poll())  # wakes when the caller signals, is gone, or we are done
            if events.get(conn.fileno(), 0) & select.POLLIN:
                message = conn.recv(16, socket.MSG_DONTWAIT)
                if message[:1] == b"s" and len(message) >= 3:
                    if signals.deliver(message[1]) or message[2]:  # caught, or ignored by its shell
                        continue
                    closed.set()
                    gate.close()
                    conn.send(b"d")
            break
    except OSError:
        pass
    finally:
        os.close(stdout)
    closed.set()


def _peer_pid(conn: socket.socket) -> int:
    """The caller's pid as the device's own processes see it (the sandbox's pid namespace)."""
    import struct

    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    host_pid = struct.unpack("3i", creds)[0]
    try:
        for line in Path(f"/proc/{host_pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                return int(line.split()[-1])
    except (OSError, ValueError):
        pass
    return host_pid
