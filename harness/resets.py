"""How a `reset` gets a factory-fresh device: a snapshot load where it can, a cold boot otherwise.

Theory of operation
-------------------
A cold boot with wiped data costs 30-90 s on an SDK emulator; loading a snapshot costs 1-3 s. So
the first time a device is cold booted as a given *boot kind* (`BootKind`: firmware build, device
profile, SIM slots, and what a cold boot fixes for good on an API 31+ emulator: the SIM cards the
modem read and the `-http-proxy`), the harness saves a "factory-fresh, booted, never activated"
snapshot of it through the emulator console (`avd snapshot save`), before any step touched it. A
later `reset` of the same kind on the same running instance loads it (`avd snapshot load`) and then
gives the device a new hardware identity where the backend can (`SnapshotOps.renew_identity`): the
activation server remembers IMEIs, so the same IMEI twice would be a traveller, not a new phone.

Everything else is a cold boot, and the reset step's evidence says why: another boot kind than the
running instance's (a snapshot belongs to one launch configuration), no snapshot saved yet, a
console that refuses snapshots (`-read-only`, a full disk), a device without a console, or
`--no-snapshot-resets`. A snapshot lives in the running instance's own folder (the AVD folder on an
SDK emulator), so it survives loads and goes with the instance when a cold boot replaces it; the
book below forgets it then (`on_restart`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from harness.backends.base import DeviceHandle
from harness.scenario.model import SimSpec
from harness.session import DeviceSession, SnapshotRefused

if TYPE_CHECKING:  # pragma: no cover
    from harness.prefix import PrefixPlan, PrefixSnapshot, PrefixState

SNAPSHOT_PREFIX = "harness-"


def digest(data: object) -> str:
    """A short stable name for JSON-able `data`: snapshot names (boot kinds here, prefixes in harness.prefix)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class BootKind:
    """What a cold boot fixes and a snapshot load cannot change."""

    firmware: str | None
    profile: str | None
    slots: int
    sims: tuple[SimSpec, ...] = ()
    http_proxy: str | None = None

    def digest(self) -> str:
        data = {"firmware": self.firmware, "profile": self.profile, "slots": self.slots,
                "sims": [sim.model_dump(mode="json") for sim in self.sims], "http_proxy": self.http_proxy}
        return digest(data)

    def snapshot_name(self) -> str:
        return f"{SNAPSHOT_PREFIX}factory-{self.digest()}"

    def differs(self, other: BootKind) -> str:
        """What `other` (the wanted kind) changes, as the evidence says it."""
        names = ("firmware", "profile", "slots", "sims", "http_proxy")
        changed = [name for name in names if getattr(self, name) != getattr(other, name)]
        return ", ".join(changed) or "nothing"


@dataclass(frozen=True)
class IdentityReport:
    """What a snapshot load left of the device's hardware identity."""

    renewed: bool
    detail: str


@runtime_checkable
class SnapshotOps(Protocol):
    """DeviceOps of a backend whose devices have an emulator console that keeps snapshots."""

    on_restart: list[Callable[[DeviceHandle], None]]

    def renew_identity(self, session: DeviceSession) -> IdentityReport:
        """After a load: a new hardware identity where the device kind allows it, and what changed."""
        ...


@dataclass
class ResetRecord:
    """How one `reset` was done: the step's evidence (`reset` in its read-back)."""

    how: Literal["snapshot", "cold boot"]
    seconds: float = 0.0
    snapshot: str | None = None
    why: str | None = None  # why a cold boot
    identity: IdentityReport | None = None
    saved: str | None = None  # after a cold boot: the snapshot saved, or why none was

    def summary(self) -> str:
        if self.how == "snapshot":
            return f"snapshot {self.snapshot} loaded in {self.seconds:.2f} s"
        return f"cold boot in {self.seconds:.2f} s because {self.why}"

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"how": self.summary()}
        if self.identity is not None:
            out["identity"] = self.identity.detail
        if self.saved is not None:
            out["factory snapshot"] = self.saved
        return out


