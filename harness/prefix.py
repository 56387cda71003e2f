"""Shared prefixes: scenarios that begin with the same steps run them once per device.

Theory of operation
-------------------
Many scenarios (and generated matrix rows) begin alike: `reset`, the same SIM, the same position.
At collection time `plan_prefixes` gives each scenario the longest *shareable prefix* it has in
common with at least one other scenario of the run (`PrefixPlan`: its length and a key). At run
time the first scenario with that key on a device runs the prefix and saves a snapshot right after
it (`avd snapshot save harness-prefix-<key>`); the others load it instead of running the steps, get
a new identity as after any reset (harness.resets), and go on from there. The plan is a pure
function of the collected scenarios, so it is the same in every xdist worker; `order_items` puts the
scenarios of one boot kind, then of one prefix, next to each other (groups in the order the first
of them was collected), and harness.scheduling keeps them on one xdist worker where it can.

A scenario's result never depends on what ran before it on that device: a prefix snapshot only
exists on the instance that ran that prefix (a restart forgets it), and a restore puts back both
halves of the state the prefix left, the device's (the snapshot) and the runner's own (`PrefixState`:
the spoofer's radio values, pinned network and last fix, the scenario-offline flag), and starts the
log a scenario is judged on after the load, as a reset does.

Shareable steps are those whose whole effect is device state a snapshot holds, plus runner state
`PrefixState` keeps: `reset` (first), then `sim` (only cards folded into the reset's boot: a later
SIM change is a cold reboot, which a snapshot of the running instance cannot stand for), `network`,
`location`, `locale`, `timezone`, `wifi`, `data`, `airplane`. Not shareable: `ip` (its proxy is a
process of the harness, not device state), `wait` (it moves the clock, which a load re-syncs),
`activate` and everything after (they talk to the activation server, which remembers devices),
`expect`, `screenshot`, `travel`, `reboot`, `factory-reset`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from harness.resets import digest
from harness.scenario.model import NetworkSpec, Position, Scenario, Step
from harness.simboot import plan_sim_boots

SHAREABLE = frozenset({"sim", "network", "location", "locale", "timezone", "wifi", "data", "airplane"})
PREFIX_STEP_KIND = "prefix-restore"  # how a restored prefix shows in the step timings (--harness-summary)


@dataclass(frozen=True)
class PrefixPlan:
    """The first `length` steps of a scenario are shared with other scenarios under `key`."""

    length: int
    key: str

    def snapshot_name(self) -> str:
        return f"harness-prefix-{self.key}"


@dataclass(frozen=True)
class PrefixState:
    """The runner's own state after a prefix (the device's is in the snapshot)."""

    radio_props: dict[str, str] = field(default_factory=dict)
    network: NetworkSpec | None = None
    positions: tuple[Position, ...] = ()
    offline: bool = False


@dataclass(frozen=True)
class PrefixSnapshot:
    name: str
    state: PrefixState


def shareable_length(scenario: Scenario) -> int:
    """How many leading steps could be shared: `reset`, then shareable steps (0 without a reset)."""
    steps = scenario.steps
    if not steps or steps[0].kind != "reset":
        return 0
    preloaded = plan_sim_boots(steps).preloaded
    length = 1
    while length < len(steps) and steps[length].kind in SHAREABLE:
        if steps[length].kind == "sim" and length not in preloaded:
            break
        length += 1
    return length


def _worth_sharing(steps: Sequence[Step]) -> bool:
    """`reset` and the SIMs folded into its boot are the factory snapshot already (harness.resets)."""
    return any(step.kind not in ("reset", "sim") for step in steps)


def boot_key(scenario: Scenario) -> str:
    """What the scenario's first reset boots (harness.resets.BootKind, as far as the scenario says it)."""
    plan = plan_sim_boots(scenario.steps)
    ip = plan.boot_ip.get(0)
    return digest({"device": scenario.device.model_dump(mode="json"),
                    "sims": [sim.model_dump(mode="json") for sim in plan.boot_sims.get(0, ())],
                    "ip": ip[1] if ip else None, "fresh": bool(scenario.steps) and scenario.steps[0].kind == "reset"})


def prefix_key(scenario: Scenario, length: int) -> str:
    steps = [step.model_dump(mode="json", exclude={"line"}) for step in scenario.steps[:length]]
    return digest({"boot": boot_key(scenario), "steps": steps})


def plan_prefixes(scenarios: Sequence[Scenario]) -> list[PrefixPlan | None]:
    """Per scenario: the longest prefix (2 steps or more: `reset` alone is the factory snapshot) it
    shares with another scenario, or None."""
    candidates = [[prefix_key(sc, n) if _worth_sharing(sc.steps[:n]) else "" for n in range(2, shareable_length(sc) + 1)]
                  for sc in scenarios]
    counts: dict[str, int] = {}
    for keys in candidates:
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    plans: list[PrefixPlan | None] = []
    for keys in candidates:
        shared = [(n, key) for n, key in enumerate(keys, start=2) if key and counts[key] > 1]
        plans.append(PrefixPlan(*shared[-1]) if shared else None)
    return plans


def affinity_key(scenario: Scenario, plan: PrefixPlan | None) -> tuple[str, str]:
    """(boot kind, prefix group): what a device keeps between scenarios, so what keeps them together
    (here in the collection order, in harness.scheduling on the xdist workers)."""
    return boot_key(scenario), plan.key if plan else ""


T = TypeVar("T")


def order_items(items: Sequence[T], scenarios: Sequence[Scenario], plans: Sequence[PrefixPlan | None]) -> list[T]:
    """Scenarios of one boot kind together, within it those of one prefix; groups keep the order in
    which their first member came (so a shuffled collection stays shuffled across groups)."""
    first_seen: dict[tuple[str, str], int] = {}
    kind_seen: dict[str, int] = {}
    keys = []
    for index, (scenario, plan) in enumerate(zip(scenarios, plans, strict=True)):
        group = affinity_key(scenario, plan)
        kind = group[0]
        kind_seen.setdefault(kind, index)
        first_seen.setdefault(group, index)
        keys.append((kind_seen[kind], first_seen[group], index))
    return [item for _, item in sorted(zip(keys, items, strict=True), key=lambda pair: pair[0])]


def describe(steps: Iterable[Step]) -> str:
    return "; ".join(f"line {step.line}: {step.summary()}" for step in steps)
