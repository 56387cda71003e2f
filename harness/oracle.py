"""The policy model: what the reference firmware *should* decide, from a scenario's signal history.

Written from the firmware README's "Policies" section, not from firmware code. It folds the steps
into the signals the device would have, and decides at the first activation that happens while
online: the first available signal in precedence GPS -> serving network -> SIM -> IP gives the
territory; a verdict is kept per IMEI on the server (it survives `factory-reset`, not `reset`) and
a device activated unlocked stays unlocked wherever it goes. `expect: policy` asks `expected_state`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, assert_never

from harness.errors import HarnessError
from harness.scenario import model as m

State = Literal["locked", "unlocked"]
PROHIBITED: dict[str, frozenset[str]] = {
    "global": frozenset({"CU", "IR", "KP", "SY", "SD", "crimea"}),
}


class OracleUnknown(HarnessError):
    """The oracle cannot tell (a raw coordinate without a territory, an unknown policy)."""


@dataclass
class _Signals:
    sims: tuple[m.SimSpec, ...] = (m.SimSpec(absent=True),)
    network: m.NetworkSpec = field(default_factory=m.NetworkSpec)
    position: m.Position | None = None
    location_on: bool = True
    ip: str | None = None
    wifi: bool = False
    data: bool = True
    airplane: bool = False
    wizard_done: bool = False
    server: State | None = None  # verdict stored on the server for this IMEI

    def present_sims(self) -> list[m.SimSpec]:
        return [s for s in self.sims if not s.absent]

    def registered(self) -> bool:
        return bool(self.present_sims()) and not self.airplane and self.network.registration in ("home", "roaming")

    def online(self) -> bool:
        data_up = self.data and self.registered() and self.network.registration == "home"
        return (self.wifi and not self.airplane) or data_up


def _territory(s: _Signals) -> str | None:
    return _basis(s).territory


@dataclass(frozen=True)
class Basis:
    """What the policy decides on: the first available signal (gps | network | sim | ip | none) and the
    territory it gives; `place` is the named place of a GPS fix. Reports group failures by it."""

    signal: str
    territory: str | None
    place: str | None = None


def _basis(s: _Signals) -> Basis:
    if s.location_on and s.position is not None:
        if s.position.territory is None:
            raise OracleUnknown(f"no territory known for {s.position.latitude},{s.position.longitude}; "
                                "name a place or give `territory:`")
        return Basis("gps", s.position.territory, s.position.place)
    sims = s.present_sims()
    if s.registered():
        country = s.network.country if s.network.mcc else sims[0].country
        if country:
            return Basis("network", country)
    if sims and sims[0].country:
        return Basis("sim", sims[0].country)
    return Basis("ip", s.ip) if s.ip else Basis("none", None)


def _decide(s: _Signals, firmware: str) -> None:
    if s.server is None and s.wizard_done and s.online():
        if firmware not in PROHIBITED:
            raise OracleUnknown(f"no policy model for firmware {firmware!r}")
        s.server = "locked" if _territory(s) in PROHIBITED[firmware] else "unlocked"


def _apply(s: _Signals, step: m.Step) -> _Signals:
    """The signals after `step`; mypy's exhaustiveness check fails here when a step kind is added."""
    match step:
        case m.ResetStep():
            return _Signals()
        case m.FactoryResetStep():
            return _Signals(sims=s.sims, network=s.network, position=s.position, ip=s.ip, server=s.server)
        case m.SimStep():
            s.sims = step.slots
        case m.NetworkStep():
            s.network = step.network
        case m.LocationStep():
            s.location_on, s.position = step.position is not None, step.position or s.position
        case m.WifiStep():
            s.wifi = step.on
        case m.DataStep():
            s.data = step.on
        case m.AirplaneStep():
            s.airplane = step.on
        case m.ProxyStep():
            s.ip = step.country
        case m.TravelStep():
            s.position = step.position or s.position
            s.sims = step.sims or s.sims
            s.network = step.network or s.network
        case m.ActivateStep():
            _activate(s, step)
        case m.RebootStep() | m.LocaleStep() | m.TimezoneStep() | m.WaitStep() | m.ExpectStep() | m.ScreenshotStep():
            pass  # no signal the first-activation policy reads
        case _:
            assert_never(step)
    return s


def _activate(s: _Signals, step: m.ActivateStep) -> None:
    s.wizard_done = True
    s.location_on = s.location_on and step.location_services
    if step.wifi:
        s.wifi = True
    if not step.online:
        s.wifi, s.data = False, False


def expected_state(scenario: m.Scenario, upto: int | None = None, firmware: str | None = None) -> State:
    """The lock state the reference policy gives after steps[:upto] (default: all steps)."""
    firmware = firmware or scenario.device.firmware or "global"
    if firmware == "custom-rom":
        return "unlocked"
    s = _Signals()
    for step in scenario.steps[:upto]:
        s = _apply(s, step)
        _decide(s, firmware)
    return s.server or "unlocked"


def decision_basis(scenario: m.Scenario, upto: int | None = None) -> Basis | None:
    """The signal and territory of the scenario's (first) activation decision, or None when the policy
    model cannot tell or nothing decided (offline the whole time)."""
    s = _Signals()
    for step in scenario.steps[:upto]:
        s = _apply(s, step)
        if s.server is None and s.wizard_done and s.online():
            try:
                return _basis(s)
            except OracleUnknown:
                return None
    return None
