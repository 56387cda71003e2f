"""Run one scenario on one leased device: steps in order, each an Allure step, then the verdict.

Theory of operation
-------------------
`run_scenario` walks the resolved steps (harness.scenario.model) through a dispatch table, one
method per step kind. Every step is an Allure step titled `kind: params` with its parameters; each
spoof's read-back is attached to its step as JSON. At each `expect` (the verdict) and at any failure,
the screen (PNG), the UI hierarchy (XML) and the device log since the scenario began are attached.

Blame is split by type, because reports must tell them apart:
- a wrong lock decision raises `VerdictMismatch` (a ProductDefect) naming the expected and the seen
  notice state, with the notice text when there was one;
- a dead device, a refused command, a spoof that did not take or a stuck wizard raise
  InfrastructureError subclasses (the product was not judged);
- a signal this device cannot produce raises `SpoofUnsupported` (CapabilityMissing): the plugin
  skips the scenario with that reason. What the scenario needs (its `device.capabilities` and what
  its steps imply) is checked against what the device can do before any step runs.

Everything firmware-specific (wizard, notice, decision sign, factory reset, build name) comes from
the device's `FirmwareProfile`, chosen at the start (and again after a `reset`) by a ProfileSource.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, assert_never

from harness.capabilities import describe_missing, missing
from harness.decision import decision_reader, settle_without_sign
from harness.errors import (
    CapabilityMissing,
    DeviceError,
    HarnessError,
    InfrastructureError,
    UndecidedDevice,
    VerdictMismatch,
)
from harness.evidence import Evidence
from harness.notice import NoticeObservation, decision_bound, wait_absent_stable, wait_present
from harness.prefix import PREFIX_STEP_KIND, PrefixPlan, PrefixState, describe
from harness.profile_match import Choice, ProfileSource
from harness.profiles import DecisionSign, FirmwareProfile, NoticeProfile, wizard_options
from harness.resets import SnapshotResets
from harness.safe_regex import user_regex
from harness.scenario.model import (
    ActivateStep,
    AirplaneStep,
    DataStep,
    ExpectStep,
    FactoryResetStep,
    LocaleStep,
    LocationStep,
    NetworkStep,
    ProxyStep,
    RebootStep,
    ResetStep,
    Scenario,
    ScreenshotStep,
    SimSpec,
    SimStep,
    Step,
    TimezoneStep,
    TravelStep,
    WaitStep,
    WifiStep,
)
from harness.session import DeviceOps, DeviceSession, LogMark, SnapshotRefused
from harness.simboot import SimBoot
from harness.spoof import Spoofer, SpoofUnsupported
from harness.wizard import walk_wizard

WAIT_CAP_SECONDS = 2.0  # a `wait` really sleeps at most this long; the device clock does the rest
# the longest each step kind may take on a healthy device (a boot, a wizard walk); others: DEFAULT
STEP_BUDGET_SECONDS = {"reset": 150.0, "factory-reset": 150.0, "reboot": 150.0, "sim": 150.0,
                       "activate": 240.0}
DEFAULT_STEP_BUDGET = 60.0


class OracleAnswer(Protocol):
    """An oracle's answer: `state` (locked | unlocked | uncertain) and a one-line explanation."""

    @property
    def state(self) -> str: ...

    def text(self) -> str: ...

    def detail(self) -> str: ...


class Oracle(Protocol):
    """What `expect: policy` asks: the state the policy gives after `scenario.steps[:upto]`, and why.

    harness.oracle.explain has this shape.
    """

    def __call__(self, scenario: Scenario, upto: int | None = None) -> OracleAnswer: ...


class OracleUncertain(CapabilityMissing):
    """The oracle's own data cannot place the device surely: the scenario is skipped with the reason
    (reported apart, in its own Allure category), never given a guessed verdict."""

    def __init__(self, reason: str) -> None:
        super().__init__("a sure expectation", None, f"oracle uncertain: {reason}")


