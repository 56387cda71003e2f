"""Timing profiles: how long boot, screen changes and the activation reply take.

`fast` makes everything immediate, for quick tests. `realistic` takes seconds, with jitter drawn
from a seeded generator (`timing.seed`), so a harness that sleeps instead of waiting on conditions
fails here the way it would on a real device, yet a failing run can be replayed.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class TimingProfile:
    name: str
    boot: tuple[float, float]  # seconds from boot start to sys.boot_completed=1
    screen: tuple[float, float]  # tap -> next wizard page
    activation: tuple[float, float]  # request -> reply


PROFILES = {
    "fast": TimingProfile("fast", (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)),
    "realistic": TimingProfile("realistic", (18.0, 22.0), (0.3, 1.5), (2.0, 6.0)),
}


class UnknownTiming(ValueError):
    """`timing` names no known profile."""


class Timing:
    """Draws the delays of one profile from a seeded generator (thread-safe)."""

    def __init__(self, name: str = "fast", seed: int = 0, boot_seconds: float | None = None) -> None:
        if name not in PROFILES:
            raise UnknownTiming(f"timing={name!r} is unknown (known: {', '.join(PROFILES)})")
        self.profile = PROFILES[name]
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._boot_override = boot_seconds

    @property
    def instant(self) -> bool:
        return self.profile.name == "fast"

    def boot_delay(self) -> float:
        if self._boot_override is not None:
            return self._boot_override
        return self._draw(self.profile.boot)

    def screen_delay(self) -> float:
        return self._draw(self.profile.screen)

    def activation_delay(self) -> float:
        return self._draw(self.profile.activation)

    def _draw(self, bounds: tuple[float, float]) -> float:
        low, high = bounds
        if high <= 0:
            return 0.0
        with self._lock:
            return self._rng.uniform(low, high)
