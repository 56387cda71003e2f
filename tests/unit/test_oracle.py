"""The policy model agrees with every hand-written expectation in the catalogue."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.oracle import OracleUnknown, expected_state
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
