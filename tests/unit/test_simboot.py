"""The SIM boot plan (which SIMs a reset boots with), the strategy choice, and the modem read-back parsers."""

from __future__ import annotations

from typing import Any

import pytest

from harness.scenario.loader import load_text
from harness.scenario.model import SimSpec
from harness.session import DeviceKind
from harness.simboot import SimBootPlan, merge_slots, plan_sim_boots, sim_strategy
from harness.spoof import modem_sim_expectations, modem_sim_mismatch, parse_registry, status_bar_operator


def plan(steps: str, slots: int = 1) -> SimBootPlan:
    text = f"scenario: s\ndevice: {{slots: {slots}}}\nsteps:\n" + steps
    return plan_sim_boots(load_text(text)[0].steps)


def test_sims_before_activation_are_booted_with_the_reset() -> None:
    p = plan("  - reset\n  - sim: CU\n  - location: Havana\n  - activate\n  - expect: locked\n")
    assert [s.plmn for s in p.boot_sims[0]] == ["36801"] and p.preloaded == {1}


def test_later_sims_in_a_slot_replace_earlier_ones_and_slots_add_up() -> None:
    p = plan("  - reset\n  - sim: ES\n  - sim: [US, CU]\n  - activate\n", slots=2)
    assert [(s.slot, s.plmn) for s in p.boot_sims[0]] == [(0, "310410"), (1, "36801")]
    assert p.preloaded == {1, 2}


def test_a_sim_after_activation_or_without_a_reset_is_not_preloaded() -> None:
    p = plan("  - reset\n  - sim: ES\n  - activate\n  - expect: unlocked\n  - travel: {to: Havana, sim: CU}\n"
             "  - sim: CU\n")
    assert p.preloaded == {1} and list(p.boot_sims) == [0]
    assert plan("  - sim: CU\n  - activate\n").preloaded == frozenset()


def test_the_ip_country_before_activation_is_planned_for_the_boot() -> None:
    p = plan("  - reset\n  - ip: IR\n  - sim: none\n  - activate\n  - ip: CU\n")
    assert p.boot_ip == {0: (1, "IR")} and p.preloaded == {2}


def test_a_reset_without_sims_boots_the_image_sim() -> None:
    assert plan("  - reset\n  - activate\n").boot_sims == {}


def test_merge_slots() -> None:
    a, b = SimSpec(mcc="214", mnc="07"), SimSpec(slot=1, absent=True)
    assert merge_slots([a], [b, SimSpec(mcc="368", mnc="01")]) == (SimSpec(mcc="368", mnc="01"), b)


class Ops:
    def __init__(self, supported: bool) -> None:
        self.supported = supported

    def sim_profile_supported(self) -> bool:
        return self.supported

    def fresh_device_with_sims(self, *args: Any) -> Any: ...

    def reboot_with_sims(self, *args: Any) -> Any: ...

    def boot_http_proxy(self) -> str | None: ...

    def fresh_device(self, *args: Any) -> Any: ...

    def proxy_for_country(self, country: str | None) -> str | None: ...


class SetpropOnlyOps:
    def sim_profile_supported(self) -> bool:
        return True  # says so, but cannot boot with a SIM: not SimHardwareOps


@pytest.mark.parametrize(("ops", "kind", "strategy"), [
    (Ops(True), DeviceKind.EMULATOR_MODERN, "icc-profile"),
    (Ops(True), DeviceKind.EMULATOR_LEGACY, "setprop-root"),  # fixed IMSI: no profile is read
    (Ops(False), DeviceKind.EMULATOR_MODERN, "setprop-root"),
    (SetpropOnlyOps(), DeviceKind.EMULATOR_MODERN, "setprop-root"),
    (Ops(True), DeviceKind.ROOTED_PHONE, "setprop-root"),
])
def test_strategy_is_picked_from_the_ops_and_the_device_kind(ops: Any, kind: DeviceKind, strategy: str) -> None:
    assert sim_strategy(ops, kind) == strategy


REGISTRY = """last known state:
  Phone Id=0
    mServiceState={mVoiceRegState=0(IN_SERVICE), mOperatorAlphaLong=CUBACEL, mOperatorNumeric=36801, mMcc=368, mMnc=01, mRoaming=false}
  Phone Id=1
    mServiceState={mVoiceRegState=1(OUT_OF_SERVICE), mOperatorNumeric=null, mMcc=null, mMnc=null}
  Phone Id=2
    mNetworkRegistrationInfos=[NetworkRegistrationInfo{ cellIdentity=CellIdentityLte:{ mMcc=310 mMnc=260 }}]
"""


def test_parse_registry_per_phone() -> None:
    assert parse_registry(REGISTRY) == {0: "36801", 2: "310260"}


def test_modem_expectations_and_mismatch() -> None:
    expected = modem_sim_expectations([SimSpec(mcc="368", mnc="01"), SimSpec(slot=1, absent=True)], 2)
    good = {"gsm.sim.state": "READY,ABSENT", "gsm.sim.operator.numeric": "36801,",
            "gsm.sim.operator.iso-country": "cu,"}
    assert modem_sim_mismatch(expected, good, 2) is None
    bad = {**good, "gsm.sim.operator.numeric": "310260,"}
    assert modem_sim_mismatch(expected, bad, 2) == ("gsm.sim.operator.numeric[0]", "36801", "310260")


def test_status_bar_operator() -> None:
    dump = ('<hierarchy><node package="com.android.provision" resource-id="com.android.provision:id/operator_name" '
            'text="not this"/><node resource-id="com.android.systemui:id/operator_name" text="CUBACEL"/></hierarchy>')
    assert status_bar_operator(dump) == "CUBACEL"
    assert status_bar_operator("<hierarchy/>") is None and status_bar_operator("garbage") is None
