"""The farm's pytest side: its options, sharding at collection, failures counted towards quarantine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.farm.shard import assign, load_durations, parse_shard, save_durations


def add_options(group: Any) -> None:
    """Added to the harness option group, so the config file can set them too."""
    group.addoption("--farm", dest="farm", default=None, metavar="FARM.YAML",
                    help="lease devices from this farm inventory (the `farm` backend; docs in README)")
    group.addoption("--redis", dest="redis_url", default=None, metavar="URL",
                    help="farm: share leases and quarantine with other runs through this Redis "
                         "(redis://host:port/db); without it leases live in this run only")
    group.addoption("--farm-select", dest="farm_select", action="append", default=[], metavar="LABEL=VALUE",
                    help="farm: only devices with this label (repeatable: all must hold), e.g. firmware=global")
    group.addoption("--quarantine-after", dest="quarantine_after", type=_positive, default=3, metavar="K",
                    help="farm: quarantine a device after K consecutive infrastructure failures (default 3)")
    group.addoption("--lease-wait", dest="lease_wait", type=float, default=600.0, metavar="SECONDS",
                    help="farm: how long to wait for free devices when the farm is busy (default 600)")
    group.addoption("--shard", dest="shard", default=None, metavar="I/N",
                    help="run only shard I of N of the selected scenarios (deterministic; balanced by "
                         "--shard-durations when that file exists)")
    group.addoption("--shard-durations", dest="shard_durations", default=None, metavar="FILE",
                    help="scenario durations of earlier runs (JSON); read to balance --shard, updated after the run")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise pytest.UsageError(f"--quarantine-after wants a whole number >= 1, got {text!r}")
    return int(text)


class FarmHooks:
    def __init__(self, config: pytest.Config, state_key: Any) -> None:
        self.config = config
        self.state_key = state_key
        self.durations: dict[str, float] = {}
        shard = config.getoption("shard")
        try:
            self.shard = parse_shard(shard) if shard else None
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from exc

    @pytest.hookimpl(trylast=True)  # after -m/-k deselection: shard what is selected
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if self.shard is None:
            return
        index, total = self.shard
        path = config.getoption("shard_durations")
        owner = assign([i.nodeid for i in items], total, load_durations(Path(path)) if path else None)
        keep = [i for i in items if owner[i.nodeid] == index]
        dropped = [i for i in items if owner[i.nodeid] != index]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and not hasattr(self.config, "workerinput"):
            self.durations[report.nodeid] = report.duration
        kind = dict(report.user_properties).get("harness.kind")
        from harness.farm.backend import FarmBackend

        lease = getattr(self.config.stash.get(self.state_key, None), "lease", None)
        backend = getattr(lease, "backend", None)
        if lease is None or not isinstance(backend, FarmBackend) or hasattr(report, "node"):
            return  # only the process holding the device counts (a controller sees workers' reports)
        if kind == "infrastructure" and report.outcome in ("failed", "rerun"):  # rerun: pytest-rerunfailures
            backend.infrastructure_failure(lease.handle, report.longreprtext[-2000:])
        elif report.when == "call" and (report.passed or kind == "product"):
            backend.success(lease.handle)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        yield
        from harness.farm.backend import FarmExhausted

        if call.excinfo is not None and isinstance(call.excinfo.value, FarmExhausted):
            item.session.shouldstop = f"the farm cannot go on: {call.excinfo.value}"

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        path = self.config.getoption("shard_durations")
        if path and self.durations and not hasattr(self.config, "workerinput"):
            save_durations(Path(path), self.durations)
