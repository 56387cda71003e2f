"""pytest plugin loaded into a peer suite's run (`-p tests.peer.plugin`); never into our own suite.

It changes no test. It only
- skips, with the reason, the tests that cannot run against any emulator here (`expectations.py`),
- points the suite's hard-coded default adb server (127.0.0.1:5037) at the private one, since this
  project never touches port 5037,
- ends a test that runs longer than PEER_TEST_TIMEOUT seconds (a hang is a failure, not a stall),
- writes one JSON line per test outcome to PEER_RESULTS, which the runner reads.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Generator
from types import FrameType
from typing import Any

import pytest

from tests.peer.expectations import known_gap, not_runnable

DEFAULT_PORT = 5037


def pytest_configure(config: pytest.Config) -> None:
    private = int(os.environ["ANDROID_ADB_SERVER_PORT"])
    import adbutils

    original = adbutils.AdbClient.__init__

    def init(self: Any, host: str | None = None, port: int | None = None, *args: Any, **kwargs: Any) -> None:
        original(self, host, private if port == DEFAULT_PORT else port, *args, **kwargs)

    adbutils.AdbClient.__init__ = init  # type: ignore[method-assign]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    suite = os.environ.get("PEER_SUITE", "")
    for item in items:
        reason = not_runnable(suite, item.nodeid, tuple(getattr(item, "fixturenames", ())))
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"not runnable here: {reason}"))
        gap = known_gap(suite, item.nodeid)
        if gap is not None:
            item.add_marker(pytest.mark.xfail(reason=f"known gap: {gap}", strict=True))


class _TestTimeout(Exception):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _TestTimeout(f"test ran longer than {os.environ.get('PEER_TEST_TIMEOUT')} s")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
    limit = int(os.environ.get("PEER_TEST_TIMEOUT", "60"))
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(limit)
    try:
        return (yield)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call" and not (report.failed or report.skipped):
        return
    outcome = report.outcome
    if report.when != "call" and report.failed:
        outcome = "error"
    reason = ""
    if hasattr(report, "wasxfail") and report.skipped:
        outcome, reason = "xfailed", report.wasxfail.removeprefix("reason: ")
    elif report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2].removeprefix("Skipped: ")
    elif report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        reason = crash.message.splitlines()[0] if crash is not None and crash.message else report.longreprtext[-200:]
    path = os.environ.get("PEER_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"nodeid": report.nodeid, "outcome": outcome, "reason": reason,
                                  "seconds": round(report.duration, 2)}) + "\n")
