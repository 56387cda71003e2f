"""The scenario runner end to end on virtual emulators: verdicts, evidence and blame."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from harness.errors import CapabilityMissing, InfrastructureError, VerdictMismatch
from harness.evidence import Evidence, StepRecord
from harness.profile_match import ProfileSource
from harness.scenario.model import (
    ActivateStep,
    DeviceHints,
    ExpectStep,
    LocationStep,
    ResetStep,
    Scenario,
    SimSpec,
    SimStep,
    SourceRef,
)
from harness.scenario.runner import ScenarioRunner, run_scenario
from harness.session import DeviceSession
from tests.values import CUBACEL, HAVANA, MADRID

pytestmark = pytest.mark.integration

MOVISTAR = SimSpec(slot=0, mcc="214", mnc="07", country="ES", operator="; reboot; ")


class EmulatorOps:
    """DeviceOps for tests: `reset` starts a fresh virtual emulator (new data dir = new identity)."""

    def __init__(self, factory: Any, adb_server: Any) -> None:
        self.factory = factory
        self.adb_server = adb_server
        self.running: Any = None

    def session(self, policy: str = "global") -> DeviceSession:
        self.running = self.factory.start(firmware="reference", props={"regionlock.policy": policy})
        return DeviceSession(self.running.serial, self.adb_server.client, self.running.console_port,
                             self.running.home.token_file)

    def fresh_device(self, session: DeviceSession, firmware: str | None, profile: str | None,
                     slots: int) -> DeviceSession:
        session.close()
        if self.running is not None:
            self.running.stop()
        return self.session(firmware or "global")

    def sim_profile_supported(self) -> bool:
        return False

    def capabilities(self) -> frozenset[str]:
        return frozenset({"new-identity", "firmware-swap"})

    def proxy_for_country(self, country: str | None) -> str | None:
        return None


@pytest.fixture
def ops(emulator_factory: Any, adb_server: Any) -> EmulatorOps:
    return EmulatorOps(emulator_factory, adb_server)


@pytest.fixture
def session(ops: EmulatorOps) -> Iterator[DeviceSession]:
    s = ops.session()
    yield s
    s.close()


def scenario(*steps: Any, name: str = "test") -> Scenario:
    numbered = [step.model_copy(update={"line": i + 3}) for i, step in enumerate(steps)]
    return Scenario(id=name, name=name, device=DeviceHints(firmware="global"), steps=tuple(numbered),
                    source=SourceRef(file="inline.yaml", line=1))


def test_havana_with_a_cuban_sim_is_locked(session: DeviceSession, ops: EmulatorOps) -> None:
    evidence = Evidence(use_allure=False)
    outcome = run_scenario(scenario(SimStep(slots=(CUBACEL,)), LocationStep(position=HAVANA),
                                    ActivateStep(), ExpectStep(state="locked", timeout=30)),
                           session, ops, evidence)
    assert outcome.verdict == "locked"
    seen = outcome.expectations[0].observed
    assert seen.title == "Device locked" and seen.locale == "en"
    assert [s.title.split(":")[0] for s in evidence.steps] == ["sim", "location", "activate", "expect"]
    assert all(s.status == "passed" for s in evidence.steps)
    names = [a.name for a in evidence.attachments]
    assert "read-back: sim" in names and "read-back: location" in names
    assert {"verdict: screen", "verdict: UI hierarchy", "verdict: device log"} <= set(names)
    assert outcome.facts["kind"] == "emulator-api31+"
    assert outcome.facts["profile"] == ("reference (matched: package com.android.provision, "
                                        "package com.android.regionlock)")


def test_madrid_is_unlocked_and_stable_and_a_hostile_name_is_text(session: DeviceSession,
                                                                  ops: EmulatorOps) -> None:
    evidence = Evidence(use_allure=False)
    outcome = run_scenario(scenario(SimStep(slots=(MOVISTAR,)), LocationStep(position=MADRID),
                                    ActivateStep(), ExpectStep(state="unlocked", timeout=30, settle=1.5)),
                           session, ops, evidence)
    seen = outcome.expectations[0].observed
    assert outcome.verdict == "unlocked" and seen.home and not seen.present
    assert seen.checks >= 4
    assert outcome.readbacks[0]["observed"]["gsm.sim.operator.alpha"] == "; reboot; "
    assert ops.running.process.poll() is None  # the device did not reboot or die


def test_a_wrong_verdict_is_a_product_defect_with_the_notice_text(session: DeviceSession,
                                                                  ops: EmulatorOps) -> None:
    evidence = Evidence(use_allure=False)
    with pytest.raises(VerdictMismatch) as info:
        run_scenario(scenario(SimStep(slots=(CUBACEL,)), LocationStep(position=HAVANA), ActivateStep(),
                              ExpectStep(state="unlocked", timeout=30, settle=1)),
                     session, ops, evidence)
    assert (info.value.expected, info.value.observed) == ("unlocked", "locked")
    assert "Device locked" in str(info.value) and "inline.yaml:6" in str(info.value)
    assert evidence.steps[-1].status == "failed"
    assert any(a.name == "failure: screen" for a in evidence.attachments)


def test_reset_gives_a_fresh_device(session: DeviceSession, ops: EmulatorOps) -> None:
    first = ops.running.serial
    outcome = run_scenario(scenario(ResetStep(), LocationStep(position=MADRID), ActivateStep(),
                                    ExpectStep(state="unlocked", timeout=30, settle=1)),
                           session, ops, Evidence(use_allure=False))
    assert outcome.serial == first  # the outcome names the device the scenario was leased
    assert outcome.verdict == "unlocked"


class KillingEvidence(Evidence):
    """Kills the emulator when a given step begins: the device dies mid-scenario."""

    def __init__(self, ops: EmulatorOps, at: str) -> None:
        super().__init__(use_allure=False)
        self.ops = ops
        self.at = at

    @contextmanager
    def step(self, title: str, params: dict[str, Any] | None = None) -> Iterator[StepRecord]:
        if title.startswith(self.at):
            self.ops.running.kill()
        with super().step(title, params) as record:
            yield record


def test_killing_the_emulator_mid_scenario_is_infrastructure(session: DeviceSession,
                                                             ops: EmulatorOps) -> None:
    evidence = KillingEvidence(ops, "location")
    with pytest.raises(InfrastructureError) as info:
        run_scenario(scenario(SimStep(slots=(CUBACEL,)), LocationStep(position=HAVANA), ActivateStep(),
                              ExpectStep(state="locked", timeout=10)),
                     session, ops, evidence)
    assert not isinstance(info.value, VerdictMismatch)
    assert evidence.steps[-1].status == "broken"
    assert any(a.name == "failure: notes" for a in evidence.attachments)


def test_realistic_timing_is_waited_on_not_slept_through(emulator_factory: Any, adb_server: Any) -> None:
    # slow boot, 0.3-1.5 s page transitions and a 2-6 s activation reply: every wait is a condition
    ops = EmulatorOps(emulator_factory, adb_server)
    ops.running = emulator_factory.start(firmware="reference", timeout=90,
                                         props={"timing": "realistic", "timing.seed": "7"})
    session = DeviceSession(ops.running.serial, adb_server.client, ops.running.console_port,
                            ops.running.home.token_file)
    session.wait_boot_completed(timeout=90)
    outcome = run_scenario(scenario(SimStep(slots=(CUBACEL,)), LocationStep(position=HAVANA),
                                    ActivateStep(), ExpectStep(state="locked", timeout=30)),
                           session, ops, Evidence(use_allure=False))
    assert outcome.verdict == "locked"
    session.close()


def test_a_scenario_needing_what_the_device_lacks_is_skipped_before_any_step(
        session: DeviceSession, ops: EmulatorOps, adb_server: Any) -> None:
    no_console = DeviceSession(session.serial, adb_server.client, None, None)  # e.g. a phone
    roaming = scenario(SimStep(slots=(CUBACEL,)), ExpectStep(state="locked"))
    roaming = roaming.model_copy(update={"device": DeviceHints(firmware="global", capabilities=("roaming",))})
    evidence = Evidence(use_allure=False)
    with pytest.raises(CapabilityMissing, match="cannot provide roaming"):
        run_scenario(roaming, no_console, ops, evidence)
    assert evidence.steps == []  # skipped before the SIM was touched
    runner = ScenarioRunner(roaming, session, ops, Evidence(use_allure=False), ProfileSource(), None)
    runner._begin()  # with an emulator console the modem can roam: no skip
    assert runner.profile.name == "reference"


def test_location_off_survives_the_wizard_and_travel_and_the_oracle_agrees(session: DeviceSession,
                                                                          ops: EmulatorOps) -> None:
    # Location off, set up offline in Madrid with a Spanish SIM, then taken to Havana and brought
    # online. Before issue 10 the wizard's default toggle and the travel switched location back on,
    # so GPS locked the device while the oracle decided by the (Spanish) network.
    from harness.scenario.model import TravelStep, WifiStep

    evidence = Evidence(use_allure=False)
    movistar = MOVISTAR.model_copy(update={"operator": "Movistar"})
    outcome = run_scenario(scenario(SimStep(slots=(movistar,)), LocationStep(position=MADRID),
                                    LocationStep(enabled=False), ActivateStep(online=False),
                                    TravelStep(position=HAVANA), WifiStep(on=True, ssid="HomeNet"),
                                    ExpectStep(state="policy", timeout=30, settle=1.5)),
                           session, ops, evidence)
    assert outcome.verdict == "unlocked"
    assert session.check(["settings", "get", "secure", "location_mode"]) == "0"
    assert outcome.oracle[0].startswith("expected unlocked: network placed it in Spain (ES)")
    assert any(a.name == "oracle" for a in evidence.attachments)
