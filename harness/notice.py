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

What a notice and the home screen look like comes from a profile (data): see `NoticeProfileLike`.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from harness.errors import DeviceError

_SYSTEM_UI = "com.android.systemui"


class NoticeProfileLike(Protocol):
    """What detection needs from a notice profile (harness.profiles.NoticeProfile provides it)."""

    @property
    def container_id(self) -> str: ...

    @property
    def title_id(self) -> str: ...

    @property
    def body_id(self) -> str: ...

    @property
    def home_ids(self) -> tuple[str, ...]: ...  # any of these ids on screen = the home screen

    @property
    def texts(self) -> Mapping[str, tuple[str, str]]: ...  # locale -> (title, body substring)


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


def parse_screen(xml: str, profile: NoticeProfileLike) -> ScreenState:
    """A uiautomator hierarchy dump -> what the notice detector cares about."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return ScreenState(False, False, None, None, None)
    nodes = list(root.iter("node"))
    by_id: dict[str, ET.Element] = {}
    for node in nodes:
        by_id.setdefault(node.get("resource-id", ""), node)
    notice = profile.container_id in by_id or profile.title_id in by_id
    title = by_id[profile.title_id].get("text") if profile.title_id in by_id else None
    body = by_id[profile.body_id].get("text") if profile.body_id in by_id else None
    home = any(i in by_id for i in profile.home_ids)
    # the status bar is its own window (systemui); the app under it is what the user sees
    top = next((n.get("package") for n in nodes if n.get("package") not in ("", None, _SYSTEM_UI)), None)
    return ScreenState(notice, home and not notice, title, body, top)


def match_locale(title: str | None, body: str | None, texts: Mapping[str, tuple[str, str]]) -> str | None:
    """The locale whose title equals and body contains the expected texts (whitespace-insensitive)."""
    for locale, (want_title, want_body) in texts.items():
        if _squash(title) == _squash(want_title) and _squash(want_body) in _squash(body):
            return locale
    return None


def _squash(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


@dataclass
class Waiter:
    """Clock and sleep are injectable so unit tests run in no time."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    interval: float = 0.25

    def observe(self, source: ScreenSource, profile: NoticeProfileLike) -> ScreenState:
        try:
            return parse_screen(source.dump_hierarchy(), profile)
        except DeviceError:
            raise
        except Exception as exc:  # a fake, or a u2 error not wrapped as DeviceError
            raise DeviceError(source.serial, f"cannot read the screen: {exc!r}") from exc


def _observation(state: ScreenState, profile: NoticeProfileLike, checks: int, started: float,
                 now: float) -> NoticeObservation:
    locale = match_locale(state.title, state.body, profile.texts) if state.notice else None
    return NoticeObservation(state.notice, state.home, state.title, state.body, locale, checks,
                             now - started, state.top_package)


def wait_present(session: ScreenSource, profile: NoticeProfileLike, timeout: float,
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


def wait_absent_stable(session: ScreenSource, profile: NoticeProfileLike, settle: float, timeout: float,
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
