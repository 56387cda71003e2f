"""The devices' own timing, as a bench reads it: the virtual emulator's `EmuTiming` log lines.

Every delay the device imposes (boot, snapshot load, wizard page transition, activation reply) is one
logcat line written when the delay begins (emulators/virtual/firmware/timing.py):

    11-26 05:32:12.240  1000  1000 I EmuTiming: delay kind=boot seconds=20.599

A bench never guesses these from the profile table: it reads them through `adb logcat`, from two
places, because a virtual emulator's log dies with its process (every cold-boot `reset`):

- the device log the harness itself attaches to the Allure results at every `expect` and at a
  failure (`logcat -d` since the scenario began, read by the harness through adb);
- this module as a pytest plugin (`-p emu_timing`, with `BENCH_EMU_TIMING_DIR` set): before and
  after each scenario it reads `logcat -d -s EmuTiming` from the leased device, which catches what
  the attachments do not: the provisioning boot, and a snapshot load (the runner's log mark after a
  load starts after it). Two adb calls per scenario, outside the scenario's steps; and one before a
  mid-scenario cold reboot for a new SIM (`reboot_with_sims`: a new emulator process).

The same line seen twice (both places, or two attachments of one scenario) counts once: a delay is
keyed by (device serial, log timestamp, message). Device log timestamps are the device's clock in its
time zone; the virtual device's clock is the host's and its zone GMT unless a scenario moves them (the
catalogue's one `wait` step past 2 s does), so a delay is placed on the host's UTC timeline by its
timestamp; one that falls in no step of its device's scenarios is counted in the limit and listed as
unplaced.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

TAG = "EmuTiming"
ENV_DIR = "BENCH_EMU_TIMING_DIR"
LOGCAT = ["logcat", "-d", "-s", f"{TAG}:I", "-v", "threadtime"]
_LINE = re.compile(r"(?P<stamp>\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\s+\d+\s+\d+\s+I\s+" + TAG
                   + r"\s*: delay kind=(?P<kind>[\w-]+) seconds=(?P<seconds>\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Delay:
    """One delay a device imposed: from `start` (epoch seconds, UTC) for `seconds`."""

    serial: str
    start: float
    kind: str
    seconds: float

    @property
    def end(self) -> float:
        return self.start + self.seconds

    def overlap(self, start: float, end: float) -> float:
        return max(0.0, min(self.end, end) - max(self.start, start))


def parse_lines(serial: str, text: str, near: float) -> Iterator[Delay]:
    """The EmuTiming lines in `text` (threadtime format, any other lines ignored). threadtime has no
    year: `near` (epoch seconds, when the log was read) supplies it."""
    for line in text.splitlines():
        match = _LINE.search(line)
        if match is None:
            continue
        yield Delay(serial, _epoch(match["stamp"], near), match["kind"], float(match["seconds"]))


def _epoch(stamp: str, near: float) -> float:
    year = datetime.fromtimestamp(near, UTC).year
    candidates = []
    for y in (year - 1, year, year + 1):  # a run across New Year's Eve
        try:
            candidates.append(datetime.strptime(f"{y}-{stamp}", "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp())
        except ValueError:  # 29 Feb in a year that has none
            continue
    return min(candidates, key=lambda t: abs(t - near))


def unique(delays: Iterable[Delay]) -> list[Delay]:
    return sorted(set(delays), key=lambda d: (d.serial, d.start))


def cut_by_boots(delays: Iterable[Delay]) -> list[Delay]:
    """Each delay ends at the latest when its device boots again: a line is written as the delay
    begins, so one whose process a later boot replaced (a first boot that the first reset stops,
    harness.backends.base.BackendOptions.await_boot) would otherwise count in full."""
    out: list[Delay] = []
    ordered = unique(delays)
    for i, delay in enumerate(ordered):
        boots = (d.start for d in ordered[i + 1:] if d.serial == delay.serial and d.kind == "boot"
                 and d.start > delay.start)
        cut = min(boots, default=None)
        out.append(replace(delay, seconds=cut - delay.start) if cut is not None and cut < delay.end else delay)
    return out


# --------------------------------------------------------------------------------------------
# Allure results: the harness's own log attachments and its step intervals
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StepSpan:
    kind: str
    start: float  # epoch seconds
    stop: float


@dataclass(frozen=True)
class ScenarioSpan:
    """One attempt of one scenario as Allure recorded it."""

    name: str
    serial: str
    start: float
    stop: float
    status: str
    steps: tuple[StepSpan, ...]


def read_allure(results: Path) -> tuple[list[ScenarioSpan], list[Delay]]:
    """Every scenario attempt in an Allure results dir, and the EmuTiming lines of its device logs."""
    spans: list[ScenarioSpan] = []
    delays: list[Delay] = []
    for path in sorted(results.glob("*-result.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        serial = _device(result)
        steps = tuple(StepSpan(str(s["name"]).split(":", 1)[0].strip(), s["start"] / 1000, s["stop"] / 1000)
                      for s in result.get("steps", []) if "start" in s and "stop" in s)
        spans.append(ScenarioSpan(result.get("fullName", path.name), serial, result.get("start", 0) / 1000,
                                  result.get("stop", 0) / 1000, result.get("status", ""), steps))
        for attachment in _attachments(result):
            if "device log" in attachment.get("name", ""):
                text = (results / attachment["source"]).read_text(encoding="utf-8", errors="replace")
                delays += parse_lines(serial, text, result.get("stop", 0) / 1000)
    return spans, delays


def _device(result: dict[str, Any]) -> str:
    for param in result.get("parameters", []):
        if param.get("name") == "device":
            return str(param.get("value", "")).strip("'\"")
    return ""


def _attachments(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from node.get("attachments", [])
    for step in node.get("steps", []):
        yield from _attachments(step)


def read_plugin_dir(folder: Path) -> list[Delay]:
    """What the plugin wrote: one JSON line per read ({serial, at, text})."""
    delays: list[Delay] = []
    for path in sorted(folder.glob("logcat-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            delays += parse_lines(record["serial"], record["text"], record["at"])
    return delays


# --------------------------------------------------------------------------------------------
# The pytest plugin (runs in the harness's pytest processes, workers included)
# --------------------------------------------------------------------------------------------

@pytest.hookimpl(hookwrapper=True)
def pytest_harness_run_scenario(item: pytest.Item, scenario: Any, device: Any) -> Iterator[None]:
    folder = os.environ.get(ENV_DIR)
    if folder:
        _read_lease(Path(folder), device)
        _read_before_cold_reboots(Path(folder), device.ops)
    yield
    if folder:
        _read_lease(Path(folder), device)


def _read_before_cold_reboots(folder: Path, ops: Any) -> None:
    """A SIM change after activation is a cold reboot: a new emulator process, the old one's log gone.
    Read the old device first (one adb call inside that step, ~20 ms of a ~20 s boot)."""
    reboot = getattr(ops, "reboot_with_sims", None)
    if reboot is None or getattr(reboot, "bench_reads_first", False):
        return

    def reboot_with_sims(session: Any, *args: Any, **kwargs: Any) -> Any:
        _read_session(folder, session)
        return reboot(session, *args, **kwargs)

    reboot_with_sims.bench_reads_first = True  # type: ignore[attr-defined]
    ops.reboot_with_sims = reboot_with_sims


def _read_lease(folder: Path, device: Any) -> None:
    try:
        session = device.ops.current_session()
    except Exception as exc:  # noqa: BLE001 -- a device the scenario will find dead anyway; noted, not fatal
        _write(folder, str(getattr(getattr(device, "handle", None), "serial", "")), f"read failed: {exc}")
        return
    _read_session(folder, session)


def _read_session(folder: Path, session: Any) -> None:
    try:
        text = session.shell(LOGCAT, timeout=30).output
    except Exception as exc:  # noqa: BLE001 -- as above
        text = f"read failed: {exc}"
    _write(folder, str(session.serial), text)


def _write(folder: Path, serial: str, text: str) -> None:
    import time

    with open(folder / f"logcat-{os.getpid()}.jsonl", "a", encoding="utf-8") as out:
        out.write(json.dumps({"serial": serial, "at": time.time(), "text": text}) + "\n")
