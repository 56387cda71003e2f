"""The policy model: what the reference firmware *should* decide, from a scenario's signal history.

Written from the firmware README's "Policies" section, not from firmware code. It folds the steps
into the signals the device would have, and decides at the first activation that happens while
online: the first available signal in precedence GPS -> serving network -> SIM -> IP gives the
territory; a verdict is kept per IMEI on the server (it survives `factory-reset`, not `reset`) and
a device activated unlocked stays unlocked wherever it goes.

It explains itself (`explain`): which signal decided, which territory it placed the device in, why
each signal before it was skipped. When the harness's own data cannot place the deciding signal (a
raw coordinate the harness has no territory for, a point too close to its border data) the answer
is "uncertain" with the reason, never a guess. `expect: policy` asks `explain`; `expected_state`
is the bare state for callers that only want that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, assert_never

from harness import territory as terr
from harness.errors import HarnessError
from harness.scenario import model as m

State = Literal["locked", "unlocked"]
Answer = Literal["locked", "unlocked", "uncertain"]
SIGNALS = ("gps", "network", "sim", "ip")  # the reference precedence
PROHIBITED: dict[str, frozenset[str]] = {  # canonical territories (harness.territory)
    "global": frozenset({"CU", "IR", "KP", "SY", "SD", "crimea"}),
}
NO_SERVICE = ("custom-rom",)  # firmware without an activation service: nothing ever locks


class OracleUnknown(HarnessError):
    """The oracle cannot tell (no policy model for this firmware, or its data cannot place a signal)."""


@dataclass(frozen=True)
class Placement:
    """What one signal said at the deciding activation."""

    signal: str
    territory: str | None  # canonical; None: this signal does not place the device
    why: str  # "GPS fix at Havana (23.1136, -82.3666)" or why it was skipped
    uncertain: bool = False  # it points somewhere, but the harness cannot say where for sure


@dataclass(frozen=True)
class Explanation:
    state: Answer
    signal: str | None = None  # the deciding signal; None: nothing placed the device / no decision
    territory: str | None = None
    considered: tuple[Placement, ...] = ()
    reason: str = ""

    def text(self) -> str:
        """One line: ``expected locked: GPS placed it in Crimea (UA-43/UA-40); ...``."""
        return f"expected {self.state}: {self.reason}"

    def detail(self) -> str:
        """Every signal the oracle looked at, in precedence order (an Allure attachment)."""
        lines = [self.text()]
        lines += [f"  {p.signal:8} {'-> ' + terr.label(p.territory) if p.territory else 'skipped'}: {p.why}"
                  for p in self.considered]
        return "\n".join(lines)


@dataclass
class _Signals:
    sims: tuple[m.SimSpec, ...] = (m.SimSpec(absent=True),)
    network: m.NetworkSpec = field(default_factory=m.NetworkSpec)
    position: m.Position | None = None
    location_on: bool = True  # a fresh device has location services on (firmware README)
    ip: str | None = None
    wifi: bool = False
    data: bool = True
    airplane: bool = False
    wizard_done: bool = False
    decision: Explanation | None = None  # the verdict stored on the server for this IMEI

    def present_sims(self) -> list[m.SimSpec]:
        return [s for s in self.sims if not s.absent]

    def registered(self) -> bool:
        return bool(self.present_sims()) and not self.airplane and self.network.registration in ("home", "roaming")

    def online(self) -> bool:
        data_up = self.data and self.registered() and self.network.registration == "home"
        return (self.wifi and not self.airplane) or data_up


# --- placing each signal --------------------------------------------------------------------------

def _gps(s: _Signals) -> Placement:
    if not s.location_on:
        return Placement("gps", None, "location services are off")
    if s.position is None:
        return Placement("gps", None, "no GPS fix was given")
    if s.position.territory is None:
        return Placement("gps", None, f"the harness has no territory for the fix at {s.position}; name a place "
                         "or give `territory:`", uncertain=True)
    return Placement("gps", s.position.territory, f"GPS fix at {s.position}")


def _network(s: _Signals) -> Placement:
    if not s.present_sims():
        return Placement("network", None, "no SIM, so no network registration")
    if s.airplane:
        return Placement("network", None, "airplane mode")
    if not s.registered():
        return Placement("network", None, f"not registered ({s.network.registration})")
    if s.network.mcc is None:  # the SIM's own PLMN serves it
        sim = s.present_sims()[0]
        return Placement("network", sim.country, f"registered on the SIM's network {sim.mcc}/{sim.mnc}")
    return Placement("network", s.network.country, f"registered {s.network}")


def _sim(s: _Signals) -> Placement:
    sims = s.present_sims()
    if not sims:
        return Placement("sim", None, "no SIM card")
    return Placement("sim", sims[0].country, f"SIM {sims[0]}")


def _ip(s: _Signals) -> Placement:
    if s.ip is None:
        return Placement("ip", None, "no address the server can place (direct connection from the lab)")
    return Placement("ip", s.ip, f"IP address in {s.ip} (exit proxy)")


_PLACERS = {"gps": _gps, "network": _network, "sim": _sim, "ip": _ip}


def _place(s: _Signals, prohibited: frozenset[str]) -> Explanation:
    considered: list[Placement] = []
    for name in SIGNALS:
        placement = _PLACERS[name](s)
        considered.append(placement)
        if placement.uncertain:
            return Explanation("uncertain", name, None, tuple(considered),
                               f"{name} decides, but {placement.why}")
        if placement.territory is None:
            continue
        locked = placement.territory in prohibited
        verdict = "prohibited" if locked else "not prohibited"
        skipped = "; ".join(f"{p.signal} skipped: {p.why}" for p in considered[:-1])
        reason = (f"{name.upper() if name in ('gps', 'ip') else name} placed it in "
                  f"{terr.label(placement.territory)}, {verdict} ({placement.why})"
                  + (f"; {skipped}" if skipped else ""))
        return Explanation("locked" if locked else "unlocked", name, placement.territory, tuple(considered), reason)
    return Explanation("unlocked", None, None, tuple(considered), "no signal placed the device: "
                       + "; ".join(f"{p.signal}: {p.why}" for p in considered))


def _decide(s: _Signals, firmware: str) -> None:
    if s.decision is None and s.wizard_done and s.online():
        if firmware not in PROHIBITED:
            raise OracleUnknown(f"no policy model for firmware {firmware!r}")
        s.decision = _place(s, PROHIBITED[firmware])


# --- folding the steps ------------------------------------------------------------------------------

def _apply(s: _Signals, step: m.Step) -> _Signals:
    """The signals after `step`; mypy's exhaustiveness check fails here when a step kind is added."""
    match step:
        case m.ResetStep():
            return _Signals()
        case m.FactoryResetStep():  # /data wiped (settings back to defaults), IMEI kept
            return _Signals(sims=s.sims, network=s.network, position=s.position, ip=s.ip, decision=s.decision)
        case m.SimStep():
            s.sims = step.slots
        case m.NetworkStep():
            s.network = step.network
        case m.LocationStep():  # the fix and the switch are separate facts, as on Android
            s.position = step.position or s.position
            s.location_on = s.location_on if step.enabled is None else step.enabled
        case m.WifiStep():
            s.wifi = step.on
        case m.DataStep():
            s.data = step.on
        case m.AirplaneStep():
            s.airplane = step.on
        case m.ProxyStep():
            s.ip = step.country
        case m.TravelStep():  # moving never touches the location switch
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
    if step.location_services is not None:  # the wizard's toggle sets the switch; None leaves it
        s.location_on = step.location_services
    if step.wifi:
        s.wifi = True
    if not step.online:
        s.wifi, s.data = False, False


