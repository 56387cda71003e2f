"""Reading a firmware's decision sign (profile data) from a device, for the notice waits.

A property sign is read with `getprop`; a log sign is the newest decision line in the device log
since the scenario began; a screen sign is a selector on the current hierarchy. Log and screen
readers answer the sign's first `locked` / `unlocked` value, or "" while undecided, so the waits in
harness.notice treat every kind alike. A firmware that shows no sign has no reader: its profile's
`longest_seconds` is then the settle period of "no notice".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from harness.notice import DecisionReader, dump_nodes, find_node
from harness.profiles import DecisionSign, LogSign, ScreenSign
from harness.session import LogMark


class SignSource(Protocol):
    def getprop(self, name: str) -> str: ...

    def logcat_since(self, mark: LogMark) -> str: ...

    def dump_hierarchy(self) -> str: ...


def decision_reader(sign: DecisionSign | None, device: SignSource,
                    mark: Callable[[], LogMark]) -> DecisionReader | None:
    """A reader for `sign` on `device`; None when the firmware shows no sign."""
    if sign is None:
        return None
    if sign.property is not None:
        name = sign.property
        return lambda: device.getprop(name)
    if sign.log is not None:
        log = sign.log
        return lambda: _from_log(log, device.logcat_since(mark()), sign)
    if sign.screen is not None:
        screen = sign.screen
        return lambda: _from_screen(screen, device.dump_hierarchy(), sign)
    return None


def _from_log(log: LogSign, text: str, sign: DecisionSign) -> str:
    for line in reversed(text.splitlines()):
        if re.search(log.locked, line):
            return sign.locked[0]
        if re.search(log.unlocked, line):
            return sign.unlocked[0]
    return ""


def _from_screen(screen: ScreenSign, xml: str, sign: DecisionSign) -> str:
    nodes = dump_nodes(xml)
    if find_node(nodes, screen.locked) is not None:
        return sign.locked[0]
    if find_node(nodes, screen.unlocked) is not None:
        return sign.unlocked[0]
    return ""


def settle_without_sign(sign: DecisionSign | None, settle: float) -> float:
    """The no-notice settle period: a firmware without a readable sign is given its longest decision."""
    if sign is not None and sign.kind() == "none":
        return max(settle, sign.undecided_settle_seconds)
    return settle
