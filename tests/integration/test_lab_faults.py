"""Real faults injected into a real virtual lab: no verdict from a broken lab, recovery, no leftovers.

One lab (adb server, activation server, one emulator) for the module; each test injects one fault
with kill -9 or SIGSTOP at a chosen step, asserts the scenario is an infrastructure error (never a
pass, never a product failure), then that the next scenario runs on what the harness brought back
and gets its right verdict. The decision bound is cut to 3 s so an undecided device costs little.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from harness.backends.base import BackendOptions, DeviceHandle
from harness.backends.health import Journal, pid_from_file
from harness.backends.virtual import ACTIVATION_PIDFILE, JOURNAL_NAME, VirtualBackend, VirtualDeviceOps
from harness.errors import InfrastructureError, ProductDefect, ServiceDown, UndecidedDevice
from harness.evidence import Evidence, StepRecord
from harness.profile_match import ProfileSource
from harness.scenario.loader import load_text
from harness.scenario.runner import Outcome, run_scenario

pytestmark = pytest.mark.integration

HAVANA = """scenario: havana
steps:
  - reset
  - sim: CU
  - location: Havana
  - activate
  - expect: {state: locked, timeout: 30s}
"""
MADRID = """scenario: madrid
steps:
  - reset
  - sim: ES
  - location: Madrid
  - activate
  - expect: {state: unlocked, timeout: 30s, settle: 1s}
