"""What a shell command runs with (`Ctx`), the command table, and the in-memory pipe.

A command is a plain function `fn(ctx) -> int`: `ctx.args` is argv (argv[0] the name), the streams
are already redirected, and `ctx.closed` tells long-running commands (logcat, sleep, app_process)
that the client went away or the reader at the other end of a pipe stopped reading.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from emulators.virtual.device import VirtualDevice
    from emulators.virtual.shell.interp import Shell

Reader = Callable[[int], bytes]
Writer = Callable[[bytes], None]
CommandFn = Callable[["Ctx"], int]

COMMANDS: dict[str, CommandFn] = {}


def command(*names: str) -> Callable[[CommandFn], CommandFn]:
    """Register a command under one or more names (aliases such as `[` for `test`)."""

    def register(fn: CommandFn) -> CommandFn:
        for name in names:
            COMMANDS[name] = fn
        return fn

    return register


class UsageError(Exception):
    """A command was called wrongly; the interpreter prints `message` to stderr, exits `status`."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class ShellExit(Exception):
    """`exit N`: unwinds the whole script."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class Ctx:
    device: VirtualDevice
    shell: Shell
    args: list[str]
    stdin: Reader
    stdout: Writer
    stderr: Writer
    closed: threading.Event
    env: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.args[0]

    @property
    def root(self) -> bool:
        return self.shell.root

    def out(self, text: str) -> None:
        self.stdout(text.encode("utf-8", "surrogateescape"))

    def err(self, text: str) -> None:
        self.stderr(text.encode("utf-8", "surrogateescape"))

    def read_all(self) -> bytes:
        chunks = []
        while chunk := self.stdin(65536):
            chunks.append(chunk)
        return b"".join(chunks)

    def device_path(self, path: str) -> str:
        return self.device.fs.normalise(path, self.shell.cwd)

    def host_path(self, path: str) -> Path:
        return self.device.fs.host_path(path, self.shell.cwd)

    def wait(self, seconds: float) -> bool:
        """Sleep unless the stream closes first; True when it closed."""
        return self.closed.wait(seconds)


def empty_stdin(_: int) -> bytes:
    return b""


def discard(_: bytes) -> None:
    return None


class Pipe:
    """One `|` between two commands running on their own threads.

    Unbounded (commands here produce little), so a writer never blocks; once the reader is done
    the writer gets BrokenPipeError, as a process would get SIGPIPE.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._cond = threading.Condition()
        self._write_closed = False
        self._read_closed = False

    def write(self, data: bytes) -> None:
        with self._cond:
            if self._read_closed:
                raise BrokenPipeError("pipe reader closed")
            self._buf += data
            self._cond.notify_all()

    def close_write(self) -> None:
        with self._cond:
            self._write_closed = True
            self._cond.notify_all()

    def close_read(self) -> None:
        with self._cond:
            self._read_closed = True
            self._buf.clear()

    def read(self, n: int) -> bytes:
        with self._cond:
            while not self._buf and not self._write_closed:
                self._cond.wait(0.5)
            chunk = bytes(self._buf[:n])
            del self._buf[:n]
            return chunk
