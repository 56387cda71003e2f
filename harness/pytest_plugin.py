"""The pytest plugin: scenario files become test items that run on leased devices.

Theory of operation
-------------------
- Registration: the `pytest11` entry point `harness.pytest_plugin` (named like the module, so an old
  `pytest_plugins = ["harness.pytest_plugin"]` or `-p harness.pytest_plugin` is a no-op, not a
  second registration). Plain `pytest` works in any folder once the package is installed.
- Config: `[tool.regionlock]` / `harness.toml` (harness.config) fills the options of the `harness`
  group that were not given on the command line, before anything reads them.
- Collection: a YAML file whose top level has a `scenario:` key is a `ScenarioFile` when it lies under
  a folder named in `--scenario-dir` / the `harness_scenario_dirs` ini value (default `scenarios`),
  or is itself named on the command line (harness.scenario_files). The loader expands it into one `ScenarioItem`
  per scenario and matrix row. Tags become markers (registered on the fly) and the scenario's name and
  matrix values become keywords, so `-m cuba` and `-k havana` select as expected. A scenario file
  that does not load is a collection error whose text is the loader's `file:line: field: message`;
  YAML files that are not collected (outside the scenario folders, or without `scenario:`) are listed
  in the terminal summary.
- Devices: with xdist the *controller* provisions one device per worker before the workers start and
  ships each worker its `DeviceHandle` in `workerinput`; a worker never provisions. Without xdist the
  process provisions one device lazily, at the first scenario item, so a run without scenarios (the
  unit tests) never starts an emulator. Whoever provisions tears down, at session end, at exit and on
  SIGTERM (see the backends).
- Scheduling: under xdist `--dist load` (what `-n N` means) the controller places scenarios on
  workers by boot kind and shared prefix (harness.scheduling), from the same prefix plan the
  workers' collection makes; the other `--dist` modes, and a conftest's own scheduler, are left alone.
- Outcomes: a wrong lock decision (`ProductDefect`) is a test FAILURE, Allure "failed". Anything else
  that stops a scenario (`InfrastructureError`, or a bug in the harness) is reported as an ERROR by
  pytest and "broken" by Allure: the product was never judged. `CapabilityMissing` skips with its
  reason. The kind travels in `report.user_properties` (it survives xdist's report serialisation).
  Infrastructure failures are retried by pytest-rerunfailures (a `flaky` marker per scenario whose
  filter only accepts lab errors: a verdict is never retried); pytest-timeout's signal method bounds
  each scenario and its timeout becomes an infrastructure error. The exit status says who failed
  (harness.outcomes.ExitCode): 1 product, 8 lab only, 9 everything skipped.
- Allure: `categories.json` and `environment.properties` are written into the results dir by the
  process that owns the devices. `--harness-summary FILE` writes one JSON record per scenario for
  the `harness` CLI's table.

Extension point: the hook `pytest_harness_run_scenario(item, scenario, device)` runs one scenario on
one leased device (`firstresult`). The default implementation wires the runtime together; tests and
other labs can provide their own.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness import config as config_file
from harness import retire
from harness.backends.base import Backend, BackendOptions, DeviceHandle, WatchedLab, load_backend
from harness.errors import (
    CapabilityMissing,
    DeviceUnreplaceable,
    HarnessError,
    InfrastructureError,
    ProductDefect,
    ScenarioError,
    VerdictMismatch,
)
from harness.farm.backend import FarmExhausted
from harness.farm.plugin import FarmHooks
from harness.farm.plugin import add_options as add_farm_options
from harness.outcomes import (
    ExitCode,
    ScenarioTimeout,
    infrastructure_message,
    scenario_facts,
    verdict_message,
)
from harness.pool import DevicePool, devices_needed
from harness.redact import install_log_redaction, redact
from harness.scenario_files import in_scope, is_scenario_file, iter_scenario_files, not_collected

if TYPE_CHECKING:  # pragma: no cover
    from harness.prefix import PrefixPlan
    from harness.resets import SnapshotResets

# --------------------------------------------------------------------------------------------
# Hook specifications
# --------------------------------------------------------------------------------------------


class HarnessHookspecs:
    @pytest.hookspec(firstresult=True)
    def pytest_harness_run_scenario(self, item: pytest.Item, scenario: Any, device: DeviceLease) -> Any:
        """Run `scenario` on the leased device and return the runtime's Outcome.

        Raise `ProductDefect` for a wrong verdict and `InfrastructureError` when the lab failed.
        """


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(HarnessHookspecs)


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "regionlock harness")
    group.addoption("--backend", default="virtual",
                    help="where devices come from: virtual (default), sdk, adb, or module:factory")
    group.addoption("--devices", type=_positive_int, default=None,
                    help="devices to provision (default: one per xdist worker, or 1)")
    group.addoption("--serial", action="append", default=[],
                    help="adb backend: a device serial already on the adb server (repeatable)")
    group.addoption("--policy", default=None,
                    help="virtual backend: the region-lock firmware build under test (default global); it "
                         "replaces `global` in scenarios, e.g. --policy defect-crimea-blind")
    group.addoption("--device-prop", action="append", type=_device_prop, default=[], metavar="KEY=VALUE",
                    help="virtual backend: start every emulator with `-prop KEY=VALUE` (repeatable), e.g. "
                         "--device-prop firmware=norvik for another firmware family")
    group.addoption("--exit-proxy", action="append", type=_exit_proxy, default=[], metavar="CC=HOST:PORT",
                    help="an HTTP proxy of the lab that exits in country CC, used by the `ip` step "
                         "(repeatable; the adb backend has none otherwise, the virtual one starts local "
                         "stand-ins)")
    group.addoption("--profile", dest="profile", default=None, metavar="NAME|PATH",
                    help="firmware profile for every device (default: matched per device by its facts)")
    group.addoption("--profiles", dest="profiles_dir", default=None, metavar="DIR",
                    help="a directory of the lab's own firmware profiles (*.yaml), tried before the "
                         "shipped ones (docs/profiles.md)")
    # sdk backend: plain values, so a config file can give them too
    group.addoption("--sdk", dest="sdk", default=None, metavar="DIR",
                    help="sdk backend: the Android SDK folder (default $ANDROID_SDK_ROOT, then $ANDROID_HOME)")
    group.addoption("--avd", dest="avd", action="append", default=[], metavar="[FIRMWARE=]NAME",
                    help="sdk backend: the AVD under test; FIRMWARE=NAME names the AVD for scenarios asking "
                         "for that firmware (repeatable)")
    group.addoption("--scenario-dir", action="append", dest="scenario_dirs", default=[], metavar="NAME",
                    help="folder name whose YAML scenario files are collected (repeatable; default: the "
                         "harness_scenario_dirs ini value, `scenarios`); paths given on the command line "
                         "are always collected")
    group.addoption("--allow-all-skipped", action="store_true", default=False,
                    help="exit 0 when every scenario was skipped (default: exit 9, nothing was tested)")
    group.addoption("--retries", type=_count, default=1,
                    help="rerun a scenario that failed on the lab (never a wrong verdict) up to N times "
                         "(default 1; pytest-rerunfailures)")
    group.addoption("--scenario-timeout", type=_seconds, default=600.0, metavar="SECONDS",
                    help="a scenario still running after this long is stopped as an infrastructure error "
                         "(default 600; pytest-timeout, signal method)")
    group.addoption("--no-snapshot-resets", dest="no_snapshot_resets", action="store_true", default=False,
                    help="every `reset` is a cold boot (default: the device kind's factory snapshot is "
                         "loaded where the emulator console keeps one; harness/resets.py)")
    group.addoption("--no-prefix-sharing", dest="no_prefix_sharing", action="store_true", default=False,
                    help="every scenario runs all its steps (default: scenarios that begin with the same "
                         "steps run them once per device and restore the rest from a snapshot; harness/prefix.py)")
    group.addoption("--harness-workdir", default=None,
                    help="where the virtual backend keeps emulator data (default: a temp dir)")
    group.addoption("--harness-summary", default=None,
                    help="append JSON lines to this file: the collected count, then one record per "
                         "finished scenario (outcome, device, duration, message)")
    group.addoption("--harness-clean-results", action="store_true", default=False,
                    help="remove earlier results from --alluredir once collection succeeded (keeps history/)")
    group.addoption("--harness-config", action="store_true", default=False,
                    help="print the merged configuration (config file + command line) and exit")
    add_farm_options(group)
    parser.addini("harness_scenario_dirs", type="args", default=["scenarios"],
                  help="directory names whose YAML files are collected as scenarios")
    _OPTIONS[:] = [group]


_OPTIONS: list[Any] = []  # the `harness` OptionGroup: its options are what the config file may set


def option_specs() -> list[config_file.OptionSpec]:
    """The `harness` group's options as the config file sees them (any option added there counts)."""
    actions = {"_AppendAction": "append", "_StoreTrueAction": "store_true", "_StoreFalseAction": "store_false"}
    specs = []
    for group in _OPTIONS:
        for option in group.options:
            action = actions.get(type(option._action).__name__, "store")
            specs.append(config_file.OptionSpec(option.dest, tuple(option.names()), option.default,
                                                option.type if callable(option.type) else None, action))
    return specs


