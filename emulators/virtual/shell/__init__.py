"""The virtual device's /system/bin/sh: the sh syntax and the tools that adb clients use.

adbd calls `run(device, command, io)` on its own thread for `shell:CMD`, `shell,v2:CMD` and
`exec:CMD`. Parsing is sans-IO (`parser`); `interp` runs the tree; commands live in modules named
for what they imitate (`builtins` for mksh, `toybox`, `framework` and `services` for Android's
framework tools, `logcat`), each registered by name in `context.COMMANDS`.
"""

from __future__ import annotations

from collections.abc import Callable

from emulators.virtual.device import ShellIO, VirtualDevice
from emulators.virtual.shell import (  # noqa: F401 (importing registers the commands)
    builtins,
    framework,
    ime,
    logcat,
    services,
    system,
    toybox,
)
from emulators.virtual.shell.context import COMMANDS, Writer
from emulators.virtual.shell.interp import Shell, Streams

__all__ = ["COMMANDS", "Shell", "run"]


def run(device: VirtualDevice, command: str, io: ShellIO) -> int:
    """Run one `shell:` command line (or, for "", an interactive session); returns the exit status."""
    stdout, stderr = io.stdout, io.stderr
    if io.pty:  # a terminal's output post-processing (onlcr)
        stdout, stderr = _onlcr(stdout), _onlcr(stderr)
    shell = Shell(device, root=device.root)
    streams = Streams(io.stdin, stdout, stderr, io.closed)
    try:
        if command.strip():
            return shell.run_text(command, streams)
        return _interactive(shell, io, streams)
    except BrokenPipeError:
        return 141


def _onlcr(write: Writer) -> Writer:
    def translate(data: bytes) -> None:
        write(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

    return translate


def prompt(shell: Shell) -> str:
    host = shell.param("HOSTNAME")
    return f"{host}:{shell.cwd} {'#' if shell.root else '$'} "


def _interactive(shell: Shell, io: ShellIO, streams: Streams) -> int:
    """Read lines until EOF or `exit`; a pty echoes what is typed and shows a prompt."""
    shell.interactive = True
    lines = _LineReader(io.stdin, streams.stdout if io.pty else None)
    while not io.closed.is_set():
        if io.pty:
            streams.stdout(prompt(shell).encode())
        line = lines.next_line()
        if line is None:
            return shell.status
        if not line.strip():
            continue
        # each line reads no further stdin (a real shell would share the terminal; ours keeps it)
        shell.run_text(line, Streams(_no_stdin, streams.stdout, streams.stderr, io.closed))
        if shell.exited:
            return shell.status
    return shell.status


def _no_stdin(_: int) -> bytes:
    return b""


class _LineReader:
    """Splits the client's input into lines; with a pty, echoes it and treats CR as Enter."""

    def __init__(self, read: Callable[[int], bytes], echo: Writer | None) -> None:
        self._read = read
        self._echo = echo
        self._pending = b""

    def next_line(self) -> str | None:
        while True:
            cut = min((i for i in (self._pending.find(b"\n"), self._pending.find(b"\r")) if i >= 0),
                      default=-1)
            if cut >= 0:
                line, sep = self._pending[:cut], self._pending[cut:cut + 1]
                self._pending = self._pending[cut + 1:]
                if sep == b"\r" and self._pending.startswith(b"\n"):
                    self._pending = self._pending[1:]
                return line.decode("utf-8", "replace")
            chunk = self._read(4096)
            if not chunk:
                if self._pending:
                    line, self._pending = self._pending, b""
                    return line.decode("utf-8", "replace")
                return None
            if self._echo is not None:
                self._echo(chunk.replace(b"\r", b"\n"))
            self._pending += chunk
