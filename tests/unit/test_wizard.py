"""The wizard walker against a fake device whose pages advance on taps (reference wizard profile)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.errors import InfrastructureError
from harness.profiles import load_profile, wizard_options
from harness.wizard import WizardStuck, WizardWalker

P = "com.android.provision:id/"
PAGES = ["welcome", "sim", "wifi", "terms", "account", "location", "done"]
NEXT_ON = {"welcome": "next", "sim": "next", "wifi": "next|skip", "terms": "accept", "account": "skip",
           "location": "next", "done": "finish"}


@dataclass
class FakeWizard:
    """Pages in order; the page's main button moves on; switches toggle; records every tap."""

    serial: str = "emulator-5554"
    page: int = 0
    switches: dict[str, bool] = field(default_factory=lambda: {"wifi_switch": False, "location_switch": True})
    taps: list[str] = field(default_factory=list)
    gone_waits: list[str] = field(default_factory=list)  # the selectors waited on to go, in order
    stuck_on: str | None = None
    after_finish: str = "home"  # or "notice"

    def dump_hierarchy(self) -> str:
        if self.page >= len(PAGES):
            rid = ("com.android.launcher3:id/workspace" if self.after_finish == "home"
                   else "com.android.regionlock:id/notice")
            return f'<hierarchy><node resource-id="{rid}" text="" /></hierarchy>'
        name = PAGES[self.page]
        return (f'<hierarchy><node resource-id="{P}page_{name}" package="com.android.provision">'
                f'<node resource-id="{P}title" text="{PROFILE.page(name).titles["en"]}" /></node></hierarchy>')

    def ui_call(self, call: Callable[[Any], Any], what: str) -> Any:
        return call(self._select)

    def _select(self, **selector: Any) -> Any:
        return FakeElement(self, selector)

    def tap(self, rid: str, text: str | None) -> None:
        name = rid.removeprefix(P)
        self.taps.append(name if text is None else f"{name}={text}")
        if name in self.switches:
            self.switches[name] = not self.switches[name]
        elif name in NEXT_ON[PAGES[self.page]].split("|") and PAGES[self.page] != self.stuck_on:
            self.page += 1


@dataclass
class FakeElement:
    wizard: FakeWizard
    selector: dict[str, Any]

    def wait(self, timeout: float) -> bool:
        name = self.selector["resourceId"].removeprefix(P)
        page = PAGES[self.wizard.page]
        present = {"welcome": {"language_en", "language_es", "next"}, "sim": {"next"},
                   "wifi": {"wifi_switch", "wifi_network", "next", "skip"}, "terms": {"accept"},
                   "account": {"skip"}, "location": {"location_switch", "next"}, "done": {"finish"}}[page]
        return name in present

    def wait_gone(self, timeout: float) -> bool:
        """The page's own selector is gone once the fake moved past that page (no waiting here)."""
        self.wizard.gone_waits.append(self.selector["resourceId"].removeprefix(P))
        shown = PAGES[self.wizard.page] if self.wizard.page < len(PAGES) else None
        return self.selector.get("resourceId") != f"{P}page_{shown}"

    @property
    def info(self) -> dict[str, Any]:
        return {"checked": self.wizard.switches.get(self.selector["resourceId"].removeprefix(P), False)}

    def click(self) -> None:
        self.wizard.tap(self.selector["resourceId"], self.selector.get("text"))


PROFILE = load_profile("reference").wizard


def walker(fake: FakeWizard, **options: Any) -> WizardWalker:
    return WizardWalker(fake, PROFILE, wizard_options(**options), poll_interval=0)  # type: ignore[arg-type]


def test_walks_every_page_with_wifi_and_spanish() -> None:
    fake = FakeWizard()
    walk = walker(fake, language="es", wifi="HomeNet").run(timeout=5)
    assert walk.finished and walk.pages == PAGES
    assert fake.taps[:2] == ["language_es", "next"]
    assert "wifi_switch" in fake.taps and "wifi_network=HomeNet" in fake.taps
    assert "skip" not in fake.taps[:5]
    assert walk.titles["terms"] == "Terms of service"


def test_without_wifi_the_page_is_skipped_and_location_toggle_only_when_it_differs() -> None:
    fake = FakeWizard()
    walker(fake, wifi=None, location_services=True).run(timeout=5)
    assert "wifi_switch" not in fake.taps and "location_switch" not in fake.taps
    fake2 = FakeWizard()
    walker(fake2, wifi=None, location_services=False).run(timeout=5)
    assert fake2.taps.count("location_switch") == 1 and fake2.switches["location_switch"] is False


def test_a_notice_right_after_finish_ends_the_walk() -> None:
    fake = FakeWizard(after_finish="notice")
    w = walker(fake)
    w.also_done = [{"resourceId": "com.android.regionlock:id/notice"}]
    assert w.run(timeout=5).finished


def test_a_page_that_does_not_move_is_infrastructure() -> None:
    fake = FakeWizard(stuck_on="terms")
    profile = PROFILE.model_copy(update={"page_timeout_seconds": 0.2})
    w = WizardWalker(fake, profile, wizard_options(), poll_interval=0.01)  # type: ignore[arg-type]
    with pytest.raises(WizardStuck) as info:
        w.run(timeout=5)
    assert isinstance(info.value, InfrastructureError)
    assert "terms" in str(info.value)


def test_after_acting_on_a_page_it_waits_on_the_device_for_that_page_to_go() -> None:
    # an event-driven wait (waitUntilGone), not a hierarchy poll per interval, ends each transition
    fake = FakeWizard()
    walker(fake).run(timeout=5)
    assert fake.gone_waits == [f"page_{name}" for name in PAGES]
