"""adbd of the virtual emulator: the socket edge of `transport.py`, the services, the announcer.

Theory of operation
-------------------
`Adbd` listens on the emulator's adb port (console port + 1). Each TCP connection gets a reader
thread that feeds a sans-IO `DeviceConnection` and sends what it produces, under one lock per
connection. Each stream the host opens runs its service on its own thread and talks to the
connection through a `_Stream` (blocking read/write with flow control). A peer that breaks the
protocol loses its connection, with a log line; nothing it sends can take the device down.

`Announcer` plays the emulator's part of the lifecycle: it sends `host:emulator:<adb port>` to the
adb server whenever no server is connected (at start, after the server restarted, after reboot,
root or unroot dropped the connections), since a server on a private port never probes for us.
"""

from __future__ import annotations

import logging
import os
import shlex
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from emulators.virtual import reverse, shellv2
from emulators.virtual.device import DeviceError, ShellIO, VirtualDevice
from emulators.virtual.shell.files import write_denied
from emulators.virtual.sync import SyncServer
from emulators.virtual.transport import (
    Connected,
    DeviceConnection,
    NeedData,
    RemoteProtocolError,
    StreamClosed,
    StreamData,
    StreamOpened,
    TransportError,
    device_banner,
)

if TYPE_CHECKING:
    from emulators.virtual.adbauth import DeviceAuthenticator

log = logging.getLogger(__name__)

ShellRunner = Callable[[VirtualDevice, str, ShellIO], int]
HIGH_WATER = 1 << 20  # a writer waits while more than this is queued on its stream
RECV_SIZE = 256 * 1024


class AdbdError(DeviceError):
    """adbd could not do what it was asked."""


class AdbPortInUse(AdbdError):
    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"adb port {host}:{port} is already in use ({reason}); "
                         f"pick another console port (-port N uses N+1 for adb)")
        self.host, self.port = host, port


def default_shell_runner(device: VirtualDevice, command: str, io: ShellIO) -> int:
    from emulators.virtual.shell import run  # imported late: the shell is a big module

    return run(device, command, io)


# --------------------------------------------------------------------------------------------
# Streams as the services see them
# --------------------------------------------------------------------------------------------


class _Stream:
    """One open adb stream: blocking `read`, flow-controlled `write`, `close`."""

    def __init__(self, conn: _Connection, local_id: int) -> None:
        self.conn = conn
        self.local_id = local_id
        self.closed = threading.Event()  # the peer closed it, or the transport went away
        self._inbox = bytearray()

    def feed(self, data: bytes) -> None:  # called with conn.cond held
        self._inbox += data

    def read(self, n: int = RECV_SIZE) -> bytes:
        """Up to n bytes; b"" once the peer has closed the stream."""
        with self.conn.cond:
            while not self._inbox and not self.closed.is_set():
                self.conn.cond.wait()
            data = bytes(self._inbox[:n])
            del self._inbox[:n]
            return data

    def write(self, data: bytes) -> None:
        if not data:
            return
        with self.conn.cond:
            while (not self.closed.is_set()
                   and self.conn.transport.pending_bytes(self.local_id) > HIGH_WATER):
                self.conn.cond.wait()
            if self.closed.is_set() or not self.conn.transport.is_open(self.local_id):
                raise BrokenPipeError(f"adb stream {self.local_id} is closed")
            self.conn.transport.write(self.local_id, data)
            self.conn.flush()

    def close(self) -> None:
        with self.conn.cond:
            if not self.closed.is_set():
                self.conn.transport.close_stream(self.local_id)
                self.conn.flush()

    def wait_sent(self, timeout: float = 2.0) -> None:
        """Wait until our CLSE went out (all data written), e.g. before adbd 'restarts'."""
        deadline = time.monotonic() + timeout
        with self.conn.cond:
            while self.conn.transport.is_open(self.local_id) and not self.closed.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self.conn.cond.wait(left)


