"""Reset by snapshot on a real virtual lab (VirtualBackend: adb server, activation server, emulator).

One device for the module, fast timing: each test runs scenarios through the real runner with the
device's factory snapshot book, and reads what happened from the reset step's read-back and from
the device itself (IMEIs over adb, files on /data).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.backends.base import BackendOptions
from harness.backends.virtual import VirtualBackend, VirtualDeviceOps
from harness.evidence import Evidence
from harness.prefix import plan_prefixes
from harness.profile_match import ProfileSource
from harness.resets import ResetRecord, SnapshotResets
from harness.scenario.model import (
    ActivateStep,
    AirplaneStep,
    DeviceHints,
    ExpectStep,
    LocationStep,
    ResetStep,
    Scenario,
    ScreenshotStep,
    SimSpec,
    SimStep,
    SourceRef,
)
from harness.scenario.runner import Outcome, ScenarioRunner, run_scenario
from harness.session import DeviceSession
from tests.values import CUBACEL, HAVANA, MADRID

pytestmark = pytest.mark.integration

MOVISTAR = SimSpec(slot=0, mcc="214", mnc="07", country="ES", operator="Movistar")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualDeviceOps]:
    backend = VirtualBackend(BackendOptions(work_dir=tmp_path_factory.mktemp("snaplab")))
    try:
        handle, = backend.provision(1)
        yield backend.device_ops(handle)
    finally:
        backend.teardown()


def havana() -> Scenario:
    """First activation in Havana with a Cuban SIM: locked, unless the server knows the IMEI."""
    return scenario(ResetStep(), SimStep(slots=(CUBACEL,)), LocationStep(position=HAVANA), ActivateStep(),
                    ExpectStep(state="locked", timeout=30))


def scenario(*steps: Any) -> Scenario:
    numbered = [step.model_copy(update={"line": i + 3}) for i, step in enumerate(steps)]
    return Scenario(id="snap", name="snap", device=DeviceHints(firmware="global"), steps=tuple(numbered),
                    source=SourceRef(file="inline.yaml", line=1))


def run(ops: VirtualDeviceOps, book: SnapshotResets, sc: Scenario) -> tuple[Outcome, str]:
    outcome = run_scenario(sc, ops.current_session(), ops, Evidence(use_allure=False), snapshots=book)
    return outcome, reset_how(outcome)


def reset_how(outcome: Outcome) -> str:
    return str(outcome.readbacks[0]["reset"]["how"])


def imeis(session: DeviceSession) -> list[str]:
    return re.findall(r"IMEI\) slot \d: (\d+)", session.shell(["dumpsys", "iphonesubinfo"]).output)


def test_a_reset_of_the_same_kind_loads_the_factory_snapshot_with_a_new_identity(lab: VirtualDeviceOps) -> None:
    book = SnapshotResets.for_ops(lab, enabled=True)
    first, how = run(lab, book, havana())
    assert how.startswith("cold boot") and "no factory snapshot" in how
    assert first.readbacks[0]["reset"]["factory snapshot"].startswith("saved as harness-factory-")
    activated = imeis(lab.current_session())
    lab.current_session().check(["touch", "/data/local/tmp/left-by-the-last-scenario"])

    # the same IMEI twice would be known to the activation server: a traveller, so `unlocked`
    second, how = run(lab, book, havana())
    assert re.fullmatch(r"snapshot harness-factory-\w+ loaded in \d+\.\d\d s", how), how
    assert second.verdict == "locked"
    session = lab.current_session()
    assert imeis(session) != activated and "new IMEI" in second.readbacks[0]["reset"]["identity"]
    assert session.shell(["ls", "/data/local/tmp/left-by-the-last-scenario"]).ok is False
    assert session.getprop("sys.boot_completed") == "1"


def test_the_factory_state_comes_back_after_an_activation(lab: VirtualDeviceOps) -> None:
    book = SnapshotResets.for_ops(lab, enabled=True)
    madrid = scenario(ResetStep(), SimStep(slots=(MOVISTAR,)), LocationStep(position=MADRID), ActivateStep(),
                      ExpectStep(state="unlocked", timeout=30, settle=1))
    run(lab, book, madrid)
    generation = lab.handle.generation
    again, how = run(lab, book, madrid)  # activated and home screen before: the wizard again now
    assert how.startswith("snapshot") and again.verdict == "unlocked"
    assert again.readbacks[-2]["wizard"]["pages"], "the loaded device walked the setup wizard again"
    assert lab.handle.generation == generation, "a snapshot reset does not restart the emulator"


def test_another_boot_kind_is_a_cold_boot_that_says_why(lab: VirtualDeviceOps) -> None:
    book = SnapshotResets.for_ops(lab, enabled=True)
    run(lab, book, havana())
    madrid = scenario(ResetStep(), SimStep(slots=(MOVISTAR,)), LocationStep(position=MADRID), ActivateStep(),
                      ExpectStep(state="unlocked", timeout=30, settle=1))
    outcome, how = run(lab, book, madrid)
    assert how.startswith("cold boot") and "another boot kind" in how and "(sims)" in how, how
    assert outcome.verdict == "unlocked"


def test_a_console_that_refuses_the_save_falls_back_to_cold_boots(lab: VirtualDeviceOps) -> None:
    book = SnapshotResets.for_ops(lab, enabled=True)
    run(lab, book, havana())
    kind, session = book.running, lab.current_session()
    assert kind is not None
    folder = Path(str(lab.handle.data_dir) + (".avd" if lab.handle.avd else "")) / "snapshots"
    assert (folder / str(book.saved)).is_dir()
    shutil.rmtree(folder)
    folder.write_text("")  # a real fault: the emulator cannot write its snapshot (as `-read-only` refuses it)
    try:
        record = ResetRecord("cold boot", why="test")
        book.cold_booted(session, kind, record)  # what the harness does right after a cold boot
    finally:
        folder.unlink()
    assert record.saved is not None and record.saved.startswith("not saved:") and "Not a directory" in record.saved
    outcome, how = run(lab, book, havana())
    assert how.startswith("cold boot") and "the console refused a snapshot save on this instance" in how, how
    assert outcome.verdict == "locked"
    assert outcome.readbacks[0]["reset"]["factory snapshot"].startswith("saved as"), "a new instance saves again"
    _, how = run(lab, book, havana())
    assert how.startswith("snapshot")


def test_no_snapshot_resets_is_always_a_cold_boot(lab: VirtualDeviceOps) -> None:
    book = SnapshotResets.for_ops(lab, enabled=False)
    for _ in range(2):
        outcome, how = run(lab, book, havana())
        assert how.startswith("cold boot") and "--no-snapshot-resets" in how
        assert "factory snapshot" not in outcome.readbacks[0]["reset"]


def test_a_realistic_snapshot_load_takes_the_published_one_to_three_seconds(emulator_factory: Any) -> None:
    device = emulator_factory.start(firmware="reference", props={"timing": "realistic", "timing.boot_seconds": "0"})
    device.console_command("avd snapshot save factory")
    started = time.monotonic()
    device.console_command("avd snapshot load factory")
    assert 1.0 <= time.monotonic() - started <= 4.0


def test_on_sdk_a_load_keeps_the_identity_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.backends.sdk import SdkBackend
    from tests.sdk_layout import make_avd, make_sdk, start_activation_server

    layout = make_sdk(tmp_path / "sdk")
    server, url = start_activation_server(tmp_path)
    make_avd(layout, "snap_api33", **{"activation.url": url, "timing": "fast"})
    for key, value in layout.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ANDROID_HOME", raising=False)
    backend = SdkBackend(BackendOptions(avd=("snap_api33",)))
    try:
        handle, = backend.provision(1)
        ops = backend.device_ops(handle)
        book = SnapshotResets.for_ops(ops, enabled=True)
        madrid = scenario(ResetStep(), SimStep(slots=(MOVISTAR,)), LocationStep(position=MADRID), ActivateStep(),
                          ExpectStep(state="unlocked", timeout=30, settle=1))
        first = run_scenario(madrid, ops.current_session(), ops, Evidence(use_allure=False), snapshots=book)
        assert reset_how(first).startswith("cold boot")
        saved = imeis(ops.current_session())
        avd_copy = Path(str(ops.handle.data_dir)) / "avd" / "snap_api33.avd"
        assert (avd_copy / "snapshots" / str(book.saved)).is_dir(), "in the AVD copy, as the SDK emulator keeps them"
        second = run_scenario(madrid, ops.current_session(), ops, Evidence(use_allure=False), snapshots=book)
        assert reset_how(second).startswith("snapshot")
        assert second.readbacks[0]["reset"]["identity"].startswith("kept")
        assert imeis(ops.current_session()) == saved
    finally:
        backend.teardown()
        server.terminate()
        server.wait(10)


# --- shared prefixes (harness.prefix) ---------------------------------------------------------------

def test_a_shared_prefix_runs_once_and_the_others_restore_it_as_if_it_had_just_run(lab: VirtualDeviceOps) -> None:
    book = SnapshotResets.for_ops(lab, enabled=True)
    prefix = (ResetStep(), SimStep(slots=(CUBACEL,)), LocationStep(position=HAVANA), AirplaneStep(on=True))
    offline = scenario(*prefix, ScreenshotStep(name="offline"))
    online = scenario(*prefix, AirplaneStep(on=False), ActivateStep(), ExpectStep(state="locked", timeout=30))
    plans = plan_prefixes([offline, online])
    assert plans[0] == plans[1] and plans[0] is not None and plans[0].length == 4

    runs = []
    for sc in (offline, online, offline):
        evidence = Evidence(use_allure=False)
        runner = ScenarioRunner(sc, lab.current_session(), lab, evidence, ProfileSource(), None, book, plans[0])
        runner.run()
        runs.append((runner, evidence, tuple(imeis(lab.current_session()))))
    (producer, made, first_imei), (consumer, restored, second_imei), (again, _, third_imei) = runs
    assert [kind for kind, _ in producer.outcome.step_seconds][:4] == ["reset", "sim", "location", "airplane"]
    assert any(a.name == "prefix snapshot" and "saved as harness-prefix-" in str(a.body) for a in made.attachments)
    assert [kind for kind, _ in consumer.outcome.step_seconds] == ["prefix-restore", "airplane", "activate", "expect"]
    assert restored.steps[0].title.startswith("prefix-restore: harness-prefix-")
    assert "line 4: sim" in restored.steps[0].params["stands for"]
    assert consumer.outcome.verdict == "locked", "a new identity: the activation server never saw it"
    assert len({first_imei, second_imei, third_imei}) == 3
    # the runner's own state is the prefix's, as if it had just run
    for runner in (consumer, again):
        assert runner.spoofer.positions == producer.spoofer.positions == [HAVANA]
        assert runner.spoofer.radio_props == producer.spoofer.radio_props
    assert again.offline_by_scenario and producer.offline_by_scenario
    session = lab.current_session()
    assert session.settings_get("global", "airplane_mode_on") == "1", "the device is as the prefix left it"
    assert "23.1136" in session.shell(["dumpsys", "location"]).output

    # a prefix snapshot that is gone (deleted behind the harness's back): the steps run instead
    session.console_command(f"avd snapshot delete {plans[0].snapshot_name()}")
    evidence = Evidence(use_allure=False)
    runner = ScenarioRunner(offline, session, lab, evidence, ProfileSource(), None, book, plans[0])
    runner.run()
    assert [kind for kind, _ in runner.outcome.step_seconds] == ["reset", "sim", "location", "airplane", "screenshot"]
    assert any(a.name == "not restored" and "does not exist" in str(a.body) for a in evidence.attachments)
    assert plans[0].key in book.prefixes, "saved again after the steps ran"
