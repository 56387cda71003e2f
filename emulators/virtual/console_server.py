"""The console's TCP edge: one thread per connection, feeding bytes to a `ConsoleSession`.

The auth token is read (and created when missing) on every new connection, like the SDK emulator:
deleting the file or emptying it takes effect for the next client without a restart.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

from emulators.virtual.console import ConsoleSession, ConsoleState
from emulators.virtual.device import DeviceError, VirtualDevice

log = logging.getLogger("emulator.console")

TOKEN_FILE_NAME = ".emulator_console_auth_token"


class PortInUse(DeviceError):
    def __init__(self, what: str, port: int) -> None:
        super().__init__(f"{what} port {port} is already in use")
        self.port = port


def home_dir() -> Path:
    """Where `~` is for the token: $HOME (tests point it at a temporary folder)."""
    return Path(os.environ.get("HOME") or Path.home())


def token_path() -> Path:
    return home_dir() / TOKEN_FILE_NAME


def read_or_create_token(path: Path) -> str | None:
    """The token; None when the file is empty (auth disabled). Created (mode 0600) when missing."""
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        pass
    token = base64.b64encode(os.urandom(12)).decode()  # 16 base64 characters
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another emulator created it first: use theirs
        return path.read_text().strip() or None
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    return token


def bind_listener(port: int, what: str, host: str = "127.0.0.1") -> socket.socket:
    """A listening socket on host:port, or PortInUse naming `what` (Console / ADB)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Lets a restarted instance rebind while old connections sit in TIME_WAIT; on Linux it still
    # refuses a port another socket is listening on.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise PortInUse(what, port) from None
    sock.listen(16)
    return sock


class ConsoleServer:
    """Serves the console on `port`. `on_kill` runs after the `kill` reply has been sent."""

    def __init__(self, device: VirtualDevice, state: ConsoleState, port: int,
                 on_kill: Callable[[], None], host: str = "127.0.0.1",
                 token_file: Callable[[], Path] = token_path) -> None:
        self.device = device
        self.state = state
        self.port = port
        self.host = host
        self.on_kill = on_kill
        self.token_file = token_file
        self._listener: socket.socket | None = None
        self._clients: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def bind(self) -> None:
        """Binds now (so a taken port is reported before anything else starts)."""
        self._listener = bind_listener(self.port, "Console", self.host)
        self.port = self._listener.getsockname()[1]  # port 0 means "any free port" (tests)

    def start(self) -> None:
        if self._listener is None:
            self.bind()
        try:  # the SDK emulator writes the token at start, so clients can read it before connecting
            read_or_create_token(self.token_file())
        except OSError as error:
            log.warning("cannot create the console token: %s", error)
        thread = threading.Thread(target=self._accept_loop, name="console-accept", daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            _close(self._listener)
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            _close(client)
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current:
                thread.join(timeout=2.0)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._stopping.is_set():
                    _close(client)
                    return
                self._clients.add(client)
                thread = threading.Thread(target=self._serve, args=(client,), name="console-session",
                                          daemon=True)
                self._threads = [t for t in self._threads if t.is_alive()]
                self._threads.append(thread)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        path = self.token_file()
        try:
            token = read_or_create_token(path)
        except OSError as error:
            log.warning("cannot read the console token %s: %s", path, error)
            token = None
        session = ConsoleSession(self.device, self.state, token, str(path))
        try:
            client.sendall(session.banner())
            while not session.closed:
                data = client.recv(4096)
                if not data:
                    break
                reply = session.receive(data)
                if reply:
                    client.sendall(reply)
        except OSError:
            pass  # the client went away; nothing to tell anyone
        finally:
            with self._lock:
                self._clients.discard(client)
            _close(client)
        if session.kill_requested:
            self.on_kill()


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
