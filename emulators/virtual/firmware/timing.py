"""Timing profiles: how long boot, screen changes and the activation reply take.

`fast` makes everything immediate, for quick tests. `realistic` takes seconds, with jitter drawn
from a seeded generator (`timing.seed`), so a harness that sleeps instead of waiting on conditions
fails here the way it would on a real device, yet a failing run can be replayed.

Each kind of delay (boot, screen, activation, snapshot load) has its own generator, seeded from the seed and the
kind: the boot, the wizard taps and the activation worker draw from different threads, and with one
shared generator a different interleaving would hand every later draw a different value. Separate
streams make the n-th page transition take the same time in every run with the same seed.

The device reports every delay it imposes (`report`, which the firmware points at its log): one
logcat line, tag `EmuTiming`, `delay kind=<kind> seconds=<s.sss>`, written when the delay begins, so a
bench reads the device's own waits through `adb logcat` instead of guessing them from this table.
A draw is the device imposing that delay: call a `*_delay()` only where it is then waited. Zero
delays (`fast`) write nothing.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

DELAY_TAG = "EmuTiming"


def delay_message(kind: str, seconds: float) -> str:
    """The log message of one imposed delay (the bench and the tests parse this shape)."""
    return f"delay kind={kind} seconds={seconds:.3f}"


@dataclass(frozen=True)
class TimingProfile:
    name: str
    boot: tuple[float, float]  # seconds from boot start to sys.boot_completed=1
    screen: tuple[float, float]  # tap -> next wizard page
    activation: tuple[float, float]  # request -> reply
    # `avd snapshot load` -> the device running the loaded state (the SDK emulator's published 1-3 s)
    snapshot: tuple[float, float] = (0.0, 0.0)


PROFILES = {
    "fast": TimingProfile("fast", (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)),
    "realistic": TimingProfile("realistic", (18.0, 22.0), (0.3, 1.5), (2.0, 6.0), (1.0, 3.0)),
}


class UnknownTiming(ValueError):
    """`timing` names no known profile."""


class Timing:
    """Draws the delays of one profile from a seeded generator (thread-safe)."""

    def __init__(self, name: str = "fast", seed: int = 0, boot_seconds: float | None = None,
                 profiles: dict[str, TimingProfile] | None = None,
                 report: Callable[[str, float], None] | None = None) -> None:
        """`profiles`: a firmware family's own timing table (its realistic delays), else `PROFILES`;
        `report(kind, seconds)`: told of every non-zero delay as it is imposed."""
        table = PROFILES if profiles is None else profiles
        if name not in table:
            raise UnknownTiming(f"timing={name!r} is unknown (known: {', '.join(table)})")
        self.profile = table[name]
        self._rngs = {kind: random.Random(f"{seed}/{kind}") for kind in ("boot", "screen", "activation", "snapshot")}
        self._lock = threading.Lock()
        self._boot_override = boot_seconds
        self._report = report

    @property
    def instant(self) -> bool:
        return self.profile.name == "fast"

    def boot_delay(self) -> float:
        if self._boot_override is not None:
            return self._reported("boot", self._boot_override)
        return self._draw("boot", self.profile.boot)

    def screen_delay(self) -> float:
        return self._draw("screen", self.profile.screen)

    def activation_delay(self) -> float:
        return self._draw("activation", self.profile.activation)

    def snapshot_delay(self) -> float:
        return self._draw("snapshot", self.profile.snapshot)

    def _draw(self, kind: str, bounds: tuple[float, float]) -> float:
        low, high = bounds
        if high <= 0:
            return 0.0
        with self._lock:
            seconds = self._rngs[kind].uniform(low, high)
        return self._reported(kind, seconds)

    def _reported(self, kind: str, seconds: float) -> float:
        if seconds > 0 and self._report is not None:
            self._report(kind, seconds)
        return seconds
