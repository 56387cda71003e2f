"""Which SIM a device boots with: planned from the scenario before it runs.

Theory of operation
-------------------
On an API 31+ emulator the SIM is hardware: the modem reads it from an ICC profile at cold boot and
republishes `gsm.*` from it at every radio event, so a runtime `setprop` there holds only until the
next one (shared/spoofing.md). The honest way to give such a device a SIM is the one a user has:
put the card in before it boots. So, before the first step runs, `plan_sim_boots` looks at the
scenario and folds every `sim` step between a `reset` and the next step that observes or changes
the device as a whole (activation, a reboot, an expectation, ...) into that reset: the device is
booted factory-fresh *with* those SIMs, and the `sim` steps only read them back from the modem. A
SIM change anywhere else (a traveller's new SIM after activation) is a cold reboot with the new
profile, keeping the device's data, as in life.

The strategy is picked once per scenario from what the backend says it can do (`SimHardwareOps`)
and what the device is (`DeviceKind`): the ICC profile where the modem simulator reads one, root
`setprop gsm.*` everywhere else (a legacy-modem emulator, a rooted phone), where it is the truth of
the device kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from harness.errors import SpoofMismatch
from harness.resets import BootKind, ResetRecord, SnapshotResets, cold_boot_record
from harness.scenario.model import DeviceHints, SimSpec
from harness.session import DeviceKind, DeviceOps, DeviceSession, SnapshotRefused
from harness.spoof import Spoofer

SimStrategy = Literal["icc-profile", "setprop-root"]

# Steps after which a SIM can no longer be folded into the preceding reset's boot: each observes the
# device (or depends on its SIM) as a whole, so the SIM must be in place before it, not at boot time.
BOOT_BOUNDARIES = frozenset({"reset", "factory-reset", "reboot", "activate", "expect", "travel",
                             "network", "airplane", "screenshot"})


@runtime_checkable
class SimHardwareOps(Protocol):
    """DeviceOps of a backend that can boot its device with given SIM cards (ICC profiles)."""

    def sim_profile_supported(self) -> bool: ...

    def fresh_device_with_sims(self, session: DeviceSession, firmware: str | None, profile: str | None,
                               slots: int, sims: tuple[SimSpec, ...], http_proxy: str | None = None) -> DeviceSession:
        """`reset`, with these SIMs in the modem from the first boot (and all guest TCP through
        `http_proxy`, the emulator's `-http-proxy`, when given)."""
        ...

    def boot_http_proxy(self) -> str | None:
        """The `-http-proxy` the device runs behind now."""
        ...

    def reboot_with_sims(self, session: DeviceSession, sims: tuple[SimSpec, ...]) -> DeviceSession:
        """Power off, change these slots' cards, cold boot: same hardware, same data."""
        ...


@dataclass(frozen=True)
class SimBootPlan:
    """`boot_sims`: index of a `reset` step -> the SIMs it boots with; `preloaded`: `sim` steps
    whose cards are already in that boot (they only read back)."""

    boot_sims: dict[int, tuple[SimSpec, ...]] = field(default_factory=dict)
    preloaded: frozenset[int] = frozenset()
    # index of a `reset` -> (index of the `ip` step, its country): the IP country set before
    # activation, which the emulator can get as `-http-proxy` at that boot
    boot_ip: dict[int, tuple[int, str | None]] = field(default_factory=dict)


def merge_slots(current: Sequence[SimSpec], new: Sequence[SimSpec]) -> tuple[SimSpec, ...]:
    """Cards per slot after inserting `new` (a later card in a slot replaces the earlier one)."""
    by_slot = {sim.slot: sim for sim in current}
    by_slot.update({sim.slot: sim for sim in new})
    return tuple(by_slot[slot] for slot in sorted(by_slot))


def plan_sim_boots(steps: Sequence[Any]) -> SimBootPlan:
    """Fold each run of `sim` steps that follows a `reset` (before any boundary) into that reset."""
    boot_sims: dict[int, tuple[SimSpec, ...]] = {}
    boot_ip: dict[int, tuple[int, str | None]] = {}
    preloaded: set[int] = set()
    open_reset: int | None = None
    for index, step in enumerate(steps):
        if step.kind == "reset":
            open_reset = index
            boot_sims[index] = ()
        elif step.kind == "sim" and open_reset is not None:
            boot_sims[open_reset] = merge_slots(boot_sims[open_reset], step.slots)
            preloaded.add(index)
        elif step.kind == "ip" and open_reset is not None:
            boot_ip[open_reset] = (index, step.country)  # the last one before activation wins
        elif step.kind in BOOT_BOUNDARIES:
            open_reset = None
    return SimBootPlan({i: sims for i, sims in boot_sims.items() if sims}, frozenset(preloaded), boot_ip)


def sim_strategy(ops: DeviceOps | SimHardwareOps, kind: DeviceKind) -> SimStrategy:
    """The ICC profile where the backend can boot with one and the device's modem reads it."""
    if kind is DeviceKind.EMULATOR_MODERN and isinstance(ops, SimHardwareOps) and ops.sim_profile_supported():
        return "icc-profile"
    return "setprop-root"


class SimBoot:
    """The runner's SIM seam: resets and `sim` steps go through here (see the module doc)."""

    def __init__(self, steps: Sequence[Any], ops: DeviceOps, snapshots: SnapshotResets | None = None) -> None:
        self.plan = plan_sim_boots(steps)
        self.ops = ops
        self.snapshots = snapshots or SnapshotResets(None, "no snapshot book was given for this device")
        self.proxied: dict[int, tuple[str | None, str]] = {}  # ip step index -> (country, proxy) booted with
        self.last_reset: ResetRecord | None = None

    def hardware(self, session: DeviceSession) -> SimHardwareOps | None:
        ops = self.ops
        if isinstance(ops, SimHardwareOps) and sim_strategy(ops, session.facts.kind) == "icc-profile":
            return ops
        return None

    def reset(self, session: DeviceSession, index: int, hints: DeviceHints) -> DeviceSession:
        """A factory-fresh device of the scenario's boot kind: the kind's factory snapshot loaded
        where there is one (harness.resets), else a cold boot (whose snapshot is then saved)."""
        sims = self.plan.boot_sims.get(index, ())
        ip_step, country = self.plan.boot_ip.get(index, (None, None))
        proxy = self.ops.proxy_for_country(country) if country is not None else None
        hardware = self.hardware(session) if sims or proxy else None
        if hardware is not None and ip_step is not None and proxy is not None:
            self.proxied[ip_step] = (country, proxy)
        kind = BootKind(hints.firmware, hints.profile, hints.slots, sims if hardware else (),
                        proxy if hardware else None)
        why = self.snapshots.why_not(session, kind)
        if why is None:
            try:
                self.last_reset = self.snapshots.load(session)
                return session
            except SnapshotRefused as exc:
                why = f"the snapshot load was refused ({exc.reason})"

        def boot() -> DeviceSession:
            if hardware is None:
                return self.ops.fresh_device(session, hints.firmware, hints.profile, hints.slots)
            return hardware.fresh_device_with_sims(session, hints.firmware, hints.profile, hints.slots, sims, proxy)

        session, record = cold_boot_record(why, boot)
        self.snapshots.cold_booted(session, kind, record)
        self.last_reset = record
        return session

    def ip(self, spoofer: Spoofer, index: int, country: str | None) -> dict[str, Any]:
        """The `ip` step: already the emulator's `-http-proxy` since the reset, or the guest's proxy setting."""
        booted = self.proxied.get(index)
        hardware = self.hardware(spoofer.session) if booted else None
        if booted is None or hardware is None:
            return spoofer.ip_country(country)
        observed = hardware.boot_http_proxy()
        if observed != booted[1]:
            raise SpoofMismatch("ip (-http-proxy)", booted[1], observed, spoofer.session.serial)
        return {"signal": "ip", "strategy": "emulator-http-proxy",
                "expected": {"country": country, "-http-proxy": booted[1]}, "observed": {"-http-proxy": observed}}

    def insert(self, spoofer: Spoofer, index: int, sims: tuple[SimSpec, ...]) -> tuple[DeviceSession, dict[str, Any]]:
        """The `sim` step (or a traveller's SIMs) at `index`; returns the session to go on with."""
        session = spoofer.session
        hardware = self.hardware(session)
        if hardware is None:
            return session, spoofer.sims(sims)
        restored: dict[str, Any] | None = None
        if index not in self.plan.preloaded:
            session = hardware.reboot_with_sims(session, sims)
            restored = spoofer.after_sim_boot(session)
        readback = spoofer.verify_modem_sims(sims)
        if restored is not None:
            readback["cold boot"] = restored
        return session, readback
