"""Notice detection against a fake UI that plays back hierarchy dumps on a fake clock."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from harness.errors import DeviceError
from harness.notice import (
    NO_SERVICE,
    Waiter,
    decision_state,
    match_locale,
    node_matches,
    parse_screen,
    wait_absent_stable,
    wait_present,
)
from harness.profiles import load_profile

NOTICE_PKG = "com.android.regionlock"
TEXTS = {
    "en": ("Device locked", "This device has been locked due to international sanction restrictions."),
    "es": ("Dispositivo bloqueado",
           "Este dispositivo ha sido bloqueado debido a restricciones de sanciones internacionales."),
}


PROFILE = load_profile("reference").notice
HEADER = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"
STATUS_BAR = '<node package="com.android.systemui" resource-id="com.android.systemui:id/status_bar" text="" />'


def screen(*nodes: str) -> str:
    return f'{HEADER}\r\n<hierarchy rotation="0">{STATUS_BAR}{"".join(nodes)}</hierarchy>'


HOME = screen('<node package="com.android.launcher3" resource-id="com.android.launcher3:id/workspace" text="" />')
WIZARD = screen('<node package="com.android.provision" resource-id="com.android.provision:id/page_done" '
                'text="" />')


def notice(locale: str = "en") -> str:
    title, body = TEXTS[locale]
    return screen(
        f'<node package="{NOTICE_PKG}" resource-id="{NOTICE_PKG}:id/notice" text="">'
        f'<node package="{NOTICE_PKG}" resource-id="{NOTICE_PKG}:id/notice_title" text="{title}" />'
        f'<node package="{NOTICE_PKG}" resource-id="{NOTICE_PKG}:id/notice_body" text="{body} Contact support." />'
        "</node>")


@dataclass
class FakeUI:
    """Plays back dumps; the last one repeats. Each dump costs `cost` seconds of fake time."""

    dumps: list[str]
    serial: str = "emulator-5554"
    now: float = 0.0
    cost: float = 0.05
    reads: int = 0
    fail: bool = False

    def dump_hierarchy(self) -> str:
        if self.fail:
            raise ConnectionError("u2 link dropped")
        self.now += self.cost
        xml = self.dumps[min(self.reads, len(self.dumps) - 1)]
        self.reads += 1
        return xml

    def waiter(self) -> Waiter:
        def sleep(seconds: float) -> None:
            self.now += seconds

        return Waiter(clock=lambda: self.now, sleep=sleep, interval=0.25)


# --- parsing ------------------------------------------------------------------------------------

def test_parse_home_screen() -> None:
    state = parse_screen(HOME, PROFILE)
    assert (state.notice, state.home, state.top_package) == (False, True, "com.android.launcher3")


def test_parse_notice_with_texts() -> None:
    state = parse_screen(notice("es"), PROFILE)
    assert state.notice and not state.home
    assert state.title == "Dispositivo bloqueado"
    assert state.body is not None and state.body.startswith("Este dispositivo")


def test_parse_garbage_is_nothing() -> None:
    state = parse_screen("not xml", PROFILE)
    assert (state.notice, state.home) == (False, False)


@pytest.mark.parametrize(("title", "body", "locale"), [
    ("Device locked", TEXTS["en"][1], "en"),
    ("Dispositivo  bloqueado", "x " + TEXTS["es"][1] + " y", "es"),
    ("Device locked", "something else", None),
    (None, None, None),
])
def test_match_locale(title: str | None, body: str | None, locale: str | None) -> None:
    assert match_locale(title, body, PROFILE) == locale


@pytest.mark.parametrize(("selector", "matches"), [
    ({"resourceId": "a:id/x"}, True),
    ({"resourceId": "a:id/x", "text": "Hello world"}, True),
    ({"textContains": "world"}, True),
    ({"textMatches": "Hel+o.*"}, True),
    ({"checked": True}, True),
    ({"checked": False}, False),
    ({"text": "Hello"}, False),
])
def test_node_matches_selectors(selector: dict[str, object], matches: bool) -> None:
    node = ET.fromstring('<node resource-id="a:id/x" text="Hello world" checked="true" />')
    assert node_matches(node, selector) is matches


# --- wait_present -------------------------------------------------------------------------------

def test_present_returns_once_the_notice_shows() -> None:
    ui = FakeUI([WIZARD, HOME, notice("en")])
    seen = wait_present(ui, PROFILE, timeout=10, waiter=ui.waiter())
    assert seen.present and seen.locale == "en" and seen.title == "Device locked"
    assert seen.checks == 3


def test_present_times_out_with_what_was_seen() -> None:
    ui = FakeUI([HOME])
    seen = wait_present(ui, PROFILE, timeout=2, waiter=ui.waiter())
    assert not seen.present and seen.home
    assert seen.elapsed >= 2
    assert "home screen shown" in seen.describe()


# --- wait_absent_stable -------------------------------------------------------------------------

def test_absent_needs_home_and_several_checks_across_the_settle_period() -> None:
    ui = FakeUI([WIZARD, WIZARD, HOME])
    seen = wait_absent_stable(ui, PROFILE, settle=3, timeout=10, waiter=ui.waiter())
    assert not seen.present and seen.home
    assert ui.reads >= 2 + 4  # two wizard screens, then at least four looks at home
    assert seen.elapsed >= 3


def test_a_late_notice_during_settle_is_caught() -> None:
    ui = FakeUI([HOME, HOME, HOME, notice("en")])
    seen = wait_absent_stable(ui, PROFILE, settle=5, timeout=10, waiter=ui.waiter())
    assert seen.present
    assert seen.locale == "en"


def test_leaving_home_restarts_the_settle_period() -> None:
    ui = FakeUI([HOME, HOME, WIZARD, HOME])
    seen = wait_absent_stable(ui, PROFILE, settle=1, timeout=10, waiter=ui.waiter())
    assert seen.home and not seen.present
    assert ui.reads >= 3 + 4


def test_home_never_reached_is_reported_not_passed() -> None:
    ui = FakeUI([WIZARD])
    seen = wait_absent_stable(ui, PROFILE, settle=1, timeout=3, waiter=ui.waiter())
    assert not seen.present and not seen.home
    assert "not reached" in seen.describe()


def test_a_dead_ui_is_a_device_error() -> None:
    ui = FakeUI([HOME], fail=True)
    with pytest.raises(DeviceError) as info:
        wait_present(ui, PROFILE, timeout=1, waiter=ui.waiter())
    assert info.value.serial == "emulator-5554"


# --- the decision sign ----------------------------------------------------------------------------

def decisions(ui: FakeUI, values: list[str]) -> Callable[[], str]:
    """Plays back decision-property reads, one per home-screen poll; the last one repeats."""
    reads = iter(values)
    last = [values[0]]

    def read() -> str:
        last[0] = next(reads, last[0])
        return last[0]

    return read


def test_the_profile_names_a_decision_sign() -> None:
    sign = PROFILE.decision
    assert sign is not None and sign.property == "sys.activation.state"
    assert sign.is_final("activated") and sign.is_final("locked") and not sign.is_final("pending")


def test_absent_waits_out_an_undecided_device_for_the_longer_settle() -> None:
    ui = FakeUI([HOME])
    seen = wait_absent_stable(ui, PROFILE, settle=3, timeout=60, waiter=ui.waiter(),
                              decision=decisions(ui, ["pending"]))
    assert seen.home and not seen.present and seen.decision == "pending"
    assert PROFILE.decision is not None and seen.elapsed >= PROFILE.decision.undecided_settle_seconds


def test_absent_settles_quickly_once_decided_unlocked() -> None:
    ui = FakeUI([HOME])
    seen = wait_absent_stable(ui, PROFILE, settle=3, timeout=60, waiter=ui.waiter(),
                              decision=decisions(ui, ["pending", "activated"]))
    assert seen.home and seen.decision == "activated" and 3 <= seen.elapsed < 6


def test_the_settle_rule_waits_the_bound_only_while_a_decision_may_come() -> None:
    # issue 12 item 3: nothing shown on a device that may still decide -> the bound; on one checked
    # to have no decision service -> the settle period alone (nothing will decide)
    bound = PROFILE.decision.undecided_settle_seconds if PROFILE.decision else 0
    ui = FakeUI([HOME])
    seen = wait_absent_stable(ui, PROFILE, settle=3, timeout=60, waiter=ui.waiter(), decision=decisions(ui, [""]))
    assert seen.decision_state == "absent" and seen.elapsed >= bound
    ui = FakeUI([HOME])
    seen = wait_absent_stable(ui, PROFILE, settle=3, timeout=60, waiter=ui.waiter(),
                              decision=decisions(ui, [NO_SERVICE]))
    assert seen.home and not seen.present and seen.decision_state == "no-service"
    assert 3 <= seen.elapsed < 6 and not seen.undecided


def test_present_gives_up_after_the_settle_on_a_device_without_a_decision_service() -> None:
    ui = FakeUI([HOME])
    seen = wait_present(ui, PROFILE, timeout=60, waiter=ui.waiter(), decision=decisions(ui, [NO_SERVICE]))
    assert not seen.present and seen.home and seen.decision_state == "no-service" and 3 <= seen.elapsed < 6


def test_a_slow_lock_decision_is_not_mistaken_for_unlocked() -> None:
    # Settle (3 s) passes while the reply is still on its way; the notice comes at ~5 s.
    ui = FakeUI([HOME] * 12 + [notice("en")])
    seen = wait_absent_stable(ui, PROFILE, settle=3, timeout=60, waiter=ui.waiter(),
                              decision=decisions(ui, ["pending"]))
    assert seen.present


def test_present_gives_up_early_once_the_device_decided_unlocked() -> None:
    ui = FakeUI([HOME])
    seen = wait_present(ui, PROFILE, timeout=60, waiter=ui.waiter(), decision=decisions(ui, ["activated"]))
    assert not seen.present and seen.home and seen.decision == "activated"
    assert seen.elapsed < 10


def test_present_ends_once_undecided_past_the_bound() -> None:
    # the activation server is down: the decision is not coming, so neither is the notice
    ui = FakeUI([HOME])
    seen = wait_present(ui, PROFILE, timeout=60, waiter=ui.waiter(), decision=decisions(ui, ["pending"]))
    assert not seen.present and seen.undecided and seen.decision == "pending"
    assert PROFILE.decision is not None
    assert PROFILE.decision.undecided_settle_seconds <= seen.elapsed < PROFILE.decision.undecided_settle_seconds + 1


def test_present_keeps_waiting_while_undecided_when_told_the_device_is_offline() -> None:
    ui = FakeUI([HOME])
    seen = wait_present(ui, PROFILE, timeout=20, waiter=ui.waiter(), decision=decisions(ui, ["pending"]),
                        undecided_ends=False)
    assert not seen.present and seen.elapsed >= 20


def test_absent_keeps_waiting_for_the_notice_once_the_device_decided_locked() -> None:
    ui = FakeUI([HOME] * 40 + [notice("en")])  # the notice shows ~10 s after the decision
    seen = wait_absent_stable(ui, PROFILE, settle=3, timeout=60, waiter=ui.waiter(),
                              decision=decisions(ui, ["locked"]))
    assert seen.present


def test_absent_reports_a_locked_decision_without_notice_at_the_timeout() -> None:
    ui = FakeUI([HOME])
    seen = wait_absent_stable(ui, PROFILE, settle=3, timeout=20, waiter=ui.waiter(),
                              decision=decisions(ui, ["locked"]))
    assert not seen.present and seen.decision_state == "locked" and seen.elapsed >= 20


@pytest.mark.parametrize(("value", "meaning"), [
    ("activated", "unlocked"), ("locked", "locked"), ("pending", "undecided"), ("", "absent"),
    ("  ", "absent"), ("retrying", "undecided")])
def test_decision_states(value: str, meaning: str) -> None:
    assert decision_state(PROFILE.decision, value) == meaning
    assert decision_state(None, value) is None and decision_state(PROFILE.decision, None) is None
