"""Kind-affine placement (harness.scheduling): the sans-IO core, then the xdist scheduler around it
with fake worker nodes (as xdist's own scheduler tests do) and real scenario files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from harness.scheduling import Affinity, AffinityScheduling, Placement, affinity_keys

A1, A2, B, C = Affinity("A", "g1"), Affinity("A", "g2"), Affinity("B"), Affinity("C")


def drain(placement: Placement[str], pending: list[int], worker: str) -> int | None:
    index = placement.pick(worker, pending)
    if index is not None:
        pending.remove(index)
    return index


# --------------------------------------------------------------------------------------------
# Placement
# --------------------------------------------------------------------------------------------


def test_a_worker_keeps_its_kind_and_a_new_worker_starts_the_largest_kind_nobody_runs() -> None:
    keys = [C, B, B, A1, A1, A1]
    placement: Placement[str] = Placement(keys)
    pending = list(range(len(keys)))
    assert [keys[drain(placement, pending, "w1")] for _ in range(2)] == [A1, A1]  # type: ignore[index]
    assert keys[drain(placement, pending, "w2")] == B  # type: ignore[index]
    assert keys[drain(placement, pending, "w1")] == A1  # type: ignore[index]
    assert keys[drain(placement, pending, "w2")] == B  # type: ignore[index]
    assert keys[drain(placement, pending, "w2")] == C  # type: ignore[index]  # its kind is done: a new one
    assert drain(placement, pending, "w1") is None


def test_a_steal_only_when_nothing_else_is_left_and_then_the_stealer_keeps_the_kind() -> None:
    keys = [A1] * 6 + [B]
    placement: Placement[str] = Placement(keys)
    pending = list(range(len(keys)))
    assert drain(placement, pending, "w1") == 0
    assert drain(placement, pending, "w2") == 6  # B nobody runs: before any of w1's kind
    assert keys[drain(placement, pending, "w2")] == A1  # type: ignore[index]  # nothing else left: a steal
    assert placement.holdings["w2"].kind == "A"
    assert {keys[drain(placement, pending, w)] for w in ("w1", "w2", "w1", "w2")} == {A1}  # type: ignore[index]
    assert pending == []


def test_within_a_kind_a_prefix_group_stays_with_the_worker_that_saved_it() -> None:
    keys = [A1, A1, A1, A2, A2, A2]
    placement: Placement[str] = Placement(keys)
    pending = list(range(len(keys)))
    assert drain(placement, pending, "w1") == 0
    assert drain(placement, pending, "w2") == 3  # the stealer takes the group nobody holds
    for _ in range(2):
        assert keys[drain(placement, pending, "w1")] == A1  # type: ignore[index]
        assert keys[drain(placement, pending, "w2")] == A2  # type: ignore[index]


def test_a_worker_returns_to_a_group_it_has_a_snapshot_of_before_taking_another() -> None:
    keys = [A1, A2, Affinity("A"), A1]
    placement: Placement[str] = Placement(keys)
    pending = [0, 1]
    assert [drain(placement, pending, "w1") for _ in range(2)] == [0, 1]
    pending = [2, 3]  # say a g1 item came back (a retired worker's queue): g1's snapshot is on w1
    assert drain(placement, pending, "w1") == 3


def test_when_every_group_is_held_the_one_with_most_items_per_holder_is_split() -> None:
    keys = [A1] * 5 + [A2] * 2
    placement: Placement[str] = Placement(keys)
    pending = list(range(len(keys)))
    assert drain(placement, pending, "w1") == 0
    assert drain(placement, pending, "w2") == 5
    assert keys[drain(placement, pending, "w3")] == A1  # type: ignore[index]  # 4 left for 1 holder, not 1 for 1


def test_items_without_affinity_come_after_the_own_kind_and_before_a_new_kind() -> None:
    keys: list[Affinity | None] = [B, None, A1, A1, None]
    placement: Placement[str] = Placement(keys)
    pending = [0, 2, 3]
    assert drain(placement, pending, "w1") == 2
    pending += [1, 4]
    assert drain(placement, pending, "w1") == 3  # its own kind first
    assert drain(placement, pending, "w1") == 1  # then what needs no boot
    assert drain(placement, pending, "w1") == 4
    assert placement.holdings["w1"].kind == "A"
    assert drain(placement, pending, "w1") == 0


def test_a_forgotten_worker_holds_nothing_so_its_kind_is_fresh_again() -> None:
    keys = [A1, A1, B, B, B]
    placement: Placement[str] = Placement(keys)
    pending = list(range(len(keys)))
    assert keys[drain(placement, pending, "w1")] == B  # type: ignore[index]
    assert keys[drain(placement, pending, "w2")] == A1  # type: ignore[index]
    placement.forget("w2")
    pending.append(3)  # nothing is left but A (w2's, forgotten) and B (w1's)
    assert keys[drain(placement, pending, "w3")] == A1  # type: ignore[index]  # fresh: not a steal from w1


def simulate(keys: list[Affinity], workers: int, chunked: bool) -> tuple[int, int]:
    """Equal-length items, `workers` devices: (cold boots, makespan in items). `chunked` hands out
    consecutive items as xdist's load scheduler does (its steady state); otherwise Placement."""
    placement: Placement[int] = Placement(keys)
    pending = list(range(len(keys)))
    kind: dict[int, str] = {}
    boots = clock = 0
    busy = [0] * workers
    while pending or any(busy):
        for w in range(workers):
            if busy[w] or not pending:
                continue
            index = pending.pop(0) if chunked else placement.pick(w, pending)
            if not chunked:
                pending.remove(index)  # type: ignore[arg-type]
            if kind.get(w) != keys[index].kind:  # type: ignore[index]
                boots, kind[w] = boots + 1, keys[index].kind  # type: ignore[index]
            busy[w] = 1
        clock += 1
        busy = [0] * workers
    return boots, clock