def _count(text: str) -> int:
    if not text.isdigit():
        raise pytest.UsageError(f"--retries wants a whole number, got {text!r}")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise pytest.UsageError(f"--scenario-timeout wants seconds, got {text!r}") from None
    if not 0 < value < 86400 * 7:
        raise pytest.UsageError(f"--scenario-timeout must be between 0 and a week, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise pytest.UsageError(f"--devices wants a number, got {text!r}") from None
    if value < 1:
        raise pytest.UsageError(f"--devices must be at least 1, got {value}")
    return value


def _device_prop(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or any(c.isspace() for c in key):
        raise pytest.UsageError(f"--device-prop wants KEY=VALUE, got {text!r}")
    return key.strip(), value


def _exit_proxy(text: str) -> tuple[str, str]:
    """`CC=host:port` -> ("CC", "host:port"), the form `settings put global http_proxy` takes."""
    country, sep, address = text.partition("=")
    host, colon, port = address.rpartition(":")
    country = country.strip().upper()
    if not sep or len(country) != 2 or not country.isalpha():
        raise pytest.UsageError(f"--exit-proxy wants CC=host:port with a two-letter country, got {text!r}")
    if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise pytest.UsageError(f"--exit-proxy {country}: wants host:port with a port 1-65535, got {address!r}")
    return country, address


# --------------------------------------------------------------------------------------------
# Configure: one state object per process, by role
# --------------------------------------------------------------------------------------------

STATE_KEY = pytest.StashKey["HarnessState"]()
KIND_KEY = pytest.StashKey[str]()  # per item: product | infrastructure | harness
DEVICE_KEY = pytest.StashKey[str]()  # per item: serial it ran on
OUTCOME_KEY = pytest.StashKey[Any]()  # per item: the runtime's Outcome


APPLIED_KEY = pytest.StashKey[bool]()


def apply_config_file(config: pytest.Config) -> None:
    """Fill the options not given on the command line from the config file (once per process).

    xdist workers receive the controller's merged option values, so they never read the file."""
    if config.stash.get(APPLIED_KEY, False) or hasattr(config, "workerinput"):
        return
    config.stash[APPLIED_KEY] = True
    specs = option_specs()
    try:
        found = config_file.find_config(config.invocation_params.dir)
        values = config_file.merged(found, specs, vars(config.option), config.invocation_params.args)
    except config_file.ConfigError as exc:
        raise pytest.UsageError(str(exc)) from exc
    for dest, value in values.items():
        setattr(config.option, dest, value)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    apply_config_file(config)
    if config.getoption("harness_config", False):
        found = config_file.find_config(config.invocation_params.dir)
        for line in config_file.render(found, vars(config.option), option_specs(), config.invocation_params.args):
            print(line)
        return 0
    return None


def pytest_configure(config: pytest.Config) -> None:
    apply_config_file(config)
    config.addinivalue_line("markers", "scenario: a scenario loaded from a YAML file")
    install_log_redaction()  # no console token in any log line (harness.redact)
    state = HarnessState(config)
    if state.role != "worker":
        _check_policy_option(config)
    config.stash[STATE_KEY] = state
    config.pluginmanager.register(state, "harness-state")
    config.pluginmanager.register(FarmHooks(config, STATE_KEY), "harness-farm")
    if state.role == "controller":
        config.pluginmanager.register(ControllerHooks(state), "harness-controller")


def _check_policy_option(config: pytest.Config) -> None:
    """A bad --policy is a usage error, shown before any device starts (not 'exited with 3')."""
    policy = config.getoption("policy", None)
    if not policy or config.getoption("backend", "virtual") != "virtual":
        return
    from harness.backends.base import BackendError
    from harness.backends.virtual import check_policy

    try:
        check_policy(policy)
    except BackendError as exc:
        raise pytest.UsageError(str(exc)) from None


def _role(config: pytest.Config) -> str:
    if hasattr(config, "workerinput"):
        return "worker"
    if getattr(config.option, "numprocesses", 0) and getattr(config.option, "dist", "no") != "no":
        return "controller"
    return "single"


def _worker_count(config: pytest.Config) -> int:
    return len(getattr(config.option, "tx", None) or []) or 1


def backend_options(config: pytest.Config) -> BackendOptions:
    workdir = config.getoption("harness_workdir")
    return BackendOptions(serials=tuple(config.getoption("serial") or ()),
                          policy=config.getoption("policy"),
                          work_dir=Path(workdir) if workdir else None,
                          extra_props=tuple(config.getoption("device_prop") or ()),
                          exit_proxies=tuple(config.getoption("exit_proxy") or ()),
                          sdk=config.getoption("sdk"), avd=tuple(config.getoption("avd") or ()),
                          farm=config.getoption("farm"), redis_url=config.getoption("redis_url"),
                          farm_select=tuple(config.getoption("farm_select") or ()),
                          quarantine_after=config.getoption("quarantine_after"),
                          lease_wait=config.getoption("lease_wait"),
                          await_boot=False)  # the runner waits where a scenario needs a booted device


def backend_spec(config: pytest.Config) -> str:
    """`--farm` means the farm backend; otherwise `--backend`."""
    return "farm" if config.getoption("farm") else str(config.getoption("backend"))


def profile_source(config: pytest.Config) -> Any:
    """`--profile` / `--profiles` (option `profiles_dir`) as the runtime's ProfileSource."""
    from harness.profile_match import ProfileSource

    directory = config.getoption("profiles_dir")
    return ProfileSource(config.getoption("profile"), Path(directory) if directory else None)


@dataclass
class DeviceLease:
    """The device one process holds: its handle, the backend that knows it, and its DeviceOps."""

    handle: DeviceHandle
    backend: Backend
    _ops: Any = None
    _snapshots: SnapshotResets | None = None

    @property
    def ops(self) -> Any:
        if self._ops is None:
            self._ops = self.backend.device_ops(self.handle)
            hooks = getattr(self._ops, "on_restart", None)
            if hooks is not None:  # a reset gives the device a new data dir: keep the handle current
                hooks.append(self._restarted)
        return self._ops

    def _restarted(self, handle: DeviceHandle) -> None:
        self.handle = handle

    def snapshots(self, enabled: bool) -> SnapshotResets:
        """The device's factory snapshot book (harness.resets), kept across its scenarios."""
        from harness.resets import SnapshotResets  # the runtime's: not loaded at plugin import

        if self._snapshots is None:
            self._snapshots = SnapshotResets.for_ops(self.ops, enabled)
        return self._snapshots


@dataclass
class ScenarioRecord:
    """One line of the run summary (what the CLI's table shows)."""

    nodeid: str
    scenario: str = ""
    id: str = ""  # the scenario id with its matrix row, e.g. first-activation[place=Havana]
    device: str = ""
    outcome: str = "passed"  # passed | failed | error | skipped
    kind: str = ""
    duration: float = 0.0
    message: str = ""
    file: str = ""
    expected: str = ""  # locked | unlocked (the last expectation)
    observed: str = ""  # what was seen at it, when it was reached
    signal: str = ""  # the deciding signal (gps | network | sim | ip), when the policy model knows it
    territory: str = ""  # `Sevastopol (Crimea)`, when known
    retries: int = 0
    steps: list[tuple[str, float]] = field(default_factory=list)  # (step kind, seconds): bench/bench_suite.py
    oracle: list[str] = field(default_factory=list)  # the oracle's explanation at each `expect: policy`


class HarnessState:
    """Per-process machinery: owns the backend/pool (controller, single) or the lease (worker)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.role = _role(config)
        self.backend: Backend | None = None
        self.pool: DevicePool | None = None
        self.lease: DeviceLease | None = None
        self.facts: dict[str, dict[str, str]] = {}
        self.records: dict[str, ScenarioRecord] = {}
        self.failed: dict[str, str] = {}  # nodeid -> kind (product | infrastructure | harness | other)
        self.passed_other = 0  # passed tests that are not scenarios (a mixed run is not "all skipped")
        self.collect_errors: dict[str, str] = {}
        self.rerunning: set[str] = set()  # nodeids whose current attempt was marked for a rerun
        self.cleaned = False
        self.retired: str | None = None  # why this worker takes no more scenarios (harness.retire)

    # --- devices ---------------------------------------------------------------------------
    def provision(self, count: int) -> DevicePool:
        options = backend_options(self.config)
        try:
            self.backend = load_backend(backend_spec(self.config), options)
        except (ValueError, ImportError, AttributeError, HarnessError) as exc:
            raise pytest.UsageError(f"--backend: {exc}") from exc
        try:
            handles = self.backend.provision(count)
        except FarmExhausted as exc:  # busy past the deadline, or all quarantined: stop, do not hang
            pytest.exit(f"no devices: {exc}", returncode=int(ExitCode.INFRASTRUCTURE))
        self.pool = DevicePool(handles)
        for handle in handles:
            self.facts[handle.serial] = self._safe_facts(handle)
        return self.pool

    def _safe_facts(self, handle: DeviceHandle) -> dict[str, str]:
        assert self.backend is not None
        try:
            return self.backend.facts(handle)
        except Exception as exc:  # noqa: BLE001 -- facts are nice to have; never fail a run over them
            return {"facts.error": str(exc)}

    def device(self) -> DeviceLease:
        """This process's device, provisioning it on first use when nobody handed one over."""
        if self.lease is not None:
            return self.lease
        if self.role == "worker":
            self.lease = self._lease_from_workerinput()
        else:
            pool = self.pool or self.provision(self.config.getoption("devices") or 1)
            assert self.backend is not None
            self.lease = DeviceLease(pool.lease("main"), self.backend)
        return self.lease

    def _lease_from_workerinput(self) -> DeviceLease:
        data = self.config.workerinput.get("harness_device")  # type: ignore[attr-defined]
        if data is None:
            raise pytest.UsageError("the xdist controller handed this worker no device")
        self.backend = load_backend(backend_spec(self.config), backend_options(self.config))
        return DeviceLease(DeviceHandle.from_dict(data), self.backend)

    # --- hooks -----------------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_harness_run_scenario(self, item: pytest.Item, scenario: Any, device: DeviceLease) -> Any:
        return _run_with_runtime(item, scenario, device)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> bool | None:
        """A retired worker skips what it is still sent: the controller gave it to the others."""
        return True if self.retired is not None else None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        self._count(report, props)
        if "harness.scenario" not in props:
            return
        record = self.records.setdefault(report.nodeid, ScenarioRecord(nodeid=report.nodeid))
        if report.outcome == "rerun":  # pytest-rerunfailures: this attempt is replaced by the next one
            record.retries += 1
            record.outcome, record.kind, record.message = "passed", "", ""
            self.rerunning.add(report.nodeid)
            return
        if report.nodeid in self.rerunning:  # the replaced attempt's own setup/teardown
            if report.when == "teardown":
                self.rerunning.discard(report.nodeid)
            return
        for key in ("scenario", "id", "file", "device", "expected", "observed", "signal", "territory"):
            value = props.get(f"harness.{key}")
            if value:
                setattr(record, key, str(value))
        record.duration += report.duration
        steps = props.get("harness.steps")  # [[kind, seconds], ...]: lists survive xdist's serialiser
        if isinstance(steps, list):
            record.steps = [(str(kind), float(seconds)) for kind, seconds in steps]
        oracle = props.get("harness.oracle")
        if isinstance(oracle, list):
            record.oracle = [str(line) for line in oracle]
        if (report.failed or report.skipped) and record.outcome == "passed":
            record.kind = str(props.get("harness.kind", ""))
            record.outcome = _outcome_word(report, record.kind)
            record.message = str(props.get("harness.message") or _short_message(report))
        if report.when == "teardown":
            self.emit({"event": "result", **vars(record)})

    def _count(self, report: pytest.TestReport, props: dict[str, Any]) -> None:
        if report.failed:
            self.failed[report.nodeid] = str(props.get("harness.kind", "other")) if "harness.scenario" in props \
                else "other"
        elif report.when == "call" and report.passed and "harness.scenario" not in props:
            self.passed_other += 1

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and report.nodeid not in self.collect_errors:
            self.collect_errors[report.nodeid] = report.longreprtext.strip()
            self.emit({"event": "collect-error", "where": report.nodeid, "message": report.longreprtext.strip()})
            dsession = self.config.pluginmanager.getplugin("dsession")
            scenario_file = report.nodeid.split("::")[0].endswith((".yaml", ".yml"))
            if scenario_file and dsession is not None and not self.config.option.continue_on_collection_errors:
                # as without xdist: a file that did not load stops the run before anything is scheduled
                dsession.shouldstop = f"a scenario file did not load: {report.nodeid}"

    def emit(self, event: dict[str, Any]) -> None:
        """Append one event to the `--harness-summary` JSON-lines file (the CLI tails it)."""
        path = self.config.getoption("harness_summary")
        if path and self.role != "worker":
            with open(path, "a", encoding="utf-8") as out:
                out.write(redact(json.dumps(event)) + "\n")  # the CLI's table and log come from here

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.role == "single":
            self.collection_done(sum(isinstance(i, ScenarioItem) for i in session.items))

    def collection_done(self, count: int) -> None:
        """Collection succeeded (or failed, then nothing is cleaned): announce, clean old results."""
        self.emit({"event": "collected", "count": count})
        left_out = list(not_collected(self.config))
        if left_out:
            self.emit({"event": "not-collected", "files": left_out})
        if not self.collect_errors and not self.cleaned and self.config.getoption("harness_clean_results"):
            self.cleaned = True
            from harness.allure_results import clean_results

            clean_results(self.config)

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, Any] | None:
        # collection reports come here too (short summary of collection errors): they have no properties
        kind = dict(getattr(report, "user_properties", ())).get("harness.kind")
        if report.when == "call" and report.failed and kind not in (None, "product"):
            return "error", "E", ("ERROR", {"red": True})
        return None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.role == "worker":
            output = self.config.workeroutput  # type: ignore[attr-defined]
            output["harness_facts"] = self.facts
            if self.lease is not None:
                output["harness_device"] = self.lease.handle.to_dict()
            return
        self._write_outputs()
        session.exitstatus = self.exit_status(int(session.exitstatus))

    def exit_status(self, status: int) -> int:
        """pytest's status, told apart: a lab-only failure (8) and a run that tested nothing (9)."""
        kinds = set(self.failed.values())
        if status == ExitCode.PRODUCT_FAILURE and kinds and kinds <= {"infrastructure", "harness"}:
            return ExitCode.INFRASTRUCTURE
        if status == ExitCode.PASSED and self.all_skipped() and not self.config.getoption("allow_all_skipped"):
            return ExitCode.NOTHING_TESTED
        return status

    def all_skipped(self) -> bool:
        records = self.records.values()
        return bool(records) and all(r.outcome == "skipped" for r in records) and not self.passed_other

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.role == "worker":
            return
        if self.all_skipped():
            accepted = self.config.getoption("allow_all_skipped")
            terminalreporter.section("nothing was tested", sep="-", yellow=True)
            terminalreporter.line(f"all {len(self.records)} scenarios were skipped"
                                  + (" (accepted: --allow-all-skipped)" if accepted else
                                     f"; exit {int(ExitCode.NOTHING_TESTED)} (--allow-all-skipped accepts this)"))
            for reason, count in Counter(r.message for r in self.records.values()).most_common():
                terminalreporter.line(f"  {count} x {reason}")
        unused = list(not_collected(self.config))
        if unused:
            terminalreporter.section("YAML files not collected", sep="-", yellow=True)
            for path, why in unused:
                terminalreporter.line(f"  {path}: {why}")

    def pytest_unconfigure(self) -> None:
        if self.backend is not None:
            self.backend.teardown()

    def _write_outputs(self) -> None:
        alluredir = getattr(self.config.option, "allure_report_dir", None)
        if alluredir and self.records:
            from harness.allure_results import write_allure_extras

            write_allure_extras(Path(alluredir), self.facts)


def _outcome_word(report: pytest.TestReport, kind: str) -> str:
    if report.skipped:
        return "skipped"
    return "failed" if kind == "product" else "error"


def _short_message(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    text = report.longreprtext.strip()
    return text.splitlines()[-1] if text else ""


class ControllerHooks:
    """xdist controller side: provision before workers start, hand one device to each worker."""

    def __init__(self, state: HarnessState) -> None:
        self.state = state
        self._announced = False

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        config = self.state.config
        if not any(True for _ in iter_scenario_files(config)):
            return  # nothing to run on a device: start nothing
        try:
            count = devices_needed(_worker_count(config), config.getoption("devices"))
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from exc
        self.state.provision(count)

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self._announced:  # every worker collects the same items; count them once
            self._announced = True
            self.state.collection_done(sum(i.split("::")[0].endswith((".yaml", ".yml")) for i in ids))

    @pytest.hookimpl(tryfirst=True)  # before anyone counts the attempt it turns into a rerun
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        reason = dict(report.user_properties).get(retire.RETIRED)
        line = retire.hand_back(self.state.config, report, str(reason)) if reason else None
        if line:
            self.state.config.pluginmanager.getplugin("terminalreporter").write_line(line, yellow=True)

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[retire.HANDS_BACK_KEY] = retire.can_hand_back(self.state.config)
        if self.state.pool is not None:
            handle = self.state.pool.lease(node.gateway.id)
            node.workerinput["harness_device"] = handle.to_dict()

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        pool = self.state.pool
        if pool is None:
            return
        output = getattr(node, "workeroutput", {})
        for serial, facts in output.get("harness_facts", {}).items():
            self.state.facts.setdefault(serial, {}).update(facts)
        returned = output.get("harness_device")
        if returned:  # the worker may have restarted it with a new data dir
            pool.update(DeviceHandle.from_dict(returned))
        pool.release(node.gateway.id)


# --------------------------------------------------------------------------------------------
# Scheduling (xdist controller)
# --------------------------------------------------------------------------------------------


@pytest.hookimpl(optionalhook=True)  # a module-level impl: registered before any conftest, whose own wins
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist load` (what `-n N` means) keeps each boot kind on the workers that booted it
    (harness.scheduling); the other modes stay xdist's own."""
    if config.getvalue("dist") != "load":
        return None
    from harness.scheduling import AffinityScheduling

    return AffinityScheduling(config, log)


# --------------------------------------------------------------------------------------------
# Collection
# --------------------------------------------------------------------------------------------

@pytest.hookimpl(trylast=True)  # after any shuffling plugin: groups keep the order they were given
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The prefix plan (harness.prefix), made once at collection and the same in every xdist worker:
    each scenario's shared prefix, and scenarios of one boot kind and one prefix next to each other."""
    slots = [i for i, item in enumerate(items) if isinstance(item, ScenarioItem)]
    if not slots:
        return
    from harness.prefix import order_items
    from harness.scheduling import prefix_plans

    scenario_items = [items[i] for i in slots]
    scenarios = [item.scenario for item in scenario_items]  # type: ignore[attr-defined]
    plans = prefix_plans(config, scenarios)  # the controller's scheduler makes the same (harness.scheduling)
    if plans is None:
        return
    for item, plan in zip(scenario_items, plans, strict=True):
        item.prefix = plan  # type: ignore[attr-defined]
    for slot, item in zip(slots, order_items(scenario_items, scenarios, plans), strict=True):
        items[slot] = item


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if is_scenario_file(file_path) and in_scope(parent.config, file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> Any:
        from harness.scenario.loader import load_file

        for scenario in load_file(self.path):
            for tag in scenario.tags:
                self.config.addinivalue_line("markers", f"{tag}: scenario tag")
            yield ScenarioItem.from_parent(self, name=str(scenario.id), scenario=scenario)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        exc = excinfo.value
        if isinstance(exc, ScenarioError):  # the loader's file:line: field: message, no traceback
            shown = os.path.relpath(exc.file, self.config.invocation_params.dir) if os.path.isabs(exc.file) else exc.file
            return ScenarioError(shown, exc.line, exc.field, exc.message, exc.hint).render()
        if isinstance(exc, HarnessError):
            return str(exc)
        return super().repr_failure(excinfo)


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.prefix: PrefixPlan | None = None  # set at collection (pytest_collection_modifyitems)
        self.facts = scenario_facts(scenario)
        self.add_marker("scenario")
        for tag in scenario.tags:
            self.add_marker(tag)
        self._add_lab_markers()
        self.extra_keyword_matches.update({scenario.name, *map(str, scenario.params.values())})
        for key, value in (("scenario", scenario.name), ("id", str(scenario.id)), ("file", self.location_text()),
                           ("expected", self.facts.expected), ("signal", self.facts.signal),
                           ("territory", self.facts.territory)):
            self.user_properties.append((f"harness.{key}", value))

    def _add_lab_markers(self) -> None:
        """Retries of lab failures only, and the per-scenario time limit (when those plugins are on)."""
        plugins = self.config.pluginmanager
        retries = self.config.getoption("retries", 0)
        if retries and plugins.hasplugin("rerunfailures"):
            self.add_marker(pytest.mark.flaky(reruns=retries, only_rerun=[InfrastructureError],
                                              rerun_except=[ProductDefect, ScenarioFailed, CapabilityMissing,
                                                                DeviceUnreplaceable]))
        limit = self.config.getoption("scenario_timeout", None)
        if limit and plugins.hasplugin("timeout") and self.config.getoption("timeout", None) is None:
            # the call only: the first scenario's setup may boot the device, which is not the scenario's time
            self.add_marker(pytest.mark.timeout(limit, method="signal", func_only=True))

    def setup(self) -> None:
        try:
            self.stash[DEVICE_KEY] = self.config.stash[STATE_KEY].device().handle.serial
        except Exception as exc:
            self._note_lab_failure(exc)
            raise

    def runtest(self) -> None:
        device = self.config.stash[STATE_KEY].device()
        if self.config.getoption("allure_report_dir", None):
            from harness.allure_results import set_labels

            set_labels(self, self.facts, device.handle.serial)
        try:
            self.stash[OUTCOME_KEY] = self.ihook.pytest_harness_run_scenario(
                item=self, scenario=self.scenario, device=device)
        except CapabilityMissing as exc:
            self.stash[KIND_KEY] = "unsupported"
            # reported at the scenario's line, not at this one
            raise pytest.skip.Exception(str(exc), _use_item_location=True) from exc
        except ProductDefect as exc:
            self.stash[KIND_KEY] = "product"
            self.stash[MESSAGE_KEY] = self._product_message(exc)
            raise ScenarioFailed(str(exc)) from exc
        except pytest.fail.Exception as exc:
            if not str(exc.msg).startswith("Timeout"):  # pytest-timeout's message
                raise
            limit = self.config.getoption("scenario_timeout")
            timeout = ScenarioTimeout(f"the scenario did not finish within its limit of {limit:g} s")
            self._note_lab_failure(timeout)
            raise timeout from exc
        except BaseException as exc:
            if isinstance(exc, Exception):
                self._note_lab_failure(exc)
            raise

    def _product_message(self, exc: ProductDefect) -> str:
        if isinstance(exc, VerdictMismatch):
            self.stash[OBSERVED_KEY] = (exc.expected, exc.observed)
            return verdict_message(self.facts.territory, exc)
        return f"{self.facts.territory}: {exc}" if self.facts.territory else str(exc)

    def _note_lab_failure(self, exc: BaseException) -> None:
        self.stash[KIND_KEY] = "infrastructure" if isinstance(exc, HarnessError) else "harness"
        self.stash[MESSAGE_KEY] = infrastructure_message(self.facts.territory, exc)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed | HarnessError):
            kind = self.stash.get(KIND_KEY, "")
            label = "wrong verdict" if kind == "product" else "infrastructure"
            return f"{self.location_text()}: {label}: {excinfo.value}"
        return super().repr_failure(excinfo)

    def location_text(self) -> str:
        """`scenarios/x.yaml:3`, relative to the rootdir where possible (short summary lines)."""
        try:
            shown = str(self.path.relative_to(self.config.rootpath))
        except ValueError:
            shown = str(self.path)
        return f"{shown}:{self.scenario.source.line}"

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, self.scenario.source.line - 1, f"scenario: {self.scenario.name}"


class ScenarioFailed(AssertionError):
    """A wrong lock decision. An AssertionError, so Allure files it as "failed", not "broken"."""


MESSAGE_KEY = pytest.StashKey[str]()  # per item: the failure message for reports (no paths or timings)
OBSERVED_KEY = pytest.StashKey[tuple[str, str]]()  # per item: (expected, observed) of a wrong verdict


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not isinstance(item, ScenarioItem):
        return
    if DEVICE_KEY in item.stash:
        report.user_properties.append(("harness.device", item.stash[DEVICE_KEY]))
    if call.excinfo is not None and isinstance(call.excinfo.value, DeviceUnreplaceable) \
            and hasattr(item.config, "workerinput") and retire.can_hand_back(item.config):
        item.config.stash[STATE_KEY].retired = str(call.excinfo.value)  # harness.retire
        report.user_properties.append((retire.RETIRED, str(call.excinfo.value)))
    if call.excinfo is not None and KIND_KEY in item.stash:
        report.user_properties.append(("harness.kind", item.stash[KIND_KEY]))
        if MESSAGE_KEY in item.stash and not report.skipped:
            report.user_properties.append(("harness.message", item.stash[MESSAGE_KEY]))
            from harness.allure_results import set_message

            set_message(item, item.stash[MESSAGE_KEY])  # allure's own wrapper has run: we are outside it
    if call.when == "call":
        for key, value in zip(("expected", "observed"), _verdict_pair(item), strict=True):
            if value:
                report.user_properties.append((f"harness.{key}", value))
        outcome_value = item.stash.get(OUTCOME_KEY, None)
        if outcome_value is not None:
            # plain lists so xdist can ship them from the worker; only completed runs have an Outcome
            steps = [[kind, seconds] for kind, seconds in getattr(outcome_value, "step_seconds", [])]
            report.user_properties.append(("harness.steps", steps))
            report.user_properties.append(("harness.oracle", list(getattr(outcome_value, "oracle", []))))


def _verdict_pair(item: ScenarioItem) -> tuple[str, str]:
    """(expected, observed) of the last expectation: from a wrong verdict, or the completed run."""
    if OBSERVED_KEY in item.stash:
        return item.stash[OBSERVED_KEY]
    outcome = item.stash.get(OUTCOME_KEY, None)
    expectations = getattr(outcome, "expectations", None)
    if expectations:
        last = expectations[-1]
        seen = "locked" if last.observed.present else "unlocked" if last.observed.home else "undecided"
        return str(last.expected), seen
    return "", ""


# --------------------------------------------------------------------------------------------
# The default scenario runner: the runtime, wired together
# --------------------------------------------------------------------------------------------


def _run_with_runtime(item: pytest.Item, scenario: Any, device: DeviceLease) -> Any:
    from harness.evidence import Evidence
    from harness.scenario.runner import run_scenario

    ops = device.ops
    evidence = Evidence(use_allure=bool(item.config.getoption("allure_report_dir", None)))
    watch = ops if isinstance(ops, WatchedLab) else None  # health checks: harness/backends/health.py
    try:
        mark = watch.before_scenario() if watch is not None else 0
        try:
            outcome = run_scenario(scenario, ops.current_session(), ops, evidence,
                                   profiles=profile_source(item.config),
                                   snapshots=device.snapshots(not item.config.getoption("no_snapshot_resets")),
                                   prefix=getattr(item, "prefix", None))
        except BaseException as exc:
            if watch is not None and isinstance(exc, Exception):
                watch.after_scenario(mark)  # a lab outage outranks whatever the scenario said
            raise
        if watch is not None:
            watch.after_scenario(mark)
        return outcome
    finally:
        facts = item.config.stash[STATE_KEY].facts.setdefault(device.handle.serial, {})
        facts.update(evidence.environment)


__all__ = [
    "DeviceLease", "HarnessHookspecs", "HarnessState", "ScenarioFailed", "ScenarioFile", "ScenarioItem",
    "ScenarioRecord", "apply_config_file", "is_scenario_file", "iter_scenario_files", "not_collected",
    "option_specs",
]
