"""Reading a firmware's decision sign (profile data) from a device, for the notice waits.

A property sign is read with `getprop`; a log sign is the newest decision line in the device log
since the activation began (the caller's mark: a device's log may outlive a reboot or a factory
reset, and an older decision is not this one); a screen sign is a selector on the current
hierarchy. Log and screen readers answer the sign's first `locked` / `unlocked` value, `pending`
while undecided, or "" when nothing shows, so the waits in harness.notice treat every kind alike.
Undecided and "no service" look the same on screen and in a log without a decision line; the
profile says how to tell them apart (`log.started`: the line an activation began with; `service`:
the decision service's package, checked with `pm path`). A sign that shows nothing on a device
whose `service` package is not installed reads `NO_SERVICE`: checked on the device, nothing will
decide, so "no notice" needs only the settle period, not the decision bound. A firmware that shows
no sign and names no service has no reader: `longest_seconds` is then the settle period.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from harness.notice import NO_SERVICE, DecisionReader, dump_nodes, find_node
from harness.profiles import DecisionSign, LogSign, ScreenSign
from harness.safe_regex import user_regex
from harness.session import LogMark, ShellResult

UNDECIDED = "pending"  # what a log or screen reader answers while the device's service decides


class SignSource(Protocol):
    def getprop(self, name: str) -> str: ...

    def shell(self, args: list[str], *, timeout: float = 30.0, root: bool = False) -> ShellResult: ...

    def logcat_since(self, mark: LogMark) -> str: ...

    def dump_hierarchy(self) -> str: ...


def decision_reader(sign: DecisionSign | None, device: SignSource,
                    mark: Callable[[], LogMark]) -> DecisionReader | None:
    """A reader for `sign` on `device`; None when the firmware shows no sign."""
    if sign is None:
        return None
    service = _service_check(sign, device)
    if sign.property is not None:
        name = sign.property
        return lambda: device.getprop(name) or service()
    if sign.log is not None:
        log = sign.log
        return lambda: _from_log(log, device.logcat_since(mark()), sign) or service()
    if sign.screen is not None:
        screen = sign.screen
        return lambda: _from_screen(screen, device.dump_hierarchy(), sign) or service()
    return service if sign.service is not None else None


def _service_check(sign: DecisionSign, device: SignSource) -> Callable[[], str]:
    """What a sign that shows nothing means, from the profile's decision service: `NO_SERVICE` when
    its package is not installed; when it is, `pending` if only the package can tell that a decision
    is coming (a screen sign, a log sign without `started`), else "" (the sign itself says when one
    is). "" when the profile names no service. `pm path` is asked once: a package does not come and
    go during a wait."""
    known: list[str] = []
    tells_undecided = sign.kind() in ("log", "screen") and not (sign.log is not None and sign.log.started)

    def check() -> str:
        if sign.service is None:
            return ""
        if not known:
            installed = device.shell(["pm", "path", sign.service], timeout=20)
            present = installed.ok and "package:" in installed.output
            known.append((UNDECIDED if tells_undecided else "") if present else NO_SERVICE)
        return known[0]
    return check


def _from_log(log: LogSign, text: str, sign: DecisionSign) -> str:
    """The newest decision line's meaning; `pending` when the newest line of interest is `started`."""
    for line in reversed(text.splitlines()):
        if user_regex(log.locked).search(line):
            return sign.locked[0]
        if user_regex(log.unlocked).search(line):
            return sign.unlocked[0]
        if log.started is not None and user_regex(log.started).search(line):
            return UNDECIDED
    return ""


def _from_screen(screen: ScreenSign, xml: str, sign: DecisionSign) -> str:
    nodes = dump_nodes(xml)
    if find_node(nodes, screen.locked) is not None:
        return sign.locked[0]
    if find_node(nodes, screen.unlocked) is not None:
        return sign.unlocked[0]
    return ""


def settle_without_sign(sign: DecisionSign | None, settle: float) -> float:
    """The no-notice settle period: a firmware without a readable sign is given its longest decision
    (one that names its service gets a reader instead, and the wait stretches only while it is there)."""
    if sign is not None and sign.kind() == "none" and sign.service is None:
        return max(settle, sign.undecided_settle_seconds)
    return settle
