"""Device profiles, IMEIs (Luhn) and the serial kept in the instance data; timing profiles."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from emulators.virtual.firmware import identity
from emulators.virtual.firmware.timing import Timing, UnknownTiming


@pytest.mark.parametrize("number", ["490154203237518", "356938035643809"])
def test_luhn_accepts_known_valid_imeis(number: str) -> None:
    assert identity.luhn_valid(number)


def test_luhn_rejects_a_changed_digit() -> None:
    assert not identity.luhn_valid("490154203237519")


def test_generated_imeis_are_valid_and_use_the_profile_tac() -> None:
    profile = identity.profile_named("pixel-6")
    rng = random.Random(1)
    for _ in range(50):
        imei = identity.make_imei(profile.tac, rng)
        assert len(imei) == 15 and imei.startswith(profile.tac) and identity.luhn_valid(imei)


def test_identity_is_stable_and_grows_with_slots(tmp_path: Path) -> None:
    profile = identity.profile_named("")
    first = identity.load_identity(tmp_path / "identity.json", profile, 1)
    again = identity.load_identity(tmp_path / "identity.json", profile, 2)
    assert again.imeis[0] == first.imeis[0] and len(again.imeis) == 2 and again.serial == first.serial
    assert "Device ID (IMEI) slot 1: " + again.imeis[1] in identity.dumpsys_iphonesubinfo(again)


def test_profiles_give_ro_props() -> None:
    props = identity.profile_named("redmi-note-9").props()
    assert props["ro.product.model"] == "Redmi Note 9" and props["ro.build.version.sdk"] == "31"
    assert props["ro.build.fingerprint"].startswith("Redmi/merlin_global/merlin:12/")
    assert identity.profile_named("pixel-6").props()["ro.product.manufacturer"] == "Google"


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(identity.UnknownProfile, match="pixel-6"):
        identity.profile_named("nokia-3310")


def test_timing_is_seeded() -> None:
    a, b = Timing("realistic", seed=7), Timing("realistic", seed=7)
    assert [a.screen_delay() for _ in range(5)] == [b.screen_delay() for _ in range(5)]
    assert 18 <= Timing("realistic").boot_delay() <= 22
    assert Timing("fast").boot_delay() == 0 and Timing("fast").activation_delay() == 0
    assert Timing("realistic", boot_seconds=2.5).boot_delay() == 2.5


def test_unknown_timing() -> None:
    with pytest.raises(UnknownTiming):
        Timing("slow")


class _Repeating(random.Random):
    """Draws the same digits for the first IMEI of every instance: a collision the lab must not get."""

    def __init__(self) -> None:
        super().__init__(7)
        self.fixed = 6

    def randrange(self, *args: int, **kwargs: int) -> int:  # type: ignore[override]
        if self.fixed:
            self.fixed -= 1
            return 5
        return super().randrange(*args, **kwargs)


def test_instances_of_one_home_never_share_an_imei(tmp_path: Path) -> None:
    profile = identity.profile_named("")
    registry = tmp_path / "home" / identity.IMEI_REGISTRY
    first = identity.load_identity(tmp_path / "a.json", profile, 1, registry, rng=_Repeating())
    second = identity.load_identity(tmp_path / "b.json", profile, 1, registry, rng=_Repeating())
    assert first.imeis[0][8:14] == "555555"  # both drew it first; the second drew again
    assert second.imeis[0] != first.imeis[0] and identity.luhn_valid(second.imeis[0])
    renewed = identity.renew_identity(tmp_path / "a.json", profile, 2, registry)
    assert not {*renewed.imeis} & {first.imeis[0], second.imeis[0]}
    assert sorted(registry.read_text().split()) == sorted([*first.imeis, *second.imeis, *renewed.imeis])


def test_a_home_that_cannot_hold_the_registry_still_gives_an_identity(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    got = identity.load_identity(tmp_path / "a.json", identity.profile_named(""), 1, tmp_path / "file" / "registry")
    assert identity.luhn_valid(got.imeis[0])
