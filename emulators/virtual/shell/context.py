"""What a framework tool runs with (`Ctx`) and the table of tools.

A tool is a plain function `fn(ctx) -> int`: `ctx.args` is argv (argv[0] the name), the streams are
the calling process's own stdin/stdout/stderr (passed over the framework socket, so redirects and
pipes were already applied by the device's mksh), and `ctx.closed` tells long-running tools
(logcat, app_process) that the calling process is gone. A tool that handles a signal as its
Android counterpart does (screenrecord finishes its file on SIGINT) says so with `ctx.signals.catch`;
every other signal ends the calling process as the default action would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from emulators.virtual.device import VirtualDevice

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
    """A tool was called wrongly; the tool server prints `message` to stderr, exits `status`."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Signals:
    """The signals a tool catches, and whether one came (the calling process stays alive for it)."""

    def __init__(self) -> None:
        self._catching: frozenset[int] = frozenset()
        self.caught = threading.Event()
        self.signum = 0

    def catch(self, *signums: int) -> threading.Event:
        """From now on these signals set the returned event instead of ending the process."""
        self._catching = self._catching | frozenset(signums)
        return self.caught

    def deliver(self, signum: int) -> bool:
        """A signal reached the calling process: True when the tool catches it."""
        if signum not in self._catching:
            return False
        self.signum = signum
        self.caught.set()
        return True


@dataclass
class Caller:
    """The process that ran a tool, as the device sees it."""

    cwd: str = "/"
    root: bool = False
    pid: int = 0


@dataclass
class Ctx:
    device: VirtualDevice
    shell: Caller
    args: list[str]
    stdin: Reader
    stdout: Writer
    stderr: Writer
    closed: threading.Event
    env: dict[str, str] = field(default_factory=dict)
    signals: Signals = field(default_factory=Signals)

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