"""
MADRID_NO_RESET = MADRID.replace("  - reset\n", "")


def fast_profile(tmp_path_factory: pytest.TempPathFactory, family: str) -> ProfileSource:
    """A shipped profile with its decision bound cut to 3 s."""
    from importlib import resources

    text = resources.files("harness.data.profiles").joinpath(f"{family}.yaml").read_text("utf-8")
    assert "  longest_seconds: 12\n" in text
    path = tmp_path_factory.mktemp("profiles") / f"{family}-fast.yaml"
    path.write_text(text.replace("  longest_seconds: 12\n", "  longest_seconds: 3\n"))
    return ProfileSource(named=str(path))


@pytest.fixture(scope="module")
def profiles(tmp_path_factory: pytest.TempPathFactory) -> ProfileSource:
    return fast_profile(tmp_path_factory, "reference")


def start_lab(tmp_path_factory: pytest.TempPathFactory,
              props: tuple[tuple[str, str], ...] = ()) -> Iterator[tuple[VirtualBackend, DeviceHandle]]:
    work = tmp_path_factory.mktemp("faultlab")
    backend = VirtualBackend(BackendOptions(work_dir=work, extra_props=props))
    handle = backend.provision(1)[0]
    yield backend, handle
    backend.teardown()
    assert not _listening(handle.adb_server_port), "the adb server outlived teardown"
    pid = pid_from_file(work / ACTIVATION_PIDFILE)
    assert pid is None or not _alive(pid), "an activation server (maybe a restarted one) outlived teardown"
    assert not list(work.glob("*/emulator.pid")) or all(
        not _alive(int(p.read_text())) for p in work.glob("*/emulator.pid")), "an emulator outlived teardown"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[VirtualBackend, DeviceHandle]]:
    yield from start_lab(tmp_path_factory)


@pytest.fixture(scope="module")
def lab_ops(lab: tuple[VirtualBackend, DeviceHandle], profiles: ProfileSource) -> VirtualDeviceOps:
    backend, handle = lab
    ops = backend.device_ops(handle)  # one for the module: it follows the device across restarts
    ops.profiles = profiles  # type: ignore[attr-defined]  # carried for run() below
    return ops


@pytest.fixture
def ops(lab_ops: VirtualDeviceOps) -> VirtualDeviceOps:
    lab_ops.before_scenario()  # whatever an earlier test broke is brought back first
    return lab_ops


class FaultAt(Evidence):
    """Injects `fault()` when the `nth` step whose title starts with `at` begins."""

    def __init__(self, at: str, fault: Callable[[], None], nth: int = 1) -> None:
        super().__init__(use_allure=False)
        self.at, self.fault, self.fired, self.left = at, fault, False, nth

    @contextmanager
    def step(self, title: str, params: dict[str, Any] | None = None) -> Iterator[StepRecord]:
        self.left -= title.startswith(self.at)
        if title.startswith(self.at) and not self.fired and self.left == 0:
            self.fired = True
            self.fault()
        with super().step(title, params) as record:
            yield record


def run(ops: VirtualDeviceOps, text: str, evidence: Evidence | None = None) -> Outcome:
    """What the plugin does around one scenario: revive, run, and check the lab was whole."""
    mark = ops.before_scenario()
    try:
        outcome = run_scenario(load_text(text)[0], ops.current_session(), ops,
                               evidence or Evidence(use_allure=False), profiles=ops.profiles)
    except Exception:
        ops.after_scenario(mark)
        raise
    ops.after_scenario(mark)
    return outcome


def kill_activation_server(ops: VirtualDeviceOps) -> Callable[[], None]:
    def fault() -> None:
        pid = pid_from_file(Path(str(ops.handle.home)).parent / ACTIVATION_PIDFILE)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
    return fault


@pytest.mark.parametrize("text", [HAVANA, MADRID], ids=["expect-locked", "expect-unlocked"])
def test_activation_server_killed_during_activate_is_never_a_verdict(ops: VirtualDeviceOps, text: str) -> None:
    evidence = FaultAt("activate", kill_activation_server(ops))
    started = time.monotonic()
    with pytest.raises(InfrastructureError) as info:
        run(ops, text, evidence)
    assert not isinstance(info.value, ProductDefect)
    assert isinstance(info.value, ServiceDown) and "activation server" in str(info.value)
    # without the watch, the runner's own judgement: undecided, not a verdict
    assert isinstance(info.value.__context__, UndecidedDevice), info.value.__context__
    assert "pending" in str(info.value.__context__)
    assert time.monotonic() - started < 60
    # the next scenario runs on a restarted server and gets its right verdict
    outcome = run(ops, text)
    assert outcome.verdict == ("locked" if text is HAVANA else "unlocked")
    assert any("activation server" in line and "restarted" in line for line in ops.journal.since(0))


def test_undecided_device_without_the_watch_is_an_infrastructure_error(ops: VirtualDeviceOps) -> None:
    # the runner alone (another backend, no health checks): a dead server still gives no verdict
    with pytest.raises(UndecidedDevice, match="decision bound"):
        run_scenario(load_text(MADRID)[0], ops.current_session(), ops,
                     FaultAt("activate", kill_activation_server(ops)), profiles=ops.profiles)


@pytest.fixture(scope="module")
def norvik_ops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualDeviceOps]:
    """The same lab with a Norvik device: its decision is a log line only (no property)."""
    for backend, handle in start_lab(tmp_path_factory, (("firmware", "norvik"),)):
        ops = backend.device_ops(handle)
        ops.profiles = fast_profile(tmp_path_factory, "norvik")  # type: ignore[attr-defined]
        yield ops


@pytest.mark.parametrize("text", [HAVANA, MADRID], ids=["expect-locked", "expect-unlocked"])
def test_norvik_activation_server_killed_during_activate_is_undecided(norvik_ops: VirtualDeviceOps,
                                                                      text: str) -> None:
    # a log-line sign: "activation requested" and no result line after it is undecided, not "no service"
    norvik_ops.before_scenario()
    with pytest.raises(InfrastructureError) as info:
        run(norvik_ops, text, FaultAt("activate", kill_activation_server(norvik_ops)))
    assert not isinstance(info.value, ProductDefect)
    assert isinstance(info.value.__context__, UndecidedDevice), info.value.__context__
    assert "log sign" in str(info.value.__context__) and "'pending'" in str(info.value.__context__)
    # the next run's decision is its own: the kept log's earlier lines do not count
    outcome = run(norvik_ops, text)
    assert outcome.verdict == ("locked" if text is HAVANA else "unlocked")


def test_norvik_an_earlier_decision_in_the_kept_log_is_not_this_activations(norvik_ops: VirtualDeviceOps) -> None:
    # ALLOWED is logged, the factory reset keeps the log; the second activation never gets an answer
    norvik_ops.before_scenario()  # an earlier test's dead server is brought back first
    text = MADRID.replace("  - activate\n", "  - activate\n  - factory-reset\n  - activate\n")
    with pytest.raises(UndecidedDevice, match="decision bound"):
        run_scenario(load_text(text)[0], norvik_ops.current_session(), norvik_ops,
                     FaultAt("activate", kill_activation_server(norvik_ops), nth=2), profiles=norvik_ops.profiles)


def emulator_pid(ops: VirtualDeviceOps) -> int:
    """The emulator's pid now (a SIM step cold-boots the device: a new process in the same dir)."""
    pid = pid_from_file(Path(str(ops.handle.data_dir)) / "emulator.pid")
    assert pid is not None
    return pid


