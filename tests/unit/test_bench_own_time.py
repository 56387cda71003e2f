"""bench/own_time.py: a step's own time split into device calls, pauses and the rest."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from own_time import Interval, covered, split


def test_covered_counts_overlaps_once_and_only_inside_the_window() -> None:
    assert covered([(0, 2), (1, 3), (5, 6), (9, 12)], 1, 10) == (3 - 1) + (6 - 5) + (10 - 9)
    assert covered([], 0, 5) == 0


def test_a_step_splits_into_waiting_calls_and_the_rest() -> None:
    # a 10 s step: the device's delay 2-4 s, a pause 3-5 s, calls 4.5-6 s (partly in the pause) and 7-8 s
    recorded = [Interval("a", "pause", 3, 5), Interval("a", "u2", 4.5, 6), Interval("a", "adb", 7, 8),
                Interval("a", "adb", -1, 0.5)]  # begun before the step: time inside counts, not the call
    parts = split(0, 10, [(2, 4)], recorded)
    assert parts.calls == 2
    assert parts.waiting == 3  # 2-5
    assert parts.in_calls == 0.5 + 1 + 1  # 0-0.5, 5-6, 7-8
    assert parts.rest == 10 - 3 - 2.5
