"""Where a step's own time goes: the harness's device calls, its pauses, and the rest.

bench_suite's own time of a step is its wall time minus the device's imposed waits (emu_timing). This
module splits that further, from the harness's side:

- as a pytest plugin (`-p own_time`, with `BENCH_EMU_TIMING_DIR` set, in every harness process,
  workers included) it records, on the main thread, each device call the harness makes and each pause
  it takes: an adb service (from opening the transport to closing it; a streaming shell, such as the
  uiautomator2 server's process, is not a call), a uiautomator2 JSON-RPC request, an emulator console
  command, and a `time.sleep` outside any call (a poll's pause, a settle). A call made inside another
  (the adb transport under a u2 request) counts once, as the outer one. They are written after each
  scenario, one JSON line per interval, to `calls-<pid>.jsonl` in that folder;
- `split(...)` places them in a step: of its wall time, `waiting` is covered by a device delay or a
  pause, `calls` by a device call and not waiting, and `rest` by neither (the harness's Python:
  parsing, decisions, evidence files, Allure).

The wrappers cost a `time.time()` pair and a list append per call (~1 us against a ~2 ms round trip).
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ENV_DIR = "BENCH_EMU_TIMING_DIR"
KINDS = ("adb", "u2", "console", "pause")


@dataclass(frozen=True)
class Interval:
    serial: str
    kind: str  # one of KINDS
    start: float  # epoch seconds
    end: float


def covered(intervals: Iterable[tuple[float, float]], start: float, end: float) -> float:
    """Seconds of [start, end] inside at least one interval."""
    total, reach = 0.0, start
    for a, b in sorted((max(a, start), min(b, end)) for a, b in intervals):
        if b <= reach:
            continue
        total += b - max(a, reach)
        reach = b
    return total


@dataclass(frozen=True)
class Split:
    calls: int  # device calls that began inside the step
    waiting: float  # s covered by a device delay or a harness pause
    in_calls: float  # s covered by a device call and not waiting
    rest: float  # s covered by neither: the harness's own work


def split(start: float, end: float, delays: list[tuple[float, float]], intervals: list[Interval]) -> Split:
    pauses = [(i.start, i.end) for i in intervals if i.kind == "pause"]
    calls = [(i.start, i.end) for i in intervals if i.kind != "pause"]
    waiting = covered([*delays, *pauses], start, end)
    busy = covered([*delays, *pauses, *calls], start, end)
    begun = sum(1 for i in intervals if i.kind != "pause" and start <= i.start < end)
    return Split(begun, waiting, busy - waiting, max(0.0, end - start - busy))


def read_calls(folder: Path) -> list[Interval]:
    out: list[Interval] = []
    for path in sorted(folder.glob("calls-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            out.append(Interval(record["serial"], record["kind"], record["start"], record["end"]))
    return out


# --------------------------------------------------------------------------------------------
# The pytest plugin
# --------------------------------------------------------------------------------------------

_recorded: list[tuple[str, float, float]] = []
_inside = threading.local()  # depth of the current call on this thread


def _on_main() -> bool:
    return threading.current_thread() is threading.main_thread()


def _outer(kind: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` recorded as one call of `kind`, unless it runs inside another recorded call."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if getattr(_inside, "depth", 0) or not _on_main():
            return fn(*args, **kwargs)
        _inside.depth = 1
        started = time.time()
        try:
            return fn(*args, **kwargs)
        finally:
            _inside.depth = 0
            _recorded.append((kind, started, time.time()))
    return wrapper


def _install() -> None:
    import uiautomator2.core

    from harness.console import ConsoleClient
    from harness.session import LowLatencyDevice

    if getattr(LowLatencyDevice.open_transport, "own_time", False):
        return
    open_transport = LowLatencyDevice.open_transport

    def timed_open(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_inside, "depth", 0) or self._streaming or not _on_main():
            return open_transport(self, *args, **kwargs)
        started = time.time()
        conn = open_transport(self, *args, **kwargs)
        close = conn.close

        def timed_close() -> None:
            if conn.closed:
                return close()
            _inside.depth = getattr(_inside, "depth", 0) + 1  # adbutils pauses inside its close
            try:
                return close()
            finally:
                _inside.depth -= 1
                _recorded.append(("adb", started, time.time()))
        conn.close = timed_close
        return conn

    timed_open.own_time = True  # type: ignore[attr-defined]
    LowLatencyDevice.open_transport = timed_open  # type: ignore[method-assign]
    uiautomator2.core._http_request = _outer("u2", uiautomator2.core._http_request)
    ConsoleClient.command = _outer("console", ConsoleClient.command)  # type: ignore[method-assign]
    time.sleep = _outer("pause", time.sleep)  # a pause inside a call (adbutils' close) is the call's


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(ENV_DIR):
        _install()


@pytest.hookimpl(hookwrapper=True)
def pytest_harness_run_scenario(item: pytest.Item, scenario: Any, device: Any) -> Iterator[None]:
    _recorded.clear()
    yield
    folder = os.environ.get(ENV_DIR)
    if folder:
        serial = str(getattr(getattr(device, "handle", None), "serial", ""))
        with open(Path(folder) / f"calls-{os.getpid()}.jsonl", "a", encoding="utf-8") as out:
            out.writelines(json.dumps({"serial": serial, "kind": kind, "start": start, "end": end}) + "\n"
                           for kind, start, end in _recorded)
    _recorded.clear()
