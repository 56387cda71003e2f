"""Failure messages group across runs (no paths, serials, timings) and the categories are exclusive."""

from __future__ import annotations

import re

import pytest

from harness.errors import DeviceError, ServiceDown, SpoofMismatch, UndecidedDevice, VerdictMismatch
from harness.outcomes import (
    CATEGORIES,
    ScenarioTimeout,
    infrastructure_message,
    place_label,
    scrub,
    verdict_message,
)


def categories_of(status: str, message: str) -> list[str]:
    # Allure 2 puts a result in every category that matches (Java `matches`: the whole message)
    return [c.name for c in CATEGORIES if c.status == status and re.fullmatch(c.pattern, message)]


def test_a_missed_lock_reads_place_first_and_lands_in_one_category() -> None:
    exc = VerdictMismatch("locked", "unlocked", "scenarios/x.yaml:9: no notice, home screen shown (5 checks over "
                          "12.3s, decision 'activated')", "home screen, decision 'activated'")
    message = verdict_message(place_label("Sevastopol", "crimea"), exc)
    assert message == "Sevastopol (Crimea): expected locked, seen unlocked — home screen, decision 'activated'"
    assert categories_of("failed", message) == ["missed lock"]
    assert categories_of("failed", verdict_message("Cuba", VerdictMismatch("unlocked", "locked"))) == ["false lock"]
    text = verdict_message("", VerdictMismatch("locked with a notice matching 'x'", "locked"))
    assert categories_of("failed", text) == ["wrong notice text"]
    assert categories_of("failed", "Cuba: the device rebooted itself") == ["product: other"]


@pytest.mark.parametrize(("exc", "category"), [
    (DeviceError("emulator-16000", "adb: device offline"), "infrastructure: device lost"),
    (SpoofMismatch("gsm.sim.operator.numeric", "36801", "310260", "emulator-16000"),
     "infrastructure: spoof did not take"),
    (ScenarioTimeout("the scenario did not finish within its limit of 600 s"), "infrastructure: timeout"),
    (DeviceError("emulator-16000", "u2 server refused the click"), "infrastructure: lab"),
    (UndecidedDevice("emulator-16000", "decision still 'pending' past 20 s"), "infrastructure: no decision"),
    (ServiceDown("activation server", "restarted during the scenario"), "infrastructure: service down"),
    (KeyError("x"), "harness error"),
])
def test_lab_failures_are_named_by_kind_without_serials(exc: BaseException, category: str) -> None:
    message = infrastructure_message("Havana (Cuba)", exc)
    assert message.startswith("Havana (Cuba): ") and "emulator-16000" not in message
    assert categories_of("broken", message) == [category]


def test_scrub_drops_what_differs_between_runs() -> None:
    text = "<Device|emulator-5554> /tmp/harness-virtual-x/dev0/log: boot timed out after 90.1 s (12 checks over 3.2s)"
    assert scrub(text) == "boot timed out"


def test_territory_names() -> None:
    assert place_label("Havana", "CU") == "Havana (Cuba)"
    assert place_label(None, "IR") == "Iran"
    assert place_label(None, None) == ""
