"""The pytest plugin: scenario files become test items that run on leased devices.

Theory of operation
-------------------
- Collection: a YAML file under a directory named in the `harness_scenario_dirs` ini value (default
  `scenarios`), or named explicitly on the command line, whose top level has a `scenario:` key, is a
  `ScenarioFile`; the loader expands it into one `ScenarioItem` per scenario and matrix row. Tags
  become markers (registered on the fly) and the scenario's name and matrix values become keywords,
  so `-m cuba` and `-k havana` select as expected.
- Devices: with xdist the *controller* provisions one device per worker before the workers start and
  ships each worker its `DeviceHandle` in `workerinput`; a worker never provisions. Without xdist the
  process provisions one device lazily, at the first scenario item, so a run without scenarios (the
  unit tests) never starts an emulator. Whoever provisions tears down, at session end, at exit and on
  SIGTERM (see the backends).
- Outcomes: a wrong lock decision (`ProductDefect`) is a test FAILURE, Allure "failed". Anything else
  that stops a scenario (`InfrastructureError`, or a bug in the harness) is reported as an ERROR by
  pytest and "broken" by Allure: the product was never judged. `CapabilityMissing` skips with its
  reason. The kind travels in `report.user_properties` (it survives xdist's report serialisation).
- Allure: `categories.json` and `environment.properties` are written into the results dir by the
  process that owns the devices. `--harness-summary FILE` writes one JSON record per scenario for
  the `harness` CLI's table.

Extension point: the hook `pytest_harness_run_scenario(item, scenario, device)` runs one scenario on
one leased device (`firstresult`). The default implementation wires the runtime together; tests and
other labs can provide their own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.backends.base import Backend, BackendOptions, DeviceHandle, WatchedLab, load_backend
from harness.errors import CapabilityMissing, HarnessError, ProductDefect
from harness.pool import DevicePool, devices_needed
from harness.redact import install_log_redaction, redact

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
    group.addoption("--harness-workdir", default=None,
                    help="where the virtual backend keeps emulator data (default: a temp dir)")
    group.addoption("--harness-summary", default=None,
                    help="append JSON lines to this file: the collected count, then one record per "
                         "finished scenario (outcome, device, duration, message)")
    parser.addini("harness_scenario_dirs", type="args", default=["scenarios"],
                  help="directory names whose YAML files are collected as scenarios")


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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scenario: a scenario loaded from a YAML file")
    install_log_redaction()  # no console token in any log line (harness.redact)
    state = HarnessState(config)
    if state.role != "worker":
        _check_policy_option(config)
    config.stash[STATE_KEY] = state
    config.pluginmanager.register(state, "harness-state")
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
                          sdk=config.getoption("sdk"), avd=tuple(config.getoption("avd") or ()))


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


@dataclass
class ScenarioRecord:
    """One line of the run summary (what the CLI's table shows)."""

    nodeid: str
    scenario: str = ""
    device: str = ""
    outcome: str = "passed"  # passed | failed | error | skipped
    kind: str = ""
    duration: float = 0.0
    message: str = ""
    file: str = ""
    steps: list[tuple[str, float]] = field(default_factory=list)  # (step kind, seconds): bench/bench_suite.py


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

    # --- devices ---------------------------------------------------------------------------
    def provision(self, count: int) -> DevicePool:
        options = backend_options(self.config)
        try:
            self.backend = load_backend(self.config.getoption("backend"), options)
        except (ValueError, ImportError, AttributeError) as exc:
            raise pytest.UsageError(f"--backend: {exc}") from exc
        handles = self.backend.provision(count)
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
        self.backend = load_backend(self.config.getoption("backend"), backend_options(self.config))
        return DeviceLease(DeviceHandle.from_dict(data), self.backend)

    # --- hooks -----------------------------------------------------------------------------
    @pytest.hookimpl(trylast=True)
    def pytest_harness_run_scenario(self, item: pytest.Item, scenario: Any, device: DeviceLease) -> Any:
        return _run_with_runtime(item, scenario, device)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        if "harness.scenario" not in props:
            return
        record = self.records.setdefault(report.nodeid, ScenarioRecord(nodeid=report.nodeid))
        record.scenario = str(props["harness.scenario"])
        record.file = str(props.get("harness.file", ""))
        record.device = str(props.get("harness.device", record.device))
        record.duration += report.duration
        steps = props.get("harness.steps")  # [[kind, seconds], ...]: lists survive xdist's serialiser
        if isinstance(steps, list):
            record.steps = [(str(kind), float(seconds)) for kind, seconds in steps]
        if (report.failed or report.skipped) and record.outcome == "passed":
            record.kind = str(props.get("harness.kind", ""))
            record.outcome = _outcome_word(report, record.kind)
            record.message = _short_message(report)
        if report.when == "teardown":
            self.emit({"event": "result", **vars(record)})

    def emit(self, event: dict[str, Any]) -> None:
        """Append one event to the `--harness-summary` JSON-lines file (the CLI tails it)."""
        path = self.config.getoption("harness_summary")
        if path and self.role != "worker":
            with open(path, "a", encoding="utf-8") as out:
                out.write(redact(json.dumps(event)) + "\n")  # the CLI's table and log come from here

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.role == "single":
            self.emit({"event": "collected", "count": sum(isinstance(i, ScenarioItem) for i in session.items)})

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, Any] | None:
        kind = dict(report.user_properties).get("harness.kind")
        if report.when == "call" and report.failed and kind not in (None, "product"):
            return "error", "E", ("ERROR", {"red": True})
        return None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.role == "worker":
            output = self.config.workeroutput  # type: ignore[attr-defined]
            output["harness_facts"] = self.facts
            if self.lease is not None:
                output["harness_device"] = self.lease.handle.to_dict()
        else:
            self._write_outputs()

    def pytest_unconfigure(self) -> None:
        if self.backend is not None:
            self.backend.teardown()

    def _write_outputs(self) -> None:
        alluredir = getattr(self.config.option, "allure_report_dir", None)
        if alluredir and self.records:
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
            count = sum(i.split("::")[0].endswith((".yaml", ".yml")) for i in ids)
            self.state.emit({"event": "collected", "count": count})

    def pytest_configure_node(self, node: Any) -> None:
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
# Collection
# --------------------------------------------------------------------------------------------

