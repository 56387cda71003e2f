"""The policy model agrees with every hand-written expectation in the catalogue."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.oracle import OracleUnknown, expected_state, explain
from harness.scenario import load_paths, load_text

ROOT = Path(__file__).resolve().parents[2] / "scenarios"


def _expects():
    for sc in load_paths([ROOT]):
        for i, step in enumerate(sc.steps):
            if step.kind == "expect" and step.state != "policy":
                yield pytest.param(sc, i, step.state, id=f"{sc.id}@{step.line}")


@pytest.mark.parametrize("scenario, index, state", list(_expects()))
def test_oracle_agrees_with_catalogue(scenario, index: int, state: str) -> None:
    assert expected_state(scenario, index) == state


def _sc(steps: str, device: str = "{firmware: global}"):
    return load_text(f"scenario: x\ndevice: {device}\nsteps:\n" + textwrap.dedent(steps))[0]


def test_precedence_and_memory() -> None:
    # Network (CU) beats SIM when location is off; a verdict is kept after travelling.
    assert expected_state(_sc("- reset\n- sim: ES\n- network: CU\n- location: off\n- activate\n")) == "locked"
    assert expected_state(_sc("- reset\n- sim: ES\n- location: Madrid\n- activate\n- travel: Havana\n"
                              "- reboot\n")) == "unlocked"
    assert expected_state(_sc("- reset\n- sim: CU\n- location: Havana\n- activate\n"),
                          firmware="custom-rom") == "unlocked"
    # `reset` is new hardware: the server forgets; `factory-reset` is not.
    base = "- reset\n- sim: CU\n- location: Havana\n- activate\n"
    assert expected_state(_sc(base + "- reset\n- sim: ES\n- location: Madrid\n- activate\n")) == "unlocked"
    assert expected_state(_sc(base + "- factory-reset\n- travel: {to: Madrid, sim: ES}\n- activate\n")) == "locked"


def test_unknown_territory_is_an_error() -> None:
    with pytest.raises(OracleUnknown):
        expected_state(_sc("- reset\n- location: {lat: 1, lon: 1}\n- activate: {wifi: HomeNet}\n"))


# --- known wrong before issue 10 -------------------------------------------------------------------

def test_moving_the_fix_keeps_location_services_off() -> None:
    # Location off, set up offline in Madrid, then taken to Havana and brought online: the wizard's
    # toggle and the travel leave the switch off, so the Spanish network decides, not GPS.
    sc = _sc("- reset\n- sim: ES\n- location: Madrid\n- location: off\n- activate: {online: false}\n"
             "- travel: Havana\n- location: Havana\n- wifi: HomeNet\n")
    answer = explain(sc)
    assert (answer.state, answer.signal, answer.territory) == ("unlocked", "network", "ES")
    assert "gps skipped: location services are off" in answer.reason
    # `location: on` (or the wizard's toggle set explicitly) switches them back on
    assert expected_state(_sc("- reset\n- sim: ES\n- location: off\n- location: Havana\n- location: on\n"
                              "- activate\n")) == "locked"
    assert expected_state(_sc("- reset\n- sim: ES\n- location: off\n- location: Havana\n"
                              "- activate: {location_services: true}\n")) == "locked"


@pytest.mark.parametrize("spelling", ["UA-43", "UA-40", "Crimea", "crimea", "Krym"])
def test_territory_on_raw_coordinates_is_canonical(spelling: str) -> None:
    sc = _sc(f"- reset\n- location: {{lat: 45.0, lon: 34.1, territory: {spelling}}}\n- activate: {{wifi: HomeNet}}\n")
    assert sc.steps[1].position.territory == "crimea"
    answer = explain(sc)
    assert answer.state == "locked"
    assert answer.text().startswith("expected locked: GPS placed it in Crimea (UA-43/UA-40), prohibited")


def test_territory_spellings_of_countries_and_errors() -> None:
    sc = _sc("- location: {lat: 23.1, lon: -82.4, territory: cuba}\n")
    assert sc.steps[0].position.territory == "CU"
    with pytest.raises(ScenarioError) as info:
        _sc("- reset\n- location: {lat: 45, lon: 34, territory: Krimea}\n")
    assert info.value.line == 5 and "unknown territory 'Krimea'" in str(info.value)
    assert "crimea" in str(info.value)  # suggested
    with pytest.raises(ScenarioError, match="lies in UA, not in country RU"):
        _sc("- location: {lat: 45, lon: 34, territory: crimea, country: RU}\n")


def test_guantanamo_base_is_held_by_the_us() -> None:
    base = "- reset\n- sim: none\n- location: {place}\n- activate: {{wifi: HomeNet}}\n"
    answer = explain(_sc(base.format(place="Guantanamo Bay")))
    assert (answer.state, answer.territory) == ("unlocked", "US")
    assert expected_state(_sc(base.format(place="Caimanera"))) == "locked"  # the Cuban side of the fence


def test_oracle_says_when_it_is_unsure() -> None:
    answer = explain(_sc("- reset\n- location: {lat: 1, lon: 1}\n- activate: {wifi: HomeNet}\n"))
    assert answer.state == "uncertain" and "no territory for the fix" in answer.reason
    # a signal it cannot place *after* the decider does not matter
    sc = _sc("- reset\n- location: {lat: 1, lon: 1}\n- location: off\n- sim: CU\n- activate\n")
    assert explain(sc).state == "locked"


def test_explanation_lists_every_signal() -> None:
    answer = explain(_sc("- reset\n- sim: ES\n- network: CU\n- location: off\n- activate\n"))
    assert (answer.state, answer.signal) == ("locked", "network")
    assert [p.signal for p in answer.considered] == ["gps", "network"]
    assert "gps" in answer.detail() and "Cuba (CU)" in answer.detail()
    assert explain(_sc("- reset\n- sim: CU\n- location: Havana\n- activate\n"),
                   firmware="custom-rom").reason.startswith("custom-rom has no activation service")
