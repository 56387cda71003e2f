"""Helpers for tests that start real processes: free ports, output capture, polling.

Tests run under pytest-xdist next to other engineers' runs on the same machine, so nothing here
uses a fixed port or path: ports come from the OS, and callers retry when a port they picked was
taken between the check and the bind (the launcher reports that with a clear message).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Self, TypeVar

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = REPO_ROOT / ".venv" / "bin"

def adb_path() -> str:
    import adbutils  # type: ignore[import-untyped]

    return str(adbutils.adb_path())


def virtual_emulator_command() -> list[str]:
    """The `virtual-emulator` console script, or `python -m` when the venv script is missing."""
    script = VENV_BIN / "virtual-emulator"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "emulators.virtual.launcher"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_console_port(attempts: int = 200) -> int:
    """An even port N with N and N+1 free, where the harness puts its emulators: outside the adb
    probe range and the ephemeral range (a restart on N must find it free again)."""
    from harness.backends.virtual import free_console_port as harness_free_console_port

    return harness_free_console_port(attempts=attempts)


def wait_until(predicate: Callable[[], T], timeout: float, interval: float = 0.05,
               message: str = "condition") -> T:
    """Poll `predicate` until it returns something truthy; raise TimeoutError naming `message`."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.1f} s waiting for {message}")
        time.sleep(interval)


class OutputCollector:
    """Reads a child's merged stdout/stderr on a thread, so a pipe never fills and blocks the child."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process
        self._lines: list[str] = []
        self._cond = threading.Condition()
        self._done = False
        self._thread = threading.Thread(target=self._pump, name="output-collector", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self._process.stdout is not None
        for raw in iter(self._process.stdout.readline, b""):
            with self._cond:
                self._lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                self._cond.notify_all()
        with self._cond:
            self._done = True
            self._cond.notify_all()

    @property
    def text(self) -> str:
        with self._cond:
            return "\n".join(self._lines)

    def wait_for(self, needle: str, timeout: float) -> str | None:
        """The first line containing `needle`, or None at timeout or when the output ended."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self._lines:
                    if needle in line:
                        return line
                left = deadline - time.monotonic()
                if self._done or left <= 0:
                    return None
                self._cond.wait(left)

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)


def child_env(**overrides: str) -> dict[str, str]:
    """The environment for a child process, with the caller's overrides."""
    env = dict(os.environ)
    env.update(overrides)
    return env


# --------------------------------------------------------------------------------------------
# A tiny emulator console client for tests (the harness has its own; tests must not lean on it)
# --------------------------------------------------------------------------------------------

class ConsoleClient:
    """Line-oriented client for the emulator console: banner, `auth`, command -> reply lines.

    `command()` returns the reply's lines without the final `OK`; a `KO: ...` line ends a reply
    too and is returned as the last line, so tests can assert on it.
    """

    def __init__(self, port: int, token: str | None = None, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self._buffer = b""
        self.banner = self.read_reply()
        if token is not None:
            self.auth_reply = self.command(f"auth {token}")

    def read_line(self) -> str:
        while b"\r\n" not in self._buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"console closed the connection; pending {self._buffer!r}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def read_reply(self) -> list[str]:
        lines: list[str] = []
        while True:
            line = self.read_line()
            if line == "OK":
                return lines
            lines.append(line)
            if line.startswith("KO:"):
                return lines

    def command(self, text: str) -> list[str]:
        self.sock.sendall(text.encode() + b"\r\n")
        return self.read_reply()

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@cache
def scenario_schema_validator() -> Any:
    """The scenario JSON schema's validator, built (and the schema checked against its meta-schema)
    once per process: `jsonschema.validate` does both on every call, ~56 ms each, and the catalogue
    and step-kind tests validate a few hundred documents."""
    import jsonschema

    from harness.scenario.schema import json_schema

    schema = json_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)