class OracleUnavailable(InfrastructureError):
    """`expect: policy` was asked for but the oracle cannot answer surely: not judged, never guessed."""


class ScenarioOverran(InfrastructureError):
    """The scenario took longer than its steps can take on a healthy device: the lab is hung."""


def scenario_deadline(scenario: Scenario, notice: NoticeProfile) -> float:
    """Seconds the whole scenario may take: the sum of its steps' budgets.

    Every device call has its own deadline; this bounds the sum, so a device that answers just
    slowly enough to dodge each call's deadline still ends the scenario as an infrastructure error.
    """
    total = 0.0
    for step in scenario.steps:
        if isinstance(step, ExpectStep):
            bound = notice.decision.undecided_settle_seconds if notice.decision else 0.0
            total += (step.timeout if step.timeout is not None else notice.timeout_seconds) + bound + \
                (step.settle if step.settle is not None else notice.settle_seconds) + DEFAULT_STEP_BUDGET
        elif isinstance(step, WaitStep):
            total += min(step.seconds, WAIT_CAP_SECONDS) + DEFAULT_STEP_BUDGET
        else:
            total += STEP_BUDGET_SECONDS.get(step.kind, DEFAULT_STEP_BUDGET)
    return total


@dataclass
class Expectation:
    line: int
    expected: str  # locked | unlocked
    observed: NoticeObservation


@dataclass
class Outcome:
    """What a scenario run produced; the plugin and the CLI report from it."""

    scenario_id: str
    serial: str
    facts: dict[str, str] = field(default_factory=dict)
    expectations: list[Expectation] = field(default_factory=list)
    readbacks: list[dict[str, Any]] = field(default_factory=list)
    step_seconds: list[tuple[str, float]] = field(default_factory=list)
    verdict: str | None = None  # the last expectation's observed state
    oracle: list[str] = field(default_factory=list)  # the oracle's explanation at each `expect: policy`
    duration: float = 0.0


def run_scenario(scenario: Scenario, session: DeviceSession, device_ops: DeviceOps, evidence: Evidence,
                 *, profiles: ProfileSource | None = None, oracle: Oracle | None = None,
                 snapshots: SnapshotResets | None = None, prefix: PrefixPlan | None = None) -> Outcome:
    """Execute `scenario` on `session`; raise VerdictMismatch on a wrong verdict (see module doc).

    `profiles` picks the device's firmware profile (default: the shipped ones, matched by facts).
    `snapshots`: the device's factory snapshot book (harness.resets); without one every reset is a
    cold boot. `prefix`: the scenario's first steps shared with others (harness.prefix): restored from
    the device's snapshot of them when it has one, else run and snapshotted.
    """
    runner = ScenarioRunner(scenario, session, device_ops, evidence, profiles or ProfileSource(), oracle,
                            snapshots, prefix)
    return runner.run()


