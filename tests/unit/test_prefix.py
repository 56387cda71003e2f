"""The shared-prefix plan (harness.prefix): which steps may be shared, which scenarios share, the order."""

from __future__ import annotations

import random

from harness.prefix import boot_key, order_items, plan_prefixes, shareable_length
from harness.scenario.loader import load_text
from harness.scenario.model import Scenario


def scenario(steps: str, name: str = "s") -> Scenario:
    body = "\n".join(f"  - {line}" for line in steps.split(";"))
    return load_text(f"scenario: {name}\nid: {name}\ndevice: {{firmware: global}}\nsteps:\n{body}\n", stem=name)[0]


def test_a_prefix_is_reset_then_steps_whose_whole_effect_a_snapshot_holds() -> None:
    assert shareable_length(scenario("reset; sim: CU; location: Havana; activate; expect: locked")) == 3
    assert shareable_length(scenario("reset; sim: CU; network: {registration: roaming}; wifi: true; activate")) == 4
    assert shareable_length(scenario("sim: CU; location: Havana; activate")) == 0, "no reset: nothing to restore"
    assert shareable_length(scenario("reset; location: Havana; ip: IR; activate")) == 2, "the proxy is a host process"
    assert shareable_length(scenario("reset; location: Havana; wait: 10s; activate")) == 2
    # a SIM after `network` is no longer folded into the reset's boot: a cold reboot, not snapshot state
    assert shareable_length(scenario("reset; network: {registration: roaming}; sim: CU; activate")) == 2


def test_the_plan_gives_each_scenario_its_longest_prefix_shared_with_another() -> None:
    a = scenario("reset; sim: CU; location: Havana; activate; expect: locked", "a")
    b = scenario("reset; sim: CU; location: Havana; airplane: true; activate; expect: locked", "b")
    c = scenario("reset; sim: CU; location: Havana; airplane: true; activate: {online: false}; expect: locked", "c")
    d = scenario("reset; sim: CU; location: Madrid; activate; expect: unlocked", "d")
    e = scenario("reset; sim: CU; activate; expect: locked", "e")
    plans = plan_prefixes([a, b, c, d, e])
    assert plans[0] is not None and plans[0].length == 3
    assert plans[1] is not None and plans[1] == plans[2] and plans[1].length == 4
    assert plans[3] is None, "its position is its own"
    assert plans[4] is None, "reset and its boot SIMs are the factory snapshot already"
    assert plan_prefixes([a, b, c, d, e]) == plans, "a pure function of the collection"


def test_a_later_sim_or_ip_folded_into_the_boot_makes_another_prefix() -> None:
    a = scenario("reset; location: Havana; sim: CU; activate", "a")
    b = scenario("reset; location: Havana; sim: ES; activate", "b")
    c = scenario("reset; location: Havana; ip: IR; activate", "c")
    d = scenario("reset; location: Havana; activate", "d")
    assert len({boot_key(a), boot_key(b), boot_key(c), boot_key(d)}) == 4
    assert plan_prefixes([a, b, c, d]) == [None] * 4


def test_the_order_puts_a_kind_and_a_prefix_together_and_keeps_the_groups_in_the_order_given() -> None:
    havana = [scenario(f"reset; sim: CU; location: Havana; activate; expect: locked; wait: {i}s", f"h{i}")
              for i in range(3)]
    madrid = [scenario(f"reset; sim: ES; location: Madrid; activate; expect: unlocked; wait: {i}s", f"m{i}")
              for i in range(3)]
    for seed in range(5):
        given = havana + madrid
        random.Random(seed).shuffle(given)
        ordered = order_items([s.id for s in given], given, plan_prefixes(given))
        groups = ["".join(sorted({sid[0] for sid in ordered[:3]})), "".join(sorted({sid[0] for sid in ordered[3:]}))]
        assert groups in (["h", "m"], ["m", "h"])
        assert ordered[0] == given[0].id, "the first scenario given leads its group"
        assert [sid for sid in ordered if sid.startswith(ordered[0][0])] == \
            [s.id for s in given if s.id.startswith(ordered[0][0])], "within a group, the order given"
