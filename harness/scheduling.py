"""Kind-affine xdist scheduling: a worker keeps the boot kind, and the shared prefix, its device runs.

Theory of operation
-------------------
A device keeps one factory snapshot, of the boot kind its running instance was cold booted as
(harness.resets), and the prefix snapshots it saved since (harness.prefix). A scenario of that kind
resets by a 1-3 s snapshot load; any other kind costs a ~20-90 s cold boot, which also forgets every
snapshot. xdist's `load` scheduler hands out consecutive chunks of the collection without looking at
what they are, so one kind's scenarios end up on every worker and each pays its own cold boot (the
catalogue's ~15 kinds cost ~46 boots at 4 workers instead of ~15).

`AffinityScheduling` replaces `load` (`--dist load`, what `-n N` means; the others stay xdist's own).
Each collected item has an `Affinity`: its boot kind and its prefix group (none for items that are
not scenarios, or when `--no-snapshot-resets` leaves nothing to keep). The controller does not
collect, so it loads the scenario files named in the workers' collection through the same loader
and makes the same plan as every worker's collection (`prefix_plans`): a pure function of the
collected scenarios, independent of their order. A wrong key could only cost time: where an item
runs never changes what it does (a reset is a reset wherever it runs).

Placement (`Placement`, sans-IO: item keys in, one pending item out per request) gives a worker
only what it is about to run: the item it runs and the next one (xdist starts an item once it knows
the next), so everything else stays in one pool that any idle worker can draw from; no worker waits
while another has a long queue. A worker asking for work gets, in this order:

1. an item of the kind its device runs (the kind of the last item it was given); within the kind,
   its current prefix group, then a group it already has a snapshot of, then a group no other worker
   of that kind holds, then the group with the most items per holder;
2. an item with no affinity (not a scenario);
3. the largest kind nobody has started (the longest first, so the tail is short);
4. only when nothing else is left, an item of a kind another worker runs (a steal: one more cold
   boot, but never an idle worker), from the kind with the most pending items per holder; from then
   on both draw from it, so a kind larger than a fair share ends up split over several workers.

`mark_test_pending` (harness.retire hands a retiring worker's queue back through it) and
`remove_node` (a crashed worker) put items back in the pool; a worker that is going away holds no
kind any more, so its items go to whoever asks next.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from xdist.scheduler import LoadScheduling

if TYPE_CHECKING:  # pragma: no cover
    import pytest
    from xdist.workermanage import WorkerController

    from harness.prefix import PrefixPlan
    from harness.scenario.model import Scenario

QUEUE = 2  # items a worker is given ahead: the one it runs and the next


@dataclass(frozen=True)
class Affinity:
    """Where an item would rather run: on the device running its boot kind, with its prefix saved."""

    kind: str  # harness.prefix.boot_key
    group: str = ""  # harness.prefix.PrefixPlan.key; "" = no shared prefix


@dataclass
class Holding:
    """What a worker's device has: the kind it runs and the prefix groups it has run since."""

    kind: str | None = None
    groups: set[str] = field(default_factory=set)
    last: str = ""  # the group of the last item it was given


W = TypeVar("W", bound=Hashable)


class Placement(Generic[W]):
    """Sans-IO placement: which pending item a worker asking for work gets (see the module doc)."""

    def __init__(self, keys: Sequence[Affinity | None]) -> None:
        self.keys = list(keys)
        self.holdings: dict[W, Holding] = {}

    def forget(self, worker: W) -> None:
        """The worker goes away (or retires): it holds no kind any more."""
        self.holdings.pop(worker, None)

    def pick(self, worker: W, pending: Sequence[int]) -> int | None:
        """The item of `pending` (indices into the keys, in collection order) `worker` gets; it holds
        that item's kind and group from now on. None when nothing is pending."""
        if not pending:
            return None
        mine = self.holdings.setdefault(worker, Holding())
        by_kind: dict[str, list[int]] = {}
        free: list[int] = []
        for index in pending:
            key = self.keys[index]
            if key is None:
                free.append(index)
            else:
                by_kind.setdefault(key.kind, []).append(index)
        if mine.kind not in by_kind and free:
            return free[0]
        kind = mine.kind if mine.kind in by_kind else self._next_kind(worker, by_kind)
        assert kind is not None
        index = self._in_kind(worker, mine if mine.kind == kind else Holding(), kind, by_kind[kind])
        group = self._group(index)
        if mine.kind != kind:
            mine.kind, mine.groups = kind, set()
        mine.groups.add(group)
        mine.last = group
        return index

    def _group(self, index: int) -> str:
        key = self.keys[index]
        return key.group if key is not None else ""

    def _holders(self, worker: W, kind: str) -> list[Holding]:
        return [h for w, h in self.holdings.items() if w != worker and h.kind == kind]

    def _next_kind(self, worker: W, by_kind: dict[str, list[int]]) -> str:
        """The largest kind nobody runs; else (a steal) the one with the most items per holder.
        Ties go to the kind collected first."""
        fresh = [kind for kind in by_kind if not self._holders(worker, kind)]
        if fresh:
            return max(fresh, key=lambda kind: len(by_kind[kind]))
        return max(by_kind, key=lambda kind: len(by_kind[kind]) / (1 + len(self._holders(worker, kind))))

    def _in_kind(self, worker: W, mine: Holding, kind: str, items: list[int]) -> int:
        groups: dict[str, list[int]] = {}
        for index in items:
            groups.setdefault(self._group(index), []).append(index)
        if mine.last and mine.last in groups:
            return groups[mine.last][0]
        for group, members in groups.items():
            if group and group in mine.groups:
                return members[0]
        others = self._holders(worker, kind)
        taken = {group for holding in others for group in holding.groups}
        for group, members in groups.items():
            if not group or group not in taken:
                return members[0]
        share = {group: len(members) / (1 + sum(group in h.groups for h in others)) for group, members in groups.items()}
        return groups[max(share, key=lambda group: share[group])][0]


