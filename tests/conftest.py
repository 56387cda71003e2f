"""Test-wide configuration: tests under tests/integration and tests/e2e get their marker, and under
xdist the suite runs longest first, one test per work unit, a module that shares a lab on one worker.

So `-m "not integration"` runs only the fast unit tests. Nothing heavy is imported here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_MARKED_FOLDERS = {"integration": "integration", "e2e": "e2e"}

# Scheduling only (issue 12): xdist hands tests out in collection order, so the tests that take
# 8 s or more (a `--durations` listing on this 2-core machine, longest first) are collected first
# and the suite does not end on one worker running a long test while the others idle. Then the
# rest of the integration and e2e tests, then the unit tests, which are short and fill the gaps at
# the end. A name missing here only costs time; a name that no longer exists is ignored.
LONGEST_FIRST = (
    "integration/test_farm_faults.py",  # one farm, one test (27-55 s)
    "integration/test_farm.py",  # one unit (one farm): ~1 min on its worker
    "integration/test_lab_faults.py",  # one unit too
    "integration/test_snapshot_resets.py",  # one unit (one lab): ~37 s; collected last, it was the suite's tail
    "integration/test_runner.py::test_realistic_timing_is_waited_on_not_slept_through",
    "integration/test_firmware.py::test_realistic_timing_first_activation_in_havana_locks",
    "e2e/test_cli.py::test_run_reports_a_wrong_expectation_with_evidence",
    "integration/test_exitproxy.py",  # one unit (one lab): ~14 s
    "e2e/test_norvik_catalogue.py::test_smoke_scenarios_pass_on_the_norvik_family",
    "e2e/test_repro.py::test_repro_run_says_which_builds_reproduce",
    "e2e/test_report.py::test_the_second_report_carries_the_first_runs_history",
    "integration/test_sdk_backend.py::test_smoke_catalogue_on_the_sdk_backend",
    "integration/test_firmware.py::test_locked_device_stays_locked_after_a_factory_reset",
    "integration/test_peer_suites.py",
    "integration/test_norvik_firmware.py::test_realistic_timing_madrid_is_allowed",
    "e2e/test_shard.py::test_shards_partition_the_selection_and_durations_balance_them",
    "e2e/test_prefix_verdicts.py",
    "e2e/test_scheduling.py",  # two `harness run -n 2` at once: ~15 s
    "integration/test_retire.py::test_a_worker_whose_device_cannot_be_replaced_hands_its_scenarios_to_the_other",
    "e2e/test_norvik_catalogue.py::test_a_defect_variant_is_caught_on_the_norvik_family",
    "unit/test_hostile_scenarios.py::test_fuzz_generated_documents",
    "e2e/test_adb_backend.py::test_a_lab_device_on_the_adb_backend_is_driven_by_its_profile_alone",
    "integration/test_firmware.py::test_locked_notice_survives_back_home_and_reboot",
    "integration/test_firmware.py::test_first_activation_elsewhere_does_not_lock",
    "integration/test_firmware.py::test_offline_through_setup_then_first_online_in_havana_locks",
    "integration/test_plugin.py::test_allure_results_group_by_territory_and_keep_history_ids_stable",
    "integration/test_device_userland.py",  # one unit (one lab): ~9 s
    "integration/test_scenario_timeout.py::test_a_stopped_device_times_out_as_a_lab_error_with_evidence",
    "integration/test_hostile_shell.py::test_hostile_commands_stay_inside_and_leave_nothing_running",
    "e2e/test_cli.py::test_run_selects_with_k_and_m",
    "integration/test_virtual_backend.py::test_each_xdist_worker_drives_its_own_virtual_emulator",
    "unit/test_hostile_scenarios.py::test_fuzz_mutated_catalogue",
    "integration/test_norvik_firmware.py::test_recovery_factory_reset_keeps_the_restriction",
    "integration/test_plugin.py",
    "e2e/test_cli_fakelab.py",
    "integration/test_sdk_backend.py",
    "integration/test_hostile_shell.py",
    "unit/test_hostile_scenarios.py",
    "integration/test_firmware.py",
)


# Modules whose lab (emulators, a farm, Redis) is a module fixture: each runs on one worker, so the
# lab is built once. Every other test is a work unit of its own, handed to whichever worker is free.
# (xdist's own `--dist loadgroup` would read xdist_group marks, but with pytest 9.2 it silently stops
# grouping: pytest-dev/pytest-xdist#1386.)
SHARED_LAB_MODULES = frozenset(f"tests/integration/{name}.py" for name in (
    "test_farm", "test_farm_faults", "test_lab_faults", "test_device_userland", "test_android_gaps", "test_farm_state",
    "test_exitproxy", "test_snapshot_resets")) | {
    # an in-process cache instead of a lab: repro's GeoNames index (~1.2 CPU-s to build) once, not per worker
    "tests/unit/test_repro.py"}


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """`-n N` (xdist's default `--dist load`): tests in collection order (longest first, see
    LONGEST_FIRST), one unit each, but a SHARED_LAB_MODULES module as one unit. Any other `--dist`
    is left to xdist."""
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class LongestFirstScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in SHARED_LAB_MODULES else nodeid

    config.option.loadscopereorder = False  # keep the collection order: it is already longest first
    return LongestFirstScheduling(config, log)


def _run_order(item: pytest.Item, tests_root: Path) -> tuple[int, int]:
    try:
        relative = Path(str(item.path)).relative_to(tests_root).as_posix()
    except ValueError:
        return (len(LONGEST_FIRST), 2)
    nodeid = relative + "::" + item.name.split("[", 1)[0]
    rank = next((i for i, prefix in enumerate(LONGEST_FIRST) if nodeid == prefix or nodeid.startswith(
        prefix + "::") or (prefix.endswith(".py") and relative == prefix)), len(LONGEST_FIRST))
    return (rank, 1 if relative.startswith("unit/") else 0)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests_root = Path(__file__).parent
    for item in items:
        try:
            folder = Path(str(item.path)).relative_to(tests_root).parts[0]
        except ValueError:
            continue
        marker = _MARKED_FOLDERS.get(folder)
        if marker is not None:
            item.add_marker(getattr(pytest.mark, marker))
    if hasattr(config, "workerinput"):  # on xdist workers only (they collect); a plain run keeps file order
        items.sort(key=lambda item: _run_order(item, tests_root))  # stable: ties keep collection order


# The pytest runs the tests start (`harness run`, pytester's subprocess runs, e2e runs) load
# hypothesis's pytest plugin, whose terminal summary imports all of hypothesis (~0.8 CPU-s) although
# no scenario run uses it: about a minute of CPU per suite on this 2-core machine. Those runs
# never use hypothesis, so they go without its plugin. Set where tests start them (an xdist worker,
# or a plain run), never in an xdist controller, whose own children are the workers that need it.
NO_HYPOTHESIS = "-p no:hypothesispytest"


def _without_hypothesis(addopts: str) -> str:
    return addopts if NO_HYPOTHESIS in addopts else f"{addopts} {NO_HYPOTHESIS}".strip()


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        os.environ["PYTEST_ADDOPTS"] = _without_hypothesis(os.environ.get("PYTEST_ADDOPTS", ""))


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester's own, whose runs go without hypothesis's plugin too (it clears PYTEST_ADDOPTS)."""
    monkeypatch.setenv("PYTEST_ADDOPTS", NO_HYPOTHESIS)
    return pytester
