"""Generated matrices: pairwise/cartesian rows, pruning, steps per row, errors at file:line."""

from __future__ import annotations

import itertools
import textwrap

import pytest

from harness import generate
from harness.errors import ScenarioError
from harness.oracle import explain
from harness.scenario import load_text

FACTORS = textwrap.dedent("""\
    place: [Havana, Madrid, Simferopol, Kherson, Tehran, Dandong]
    sims: [none, CU, ES, [ES, CU], [RU, IR]]
    registration: [home, roaming, searching]
    location: ["on", "off"]
    connection: [wifi, mobile]
    ip: [direct, IR, ES]
    travel: [none, Havana, Madrid]
""")


def _doc(mode: str = "pairwise", factors: str = FACTORS, extra: str = "") -> str:
    body = textwrap.indent(factors, "    ")
    return f"scenario: 'gen ${{place}}'\nid: gen\ndevice: {{firmware: global}}\n{extra}generate:\n  {mode}:\n{body}"


def test_pairwise_covers_every_allowed_pair_in_few_rows() -> None:
    scenarios = load_text(_doc())
    rows = [sc.params for sc in scenarios]
    values = _factor_values()
    allowed = [row for combo in itertools.product(*values.values())
               if generate.can_decide(row := dict(zip(values, combo, strict=True)))]
    assert len(rows) < len(allowed) / 20  # 27-ish rows instead of ~1,700
    for a, b in itertools.combinations(list(values), 2):
        wanted = {(r[a], r[b]) for r in map(_params, allowed)}  # every pair some allowed row has
        seen = {(r[a], r[b]) for r in rows}
        assert wanted <= seen, (a, b, wanted - seen)


def _factor_values() -> dict[str, list[object]]:
    import yaml

    return yaml.safe_load(FACTORS.replace('"on"', "'on'").replace('"off"', "'off'"))


def _params(row: dict[str, object]) -> dict[str, str]:
    return {k: generate.param(v) for k, v in row.items()}


def test_rows_that_never_get_online_are_left_out() -> None:
    plan = generate.plan({"cartesian": {"sims": ["none", "CU"], "registration": ["home", "searching"],
                                        "connection": ["wifi", "mobile"]}}, "x", 1)
    assert plan.pruned == 3  # mobile without a SIM (x2 registrations), mobile while searching
    assert all(generate.can_decide(r) for r in plan.rows) and len(plan.rows) == 5


def test_each_row_becomes_steps_ending_in_the_oracle() -> None:
    scenarios = load_text(_doc("cartesian", "place: [Havana]\nsims: [[ES, CU]]\nregistration: [roaming]\n"
                                            "location: ['off']\nip: [ES]\ntravel: [Madrid]\n"))
    (sc,) = scenarios
    assert [s.kind for s in sc.steps] == ["reset", "sim", "network", "location", "location", "ip", "activate",
                                          "expect", "travel", "reboot", "expect"]
    assert sc.device.slots == 2 and sc.device.capabilities == ("roaming",)
    assert all(s.line == 4 for s in sc.steps)  # the `generate:` line
    assert sc.name == "gen Havana" and sc.id.startswith("gen[place=Havana,sims=ES+CU,")
    answer = explain(sc, upto=8)
    # location off: the first registered slot's network (the Spanish SIM roaming on its own PLMN)
    assert (answer.state, answer.signal, answer.territory) == ("unlocked", "network", "ES")


def test_every_generated_row_has_a_sure_oracle_answer() -> None:
    for sc in load_text(_doc()):
        assert explain(sc).state in ("locked", "unlocked"), sc.id


@pytest.mark.parametrize("text, line, message", [
    (_doc("pairwise", "plac: [Havana]\n"), 6, "unknown factor"),
    (_doc("allpairs", "place: [Havana]\n"), 4, "unknown mode"),
    (_doc("pairwise", "sims: [[none, CU]]\n"), 6, "none, one SIM or two SIMs"),
    (_doc("pairwise", "location: [maybe]\n"), 6, "unknown value 'maybe'"),
    (_doc("pairwise", "place: [Atlantis]\n"), 4, "unknown place 'Atlantis'"),
    (_doc("pairwise", "place: [Havana]\n", extra="steps: [reset]\n"), 5, "drop `steps:`"),
])
def test_bad_generate_is_an_error_at_its_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_text(text)
    assert info.value.line == line and message in str(info.value)
