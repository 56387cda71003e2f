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

A profile may also name a *decision sign* (a system property the lock service sets when it has
decided). Both waits then read it while the home screen shows and classify it (`decision_state`):
decided unlocked, decided locked, undecided (the service is still waiting for its answer), or absent
(this device shows no sign: no lock service). "No notice" counts as settled only once the decision
is in; a device still undecided after the profile's *decision bound* ends the wait with that state,
and the runner, not this module, says what it means (an infrastructure error when the device was
online: its answer never came, e.g. the activation server is down; the expected state when the
scenario itself took the device offline). A device that decided "locked" keeps the absent-wait
going until the notice shows or the timeout passes. A present-wait ends early, as a miss, once the
device has decided "unlocked" and stayed on the home screen for the settle period, or has stayed
undecided past the bound.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from harness.errors import DeviceError
from harness.profiles import DecisionSign, NoticeProfile
from harness.safe_regex import user_regex

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
    decision: str | None = None  # the profile's decision sign as last read, if it has one
    decision_state: DecisionState | None = None  # what that value means (None: no sign profiled)

    @property
    def undecided(self) -> bool:
        return self.decision_state == "undecided"

    def describe(self) -> str:
        if self.present:
            return f"notice shown (title {self.title!r}, body {self.body!r}, locale {self.locale or '?'})"
        decided = f", decision {self.decision!r} ({self.decision_state})" if self.decision is not None else ""
        if self.home:
            return f"no notice, home screen shown ({self.checks} checks over {self.elapsed:.1f}s{decided})"
        return f"no notice, but the home screen was not reached (top package {self.top_package!r})"

    def brief(self) -> str:
        """What was seen, without counts or timings (two runs of one failure read the same)."""
        decided = f", decision {self.decision!r}" if self.decision is not None else ""
        if self.present:
            return f"notice {self.title!r}{decided}"
        if self.home:
            return f"home screen{decided}"
        return f"home screen not reached (top package {self.top_package!r}){decided}"


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
            if not user_regex(str(want)).fullmatch(node.get(_MATCHES[key], "")):
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
    return " ".join((text or "").split())


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
                 now: float, decision: str | None = None) -> NoticeObservation:
    locale = match_locale(state.title, state.body, profile) if state.notice else None
    return NoticeObservation(state.notice, state.home, state.title, state.body, locale, checks,
                             now - started, state.top_package, decision,
                             decision_state(profile.decision, decision))


DecisionReader = Callable[[], str]  # reads the profile's decision property from the device
DecisionState = Literal["unlocked", "locked", "undecided", "absent", "no-service"]
# what a decision reader answers when the device was checked and has no decision service (the
# profile's `service` package is not installed): "no notice" is then final, nothing will decide
NO_SERVICE = "(no decision service)"


def decision_state(sign: DecisionSign | None, value: str | None) -> DecisionState | None:
    """What a read decision sign means; None when there is no sign or it was not read.

    An empty value is "absent": the device shows no decision, which is no more a lab fault than a
    firmware without a sign, but a decision may still come (it is waited for up to the bound).
    `NO_SERVICE` is "no-service": checked on the device, there is nothing to decide (a custom ROM).
    Any other value that is not a decision is "undecided" (e.g. `pending`).
    """
    if sign is None or value is None:
        return None
    if value == NO_SERVICE:
        return "no-service"
    if value in sign.unlocked:
        return "unlocked"
    if value in sign.locked:
        return "locked"
    return "undecided" if value.strip() else "absent"


def decision_bound(sign: DecisionSign) -> float:
    """The longest the profile says a decision takes once the home screen shows."""
    return sign.undecided_settle_seconds


def _read_decision(state: ScreenState, read: DecisionReader | None) -> str | None:
    """The decision sign, read only on the home screen (where it means something) and if profiled."""
    return read() if read is not None and state.home and not state.notice else None


def wait_present(session: ScreenSource, profile: NoticeProfile, timeout: float,
                 waiter: Waiter | None = None, decision: DecisionReader | None = None,
                 undecided_ends: bool = True) -> NoticeObservation:
    """Poll until the notice is on screen or `timeout` passes; the last observation either way.

    With a decision sign, a device that has decided "unlocked" and stayed on the home screen for
    the settle period ends the wait early: the notice is not coming. So does one that stayed
    undecided past the decision bound (unless `undecided_ends` is False: the caller knows the
    device is offline and a decision may come late): its answer is not coming either.
    """
    w = waiter or Waiter()
    sign = profile.decision if decision is not None else None
    started = w.clock()
    checks = 0
    unlocked_since: float | None = None
    undecided_since: float | None = None
    while True:
        state = w.observe(session, profile)
        checks += 1
        now = w.clock()
        value = _read_decision(state, decision)
        meaning = decision_state(sign, value)
        # decided "unlocked", or no service to decide: after the settle period the notice is not coming
        unlocked_since = (unlocked_since if unlocked_since is not None else now) \
            if meaning in ("unlocked", "no-service") else None
        undecided_since = (undecided_since if undecided_since is not None else now) \
            if meaning == "undecided" else None
        gave_up = (unlocked_since is not None and now - unlocked_since >= profile.settle_seconds) or (
            undecided_ends and sign is not None and undecided_since is not None
            and now - undecided_since >= decision_bound(sign))
        if state.notice or gave_up or now - started >= timeout:
            return _observation(state, profile, checks, started, now, value)
        w.sleep(w.interval)


def wait_absent_stable(session: ScreenSource, profile: NoticeProfile, settle: float, timeout: float,
                       waiter: Waiter | None = None, min_checks: int = 4,
                       decision: DecisionReader | None = None) -> NoticeObservation:
    """Home screen reached, then no notice across `settle` seconds and at least `min_checks` looks.

    Returns early with `present=True` the moment a notice shows; with `home=False` when the home
    screen never came within `timeout` (setup not finished: not a verdict the caller can trust).
    With a decision sign, while the device has not decided the settle period is the profile's
    longer undecided one, so a decision still on its way is waited for.
    """
    w = waiter or Waiter()
    sign = profile.decision if decision is not None else None
    value: str | None = None
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
            value = _read_decision(state, decision)
            meaning = decision_state(sign, value)
            # the decision bound is waited only while a decision may still come (honest settle,
            # docs/profiles.md): not once it is in, nor on a device checked to have no service
            needed = settle if sign is None or meaning in ("unlocked", "no-service") \
                else max(settle, decision_bound(sign))
            # decided "locked": the notice must follow; wait for it (or the timeout) instead
            if meaning != "locked" and now - stable_since >= needed and stable_checks >= min_checks:
                return _observation(state, profile, checks, started, now, value)
        else:
            stable_since, stable_checks = None, 0
        if now - started >= timeout + settle:
            return _observation(state, profile, checks, started, now, value)
        w.sleep(interval if stable_since is not None else w.interval)