@dataclass
class SnapshotResets:
    """One device's factory snapshot book; lives as long as the device's lease, across scenarios.

    `off` says why every reset of this device is a cold boot (snapshots disabled, or a backend
    whose devices keep none)."""

    ops: SnapshotOps | None
    off: str | None = None
    running: BootKind | None = None  # the kind the running instance was cold booted as
    saved: str | None = None  # its factory snapshot, once saved
    refused: str | None = None  # why its console refused a save
    # shared prefixes (harness.prefix) saved on the running instance, by key
    prefixes: dict[str, PrefixSnapshot] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ops is None and self.off is None:
            self.off = "this backend's devices keep no snapshots"
        if self.ops is not None:
            self.ops.on_restart.append(self._restarted)

    @classmethod
    def for_ops(cls, ops: object, enabled: bool) -> SnapshotResets:
        if not enabled:
            return cls(None, "snapshot resets are off (--no-snapshot-resets)")
        if isinstance(ops, SnapshotOps):
            return cls(ops)
        return cls(None)

    def _restarted(self, _: DeviceHandle) -> None:
        """A new instance (a cold boot, a replaced device): its folder has no snapshot of ours."""
        self.running = self.saved = self.refused = None
        self.prefixes.clear()

    def why_not(self, session: DeviceSession, kind: BootKind) -> str | None:
        """Why this reset cannot be a snapshot load, or None when it can."""
        if self.off is not None:
            return self.off
        if not session.has_console:
            return "the device has no emulator console"
        if self.refused is not None:
            return f"the console refused a snapshot save on this instance ({self.refused})"
        if self.running is None or self.saved is None:
            return "no factory snapshot of this device kind on the running instance yet"
        if self.running != kind:
            return (f"the scenario needs another boot kind than the running instance's "
                    f"({self.running.differs(kind)}); a snapshot belongs to one launch configuration")
        return None

    def load(self, session: DeviceSession) -> ResetRecord:
        """Load the factory snapshot and renew the identity; SnapshotRefused when the console says KO."""
        assert self.saved is not None and self.ops is not None, "why_not() said a load is possible"
        started = time.monotonic()
        session.snapshot_load(self.saved)
        identity = self.ops.renew_identity(session)
        return ResetRecord("snapshot", time.monotonic() - started, snapshot=self.saved, identity=identity)

    def cold_booted(self, session: DeviceSession, kind: BootKind, record: ResetRecord) -> None:
        """Right after a cold boot, before any step touched the device: save its factory snapshot."""
        if self.off is not None or self.ops is None or not session.has_console:
            return
        name = kind.snapshot_name()
        try:
            session.snapshot_save(name)
        except SnapshotRefused as exc:
            self.refused = exc.reason
            record.saved = f"not saved: {exc.reason}"
            return
        self.running, self.saved = kind, name
        record.saved = f"saved as {name}"

    # --- shared prefixes (harness.prefix) -------------------------------------------------------
    def prefix_snapshot(self, session: DeviceSession, plan: PrefixPlan) -> PrefixSnapshot | None:
        """The prefix's snapshot on the running instance, when there is one to load."""
        if self.off is not None or self.running is None or not session.has_console:
            return None
        return self.prefixes.get(plan.key)

    def save_prefix(self, session: DeviceSession, plan: PrefixPlan, state: PrefixState) -> str:
        """Right after a prefix ran: snapshot it for the other scenarios that begin with it; a note."""
        from harness.prefix import PrefixSnapshot

        if self.off is not None or self.running is None or not session.has_console:
            return f"not saved: {self.off or 'the running instance has no factory snapshot (a cold boot path)'}"
        name = plan.snapshot_name()
        try:
            session.snapshot_save(name)
        except SnapshotRefused as exc:
            return f"not saved: {exc.reason}"
        self.prefixes[plan.key] = PrefixSnapshot(name, state)
        return f"saved as {name}"

    def restore_prefix(self, session: DeviceSession, snapshot: PrefixSnapshot) -> IdentityReport:
        """Load a prefix snapshot and renew the identity, as any reset does."""
        assert self.ops is not None, "prefix_snapshot() found one, so the backend keeps snapshots"
        session.snapshot_load(snapshot.name)
        return self.ops.renew_identity(session)


def cold_boot_record(why: str, boot: Callable[[], DeviceSession]) -> tuple[DeviceSession, ResetRecord]:
    started = time.monotonic()
    session = boot()
    return session, ResetRecord("cold boot", time.monotonic() - started, why=why)