_SCENARIO_KEY = re.compile(r"^(- )?scenario\s*:", re.MULTILINE)


def is_scenario_file(path: Path) -> bool:
    if path.suffix not in (".yaml", ".yml"):
        return False
    try:
        return bool(_SCENARIO_KEY.search(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False


def _in_scenario_dir(config: pytest.Config, path: Path) -> bool:
    names = set(config.getini("harness_scenario_dirs"))
    if names & set(path.parent.parts):
        return True
    explicit = {Path(a.split("::")[0]).resolve() for a in config.args}
    return path.resolve() in explicit


def iter_scenario_files(config: pytest.Config) -> Any:
    """Scenario files among the run's arguments (what collection will find), without importing."""
    for arg in config.args:
        root = Path(config.invocation_params.dir, arg.split("::")[0])
        candidates = [root] if root.is_file() else sorted(root.rglob("*.y*ml")) if root.is_dir() else []
        for path in candidates:
            if _in_scenario_dir(config, path) and is_scenario_file(path):
                yield path


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if is_scenario_file(file_path) and _in_scenario_dir(parent.config, file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> Any:
        from harness.scenario.loader import load_file

        for scenario in load_file(self.path):
            for tag in scenario.tags:
                self.config.addinivalue_line("markers", f"{tag}: scenario tag")
            yield ScenarioItem.from_parent(self, name=str(scenario.id), scenario=scenario)


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.add_marker("scenario")
        for tag in scenario.tags:
            self.add_marker(tag)
        self.extra_keyword_matches.update({scenario.name, *map(str, scenario.params.values())})
        self.user_properties.append(("harness.scenario", scenario.name))
        self.user_properties.append(("harness.file", self.location_text()))

    def runtest(self) -> None:
        state = self.config.stash[STATE_KEY]
        device = state.device()
        self.stash[DEVICE_KEY] = device.handle.serial
        _set_allure_labels(self, device.handle)
        try:
            self.stash[OUTCOME_KEY] = self.ihook.pytest_harness_run_scenario(
                item=self, scenario=self.scenario, device=device)
        except CapabilityMissing as exc:
            self.stash[KIND_KEY] = "unsupported"
            # reported at the scenario's line, not at this one
            raise pytest.skip.Exception(str(exc), _use_item_location=True) from exc
        except ProductDefect as exc:
            self.stash[KIND_KEY] = "product"
            raise ScenarioFailed(str(exc)) from exc
        except BaseException as exc:
            if isinstance(exc, Exception):
                self.stash[KIND_KEY] = "infrastructure" if isinstance(exc, HarnessError) else "harness"
            raise

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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if isinstance(item, ScenarioItem):
        if DEVICE_KEY in item.stash:
            report.user_properties.append(("harness.device", item.stash[DEVICE_KEY]))
        if call.excinfo is not None and KIND_KEY in item.stash:
            report.user_properties.append(("harness.kind", item.stash[KIND_KEY]))
        outcome_value = item.stash.get(OUTCOME_KEY, None)
        if call.when == "call" and outcome_value is not None:
            # plain lists so xdist can ship them from the worker; only completed runs have an Outcome
            steps = [[kind, seconds] for kind, seconds in getattr(outcome_value, "step_seconds", [])]
            report.user_properties.append(("harness.steps", steps))


def _set_allure_labels(item: ScenarioItem, handle: DeviceHandle) -> None:
    """Allure title, tags and the device as a parameter (a no-op without allure-pytest)."""
    try:
        import allure
    except ImportError:
        return
    if not item.config.getoption("allure_report_dir", None):
        return
    allure.dynamic.title(item.scenario.name)
    allure.dynamic.parameter("device", handle.serial)
    for key, value in item.scenario.params.items():
        allure.dynamic.parameter(key, value)
    if item.scenario.description:
        allure.dynamic.description(item.scenario.description)


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
                                   profiles=profile_source(item.config))
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


# --------------------------------------------------------------------------------------------
# Allure extras
# --------------------------------------------------------------------------------------------

CATEGORIES = [
    {"name": "Product defects", "matchedStatuses": ["failed"],
     "description": "The device was driven as asked and made the wrong lock decision."},
    {"name": "Infrastructure", "matchedStatuses": ["broken"],
     "description": "The lab failed (device died, spoof did not take, harness error): not judged."},
    {"name": "Unsupported by device", "matchedStatuses": ["skipped"], "messageRegex": ".*cannot provide.*",
     "description": "The device cannot produce a signal the scenario needs."},
]


def write_allure_extras(alluredir: Path, facts: dict[str, dict[str, str]]) -> None:
    alluredir.mkdir(parents=True, exist_ok=True)
    (alluredir / "categories.json").write_text(json.dumps(CATEGORIES, indent=1))
    lines = [f"harness.devices={','.join(sorted(facts))}"]
    for serial, device_facts in sorted(facts.items()):
        for key, value in sorted(device_facts.items()):
            lines.append(f"{serial}.{key}={_properties_escape(value)}")
    (alluredir / "environment.properties").write_text("\n".join(lines) + "\n")


def _properties_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


__all__ = [
    "DeviceLease", "HarnessHookspecs", "HarnessState", "ScenarioFailed", "ScenarioFile", "ScenarioItem",
    "ScenarioRecord", "is_scenario_file", "iter_scenario_files", "write_allure_extras",
]
