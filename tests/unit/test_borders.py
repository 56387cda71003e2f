"""Border sweeps: the harness's own crossing data, points at set distances, uncertain in between."""

from __future__ import annotations

import pytest

from harness import borders, geo
from harness.errors import ScenarioError
from harness.oracle import explain
from harness.scenario import load_text


def test_every_crossing_joins_two_territories_with_room_in_between() -> None:
    known = borders.crossings()
    assert {"perekop", "chonhar", "white-nile", "yalu-dandong", "guantanamo-fence", "kilis"} <= set(known)
    for c in known.values():
        assert c.a.territory != c.b.territory
        assert c.a_clear_km + c.b_clear_km < c.length_km


def test_points_lie_on_the_line_at_the_asked_distance() -> None:
    perekop = borders.crossings()["perekop"]
    points = borders.sweep(perekop, (0.5, 2.0, 8.0))
    assert len(points) == 6
    for p in points:
        near = geo.place(p.near)
        assert geo.distance_km(near.latitude, near.longitude, p.latitude, p.longitude) == pytest.approx(p.km, abs=0.01)
    by_label = {p.label: p.territory for p in points}
    assert by_label["perekop/Armyansk+0.5km"] == "crimea"
    assert by_label["perekop/Armyansk+8km"] is None  # past Armyansk's 4 km clearance: uncertain
    assert by_label["perekop/Chaplynka+8km"] == "UA"


def test_points_past_the_middle_are_dropped() -> None:
    dandong = borders.crossings()["yalu-dandong"]  # 3.2 km apart
    assert {p.km for p in borders.sweep(dandong, (0.5, 2.0, 8.0))} == {0.5}


def test_along_the_great_circle() -> None:
    assert borders.along(0, 0, 0, 10, 0.5) == pytest.approx((0, 5))
    assert borders.along(10, 20, 10, 20, 0.3) == (10, 20)


def test_sweep_generate_rows_and_uncertain_points() -> None:
    text = ("scenario: 'sweep ${crossing} ${near} ${km}'\nid: sw\ndevice: {firmware: global}\n"
            "generate:\n  sweep: {crossings: [perekop, kilis], distances_km: [0.5, 8]}\n")
    scenarios = load_text(text)
    assert len(scenarios) == 6  # Kilis and Azaz are 15.7 km apart: no 8 km points from either
    answers = {sc.id: explain(sc).state for sc in scenarios}
    assert answers["sw[crossing=perekop,near=Armyansk,km=0.5]"] == "locked"
    assert answers["sw[crossing=kilis,near=Kilis,km=0.5]"] == "unlocked"
    assert answers["sw[crossing=perekop,near=Armyansk,km=8]"] == "uncertain"
    assert sum(state == "uncertain" for state in answers.values()) == 1


@pytest.mark.parametrize("sweep, message", [
    ("{crossings: [atlantis]}", "unknown border crossing(s) atlantis"),
    ("{distances_km: [-1]}", "positive numbers"),
    ("{borders: [perekop]}", "expected a mapping with crossings, distances_km"),
])
def test_bad_sweeps_are_errors_at_the_generate_line(sweep: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_text(f"scenario: s\ngenerate:\n  sweep: {sweep}\n")
    assert info.value.line == 2 and message in str(info.value)