def test_a_killed_emulator_is_replaced_before_the_next_scenario(ops: VirtualDeviceOps) -> None:
    killed: list[int] = []

    def fault() -> None:
        killed.append(emulator_pid(ops))
        os.kill(killed[0], signal.SIGKILL)

    with pytest.raises(InfrastructureError) as info:
        run(ops, MADRID_NO_RESET, FaultAt("location", fault))
    assert not isinstance(info.value, ProductDefect)
    started = time.monotonic()
    outcome = run(ops, MADRID_NO_RESET)  # no reset step: only the health check can have replaced it
    assert outcome.verdict == "unlocked"
    assert time.monotonic() - started > 0.5, "it ran on a new device, not errored at once"
    assert emulator_pid(ops) != killed[0]
    assert any("is gone" in line and "replaced" in line for line in ops.journal.since(0))


def test_a_stopped_emulator_errors_within_the_deadline_and_is_replaced(ops: VirtualDeviceOps) -> None:
    stopped: list[int] = []

    def fault() -> None:
        stopped.append(emulator_pid(ops))
        ops.current_session().device.deadline = 2.0  # the UI call deadline (default 30 s), short for the test
        os.kill(stopped[0], signal.SIGSTOP)

    evidence = FaultAt("expect", fault)
    started = time.monotonic()
    try:
        with pytest.raises(InfrastructureError) as info:
            run(ops, MADRID_NO_RESET, evidence)
    finally:
        elapsed = time.monotonic() - started
    assert not isinstance(info.value, ProductDefect)
    assert elapsed < 60, f"a stopped device held the scenario {elapsed:.0f}s"
    assert any(a.name == "failure: notes" for a in evidence.attachments), "the evidence that could be had"
    outcome = run(ops, MADRID)
    assert outcome.verdict == "unlocked"
    assert not _alive(stopped[0]), "the stopped emulator was not left behind"


def test_a_killed_adb_server_is_restarted_and_the_next_scenario_runs(ops: VirtualDeviceOps) -> None:
    port = ops.handle.adb_server_port
    with pytest.raises(InfrastructureError) as info:
        run(ops, MADRID, FaultAt("sim", lambda: _kill_adb_server(port)))
    assert not isinstance(info.value, ProductDefect)
    outcome = run(ops, MADRID)
    assert outcome.verdict == "unlocked"
    assert any("adb server" in line and "restarted" in line for line in Journal(
        Path(str(ops.handle.home)).parent / JOURNAL_NAME).since(0))


# --- helpers ------------------------------------------------------------------------------------

def _kill_adb_server(port: int) -> None:
    """kill -9 the adb server listening on `port` (found by its command line: `-L tcp:PORT`)."""
    wanted = f"tcp:{port}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"adb") and wanted in cmdline:
            os.kill(int(proc.name), signal.SIGKILL)
            return
    raise AssertionError(f"no adb server found for port {port}")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True
