"""Scenario models: frozen, validated, discriminated by kind; the error hierarchy renders usefully."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from harness.errors import (
    ConsoleError,
    DeviceError,
    InfrastructureError,
    ProductDefect,
    ScenarioError,
    SpoofMismatch,
    VerdictMismatch,
)
from harness.scenario.model import (
    STEP_KINDS,
    NetworkSpec,
    Position,
    Scenario,
    SimSpec,
    SourceRef,
    Step,
    TimezoneStep,
)


def test_step_union_is_discriminated_by_kind() -> None:
    adapter = TypeAdapter(Step)
    step = adapter.validate_python({"kind": "sim", "line": 4, "slots": [{"mcc": "368", "mnc": "01"}]})
    assert step.kind == "sim" and step.line == 4
    kinds = {adapter.validate_python(_minimal(k)).kind for k in STEP_KINDS}
    assert kinds == set(STEP_KINDS)


def _minimal(kind: str) -> dict[str, object]:
    extra: dict[str, object] = {
        "sim": {"slots": [{"absent": True}]}, "network": {"network": {}}, "location": {"enabled": False},
        "locale": {"locale": "es-ES"}, "timezone": {"timezone": "America/Havana"}, "wifi": {"on": True},
        "data": {"on": False}, "airplane": {"on": False}, "ip": {"country": None}, "wait": {"seconds": 1},
        "expect": {"state": "locked"}, "screenshot": {"name": "x"},
    }
    return {"kind": kind, **extra.get(kind, {})}


def test_models_are_frozen() -> None:
    sim = SimSpec(mcc="368", mnc="01")
    with pytest.raises(ValidationError):
        sim.mcc = "432"  # type: ignore[misc]


@pytest.mark.parametrize("fields", [
    {"mcc": "36", "mnc": "01"}, {"mcc": "368", "mnc": "1"}, {"mcc": "368"},
    {"absent": True, "mcc": "368", "mnc": "01"}, {"mcc": "368", "mnc": "01", "country": "cu"},
    {"mcc": "368", "mnc": "01", "slot": 2},
])
def test_bad_sims(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SimSpec(**fields)  # type: ignore[arg-type]


def test_plmns() -> None:
    assert SimSpec(mcc="310", mnc="410").plmn == "310410"
    assert SimSpec(absent=True).plmn is None
    assert NetworkSpec().plmn is None and NetworkSpec(mcc="250", mnc="01").plmn == "25001"
    with pytest.raises(ValidationError):
        NetworkSpec(mcc="250")


@pytest.mark.parametrize("lat, lon", [(91, 0), (-91, 0), (0, 181), (0, -180.5)])
def test_position_ranges(lat: float, lon: float) -> None:
    with pytest.raises(ValidationError):
        Position(latitude=lat, longitude=lon)


def test_timezone_validated() -> None:
    assert TimezoneStep(timezone="Europe/Simferopol").timezone == "Europe/Simferopol"
    with pytest.raises(ValidationError):
        TimezoneStep(timezone="Mars/Olympus")


def test_scenario_helpers() -> None:
    sc = Scenario(id="a", name="a", steps=[{"kind": "reset", "line": 3}, {"kind": "reboot"}],
                  source=SourceRef(file="f.yaml", line=1))
    assert [s.kind for s in sc.steps if s.kind == "reset"] == ["reset"]
    assert str(sc.where(sc.steps[0])) == "f.yaml:3" and str(sc.where(sc.steps[1])) == "f.yaml:1"


def test_error_hierarchy_and_rendering() -> None:
    err = ScenarioError("a.yaml", 7, "steps[2].location", "unknown place 'Havanna'", ["Havana"])
    assert str(err) == "a.yaml:7: steps[2].location: unknown place 'Havanna' (did you mean Havana?)"
    assert str(ScenarioError("a.yaml", None, None, "bad")) == "a.yaml: bad"
    assert str(DeviceError("emulator-5554", "offline")) == "<Device|emulator-5554> offline"
    mismatch = SpoofMismatch("gsm.sim.operator.numeric", "36801", "310260", "emulator-5554")
    assert "36801" in str(mismatch) and "310260" in str(mismatch)
    assert isinstance(mismatch, InfrastructureError) and isinstance(ConsoleError("geo fix", "KO: x"),
                                                                    InfrastructureError)
    verdict = VerdictMismatch("locked", "unlocked", "no notice within 60 s")
    assert isinstance(verdict, ProductDefect) and not isinstance(verdict, InfrastructureError)
    assert (verdict.expected, verdict.observed) == ("locked", "unlocked")