def test_on_a_catalogue_like_mix_of_kinds_boots_drop_to_about_one_per_kind_and_the_tail_stays_short() -> None:
    sizes = [23, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1]  # scenarios/sanctions' boot kinds
    keys = [Affinity(f"k{n}") for n, size in enumerate(sizes) for _ in range(size)]
    interleaved = keys[::2] + keys[1::2]  # a round-robin-like spread, as chunks of a shuffled run
    boots, makespan = simulate(keys, 4, chunked=False)
    load_boots, load_makespan = simulate(interleaved, 4, chunked=True)
    assert boots <= len(sizes) + 3, boots  # each kind once, the big one split over the other workers
    assert boots < load_boots
    assert makespan == load_makespan == -(-len(keys) // 4)  # nobody idles while there is work


# --------------------------------------------------------------------------------------------
# The xdist scheduler, with fake nodes
# --------------------------------------------------------------------------------------------


@dataclass
class Gateway:
    id: str


@dataclass
class FakeNode:
    name: str
    sent: list[int] = field(default_factory=list)
    shutting_down: bool = False

    @property
    def gateway(self) -> Gateway:
        return Gateway(self.name)

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True

    def __hash__(self) -> int:
        return hash(self.name)


@dataclass
class FakeConfig:
    rootpath: Path
    workers: int = 2
    options: dict[str, Any] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)

    @property
    def invocation_params(self) -> Any:
        return SimpleNamespace(dir=self.rootpath)

    def getvalue(self, name: str) -> Any:
        return [f"{self.workers}*popen"] if name == "tx" else self.options.get(name)

    def getoption(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


def scenario(sim: str, place: str, name: str) -> str:
    return (f"scenario: {name}\nsteps:\n  - reset\n  - sim: {sim}\n  - location: {place}\n"
            "  - activate\n  - expect: locked\n")


def write(root: Path) -> list[str]:
    """Two boot kinds (the SIM folded into the reset's boot), each with a shared prefix group."""
    folder = root / "scenarios"
    folder.mkdir()
    ids = []
    for n, (sim, place) in enumerate([("CU", "Havana"), ("CU", "Havana"), ("IR", "Tehran"), ("IR", "Tehran"),
                                      ("CU", "Havana")]):
        (folder / f"s{n}.yaml").write_text(scenario(sim, place, f"Scenario {n}"))
        ids.append(f"scenarios/s{n}.yaml::s{n}")
    return ids


def make(tmp_path: Path, ids: list[str], **options: Any) -> tuple[AffinityScheduling, list[FakeNode]]:
    sched = AffinityScheduling(FakeConfig(tmp_path, options=options))  # type: ignore[arg-type]
    nodes = [FakeNode("gw0"), FakeNode("gw1")]
    for node in nodes:
        sched.add_node(node)
        sched.add_node_collection(node, ids)
    sched.schedule()
    return sched, nodes


def test_the_controller_plans_from_the_scenario_files_as_the_workers_do(tmp_path: Path) -> None:
    ids = write(tmp_path)
    keys = affinity_keys(FakeConfig(tmp_path), [*ids, "tests/test_x.py::test_y", "scenarios/gone.yaml::x"])  # type: ignore[arg-type]
    assert keys[0] == keys[1] == keys[4] and keys[2] == keys[3]
    assert keys[0] is not None and keys[2] is not None and keys[0].kind != keys[2].kind
    assert keys[0].group and keys[2].group  # reset + SIM + Havana is shared: a prefix group
    assert keys[5:] == [None, None]
    off = affinity_keys(FakeConfig(tmp_path, options={"no_snapshot_resets": True}), ids)  # type: ignore[arg-type]
    assert off == [None] * len(ids)
    unshared = affinity_keys(FakeConfig(tmp_path, options={"no_prefix_sharing": True}), ids)  # type: ignore[arg-type]
    assert [key.group for key in unshared if key] == [""] * len(ids)


def test_a_file_outside_the_rootdir_is_found_through_the_path_given_on_the_command_line(tmp_path: Path) -> None:
    ids = write(tmp_path)
    (tmp_path / "root").mkdir()
    config = FakeConfig(tmp_path / "root", args=["../scenarios"])
    keys = affinity_keys(config, [nodeid.removeprefix("scenarios/") for nodeid in ids])  # type: ignore[arg-type]
    assert keys == affinity_keys(FakeConfig(tmp_path), ids)  # type: ignore[arg-type]
    assert None not in keys


def test_each_worker_gets_one_kind_two_at_a_time_and_shuts_down_when_the_pool_is_empty(tmp_path: Path) -> None:
    sched, (gw0, gw1) = make(tmp_path, write(tmp_path))
    assert gw0.sent == [0, 1] and gw1.sent == [2, 3]  # CU (3 items, the largest) and IR
    sched.mark_test_complete(gw0, 0)
    assert gw0.sent == [0, 1, 4]  # its own kind's last item
    sched.mark_test_complete(gw1, 2)
    assert gw1.shutting_down and not gw0.shutting_down
    for node, index in ((gw0, 1), (gw0, 4), (gw1, 3)):
        sched.mark_test_complete(node, index)
    assert sched.tests_finished


def test_a_retiring_workers_queue_goes_to_the_other_worker(tmp_path: Path) -> None:
    sched, (gw0, gw1) = make(tmp_path, write(tmp_path))
    assert sched.collection is not None
    gw0.shutdown()  # harness.retire: shut down, then each queued item back through mark_test_pending
    for index in reversed(sched.node2pending[gw0]):
        sched.mark_test_pending(sched.collection[index])
    assert gw0.sent == [0, 1]
    sched.mark_test_complete(gw1, 2)
    assert gw1.sent == [2, 3, 0]  # its own kind is done: the retired worker's kind, no longer held


def test_a_crashed_workers_items_go_back_to_the_pool(tmp_path: Path) -> None:
    sched, (gw0, gw1) = make(tmp_path, write(tmp_path))
    assert sched.remove_node(gw0) == "scenarios/s0.yaml::s0"
    sched.mark_test_complete(gw1, 2)
    assert gw1.sent == [2, 3, 4]  # the crashed worker's kind, no longer held


def test_without_scenarios_it_is_xdists_load_scheduling(tmp_path: Path) -> None:
    ids = [f"tests/test_x.py::test_{n}" for n in range(20)]
    sched, (gw0, gw1) = make(tmp_path, ids)
    assert sched.placement is None
    assert gw0.sent == [0, 1] and gw1.sent == [2, 3]  # its first chunks


def test_the_plugin_schedules_dist_load_by_affinity_and_leaves_the_other_modes_to_xdist(tmp_path: Path) -> None:
    from harness.pytest_plugin import pytest_xdist_make_scheduler

    assert isinstance(pytest_xdist_make_scheduler(FakeConfig(tmp_path, options={"dist": "load"}), None),  # type: ignore[arg-type]
                      AffinityScheduling)
    for dist in ("worksteal", "loadscope", "loadfile", "loadgroup", "each"):
        assert pytest_xdist_make_scheduler(FakeConfig(tmp_path, options={"dist": dist}), None) is None  # type: ignore[arg-type]
