"""Runs parsed scripts: expansion, redirects, `&&`/`||`, pipes, and command lookup.

A `Shell` holds what sh keeps between commands (variables, `$?`, the working directory, whether it
runs as root). Pipes run each stage on its own thread joined by in-memory `Pipe`s, so a streaming
`logcat | grep X` works and `head` can stop its writer. Errors inside a command never escape: they
become a message on stderr and an exit status, because adbd must keep serving.
"""

from __future__ import annotations

import io as _io
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from emulators.virtual.shell import parser as p
from emulators.virtual.shell.context import (
    COMMANDS,
    Ctx,
    Pipe,
    Reader,
    ShellExit,
    UsageError,
    Writer,
    discard,
    empty_stdin,
)
from emulators.virtual.shell.files import write_denied

if TYPE_CHECKING:  # pragma: no cover
    from emulators.virtual.device import VirtualDevice

SH = "/system/bin/sh"
BIN_DIRS = ("/system/bin/", "/system/xbin/", "/vendor/bin/", "/bin/", "/sbin/", "/apex/com.android.runtime/bin/")
DEFAULT_ENV = {
    "PATH": "/product/bin:/apex/com.android.runtime/bin:/apex/com.android.art/bin:/system_ext/bin:"
            "/system/bin:/system/xbin:/odm/bin:/vendor/bin:/vendor/xbin",
    "ANDROID_DATA": "/data", "ANDROID_ROOT": "/system", "ANDROID_STORAGE": "/storage",
    "EXTERNAL_STORAGE": "/sdcard", "ANDROID_ASSETS": "/system/app", "TMPDIR": "/data/local/tmp",
    "HOSTNAME": "", "SHELL": SH, "TERM": "dumb", "HOME": "/", "USER": "shell", "LOGNAME": "shell",
}
_GLOB_CHARS = re.compile(r"[*?\[]")
_IFS = re.compile(r"[ \t\n]+")


@dataclass(frozen=True)
class Streams:
    stdin: Reader
    stdout: Writer
    stderr: Writer
    closed: threading.Event


