"""Lock-notice detection: wait until the notice is present, or absent and stable on the home screen.

Theory of operation
-------------------
Both waits read the screen through one UI hierarchy dump per poll (one round trip, and every id and
text at once), parsed here into a `ScreenState` by pure functions that unit tests feed with XML.

`wait_present` returns as soon as the notice's container (or title id) is on screen, with its title
and body text and which locale's texts they match. `wait_absent_stable` is the negative assertion
done properly: first the home screen must be reached (setup finished) with no notice, then the screen
is re-checked several times across the whole settle period; any notice seen meanwhile ends the wait
with `present=True`. A single poll would pass while the region-lock service is still deciding.

What a notice and the home screen look like comes from a `NoticeProfile` (YAML data): uiautomator2
selector dicts, matched here against the dump's nodes.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from harness.errors import DeviceError
from harness.profiles import NoticeProfile

_SYSTEM_UI = "com.android.systemui"
# uiautomator2 selector keys -> attributes of a hierarchy dump's <node>
_EXACT = {"resourceId": "resource-id", "text": "text", "className": "class", "description": "content-desc",
          "packageName": "package", "checked": "checked", "enabled": "enabled"}
_CONTAINS = {"textContains": "text", "descriptionContains": "content-desc"}
_MATCHES = {"textMatches": "text", "resourceIdMatches": "resource-id"}


class ScreenSource(Protocol):
    serial: str

    def dump_hierarchy(self) -> str: ...


@dataclass(frozen=True)
class ScreenState:
    notice: bool
    home: bool
    title: str | None
    body: str | None
    top_package: str | None


@dataclass(frozen=True)
class NoticeObservation:
    """What was seen. `locale` is the profile locale whose texts matched, if any."""

    present: bool
    home: bool
    title: str | None = None
    body: str | None = None
    locale: str | None = None
    checks: int = 0
    elapsed: float = 0.0
    top_package: str | None = None

    def describe(self) -> str:
        if self.present:
            return f"notice shown (title {self.title!r}, body {self.body!r}, locale {self.locale or '?'})"
        if self.home:
            return f"no notice, home screen shown ({self.checks} checks over {self.elapsed:.1f}s)"
        return f"no notice, but the home screen was not reached (top package {self.top_package!r})"


def node_matches(node: ET.Element, selector: Mapping[str, Any]) -> bool:
    """Does one dumped <node> satisfy a uiautomator2 selector dict (the keys profiles use)?"""
    for key, want in selector.items():
        if key in _EXACT:
            have = node.get(_EXACT[key], "")
            wanted = str(want).lower() if isinstance(want, bool) else str(want)
            if have != wanted:
                return False
        elif key in _CONTAINS:
            if str(want) not in node.get(_CONTAINS[key], ""):
                return False
        elif key in _MATCHES:
            if not re.fullmatch(str(want), node.get(_MATCHES[key], "")):
                return False
        else:
            raise ValueError(f"selector key {key!r} is not supported by the hierarchy matcher")
    return True


def find_node(nodes: list[ET.Element], selector: Mapping[str, Any] | None) -> ET.Element | None:
    if not selector:
        return None
    return next((n for n in nodes if node_matches(n, selector)), None)


def dump_nodes(xml: str) -> list[ET.Element]:
    """Every <node> of a hierarchy dump, in document order; [] for an unreadable dump."""
    try:
        return list(ET.fromstring(xml).iter("node"))
    except ET.ParseError:
        return []


def parse_screen(xml: str, profile: NoticeProfile) -> ScreenState:
    """A uiautomator hierarchy dump -> what the notice detector cares about."""
    nodes = dump_nodes(xml)
    notice = any(find_node(nodes, sel) is not None for sel in profile.selectors)
    title_node = find_node(nodes, profile.title_selector)
    body_node = find_node(nodes, profile.body_selector)
    home = any(find_node(nodes, sel) is not None for sel in profile.home)
    # the status bar is its own window (systemui); the app under it is what the user sees
    top = next((n.get("package") for n in nodes if n.get("package") not in ("", None, _SYSTEM_UI)), None)
    return ScreenState(notice or title_node is not None, home and not notice,
                       title_node.get("text") if title_node is not None else None,
                       body_node.get("text") if body_node is not None else None, top)


def match_locale(title: str | None, body: str | None, profile: NoticeProfile) -> str | None:
    """The locale of the profile text pattern that this title and body match, if any."""
    pattern = profile.match_text(_squash(title), _squash(body))
    return pattern.locale if pattern else None


def _squash(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


@dataclass
class Waiter:
    """Clock and sleep are injectable so unit tests run in no time."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    interval: float = 0.25

    def observe(self, source: ScreenSource, profile: NoticeProfile) -> ScreenState:
        try:
            return parse_screen(source.dump_hierarchy(), profile)
        except DeviceError:
            raise
        except Exception as exc:  # a fake, or a u2 error not wrapped as DeviceError
            raise DeviceError(source.serial, f"cannot read the screen: {exc!r}") from exc


def _observation(state: ScreenState, profile: NoticeProfile, checks: int, started: float,
                 now: float) -> NoticeObservation:
    locale = match_locale(state.title, state.body, profile) if state.notice else None
    return NoticeObservation(state.notice, state.home, state.title, state.body, locale, checks,
                             now - started, state.top_package)


def wait_present(session: ScreenSource, profile: NoticeProfile, timeout: float,
                 waiter: Waiter | None = None) -> NoticeObservation:
    """Poll until the notice is on screen or `timeout` passes; the last observation either way."""
    w = waiter or Waiter()
    started = w.clock()
    checks = 0
    while True:
        state = w.observe(session, profile)
        checks += 1
        now = w.clock()
        if state.notice or now - started >= timeout:
            return _observation(state, profile, checks, started, now)
        w.sleep(w.interval)


def wait_absent_stable(session: ScreenSource, profile: NoticeProfile, settle: float, timeout: float,
                       waiter: Waiter | None = None, min_checks: int = 4) -> NoticeObservation:
    """Home screen reached, then no notice across `settle` seconds and at least `min_checks` looks.

    Returns early with `present=True` the moment a notice shows; with `home=False` when the home
    screen never came within `timeout` (setup not finished: not a verdict the caller can trust).
    """
    w = waiter or Waiter()
    started = w.clock()
    checks = 0
    stable_since: float | None = None
    stable_checks = 0
    interval = max(w.interval, settle / max(min_checks - 1, 1)) if settle > 0 else w.interval
    while True:
        state = w.observe(session, profile)
        checks += 1
        now = w.clock()
        if state.notice:
            return _observation(state, profile, checks, started, now)
        if state.home:
            stable_since = now if stable_since is None else stable_since
            stable_checks += 1
            if now - stable_since >= settle and stable_checks >= min_checks:
                return _observation(state, profile, checks, started, now)
        else:
            stable_since, stable_checks = None, 0
        if now - started >= timeout + settle:
            return _observation(state, profile, checks, started, now)
        w.sleep(interval if stable_since is not None else w.interval)