class ScenarioRunner:
    def __init__(self, scenario: Scenario, session: DeviceSession, ops: DeviceOps, evidence: Evidence,
                 profiles: ProfileSource, oracle: Oracle | None, snapshots: SnapshotResets | None = None,
                 prefix: PrefixPlan | None = None) -> None:
        self.scenario = scenario
        self.session = session
        self.ops = ops
        self.evidence = evidence
        self.profiles = profiles
        self.choice: Choice | None = None
        self.oracle = oracle
        self.spoofer = self._new_spoofer()
        self.sim_boot = SimBoot(scenario.steps, ops, snapshots)  # SIMs as hardware: planned before the first step
        self.snapshots = snapshots
        self.prefix = prefix if snapshots is not None else None
        self.outcome = Outcome(scenario.id, session.serial)
        self.mark: LogMark | None = None
        # where the log stood when the last activation began: a log decision sign counts only lines
        # after it (the device's log may keep an earlier activation's decision across reboots)
        self.activation_mark: LogMark | None = None
        self.done: list[Step] = []
        # the scenario itself took the device offline (activate offline, airplane on): a decision
        # still pending is then what the product should show, not a lab fault
        self.offline_by_scenario = False

    # --- the loop ---------------------------------------------------------------------------------
    def run(self) -> Outcome:
        started = time.monotonic()
        try:
            checked = self._begin()
            budget = scenario_deadline(self.scenario, self.profile.notice) if checked else float("inf")
            restored = self._restore_prefix()
            for step in self.scenario.steps[len(self.done):]:
                self._run_step(step)
                if not checked:  # the reset booted the device the scenario runs on: check it now
                    self._check_needs()
                    budget, checked = scenario_deadline(self.scenario, self.profile.notice), True
                if not restored and self.prefix is not None and len(self.done) == self.prefix.length:
                    self._save_prefix(self.prefix)
                if time.monotonic() - started > budget:
                    raise ScenarioOverran(f"{self.scenario.where(step)}: the scenario ran past its deadline of "
                                          f"{budget:.0f}s (the sum of its steps' budgets): the lab is too slow "
                                          f"or hung; not judged")
        except CapabilityMissing:
            raise  # a skip, not a failure: no failure evidence needed
        except BaseException as exc:
            self._attach_state("failure", exc)
            raise
        finally:
            self.outcome.duration = time.monotonic() - started
        return self.outcome

    def _begin(self) -> bool:
        """Ready the run; False when what the scenario needs is checked after its reset instead.

        A lab may hand over a device still in its first boot (provisioning does not wait for a boot
        that the first reset replaces anyway). Only its properties and shell answer then, not the
        package manager a profile match asks, so a scenario that starts with a reset chooses its
        profile, and checks its needs, on the device the reset boots; any other waits for the boot.
        """
        starts_fresh = bool(self.scenario.steps) and self.scenario.steps[0].kind == "reset"
        if self.session.may_be_booting():
            if starts_fresh:
                self.mark = LogMark(0, 0)
                return False
            self.session.wait_boot_completed()
        # a new device comes first: its whole log is ours (and reading the old one's costs a call)
        self.mark = LogMark(0, 0) if starts_fresh else self.session.log_mark()
        self.choice = self.profiles.choose(self.session)
        self._record_facts()
        self._check_needs()
        return True

    @property
    def profile(self) -> FirmwareProfile:
        assert self.choice is not None, "the profile is chosen when the run begins"
        return self.choice.profile

    # --- what the scenario needs --------------------------------------------------------------------
    def _check_needs(self) -> None:
        """Skip (CapabilityMissing) before any step when the device cannot do what the scenario needs."""
        hints = self.scenario.device
        needed = [*hints.capabilities, *(n for step in self.scenario.steps for n in step.needs)]
        if hints.slots > 1:
            needed.append("dual-sim")
        lacking = missing(needed, self._capabilities())
        if lacking:
            raise CapabilityMissing(describe_missing(lacking), self.session.serial,
                                    f"the scenario needs it (device.capabilities or its steps); firmware "
                                    f"profile {self.profile.name}")
        self._check_firmware()

    def _capabilities(self) -> set[str]:
        has = set(self.ops.capabilities()) | set(self.profile.capabilities)
        root = self.session.facts.root is not None
        if root:
            has.add("root")
        if self.session.has_console:
            has |= {"console", "roaming"}  # the modem's registration is the console's `gsm voice`
        if any(root or not method.root for method in self.profile.factory_reset):
            has.add("factory-reset")
        return has

    def _check_firmware(self) -> None:
        """A scenario written for one firmware build runs on a device that is (or becomes) that build."""
        wanted = self.scenario.device.firmware
        starts_fresh = bool(self.scenario.steps) and self.scenario.steps[0].kind == "reset"
        if wanted is None or starts_fresh or "firmware-swap" in self.ops.capabilities():
            return  # the reset boots the wanted build, or the backend chose the build under test
        running = self._running_build()
        if running != wanted:
            why = f"the device runs {running!r}" if running else \
                f"firmware profile {self.profile.name} cannot tell which build the device runs"
            raise CapabilityMissing(f"firmware {wanted!r}", self.session.serial,
                                    f"{why}, and this backend cannot boot another")

    def _running_build(self) -> str | None:
        sign = self.profile.build
        if sign is None:
            return None
        if sign.property is not None:
            return self.session.getprop(sign.property) or None
        return sign.parse(self.session.shell(list(sign.shell or [])).output)

    def _run_step(self, step: Step) -> None:
        params = step.model_dump(exclude={"kind", "line"}, exclude_none=True)
        title = step.summary()
        t0 = time.monotonic()
        with self.evidence.step(title, {"line": step.line, **params}):
            readback = self._dispatch(step)
            if readback:
                self.outcome.readbacks.append(readback)
                self.evidence.attach_json(f"read-back: {step.kind}", readback)
        self.outcome.step_seconds.append((step.kind, time.monotonic() - t0))
        self.done.append(step)

    def _dispatch(self, step: Step) -> dict[str, Any] | None:
        """One case per step kind; mypy's exhaustiveness check fails here when a kind is added."""
        match step:
            case ResetStep():
                return self._reset(step)
            case FactoryResetStep():
                return self._factory_reset(step)
            case RebootStep():
                return self._reboot(step)
            case SimStep():
                return self._insert_sims(step.slots)
            case NetworkStep():
                return self.spoofer.serving_network(step.network)
            case LocationStep():
                return self._location(step)
            case LocaleStep():
                return self.spoofer.locale(step.locale)
            case TimezoneStep():
                return self.spoofer.timezone(step.timezone)
            case WifiStep():
                self.offline_by_scenario = self.offline_by_scenario and not (step.on and step.ssid)
                return self.spoofer.wifi(step.on, step.ssid)
            case DataStep():
                self.offline_by_scenario = self.offline_by_scenario and not step.on
                return self.spoofer.mobile_data(step.on)
            case AirplaneStep():
                self.offline_by_scenario = step.on
                return self.spoofer.airplane(step.on)
            case ProxyStep():
                return self.sim_boot.ip(self.spoofer, len(self.done), step.country)
            case ActivateStep():
                return self._activate(step)
            case WaitStep():
                return self._wait(step)
            case TravelStep():
                return self._travel(step)
            case ExpectStep():
                return self._expect(step)
            case ScreenshotStep():
                self.evidence.attach_png(step.name, self.session.screenshot_png())
                return None
            case _:
                assert_never(step)

    # --- shared prefixes (harness.prefix) --------------------------------------------------------
    def _restore_prefix(self) -> bool:
        """Stand in for the shared prefix with the device's snapshot of it: one `prefix-restore` step."""
        plan, book = self.prefix, self.snapshots
        snapshot = book.prefix_snapshot(self.session, plan) if plan is not None and book is not None else None
        if plan is None or book is None or snapshot is None:
            return False
        steps = self.scenario.steps[:plan.length]
        stands_for = describe(steps)
        t0 = time.monotonic()
        with self.evidence.step(f"{PREFIX_STEP_KIND}: {snapshot.name} (steps {steps[0].line}-{steps[-1].line})",
                                {"snapshot": snapshot.name, "stands for": stands_for}):
            try:
                identity = book.restore_prefix(self.session, snapshot)
            except SnapshotRefused as exc:  # gone or refused: the steps themselves run, from the reset
                book.prefixes.pop(plan.key, None)
                self.evidence.attach_text("not restored", f"{exc}; the steps run instead")
                return False
            state = snapshot.state
            self.spoofer = self._new_spoofer()
            self.spoofer.radio_props = dict(state.radio_props)
            self.spoofer.network = state.network
            self.spoofer.positions = list(state.positions)
            self.offline_by_scenario = state.offline
            self.mark = self.session.log_mark()  # as after a reset: the log before the load is not ours
            self.activation_mark = None
            self.choice = self.profiles.choose(self.session)
            readback = {"signal": PREFIX_STEP_KIND, "snapshot": snapshot.name, "stands for": stands_for,
                        "seconds": round(time.monotonic() - t0, 3), "identity": identity.detail,
                        "facts": self._record_facts()}
            self.outcome.readbacks.append(readback)
            self.evidence.attach_json(f"read-back: {PREFIX_STEP_KIND}", readback)
        self.outcome.step_seconds.append((PREFIX_STEP_KIND, time.monotonic() - t0))
        self.done.extend(steps)
        return True

    def _save_prefix(self, plan: PrefixPlan) -> None:
        assert self.snapshots is not None, "a prefix plan comes with a snapshot book"
        state = PrefixState(dict(self.spoofer.radio_props), self.spoofer.network, tuple(self.spoofer.positions),
                            self.offline_by_scenario)
        note = self.snapshots.save_prefix(self.session, plan, state)
        self.evidence.attach_text("prefix snapshot", f"steps {describe(self.done)}: {note}")

    # --- device lifecycle -------------------------------------------------------------------------
    def _reset(self, _: Any) -> dict[str, Any]:
        hints = self.scenario.device
        self.session = self.sim_boot.reset(self.session, len(self.done), hints)
        record = self.sim_boot.last_reset
        self.spoofer = self._new_spoofer()
        self.offline_by_scenario = False
        # a cold-booted device's whole log belongs to this scenario; a loaded one's older lines do not
        self.mark = self.session.log_mark() if record is not None and record.how == "snapshot" else LogMark(0, 0)
        self.activation_mark = None
        self.choice = self.profiles.choose(self.session)
        readback: dict[str, Any] = {"signal": "device"}
        if record is not None:
            readback["reset"] = record.as_dict()
        readback["facts"] = self._record_facts()
        return readback

    def _factory_reset(self, _: Any) -> dict[str, Any]:
        root = self.session.facts.root is not None
        methods = [m for m in self.profile.factory_reset if root or not m.root]
        if any(m.root for m in methods):
            self.session.root()
        self._mark_activation()  # the wiped device's earlier decision may still be in its log
        self.session.reboot_and_wait(trigger=lambda: self._send_factory_reset(methods))
        return {"signal": "factory-reset", "radio": self.spoofer.reapply_radio()}

    def _send_factory_reset(self, methods: list[Any]) -> None:
        """The profile's methods in order, until one is accepted (the device then reboots)."""
        refused = []
        for method in methods:
            try:
                result = self.session.shell(list(method.shell), root=method.root, timeout=10)
            except DeviceError:
                # the connection dropped before the command's exit status came: the device went
                # down for the reboot it asked for (`reboot recovery` ends adbd under the shell on a
                # loaded device). Whether it really rebooted is what reboot_and_wait checks next.
                return
            if result.ok:
                return
            refused.append(f"{method.name}: {result.text}")
        raise DeviceError(self.session.serial, f"factory reset failed ({'; '.join(refused) or 'no method'})")

    def _reboot(self, _: Any) -> dict[str, Any]:
        self.session.reboot_and_wait()
        return {"signal": "reboot", "radio": self.spoofer.reapply_radio()}

    # --- signals ----------------------------------------------------------------------------------
    def _insert_sims(self, sims: tuple[SimSpec, ...]) -> dict[str, Any]:
        """Into the modem (at the reset's boot, or by a cold reboot), or by root setprop (harness.simboot)."""
        self.session, readback = self.sim_boot.insert(self.spoofer, len(self.done), sims)
        return readback

    def _travel(self, step: TravelStep) -> dict[str, Any]:
        parts: dict[str, Any] = {"signal": "travel"}
        if step.sims is not None:
            parts["sim"] = self._insert_sims(step.sims)
        if step.network is not None:
            parts["network"] = self.spoofer.serving_network(step.network)
        if step.position is not None:
            parts["location"] = self.spoofer.location(step.position)
        return parts

    def _wait(self, step: WaitStep) -> dict[str, Any]:
        """Short waits are real; long ones move the device clock, or sleep only up to the cap."""
        readback: dict[str, Any] = {"signal": "wait", "seconds": step.seconds}
        if step.seconds <= WAIT_CAP_SECONDS:
            time.sleep(step.seconds)
            return readback
        try:
            readback["clock"] = self.spoofer.advance_clock(step.seconds)
        except SpoofUnsupported as exc:
            readback["clock"] = f"not moved: {exc}"
            time.sleep(WAIT_CAP_SECONDS)
        return readback

    def _location(self, step: LocationStep) -> dict[str, Any]:
        readback: dict[str, Any] = {"signal": "location"}
        if step.position is not None:
            readback["fix"] = self.spoofer.location(step.position)
        if step.enabled is not None:
            readback["services"] = self.spoofer.location_services(step.enabled)
        return readback

    # --- activation -------------------------------------------------------------------------------
    def _activate(self, step: ActivateStep) -> dict[str, Any]:
        readback: dict[str, Any] = {"signal": "activate"}
        self._mark_activation()
        self.offline_by_scenario = not step.online
        if not step.online:
            readback["data"] = self.spoofer.mobile_data(False)
        # radio events during boot/wizard may have republished gsm.*: the service reads them now
        readback["radio"] = self.spoofer.reapply_radio()
        location = step.location_services
        if location is None:  # the wizard's toggle shows the switch as the scenario left it: keep it
            location = self.spoofer.location_enabled()
        options = wizard_options(step.online, step.language, step.wifi if step.online else None, location)
        walk = walk_wizard(self.session, self.profile.wizard, options,
                           also_done=list(self.profile.notice.selectors))
        readback["wizard"] = walk.as_dict()
        return readback

    def _mark_activation(self) -> None:
        """A log decision sign reads from here on: what the device logged before is an older decision."""
        if self.profile.decision is not None and self.profile.decision.log is not None:
            self.activation_mark = self.session.log_mark()

    # --- verdict ----------------------------------------------------------------------------------
    def _expect(self, step: ExpectStep) -> dict[str, Any]:
        answer = self._ask_oracle() if step.state == "policy" else None
        expected = answer.state if answer is not None else step.state
        notice = self.profile.notice
        timeout = step.timeout if step.timeout is not None else notice.timeout_seconds
        decision = decision_reader(notice.decision, self.session,
                                   lambda: self.activation_mark or self.mark or LogMark(0, 0))
        if expected == "locked":
            seen = wait_present(self.session, notice, timeout, decision=decision,
                                undecided_ends=not self.offline_by_scenario)
        else:
            settle = step.settle if step.settle is not None else notice.settle_seconds
            settle = settle_without_sign(notice.decision, settle)
            seen = wait_absent_stable(self.session, notice, settle, timeout, decision=decision)
        self.outcome.expectations.append(Expectation(step.line, expected, seen))
        self.outcome.verdict = "locked" if seen.present else "unlocked" if seen.home else None
        self._attach_state("verdict")
        self._judge(step, expected, seen, answer.text() if answer is not None else "")
        return {"signal": "expect", "expected": expected, "observed": _observation_dict(seen),
                **({"oracle": answer.text()} if answer is not None else {})}

    def _judge(self, step: ExpectStep, expected: str, seen: NoticeObservation, why: str = "") -> None:
        where = f"{self.scenario.where(step)}" + (f": {why}" if why else "")
        self._need_decision(where, seen)
        if expected == "unlocked" and not seen.present and seen.decision_state == "locked":
            raise VerdictMismatch("unlocked", "locked", f"{where}: the device decided locked but showed no "
                                  f"notice ({seen.describe()})")
        if expected == "locked" and not seen.present:
            if not seen.home:
                raise DeviceError(self.session.serial,
                                  f"{where}: neither the notice nor the home screen appeared "
                                  f"within the timeout ({seen.describe()})")
            raise VerdictMismatch("locked", "unlocked", f"{where}: {seen.describe()}", seen.brief())
        if expected == "unlocked" and seen.present:
            raise VerdictMismatch("unlocked", "locked", f"{where}: {seen.describe()}", seen.brief())
        if expected == "unlocked" and not seen.home:
            raise DeviceError(self.session.serial, f"{where}: cannot judge 'unlocked': {seen.describe()}")
        if step.text and not user_regex(step.text).search(seen.body or ""):
            raise VerdictMismatch("locked with a notice matching " + repr(step.text), "locked",
                                  f"{where}: {seen.describe()}", seen.brief())

    def _need_decision(self, where: str, seen: NoticeObservation) -> None:
        """No verdict from the screen of a device that never decided while it was online."""
        sign = self.profile.notice.decision
        if seen.present or not seen.undecided or sign is None or self.offline_by_scenario:
            return
        raise UndecidedDevice(self.session.serial, (
            f"{where}: not judged: the device stayed undecided ({_sign_name(sign)}={seen.decision!r}) on the "
            f"home screen past the profile's decision bound of {decision_bound(sign):.0f}s although the "
            f"scenario has it online: its decision never came (is the activation server reachable?)"))

    def _ask_oracle(self) -> OracleAnswer:
        oracle = self.oracle or _default_oracle()
        answer = oracle(self.scenario, upto=len(self.done))
        self.evidence.attach_text("oracle", answer.detail())
        self.outcome.oracle.append(answer.text())
        if answer.state == "uncertain":
            raise OracleUncertain(answer.text())
        if answer.state not in ("locked", "unlocked"):
            raise OracleUnavailable(f"{self.scenario.where(self.done[-1]) if self.done else self.scenario.source}: "
                                    f"oracle {answer.state}: {answer.text()}")
        return answer

    # --- evidence ---------------------------------------------------------------------------------
    def _record_facts(self) -> dict[str, str]:
        facts = self.session.facts.as_environment()
        if self.choice is not None:
            facts["profile"] = self.choice.describe()
        self.outcome.facts = facts
        self.evidence.set_environment(facts)
        return facts

    def _attach_state(self, when: str, error: BaseException | None = None) -> None:
        """Screenshot, hierarchy and log; best effort, since the device may be what failed."""
        collectors: list[tuple[str, Callable[[], None]]] = [
            ("screenshot", lambda: self.evidence.attach_png(f"{when}: screen", self.session.screenshot_png())),
            ("hierarchy", lambda: self.evidence.attach_xml(f"{when}: UI hierarchy",
                                                            self.session.dump_hierarchy())),
            ("log", lambda: self.evidence.attach_text(f"{when}: device log", self._log())),
        ]
        missing = []
        for name, collect in collectors:
            try:
                collect()
            except (HarnessError, OSError) as exc:
                missing.append(f"{name}: {exc}")
        if error is not None or missing:
            self.evidence.attach_text(f"{when}: notes", "\n".join(
                ([f"error: {type(error).__name__}: {error}"] if error else []) + missing))

    def _log(self) -> str:
        return self.session.logcat_since(self.mark or LogMark(0, 0))

    def _new_spoofer(self) -> Spoofer:
        return Spoofer(self.session, self.ops, slots_wanted=self.scenario.device.slots)


def _sign_name(sign: DecisionSign) -> str:
    """The decision sign as a reader of the report knows it: the property, or the kind of sign."""
    if sign.property is not None:
        return sign.property
    return f"{sign.kind()} sign" + (f" of {sign.service}" if sign.service else "")


def _default_oracle() -> Oracle:
    from harness.oracle import explain  # lazy: only `expect: policy` needs the policy model

    return explain


def _observation_dict(seen: NoticeObservation) -> dict[str, Any]:
    return {"present": seen.present, "home": seen.home, "title": seen.title, "body": seen.body,
            "locale": seen.locale, "checks": seen.checks, "elapsed": round(seen.elapsed, 2),
            "decision": seen.decision}