class Shell:
    def __init__(self, device: VirtualDevice, *, root: bool, env: dict[str, str] | None = None,
                 cwd: str = "/") -> None:
        self.device = device
        self.root = root
        self.env = dict(DEFAULT_ENV if env is None else env)
        if env is None:
            self.env["USER"] = self.env["LOGNAME"] = "root" if root else "shell"
        self.cwd = cwd
        self.status = 0
        self.exited = False  # `exit` ran: an interactive session ends
        self.interactive = False
        self.su_stack: list[bool] = []  # `su` in an interactive session: root until `exit`
        self.pid = 4000 + (id(self) % 1000)

    def child(self, *, root: bool | None = None) -> Shell:
        """A subshell (`sh -c`, `su`, `$(...)`): same variables, its own `$?`."""
        sub = Shell(self.device, root=self.root if root is None else root, env=self.env, cwd=self.cwd)
        return sub

    # --- entry points ------------------------------------------------------------------------
    def run_text(self, text: str, streams: Streams) -> int:
        try:
            script = p.parse(text)
        except p.ShellSyntaxError as error:
            _write(streams.stderr, f"{SH}: {error.message}\n")
            self.status = 1 if "bad substitution" in error.message else 2
            return self.status
        try:
            return self.run_script(script, streams)
        except ShellExit as done:
            self.status = done.status
            self.exited = True
            return done.status

    def run_script(self, script: p.Script, streams: Streams) -> int:
        for item in script.items:
            if item.background:
                threading.Thread(target=self._run_quietly, args=(item, streams), daemon=True).start()
                self.status = 0
            else:
                self.run_and_or(item, streams)
        return self.status

    def _run_quietly(self, item: p.AndOr, streams: Streams) -> None:
        try:
            self.child().run_and_or(item, streams)
        except ShellExit:
            pass

    def run_and_or(self, item: p.AndOr, streams: Streams) -> int:
        status = self.run_pipeline(item.first, streams)
        for op, pipeline in item.rest:
            if (op == "&&") == (status == 0):
                status = self.run_pipeline(pipeline, streams)
        return status

    def run_pipeline(self, pipeline: p.Pipeline, streams: Streams) -> int:
        if len(pipeline.commands) == 1:
            status = self.run_command(pipeline.commands[0], streams)
        else:
            status = self._run_piped(pipeline.commands, streams)
        if pipeline.negate:
            status = 0 if status else 1
        self.status = status
        return status

    def _run_piped(self, commands: tuple[p.Command | p.Group, ...], streams: Streams) -> int:
        n = len(commands)
        pipes = [Pipe() for _ in range(n - 1)]
        stops = [threading.Event() for _ in range(n)]
        statuses = [0] * n
        finished = threading.Semaphore(0)

        def stage(i: int) -> None:
            stdin = streams.stdin if i == 0 else pipes[i - 1].read
            stdout = streams.stdout if i == n - 1 else pipes[i].write
            try:
                statuses[i] = self.run_command(commands[i], Streams(stdin, stdout, streams.stderr, stops[i]))
            except ShellExit as done:
                statuses[i] = done.status
            finally:
                if i < n - 1:
                    pipes[i].close_write()
                if i > 0:  # the writer before us gets SIGPIPE on its next write, and is told to stop
                    pipes[i - 1].close_read()
                    stops[i - 1].set()
                finished.release()

        for i in range(n):
            threading.Thread(target=stage, args=(i,), daemon=True, name=f"sh-pipe-{i}").start()
        for _ in range(n):
            while not finished.acquire(timeout=0.05):
                if streams.closed.is_set():
                    for stop in stops:
                        stop.set()
        return statuses[-1]

    # --- one command -------------------------------------------------------------------------
    def run_command(self, command: p.Command | p.Group, streams: Streams) -> int:
        closers: list[Callable[[], None]] = []
        try:
            streams = self._redirect(command.redirects, streams, closers)
            if isinstance(command, p.Group):
                return self.run_script(command.script, streams)
            return self._run_simple(command, streams)
        except UsageError as error:
            _write(streams.stderr, f"{SH}: {error.message}\n")
            return error.status
        finally:
            for close in closers:
                close()

    def _run_simple(self, command: p.Command, streams: Streams) -> int:
        argv: list[str] = []
        for word in command.words:
            argv.extend(self.expand(word, streams))
        assigns = {name: self.expand_one(word, streams) for name, word in command.assigns}
        if not argv:
            self.env.update(assigns)
            return 0
        fn = lookup(argv[0])
        if fn is None:
            _write(streams.stderr, f"{SH}: {argv[0]}: inaccessible or not found\n")
            return 127
        ctx = Ctx(self.device, self, argv, streams.stdin, streams.stdout, streams.stderr, streams.closed,
                  {**self.env, **assigns})
        return call(fn, ctx)

    def _redirect(self, redirects: tuple[p.Redirect, ...], streams: Streams,
                  closers: list[Callable[[], None]]) -> Streams:
        for r in redirects:
            target = self.expand_one(r.target, streams)
            if r.op in (">&", "<&"):
                streams = self._dup(r.fd, target, streams)
            elif r.op == "<":
                streams = replace(streams, stdin=self._open_in(target, closers))
            else:
                writer = self._open_out(target, append=r.op == ">>", closers=closers)
                streams = replace(streams, stdout=writer) if r.fd == 1 else \
                    replace(streams, stderr=writer) if r.fd == 2 else streams
        return streams

    @staticmethod
    def _dup(fd: int, target: str, streams: Streams) -> Streams:
        source = {"1": streams.stdout, "2": streams.stderr}.get(target)
        if target == "-":
            source = discard
        if source is None:
            raise UsageError(f"{target}: bad file descriptor")
        if fd == 1:
            return replace(streams, stdout=source)
        if fd == 2:
            return replace(streams, stderr=source)
        return streams

    def _open_in(self, target: str, closers: list[Callable[[], None]]) -> Reader:
        path = self.device.fs.normalise(target, self.cwd)
        if path == "/dev/null":
            return empty_stdin
        host = self.device.fs.host_path(path)
        if not host.is_file():
            raise UsageError(f"can't open {target}: No such file or directory")
        handle = host.open("rb")
        closers.append(handle.close)
        return handle.read

    def _open_out(self, target: str, *, append: bool, closers: list[Callable[[], None]]) -> Writer:
        path = self.device.fs.normalise(target, self.cwd)
        if path in ("/dev/null", "/dev/zero"):
            return discard
        denied = write_denied(self.device, path, self.root)
        host = self.device.fs.host_path(path)
        if denied is None and not host.parent.is_dir():
            denied = "No such file or directory"
        if denied is None and host.is_dir():
            denied = "Is a directory"
        if denied:
            raise UsageError(f"can't create {target}: {denied}")
        handle: _io.BufferedWriter = host.open("ab" if append else "wb")
        closers.append(handle.close)

        def write(data: bytes) -> None:
            handle.write(data)

        return write

    # --- expansion ---------------------------------------------------------------------------
    def param(self, name: str) -> str:
        if name == "?":
            return str(self.status)
        if name == "$":
            return str(self.pid)
        if name == "#":
            return "0"
        if name == "0":
            return SH
        if name == "HOSTNAME" and not self.env.get(name):
            return self.device.props.get("ro.product.device", "emulator_x86_64")
        return self.env.get(name, "")

    def _value(self, part: p.Part, streams: Streams) -> str:
        if isinstance(part, p.Lit):
            return part.text
        if isinstance(part, p.Param):
            return self.param(part.name)
        return self.substitute(part.script, streams)

    def substitute(self, script: p.Script, streams: Streams) -> str:
        sub = self.child()
        chunks: list[bytes] = []
        sub.run_script(script, Streams(empty_stdin, chunks.append, streams.stderr, streams.closed))
        self.status = sub.status
        return b"".join(chunks).decode("utf-8", "replace").rstrip("\n")

    def expand(self, word: p.Word, streams: Streams) -> list[str]:
        """Expand one word into zero or more fields (split and glob unquoted expansions)."""
        fields: list[str] = []
        current, have, globbed = "", False, False
        for part in word:
            text = self._value(part, streams)
            if isinstance(part, p.Lit) or part.quoted:
                current += text
                have = True
                globbed = globbed or (isinstance(part, p.Lit) and not part.quoted
                                      and bool(_GLOB_CHARS.search(text)))
                continue
            for j, piece in enumerate(_IFS.split(text)):
                if j > 0:
                    if have:
                        fields.append(current)
                    current, have = "", False
                current += piece
                have = have or bool(piece)
        if have:
            fields.append(current)
        if globbed and fields:
            fields[-1:] = self._glob(fields[-1])
        return fields

    def expand_one(self, word: p.Word, streams: Streams) -> str:
        return " ".join(self.expand(word, streams)) if word else ""

    def _glob(self, pattern: str) -> list[str]:
        """Globs in the last path component only: `ls /data/local/tmp/*.jar`."""
        directory, _, name = pattern.rpartition("/")
        if _GLOB_CHARS.search(directory):
            return [pattern]
        base = self.device.fs.host_path(directory or ("/" if pattern.startswith("/") else "."), self.cwd)
        try:
            matches = sorted(q.name for q in base.glob(name) if not q.name.startswith("."))
        except (OSError, ValueError):
            matches = []
        if not matches:
            return [pattern]
        prefix = directory + "/" if pattern.count("/") else ""
        return [prefix + m for m in matches]


def lookup(name: str) -> Callable[[Ctx], int] | None:
    if "/" in name:
        for directory in BIN_DIRS:
            if name.startswith(directory) and "/" not in name[len(directory):]:
                return COMMANDS.get(name[len(directory):])
        return None
    return COMMANDS.get(name)


def call(fn: Callable[[Ctx], int], ctx: Ctx) -> int:
    """Run one command function; turns whatever goes wrong into stderr text and a status."""
    from emulators.virtual.device import DeviceError

    try:
        return fn(ctx)
    except UsageError as error:
        _write(ctx.stderr, error.message + "\n")
        return error.status
    except BrokenPipeError:
        return 141  # 128 + SIGPIPE
    except (ShellExit, KeyboardInterrupt):
        raise
    except DeviceError as error:
        _write(ctx.stderr, f"{ctx.name}: {error}\n")
        return 1
    except Exception as error:  # noqa: BLE001 - a bug in one command must not take adbd down
        _write(ctx.stderr, f"{ctx.name}: {type(error).__name__}: {error}\n")
        return 1


def _write(writer: Writer, text: str) -> None:
    try:
        writer(text.encode())
    except BrokenPipeError:
        pass
