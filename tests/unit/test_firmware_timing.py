"""Timing profiles: bounds of each delay, the boot knob, and replayable jitter."""

from __future__ import annotations

from emulators.virtual.firmware.timing import PROFILES, Timing, delay_message


def test_realistic_delays_stay_within_the_profile() -> None:
    timing, profile = Timing("realistic", seed=1), PROFILES["realistic"]
    for _ in range(50):
        assert profile.screen[0] <= timing.screen_delay() <= profile.screen[1]
        assert profile.activation[0] <= timing.activation_delay() <= profile.activation[1]
        assert profile.boot[0] <= timing.boot_delay() <= profile.boot[1]


def test_boot_seconds_shortens_only_the_boot() -> None:
    # what the acceptance tests rely on: a short boot, yet the pages and the reply stay realistic
    timing = Timing("realistic", seed=1, boot_seconds=3.0)
    assert timing.boot_delay() == 3.0
    assert 0.3 <= timing.screen_delay() <= 1.5
    assert 2.0 <= timing.activation_delay() <= 6.0


def test_fast_is_immediate() -> None:
    timing = Timing("fast", seed=5)
    assert (timing.boot_delay(), timing.screen_delay(), timing.activation_delay()) == (0.0, 0.0, 0.0)


def test_each_kind_replays_whatever_the_interleaving() -> None:
    # the boot timer, the wizard taps and the activation worker draw from different threads
    a, b = Timing("realistic", seed=7), Timing("realistic", seed=7)
    screens_a = [a.screen_delay() for _ in range(4)] + [a.activation_delay()] + [a.screen_delay()]
    b.boot_delay()
    b.activation_delay()
    screens_b = [b.screen_delay() for _ in range(5)]
    assert screens_a[:4] + screens_a[5:] == screens_b
    assert Timing("realistic", seed=7).activation_delay() == Timing("realistic", seed=7).activation_delay()


def test_different_seeds_give_different_runs() -> None:
    one, two = Timing("realistic", seed=1), Timing("realistic", seed=2)
    assert [one.screen_delay() for _ in range(3)] != [two.screen_delay() for _ in range(3)]


def test_every_non_zero_delay_is_reported_as_drawn() -> None:
    # the device's EmuTiming log lines (a bench's limit) come from here: exactly the values waited
    reported: list[tuple[str, float]] = []
    timing = Timing("realistic", seed=4, boot_seconds=2.5, report=lambda kind, s: reported.append((kind, s)))
    drawn = [("boot", timing.boot_delay()), ("screen", timing.screen_delay()),
             ("activation", timing.activation_delay()), ("screen", timing.screen_delay())]
    assert reported == drawn and drawn[0] == ("boot", 2.5)
    fast: list[tuple[str, float]] = []
    quiet = Timing("fast", report=lambda kind, s: fast.append((kind, s)))
    quiet.boot_delay(), quiet.screen_delay(), quiet.activation_delay()
    assert fast == []  # nothing imposed, nothing written


def test_delay_message_has_the_agreed_shape() -> None:
    assert delay_message("activation", 2.0) == "delay kind=activation seconds=2.000"