def explain(scenario: m.Scenario, upto: int | None = None, firmware: str | None = None) -> Explanation:
    """What the reference policy gives after steps[:upto] (default: all steps), and why."""
    firmware = firmware or scenario.device.firmware or "global"
    if firmware in NO_SERVICE:
        return Explanation("unlocked", reason=f"{firmware} has no activation service, so nothing locks")
    s = _Signals()
    for step in scenario.steps[:upto]:
        s = _apply(s, step)
        _decide(s, firmware)
    if s.decision is None:
        why = "the device never finished setup online" if not s.wizard_done else "the device never got online"
        return Explanation("unlocked", reason=f"no decision yet: {why}")
    return s.decision


def expected_state(scenario: m.Scenario, upto: int | None = None, firmware: str | None = None) -> State:
    """The bare state; OracleUnknown when the oracle is not sure (see `explain`)."""
    answer = explain(scenario, upto, firmware)
    if answer.state == "uncertain":
        raise OracleUnknown(f"oracle uncertain: {answer.reason}")
    return answer.state


@dataclass(frozen=True)
class Basis:
    """What the policy decides on: the first available signal (gps | network | sim | ip | none) and the
    territory it gives; `place` is the named place of a GPS fix. Reports group failures by it."""

    signal: str
    territory: str | None
    place: str | None = None


def decision_basis(scenario: m.Scenario, upto: int | None = None) -> Basis | None:
    """The signal and territory of the scenario's (first) activation decision, or None when the policy
    model cannot tell (uncertain) or nothing decided (offline the whole time)."""
    s = _Signals()
    for step in scenario.steps[:upto]:
        s = _apply(s, step)
        if s.wizard_done and s.online():
            answer = _place(s, PROHIBITED["global"])  # which signal decides does not depend on the list
            if answer.state == "uncertain":
                return None
            place = s.position.place if answer.signal == "gps" and s.position is not None else None
            return Basis(answer.signal or "none", answer.territory, place)
    return None
