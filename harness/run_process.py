"""The processes of one `harness run`: stopping pytest cleanly on a signal, and finding what a run left.

- `Stopper`: SIGTERM/SIGINT to the CLI become one SIGINT to pytest's process group (pytest's
  KeyboardInterrupt path tears its devices and servers down and reports what finished); a second
  signal, or the grace period passing, becomes SIGKILL.
- `interrupt_with_parent`: pytest gets SIGINT when the CLI dies, even by SIGKILL (PR_SET_PDEATHSIG).
- Everything a run starts inherits `RUN_MARK=<CLI pid>` in its environment and its TMPDIR under
  `/tmp/harness-run-<pid>`, so what survives a SIGKILL (a daemonised adb server, a scratch dir) is
  found and removed by the next run (`sweep_stale_runs`), or by this run at its end.
- A killed CLI's pytest still tears its devices down (it got SIGINT through PR_SET_PDEATHSIG), and
  may take the grace period the CLI would have given it. The CLI touches a heartbeat in its scratch
  dir while it watches pytest, so a later run (another CI job on the host) can tell when the owner
  died and leaves its pytest that grace instead of killing it mid-teardown (a farm lease unreturned,
  an emulator left running); what the run left is swept by a run after that.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RUN_MARK = "HARNESS_RUN_OWNER"  # in the environment of everything a run starts: the CLI's pid
GRACE_SECONDS = 60.0  # after SIGTERM/SIGINT, how long pytest may take to tear its devices down
HEARTBEAT = ".owner-alive"  # in the scratch dir: its mtime is when the CLI was last seen alive


def scratch_dir(owner: int) -> Path:
    return Path(tempfile.gettempdir()) / f"harness-run-{owner}"


class Stopper:
    """SIGTERM/SIGINT while pytest runs: SIGINT to pytest's group (its KeyboardInterrupt path tears
    the devices down and writes what finished); SIGKILL after the grace period or a second signal."""

    def __init__(self) -> None:
        self.signum = 0
        self.sent_at: float | None = None
        self.again = False

    @contextmanager
    def installed(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.again = bool(self.signum)
        self.signum = self.signum or signum

    def forward(self, proc: subprocess.Popen[bytes]) -> None:
        if not self.signum:
            return
        if self.sent_at is None:
            self.sent_at = time.monotonic()
            _signal_group(proc.pid, signal.SIGINT)
        elif self.again or time.monotonic() - self.sent_at > GRACE_SECONDS:
            _signal_group(proc.pid, signal.SIGKILL)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def interrupt_with_parent() -> None:
    """preexec_fn: pytest gets SIGINT (a clean stop) when this CLI dies, even by SIGKILL (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _processes_marked(owner: int) -> list[int]:
    """Our user's processes whose environment carries `RUN_MARK=owner` (everything a run started)."""
    mark = f"{RUN_MARK}={owner}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if mark in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue  # gone, or not ours
    return found


def stop_processes_of(owner: int) -> None:
    for pid in _processes_marked(owner):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def beat(owner: int) -> None:
    """The CLI is alive (called from its watch loop)."""
    (scratch_dir(owner) / HEARTBEAT).touch()


def _pytest_tearing_down(owner: int) -> bool:
    """A dead owner's pytest still inside the grace period its CLI would have given it."""
    try:
        dead_for = time.time() - (scratch_dir(owner) / HEARTBEAT).stat().st_mtime
    except OSError:
        return False
    return dead_for < GRACE_SECONDS and any(_is_pytest(pid) for pid in _processes_marked(owner))


def _is_pytest(pid: int) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"pytest" in argv[1:3]  # `python -m pytest ...`, as the CLI starts it


def _alive_harness(pid: int) -> bool:
    try:
        return b"harness" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def sweep_stale_runs() -> None:
    """What a killed run (SIGKILL: no chance to clean) left: its scratch dir and its processes."""
    for scratch in scratch_dir(0).parent.glob("harness-run-*"):
        owner = scratch.name.removeprefix("harness-run-")
        if owner.isdigit() and not _alive_harness(int(owner)) and not _pytest_tearing_down(int(owner)):
            stop_processes_of(int(owner))
            shutil.rmtree(scratch, ignore_errors=True)


__all__ = ["GRACE_SECONDS", "RUN_MARK", "Stopper", "beat", "interrupt_with_parent", "scratch_dir", "stop_processes_of",
           "sweep_stale_runs"]
