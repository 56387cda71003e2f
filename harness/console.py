"""Emulator console client: `telnet localhost 5554` without telnetlib.

Theory of operation
-------------------
The console speaks lines ending in CRLF. On connect it prints a banner ending in `OK`; every command
then answers zero or more output lines followed by one status line: `OK`, `OK: <text>` (only `kill`
does that) or `KO: <reason>` (then no `OK`). Some commands fail by printing nothing at all, so the
socket edge reads with a timeout. `ReplyReader` is the sans-IO part: bytes in, `Reply` events out;
`ConsoleClient` is the socket edge (connect, banner, `auth`, commands).

The auth token is re-read from `~/.emulator_console_auth_token` on every connection, as the emulator
itself does, so a token rotated between leases is picked up. An empty token file disables auth.
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from harness.errors import ConsoleError
from harness.redact import register_secret

DEFAULT_TOKEN_PATH = Path.home() / ".emulator_console_auth_token"
_SERIAL = re.compile(r"^emulator-(\d+)$")
_AUTH_REQUIRED = "Authentication required"


def console_port_from_serial(serial: str) -> int | None:
    """`emulator-5554` -> 5554; None for anything that is not an emulator serial."""
    match = _SERIAL.match(serial)
    return int(match.group(1)) if match else None


def read_token(path: Path = DEFAULT_TOKEN_PATH) -> str | None:
    """The console token, or None when the file is missing; an empty file means no auth.

    The token is registered as a secret (harness.redact): no message, report or log may show it.
    """
    try:
        token = path.read_text().strip()
    except FileNotFoundError:
        return None
    register_secret(token)
    return token


# ---------------------------------------------------------------------------------------------
# Sans-IO: bytes in, replies out
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    """One complete console answer: the output lines and the status line that ended them."""

    lines: tuple[str, ...]
    status: str  # "OK", "OK: killing emulator, bye bye" or "KO: <reason>"

    @property
    def ok(self) -> bool:
        return self.status == "OK" or self.status.startswith("OK:")

    @property
    def reason(self) -> str:
        """The text after `KO:` (or after `OK:`), stripped; empty for a bare `OK`."""
        return self.status[3:].strip() if ":" in self.status[:3] else ""

    def text(self) -> str:
        return "\n".join((*self.lines, self.status))


def is_status_line(line: str) -> bool:
    return line == "OK" or line.startswith(("OK:", "KO:")) or line == "KO"


@dataclass
class ReplyReader:
    """Feeds on raw bytes from the console and yields complete `Reply`s (None = need more data)."""

    _buffer: bytearray = field(default_factory=bytearray)
    _lines: list[str] = field(default_factory=list)

    def feed(self, data: bytes) -> None:
        self._buffer.extend(data)

    def next_reply(self) -> Reply | None:
        while True:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                return None
            raw = bytes(self._buffer[:newline])
            del self._buffer[: newline + 1]
            line = raw.decode("utf-8", errors="replace").rstrip("\r")
            if is_status_line(line):
                reply = Reply(tuple(self._lines), line)
                self._lines = []
                return reply
            self._lines.append(line)

    def pending_lines(self) -> tuple[str, ...]:
        """Output lines read so far without a status line (what a silent failure left behind)."""
        return tuple(self._lines)


def encode_command(command: str) -> bytes:
    """One console command as bytes. A newline inside would smuggle in a second command."""
    if "\n" in command or "\r" in command:
        raise ConsoleError(command, "refused: a console command cannot contain a line break")
    return command.encode("utf-8") + b"\r\n"


# ---------------------------------------------------------------------------------------------
# Socket edge
# ---------------------------------------------------------------------------------------------

class ConsoleClient:
    """A connection to one emulator console. `command()` returns output lines or raises ConsoleError."""

    def __init__(self, port: int, token_path: Path | None = None, *, host: str = "127.0.0.1",
                 timeout: float = 5.0) -> None:
        self.port = port
        self.host = host
        self.timeout = timeout
        self.token_path = token_path or DEFAULT_TOKEN_PATH
        read_token(self.token_path)  # known as a secret before anything is logged or attached
        self._sock: socket.socket | None = None
        self._reader = ReplyReader()

    # --- lifecycle ---------------------------------------------------------------------------
    def connect(self) -> None:
        """Open the socket, read the banner and authenticate when the console asks for it."""
        self.close()
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise ConsoleError("connect", f"cannot reach console {self.host}:{self.port}: {exc}") from exc
        self._reader = ReplyReader()
        banner = self._read_reply("banner", self.timeout)
        if any(_AUTH_REQUIRED in line for line in banner.lines):
            self._authenticate()

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- commands ----------------------------------------------------------------------------
    def command(self, command: str, timeout: float | None = None) -> list[str]:
        """Send one command; its output lines on `OK`, ConsoleError(command, reply) on `KO:`."""
        if self._sock is None:
            self.connect()
        reply = self.request(command, timeout)
        if not reply.ok:
            raise ConsoleError(command, reply.text())
        return list(reply.lines)

    def request(self, command: str, timeout: float | None = None, *, shown: str | None = None) -> Reply:
        """Send one command and return its raw Reply (OK or KO) without judging it.

        `shown` is how errors name the command when the command itself holds a secret (`auth`).
        """
        payload = encode_command(command)
        name = shown or command
        if self._sock is None:
            self.connect()
        try:
            assert self._sock is not None  # connect() either set it or raised
            self._sock.sendall(payload)
        except OSError as exc:
            self.close()
            raise ConsoleError(name, f"console connection lost: {exc}") from None
        return self._read_reply(name, timeout or self.timeout)

    def ping(self) -> bool:
        return self.command("ping") == ["I am alive!"]

    def avd_name(self) -> str:
        lines = self.command("avd name")
        return lines[0] if lines else ""

    def geo_fix(self, longitude: float, latitude: float, altitude: float | None = None) -> None:
        """GPS fix through the GNSS HAL. The console wants LONGITUDE FIRST."""
        words = ["geo", "fix", _num(longitude), _num(latitude)]
        if altitude is not None:
            words.append(_num(altitude))
        self.command(" ".join(words))

    def kill(self) -> None:
        """`kill` answers `OK: killing emulator, bye bye` and then the socket closes."""
        try:
            self.command("kill")
        finally:
            self.close()

    # --- internals ---------------------------------------------------------------------------
    def _authenticate(self) -> None:
        token = read_token(self.token_path)
        if token is None:
            raise ConsoleError("auth", f"console wants a token but {self.token_path} does not exist")
        reply = self.request(f"auth {token}", shown="auth <token>")
        if not reply.ok:
            raise ConsoleError("auth <token>", reply.text())

    def _read_reply(self, command: str, timeout: float) -> Reply:
        deadline = time.monotonic() + timeout
        while (reply := self._reader.next_reply()) is None:
            left = deadline - time.monotonic()
            if left <= 0 or self._sock is None:
                seen = "\n".join(self._reader.pending_lines()) or "nothing"
                raise ConsoleError(command, f"no OK/KO within {timeout:.1f}s (got: {seen})")
            self._sock.settimeout(left)
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            except OSError as exc:
                self.close()
                raise ConsoleError(command, f"console connection lost: {exc}") from exc
            if not data:
                self.close()
                raise ConsoleError(command, "console closed the connection")
            self._reader.feed(data)
        return reply


def _num(value: float) -> str:
    # repr-like but without exponent notation, which the console's strtod accepts but humans misread
    text = f"{value:.7f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"
