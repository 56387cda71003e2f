"""Is the lab still there? Probes for the services a backend started, and a journal of restarts.

Theory of operation
-------------------
A scenario's verdict is only worth something if the lab was whole while it ran. The backend checks
its services before each scenario (and brings back what died: `VirtualDeviceOps.before_scenario`)
and again after it. Services are shared between xdist workers, so a restart done by one worker must
be visible to the others: every restart is appended to a journal file in the run's work dir, and a
scenario during which the journal grew (or after which a service is down) ran on a broken lab, so it
is an infrastructure error whatever the screen showed. The journal is append-only and read by size,
so no process needs to know who else is running; restarts themselves happen under a file lock, so
two workers that notice the same death do not start two servers on one port.

Probes are plain sockets with short deadlines: a stopped (SIGSTOP) service accepts connections from
the kernel's backlog but never answers, so each probe waits for an answer, not only for `connect`.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROBE_TIMEOUT = 2.0


def adb_server_alive(port: int, host: str = "127.0.0.1", timeout: float = PROBE_TIMEOUT) -> bool:
    """The adb server answers `host:version` (OKAY + 4 hex digits of length + version)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"000chost:version")
            return sock.recv(4) == b"OKAY"
    except OSError:
        return False


def http_alive(host: str, port: int, timeout: float = PROBE_TIMEOUT) -> bool:
    """Something on host:port answers an HTTP request (any status line)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"GET /health HTTP/1.0\r\nHost: probe\r\n\r\n")
            return sock.recv(5) == b"HTTP/"
    except OSError:
        return False


def process_state(pid: int) -> str | None:
    """The kernel's one-letter state of `pid` (R, S, T for stopped, Z...), None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1]
    except (OSError, IndexError):
        return None


def listens_on(pid: int, port: int) -> bool | None:
    """Whether `pid` or a process it started holds the TCP listener on `port` (Linux /proc); None
    where /proc cannot tell. A serial is only a port: another lab's emulator that won the port race
    answers on it too, and must not be taken for ours."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        return None
    sockets = set()
    for table in tables:
        try:
            rows = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()  # sl local rem st ... inode (field 9); 0A = LISTEN
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                sockets.add(f"socket:[{fields[9]}]")
    if not sockets:
        return False
    return any(_holds(candidate, sockets) for candidate in _with_descendants(pid))


def _with_descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(") ", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _holds(pid: int, sockets: set[str]) -> bool:
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd) in sockets:
                return True
        except OSError:
            continue
    return False


def pid_from_file(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


class Journal:
    """Append-only record of lab restarts, shared by every process of one run through a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def mark(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def record(self, service: str, what: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = f"{time.strftime('%H:%M:%S')} pid {os.getpid()} {service}: {what}\n"
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(line)

    def since(self, mark: int) -> list[str]:
        try:
            with open(self.path, encoding="utf-8", errors="replace") as src:
                src.seek(mark)
                return [line.rstrip("\n") for line in src]
        except FileNotFoundError:
            return []


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between the processes of one run (flock: released if the holder dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