class _Pipe:
    """stdin of a shell v2 command: filled by the packet demultiplexer, read by the shell."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._eof = False
        self._cond = threading.Condition()

    def feed(self, data: bytes) -> None:
        with self._cond:
            self._data += data
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def read(self, n: int) -> bytes:
        with self._cond:
            while not self._data and not self._eof:
                self._cond.wait()
            data = bytes(self._data[:n])
            del self._data[:n]
            return data


# --------------------------------------------------------------------------------------------
# One TCP connection
# --------------------------------------------------------------------------------------------


class _Connection:
    def __init__(self, adbd: Adbd, sock: socket.socket, peer: str) -> None:
        self.adbd = adbd
        self.sock = sock
        self.peer = peer
        self.cond = threading.Condition()
        self.transport = DeviceConnection(adbd.banner(), adbd.authenticator())
        self.streams: dict[int, _Stream] = {}
        self.online = False
        self.dead = False

    def run(self) -> None:
        try:
            self._read_loop()
        except RemoteProtocolError as error:
            log.warning("adbd: closing connection from %s: protocol error: %s", self.peer, error)
        except (OSError, TransportError) as error:
            log.info("adbd: connection from %s ended: %s", self.peer, error)
        except Exception:  # a bug in one connection must not take the device down
            log.exception("adbd: connection from %s failed", self.peer)
        finally:
            self.close()
            self.adbd._forget(self)
            self.adbd.reverses.drop_connection(self)

    def _read_loop(self) -> None:
        while True:
            data = self.sock.recv(RECV_SIZE)
            if not data:
                return
            with self.cond:
                self.transport.receive_data(data)
                self._handle_events()
                self.flush()
                self.cond.notify_all()

    def _handle_events(self) -> None:
        while not isinstance(event := self.transport.next_event(), NeedData):
            if isinstance(event, Connected):
                self.online = True
            elif isinstance(event, StreamOpened):
                self.adbd.services.open(self, event.remote_id, event.service)
            elif isinstance(event, StreamData):
                stream = self.streams.get(event.local_id)
                if stream is not None:
                    stream.feed(event.data)
            elif isinstance(event, StreamClosed):
                stream = self.streams.pop(event.local_id, None)
                if stream is not None:
                    stream.closed.set()

    def open_to_host(self, service: str) -> _Stream:
        """A stream we open towards the host (a reverse forward's connection)."""
        with self.cond:
            stream = _Stream(self, self.transport.open_stream(service))
            self.streams[stream.local_id] = stream
            self.flush()
            return stream

    def accept(self, remote_id: int) -> _Stream:  # called with cond held
        stream = _Stream(self, self.transport.accept_stream(remote_id))
        self.streams[stream.local_id] = stream
        return stream

    def flush(self) -> None:  # called with cond held
        data = self.transport.data_to_send()
        if data and not self.dead:
            try:
                self.sock.sendall(data)
            except OSError:
                self._mark_dead()
        # A stream whose CLSE went out is over for its readers too (the host sends no CLSE back),
        # e.g. the stdin demultiplexer of a finished shell v2 command.
        for local_id in [i for i in self.streams if not self.transport.is_open(i)]:
            self.streams.pop(local_id).closed.set()

    def close(self) -> None:
        with self.cond:
            self._mark_dead()
            self.cond.notify_all()
        try:
            self.sock.close()
        except OSError:
            pass

    def drop(self) -> None:
        """Hang up from another thread: wakes the reader's recv()."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close()

    def _mark_dead(self) -> None:
        self.dead = True
        for stream in self.streams.values():
            stream.closed.set()
        self.streams.clear()


# --------------------------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------------------------


def spawn(name: str, target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


class Services:
    """Dispatch of service names (AOSP SERVICES.TXT) to handlers, each on its own thread."""

    def __init__(self, adbd: Adbd, shell_runner: ShellRunner) -> None:
        self.adbd = adbd
        self.device = adbd.device
        self.shell_runner = shell_runner

    def open(self, conn: _Connection, remote_id: int, service: str) -> None:
        """Called by the reader thread with conn.cond held: accept or refuse, then start."""
        handler = self._handler(service)
        if service.startswith(("tcp:", "localabstract:")):
            self._open_forward(conn, remote_id, service)
        elif service.startswith("reverse:"):
            stream = conn.accept(remote_id)
            spawn("adbd-reverse", lambda: self._run(lambda s, name: self._reverse(conn, s, name), stream,
                                                    service))
        elif handler is None:
            log.info("adbd: refusing unknown service %r", service)
            conn.transport.refuse_stream(remote_id)
        else:
            stream = conn.accept(remote_id)
            spawn(f"adbd-{service[:24]}", lambda: self._run(handler, stream, service))

    def _handler(self, service: str) -> Callable[[_Stream, str], None] | None:
        if service.startswith(("shell:", "shell,")):
            return self._shell
        table: dict[str, Callable[[_Stream, str], None]] = {
            "exec": self._exec, "sync": self._sync, "reboot": self._reboot, "root": self._root,
            "unroot": self._unroot, "remount": self._remount, "framebuffer": self._framebuffer,
            "abb": self._abb, "abb_exec": self._abb_exec,
        }
        name, sep, _ = service.partition(":")
        return table.get(name) if sep else None

    def _run(self, handler: Callable[[_Stream, str], None], stream: _Stream, service: str) -> None:
        try:
            handler(stream, service)
        except BrokenPipeError:
            pass  # the client went away first
        except RemoteProtocolError as error:
            log.warning("adbd: closing %r stream: protocol error: %s", service, error)
        except Exception:
            log.exception("adbd: service %r failed", service)
        finally:
            stream.close()

    # --- shell / exec ------------------------------------------------------------------------
    def _shell(self, stream: _Stream, service: str) -> None:
        request = shellv2.parse_shell_service(service)
        if request.v2:
            self._shell_v2(stream, request)
        else:
            self._shell_v1(stream, request.command, pty=request.pty)

    def _exec(self, stream: _Stream, service: str) -> None:
        # adbd runs exec: with raw pipes and no shell protocol, so (as there) stderr joins stdout.
        self._shell_v1(stream, service.partition(":")[2], pty=False)

    def _shell_v1(self, stream: _Stream, command: str, pty: bool) -> None:
        # With a pty the shell itself does the terminal's onlcr (it sees io.pty), not us.
        io = ShellIO(stdin=stream.read, stdout=stream.write, stderr=stream.write, closed=stream.closed,
                     pty=pty)
        self._run_shell(command, io)

    def _shell_v2(self, stream: _Stream, request: shellv2.ShellRequest) -> None:
        stdin = _Pipe()
        spawn("adbd-shell-v2-stdin", lambda: _demux_stdin(stream, stdin))

        def packet_writer(packet_id: shellv2.PacketId) -> Callable[[bytes], None]:
            return lambda data: stream.write(shellv2.encode_packet(packet_id, data)) if data else None

        stdout = packet_writer(shellv2.PacketId.STDOUT)
        stderr = stdout if request.pty else packet_writer(shellv2.PacketId.STDERR)
        io = ShellIO(stdin=stdin.read, stdout=stdout, stderr=stderr, closed=stream.closed,
                     pty=request.pty)
        code = self._run_shell(request.command, io)
        stream.write(shellv2.encode_exit(code))

    def _run_shell(self, command: str, io: ShellIO) -> int:
        try:
            return self.shell_runner(self.device, command, io)
        except BrokenPipeError:
            raise
        except Exception as error:  # a shell bug shows as a failed command, not a dead adbd
            log.exception("adbd: shell command %r crashed", command)
            try:
                io.stderr(f"/system/bin/sh: internal error: {error}\n".encode())
            except BrokenPipeError:
                pass
            return 1

    # --- abb / abb_exec: the binder's shell command in-process (`cmd`, args split by NUL) -------
    def _abb(self, stream: _Stream, service: str) -> None:
        self._shell_v2(stream, shellv2.ShellRequest(v2=True, pty=False, term="", command=_cmd_line(service)))

    def _abb_exec(self, stream: _Stream, service: str) -> None:
        self._shell_v1(stream, _cmd_line(service), pty=False)

    # --- framebuffer: (AOSP framebuffer_service.cpp) a version-2 header, then RGBA pixels -----
    def _framebuffer(self, stream: _Stream, service: str) -> None:
        from emulators.virtual.ui.render import render_image

        image = render_image(self.device).convert("RGBA")
        width, height = image.size
        # version 2, bpp, colorSpace (1 = sRGB), size, width, height, then offset/length of
        # red, blue, green, alpha (that order is the struct's)
        header = struct.pack("<14I", 2, 32, 1, width * height * 4, width, height, 0, 8, 16, 8, 8, 8, 24, 8)
        stream.write(header + image.tobytes())

    # --- reverse: listen on the device, connect back to the host -------------------------------
    def _reverse(self, conn: _Connection, stream: _Stream, service: str) -> None:
        try:
            request = reverse.parse(service)
            stream.write(self.adbd.reverses.handle(conn, request))
        except reverse.ReverseError as error:
            stream.write(reverse.fail(str(error)))

    # --- sync --------------------------------------------------------------------------------
    def _sync(self, stream: _Stream, service: str) -> None:
        server = SyncServer(self.device.fs, lambda path: write_denied(self.device, path, self.device.root))
        while not server.finished:
            data = stream.read()
            if not data:
                return
            server.receive_data(data)
            for reply in server.responses():
                stream.write(reply)

    # --- tcp:PORT / localabstract:NAME -------------------------------------------------------
    def _open_forward(self, conn: _Connection, remote_id: int, service: str) -> None:
        kind, _, name = service.partition(":")
        key: int | str = name
        if kind == "tcp":
            key = int(name.rsplit(":", 1)[-1]) if name.rsplit(":", 1)[-1].isdigit() else name
        target = self.device.tcp_servers.get(key)
        try:
            if target is None:
                raise ConnectionRefusedError(f"nothing listens on {service}")
            sock = socket.create_connection(target, timeout=2)
        except OSError as error:
            log.info("adbd: %s refused: %s", service, error)
            conn.transport.refuse_stream(remote_id)  # as adbd does when connect() fails
            return
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stream = conn.accept(remote_id)
        spawn(f"adbd-{service}-in", lambda: _pump_to_socket(stream, sock))
        spawn(f"adbd-{service}-out", lambda: _pump_to_stream(sock, stream))

    # --- reboot / root / unroot / remount ------------------------------------------------------
    def _reboot(self, stream: _Stream, service: str) -> None:
        # No grace period here: a client that runs `adb wait-for-device` right after `adb reboot`
        # must not find the old, about-to-die transport still online.
        stream.close()
        stream.wait_sent()
        self.device.reboot()  # its on_reboot hooks drop our connections first

    def _root(self, stream: _Stream, service: str) -> None:
        if self.device.props.get("ro.build.type") == "user":
            stream.write(b"adbd cannot run as root in production builds\n")
        elif self.device.root:
            stream.write(b"adbd is already running as root\n")
        else:
            stream.write(b"restarting adbd as root\n")
            self._close_then(stream, lambda: self._restart_adbd(root=True))

    def _unroot(self, stream: _Stream, service: str) -> None:
        if not self.device.root:
            stream.write(b"adbd not running as root\n")
        else:
            stream.write(b"restarting adbd as non root\n")
            self._close_then(stream, lambda: self._restart_adbd(root=False))

    def _remount(self, stream: _Stream, service: str) -> None:
        if not self.device.root:
            stream.write(b'Not running as root. Try "adb root" first.\n')
        else:
            stream.write(b"remount succeeded\n")

    def _restart_adbd(self, root: bool) -> None:
        self.device.root = root
        self.adbd.drop_connections()

    @staticmethod
    def _close_then(stream: _Stream, action: Callable[[], None]) -> None:
        stream.close()
        stream.wait_sent()
        time.sleep(0.05)  # let the host read our CLSE before the hang-up
        action()


def _cmd_line(service: str) -> str:
    """`abb:package\0install\0-S\0123` -> the quoted `cmd package install -S 123`."""
    args = [a for a in service.partition(":")[2].split("\0") if a]
    return " ".join(["cmd", *map(shlex.quote, args)])


class ReverseForwards:
    """The device's reverse forwards: a listener per device spec, each tied to its transport."""

    def __init__(self, device: VirtualDevice) -> None:
        self.device = device
        self._lock = threading.Lock()
        self._forwards: dict[str, tuple[_Connection, str, socket.socket]] = {}

    def handle(self, conn: _Connection, request: reverse.ReverseRequest) -> bytes:
        if request.verb == "list":
            with self._lock:
                mine = [(d, h) for d, (c, h, _) in self._forwards.items() if c is conn]
            return reverse.block(reverse.listing(f"host-{id(conn) % 100}", mine))
        if request.verb == "kill-all":
            for device_spec in [d for d, (c, _, _) in list(self._forwards.items()) if c is conn]:
                self._remove(device_spec)
            return reverse.okay()
        if request.verb == "kill":
            if not self._remove(request.device):
                raise reverse.ReverseError(f"listener '{request.device}' not found")
            return reverse.okay()
        return self._add(conn, request)

    def _add(self, conn: _Connection, request: reverse.ReverseRequest) -> bytes:
        with self._lock:
            existing = request.device in self._forwards
        if existing and request.norebind:
            raise reverse.ReverseError("cannot rebind existing socket")
        if existing:
            self._remove(request.device)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        kind, _, name = request.device.partition(":")
        resolved = kind == "tcp" and name == "0"
        device_spec = f"tcp:{listener.getsockname()[1]}" if resolved else request.device
        key: int | str = int(device_spec[4:]) if kind == "tcp" else name
        with self._lock:
            self._forwards[device_spec] = (conn, request.host, listener)
            self.device.tcp_servers[key] = listener.getsockname()
        spawn(f"adbd-reverse-{device_spec}", lambda: self._accept(listener, conn, request.host))
        return reverse.okay(device_spec[4:]) if resolved else reverse.okay()

    def _accept(self, listener: socket.socket, conn: _Connection, host_spec: str) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return  # removed
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            stream = conn.open_to_host(host_spec)
            spawn("adbd-reverse-in", lambda s=sock, st=stream: _pump_to_socket(st, s))  # type: ignore[misc]
            spawn("adbd-reverse-out", lambda s=sock, st=stream: _pump_to_stream(s, st))  # type: ignore[misc]

    def _remove(self, device_spec: str) -> bool:
        with self._lock:
            entry = self._forwards.pop(device_spec, None)
            if entry is None:
                return False
            kind, _, name = device_spec.partition(":")
            self.device.tcp_servers.pop(int(name) if kind == "tcp" else name, None)
        _close_socket(entry[2])
        return True

    def drop_connection(self, conn: _Connection) -> None:
        """The transport went away: so do its reverse forwards (adbd removes them too)."""
        for device_spec in [d for d, (c, _, _) in list(self._forwards.items()) if c is conn]:
            self._remove(device_spec)


def _demux_stdin(stream: _Stream, stdin: _Pipe) -> None:
    reader = shellv2.PacketReader()
    try:
        while data := stream.read():
            reader.receive_data(data)
            while not isinstance(packet := reader.next_packet(), NeedData):
                if packet.id is shellv2.PacketId.STDIN:
                    stdin.feed(packet.data)
                elif packet.id is shellv2.PacketId.CLOSE_STDIN:
                    stdin.close()
    except RemoteProtocolError as error:
        log.warning("adbd: bad shell v2 input, closing the stream: %s", error)
        stream.close()
    finally:
        stdin.close()


def _pump_to_socket(stream: _Stream, sock: socket.socket) -> None:
    try:
        while data := stream.read():
            sock.sendall(data)
    except OSError:
        pass
    finally:
        _close_socket(sock)


def _pump_to_stream(sock: socket.socket, stream: _Stream) -> None:
    try:
        while data := sock.recv(RECV_SIZE):
            stream.write(data)
    except OSError:  # includes BrokenPipeError from a closed stream
        pass
    finally:
        stream.close()
        _close_socket(sock)


def _close_socket(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


# --------------------------------------------------------------------------------------------
# adbd
# --------------------------------------------------------------------------------------------


class Adbd:
    """The device's adb daemon on host:port (the console port + 1 for an emulator)."""

    def __init__(self, device: VirtualDevice, host: str = "127.0.0.1", port: int = 5555,
                 shell_runner: ShellRunner = default_shell_runner) -> None:
        self.device = device
        self.host, self.port = host, port
        self.services = Services(self, shell_runner)
        self.reverses = ReverseForwards(device)
        self.on_drop: list[Callable[[], None]] = []  # the Announcer re-announces
        self._listener: socket.socket | None = None
        self._connections: set[_Connection] = set()
        self._lock = threading.Lock()
        self._auth: DeviceAuthenticator | None = None
        if device.config.adb_secure:
            # imported only here: `cryptography` is a sixth of a device's start-up, and an insecure
            # device (the emulator default, ro.adb.secure=0) never verifies a key
            from emulators.virtual.adbauth import DeviceAuthenticator

            self._auth = DeviceAuthenticator(device)

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self.port))
        except OSError as error:
            listener.close()
            raise AdbPortInUse(self.host, self.port, error.strerror or str(error)) from error
        listener.listen(16)
        self.port = listener.getsockname()[1]  # port 0 means "any free port"
        self._listener = listener
        self.device.on_reboot.append(self.drop_connections)
        spawn(f"adbd-accept-{self.port}", self._accept_loop)

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            _close_socket(listener)
        if self.drop_connections in self.device.on_reboot:
            self.device.on_reboot.remove(self.drop_connections)
        self._drop_all()

    def drop_connections(self) -> None:
        """Hang up every transport, as an adbd restart does (reboot, root, unroot)."""
        self._drop_all()
        for callback in list(self.on_drop):
            callback()

    def has_online_connection(self) -> bool:
        with self._lock:
            return any(conn.online and not conn.dead for conn in self._connections)

    def banner(self) -> str:
        props = self.device.props
        return device_banner(props.get("ro.product.name"), props.get("ro.product.model"),
                             props.get("ro.product.device"))

    def authenticator(self) -> DeviceAuthenticator | None:
        return self._auth

    def _drop_all(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            conn.drop()

    def _accept_loop(self) -> None:
        while (listener := self._listener) is not None:
            try:
                sock, address = listener.accept()
            except OSError:
                return  # stop() closed the listener
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Connection(self, sock, f"{address[0]}:{address[1]}")
            with self._lock:
                self._connections.add(conn)
            spawn(f"adbd-conn-{address[1]}", conn.run)

    def _forget(self, conn: _Connection) -> None:
        with self._lock:
            self._connections.discard(conn)


# --------------------------------------------------------------------------------------------
# Announcing to the adb server
# --------------------------------------------------------------------------------------------


def server_port_from_env() -> int:
    return int(os.environ.get("ANDROID_ADB_SERVER_PORT", "") or 5037)


def host_message(text: str) -> bytes:
    raw = text.encode()
    return b"%04x" % len(raw) + raw


class Announcer:
    """Keeps the device registered with the adb server (`host:emulator:<adb port>`)."""

    RETRY = 0.1  # seconds between announcements right after our connections dropped

    def __init__(self, adbd: Adbd, server_port: int | None = None, interval: float = 1.0,
                 server_host: str = "127.0.0.1") -> None:
        self.adbd = adbd
        self.server = (server_host, server_port or server_port_from_env())
        self.interval = interval
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.adbd.on_drop.append(self.poke)
        self._thread = spawn(f"adb-announcer-{self.adbd.port}", self._loop)

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        if self.poke in self.adbd.on_drop:
            self.adbd.on_drop.remove(self.poke)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def poke(self) -> None:
        """Check now rather than at the next tick (our connections were just dropped)."""
        self._wake.set()

    def announce_once(self) -> bool:
        try:
            with socket.create_connection(self.server, timeout=1) as sock:
                sock.sendall(host_message(f"host:emulator:{self.adbd.port}"))
        except OSError:
            return False  # no server yet: try again at the next tick
        log.info("adbd: announced port %d to the adb server on %s:%d", self.adbd.port, *self.server)
        return True

    def _loop(self) -> None:
        eager_until = 0.0  # after a drop, re-announce every RETRY seconds until the server is back
        while not self._stopped.is_set():
            online = self.adbd.has_online_connection()
            if not online:
                self.announce_once()
            eager = not online and time.monotonic() < eager_until
            if self._wake.wait(self.RETRY if eager else self.interval):
                self._wake.clear()
                # Poked after a drop: give the server a moment to notice the hang-up, or it
                # takes our announcement for the transport it still holds and ignores it; keep
                # announcing briskly for a while in case it did (`adb root` waits on this).
                self._stopped.wait(self.RETRY)
                eager_until = time.monotonic() + 3.0
