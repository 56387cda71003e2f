"""Walk a setup wizard to the home screen, driven by a `WizardProfile` (data) and uiautomator2.

Theory of operation
-------------------
The walker never assumes an order of pages: each round it dumps the hierarchy once, recognises the
page by the profile's selectors, and runs that page's planned actions (taps, or toggles that are only
tapped when their checked state differs). Then it waits for the page to change, on the device
(uiautomator's waitUntilGone on the page's own selector), which answers as soon as it does. Pages may appear
slowly (realistic timing: 0.3-1.5 s after a tap), so a page that stays is re-examined, and only a page
that makes no progress for `page_timeout_seconds` is an error. An unknown screen is waited on too.
A stuck wizard is an infrastructure failure (`WizardStuck`), never a verdict.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.errors import DeviceError
from harness.notice import dump_nodes, find_node
from harness.profiles import WizardAction, WizardPage, WizardProfile
from harness.session import DeviceSession


class WizardStuck(DeviceError):
    """The wizard did not move on (or a required element was missing)."""


@dataclass
class WizardWalk:
    """What the walk did, for evidence: pages in the order seen, and the title shown on each."""

    pages: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    taps: list[dict[str, Any]] = field(default_factory=list)
    finished: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"pages": self.pages, "titles": self.titles, "taps": self.taps, "finished": self.finished}


def recognise(nodes: list[Any], profile: WizardProfile) -> WizardPage | None:
    return next((p for p in profile.pages if find_node(nodes, p.recognise) is not None), None)


def shown_title(nodes: list[Any], page: WizardPage) -> str | None:
    known = set(page.titles.values())
    return next((n.get("text") for n in nodes if n.get("text") in known), None)


@dataclass
class WizardWalker:
    session: DeviceSession
    profile: WizardProfile
    options: dict[str, Any]
    also_done: list[dict[str, Any]] = field(default_factory=list)  # e.g. the lock notice after finish
    clock: Callable[[], float] = time.monotonic
    poll_interval: float = 0.2
    walk: WizardWalk = field(default_factory=WizardWalk)

    def run(self, timeout: float = 180.0) -> WizardWalk:
        """Walk until the profile's `done` selector is on screen."""
        deadline = self.clock() + timeout
        last: str | None = None
        since = self.clock()
        while self.clock() < deadline:
            nodes = dump_nodes(self.session.dump_hierarchy())
            if self._over(nodes):
                self.walk.finished = True
                return self.walk
            page = recognise(nodes, self.profile)
            name = page.name if page else None
            if name != last:
                last, since = name, self.clock()
                if page is not None:
                    self._act(page, nodes)
                    self._wait_left(page)
                    continue
            elif self.clock() - since > self.profile.page_timeout_seconds:
                raise WizardStuck(self.session.serial,
                                  f"setup wizard made no progress on page {name or 'unknown'} for "
                                  f"{self.profile.page_timeout_seconds:.0f}s (walked: {self.walk.pages})")
            time.sleep(self.poll_interval)
        raise WizardStuck(self.session.serial, f"setup wizard not finished within {timeout:.0f}s "
                                               f"(walked: {self.walk.pages})")

    def _wait_left(self, page: WizardPage) -> None:
        """Wait on the device for the page just acted on to go (uiautomator's waitUntilGone).

        The device answers the moment the screen changes, where polling the hierarchy every
        `poll_interval` added half an interval of latency (and a dump) to each of the wizard's page
        transitions (bench/README.md). Bounded like an element wait; a page still there afterwards
        is what the loop's no-progress check judges, as before.
        """
        self.session.ui_call(lambda d: d(**page.recognise).wait_gone(timeout=self.profile.page_timeout_seconds / 3),
                             f"wizard {page.name}: wait for the next page")

    def _over(self, nodes: list[Any]) -> bool:
        """Home screen, or a screen that replaces it once setup is over (a lock notice)."""
        if find_node(nodes, self.profile.done) is not None:
            return True
        finished_once = bool(self.walk.pages) and self.walk.pages[-1] == self.profile.pages[-1].name
        return finished_once and any(find_node(nodes, sel) is not None for sel in self.also_done)

    def _act(self, page: WizardPage, nodes: list[Any]) -> None:
        self.walk.pages.append(page.name)
        title = shown_title(nodes, page)
        if title is not None:
            self.walk.titles[page.name] = title
        for action in page.plan(self.options):
            self._do(page, action)

    def _do(self, page: WizardPage, action: WizardAction) -> None:
        selector = action.selector(self.options)
        wanted = action.wanted_checked(self.options)

        def tap(d: Any) -> str:
            obj = d(**selector)
            if not obj.wait(timeout=self.profile.page_timeout_seconds / 3):
                return "missing"
            if wanted is not None and bool(obj.info.get("checked")) == wanted:
                return "already"
            obj.click()
            return "tapped"

        result = self.session.ui_call(tap, f"wizard {page.name}: tap {selector}")
        self.walk.taps.append({"page": page.name, "selector": selector, "result": result})
        if result == "missing" and not action.optional:
            raise WizardStuck(self.session.serial, f"wizard page {page.name}: no element {selector}")


def walk_wizard(session: DeviceSession, profile: WizardProfile, options: dict[str, Any],
                timeout: float = 180.0, also_done: list[dict[str, Any]] | None = None) -> WizardWalk:
    """Walk the setup wizard with these activation options (see profiles.wizard_options).

    `also_done`: selectors that end the walk once the last page was tapped (the lock notice can
    replace the home screen the moment setup finishes).
    """
    return WizardWalker(session, profile, options, also_done=list(also_done or [])).run(timeout)
