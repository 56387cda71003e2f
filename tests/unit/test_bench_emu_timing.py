"""bench/emu_timing.py: the devices' EmuTiming lines as the suite bench reads and places them."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from emu_timing import Delay, ScenarioSpan, StepSpan, cut_by_boots, parse_lines, unique

from emulators.virtual.firmware.timing import DELAY_TAG, delay_message

NOON = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC).timestamp()


def line(stamp: str, kind: str, seconds: float) -> str:
    # threadtime, as `logcat -d -v threadtime` prints it (tag padded to 8, here 9 long)
    return f"{stamp}  1000  1000 I {DELAY_TAG}: {delay_message(kind, seconds)}"


def test_lines_parse_into_delays_on_the_utc_timeline() -> None:
    text = "\n".join(["--------- beginning of main", line("11-26 12:00:01.250", "boot", 20.599),
                      "11-26 12:00:02.000  1000  1000 I Activation: request sims=[]",
                      line("11-26 12:00:25.000", "screen", 0.435)])
    delays = list(parse_lines("emulator-20000", text, NOON))
    assert delays == [Delay("emulator-20000", NOON + 1.25, "boot", 20.599),
                      Delay("emulator-20000", NOON + 25.0, "screen", 0.435)]


def test_the_year_is_the_one_nearest_the_read() -> None:
    new_year = datetime(2027, 1, 1, 0, 0, 5, tzinfo=UTC).timestamp()
    (delay,) = parse_lines("s", line("12-31 23:59:59.000", "activation", 2.0), new_year)
    assert delay.start == new_year - 6


def test_a_line_read_twice_counts_once_per_device() -> None:
    text = line("11-26 12:00:01.250", "boot", 20.599)
    twice = [*parse_lines("a", text, NOON), *parse_lines("a", text, NOON), *parse_lines("b", text, NOON)]
    assert len(unique(twice)) == 2


def test_a_boot_that_a_later_boot_of_the_same_device_replaced_counts_until_then() -> None:
    first = Delay("a", NOON, "boot", 20.0)  # a first boot the first reset stopped 2 s in
    screen = Delay("a", NOON + 30, "screen", 1.0)  # over before the next boot: whole
    delays = [first, Delay("a", NOON + 2, "boot", 20.0), screen, Delay("b", NOON + 1, "boot", 20.0)]
    assert cut_by_boots(delays) == [Delay("a", NOON, "boot", 2.0), Delay("a", NOON + 2, "boot", 20.0), screen,
                                    Delay("b", NOON + 1, "boot", 20.0)]


def test_a_step_gets_only_the_part_of_a_delay_inside_it() -> None:
    from bench_suite import place

    steps = (StepSpan("activate", NOON, NOON + 6), StepSpan("expect", NOON + 6, NOON + 9))
    span = ScenarioSpan("s", "a", NOON, NOON + 9, "passed", steps)
    delays = [Delay("a", NOON + 5, "activation", 3.0),  # 1 s in activate, 2 s in expect
              Delay("b", NOON + 1, "screen", 1.0),  # another device's
              Delay("a", NOON + 100, "boot", 20.0)]  # in no step
    samples, unplaced = place([span], delays)
    assert [(s.kind, s.device, s.own) for s in samples] == [("activate", 1.0, 5.0), ("expect", 2.0, 1.0)]
    assert unplaced == 2