# --------------------------------------------------------------------------------------------
# The plan, the same in the workers (collection) and the controller (scheduling)
# --------------------------------------------------------------------------------------------


def prefix_plans(config: pytest.Config, scenarios: Sequence[Scenario]) -> list[PrefixPlan | None] | None:
    """The run's prefix plan (harness.prefix), or None when `--no-snapshot-resets` leaves nothing to
    plan: what every worker's collection applies and the controller schedules by."""
    if config.getoption("no_snapshot_resets", False):
        return None
    from harness.prefix import plan_prefixes

    if config.getoption("no_prefix_sharing", False):
        return [None] * len(scenarios)
    return plan_prefixes(scenarios)


def affinity_keys(config: pytest.Config, collection: Sequence[str]) -> list[Affinity | None]:
    """Per node id of the workers' collection: its affinity, from the scenario files themselves."""
    files: dict[str, dict[str, Scenario]] = {}
    found = [_scenario(config, files, nodeid) for nodeid in collection]
    scenarios = [scenario for scenario in found if scenario is not None]
    plans = prefix_plans(config, scenarios) if scenarios else None
    if plans is None:
        return [None] * len(collection)
    from harness.prefix import affinity_key

    keys = iter(Affinity(*affinity_key(scenario, plan)) for scenario, plan in zip(scenarios, plans, strict=True))
    return [next(keys) if scenario is not None else None for scenario in found]


def _scenario(config: pytest.Config, files: dict[str, dict[str, Scenario]], nodeid: str) -> Scenario | None:
    """The scenario behind a `file.yaml::id` node id (as harness.pytest_plugin names its items)."""
    file, sep, name = nodeid.partition("::")
    if not sep or not file.endswith((".yaml", ".yml")):
        return None
    if file not in files:
        files[file] = _load(config, file)
    return files[file].get(name)


def _load(config: pytest.Config, file: str) -> dict[str, Scenario]:
    """A node id's file is relative to the rootdir, or for a file outside it to a path given on the
    command line (pytest's own rule); a file that does not load has no keys (the workers report it)."""
    from harness.scenario.loader import load_file

    given = (Path(config.invocation_params.dir, arg.split("::")[0]) for arg in config.args)
    for base in (config.rootpath, *(path if path.is_dir() else path.parent for path in given)):
        if (base / file).is_file():
            try:
                return {str(scenario.id): scenario for scenario in load_file(base / file)}
            except Exception:  # noqa: BLE001 -- a placement hint only: the run goes on without it
                return {}
    return {}


# --------------------------------------------------------------------------------------------
# The xdist scheduler
# --------------------------------------------------------------------------------------------


class AffinityScheduling(LoadScheduling):
    """xdist's load scheduling, with items placed by `Placement` when the collection has scenarios
    (without any, e.g. a suite of Python tests, it is `LoadScheduling` unchanged)."""

    collection: list[str] | None  # LoadScheduling's state this class works on (xdist has no type marker)
    pending: list[int]
    node2pending: dict[WorkerController, list[int]]
    node2collection: dict[WorkerController, list[str]]

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        super().__init__(config, log)
        self.placement: Placement[WorkerController] | None = None

    def schedule(self) -> None:
        assert self.collection_is_completed
        if self.collection is None and self.placement is None:
            keys = affinity_keys(self.config, next(iter(self.node2collection.values())))
            if any(key is not None for key in keys):
                self.placement = Placement(keys)
        if self.placement is None:
            super().schedule()
            return
        if self.collection is None:
            if not self._check_nodes_have_same_collection():
                self.log("**Different tests collected, aborting run**")
                return
            self.collection = next(iter(self.node2collection.values()))
            self.pending[:] = range(len(self.collection))
        for node in self.nodes:
            self.check_schedule(node)

    def check_schedule(self, node: WorkerController, duration: float = 0) -> None:
        if self.placement is None:
            super().check_schedule(node, duration)
            return
        if node.shutting_down:
            return
        if not self.pending:
            node.shutdown()  # it runs what it has (an item starts once the next is known, or at shutdown)
            return
        chosen: list[int] = []
        while len(self.node2pending[node]) + len(chosen) < QUEUE:
            index = self.placement.pick(node, self.pending)
            if index is None:
                break
            self.pending.remove(index)
            chosen.append(index)
        if chosen:
            self.node2pending[node].extend(chosen)
            node.send_runtest_some(chosen)

    def mark_test_pending(self, item: str) -> None:
        if self.placement is not None:  # a retiring worker's queue comes back: it holds nothing now
            for node in self.nodes:
                if node.shutting_down:
                    self.placement.forget(node)
        super().mark_test_pending(item)

    def remove_node(self, node: WorkerController) -> str | None:
        if self.placement is not None:
            self.placement.forget(node)
        return super().remove_node(node)
