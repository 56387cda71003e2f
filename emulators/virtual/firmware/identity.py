"""Device profiles (what `ro.*` says the device is) and per-instance identifiers (IMEIs, serial).

IMEIs and the serial are hardware facts: they are generated once per instance and kept in the
instance folder *outside* /data, so a factory reset keeps them (and the server-side lock keyed by
IMEI still finds the device).

An IMEI has only six digits of its own after the model's TAC, so random draws for a lab's few
hundred identities (every cold boot and `identity new`) would share one now and then (~2 % for 200),
and the lab's activation server, which keys verdicts by IMEI, would answer the second phone with the
first one's verdict: a wrong verdict made by the lab. Two phones never share an IMEI, so the instances
of one emulator home (one lab) record what they were given (`IMEI_REGISTRY`) and never draw one twice.
"""

from __future__ import annotations

import fcntl
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from emulators.virtual.avd import emulator_home

IMEI_REGISTRY = "virtual-emulator-imeis.txt"  # in the emulator home: one IMEI a line, every one given


@dataclass(frozen=True)
class DeviceProfile:
    name: str
    brand: str
    manufacturer: str
    model: str
    device: str
    product: str
    release: str
    sdk: int
    build_id: str
    incremental: str  # the firmware version sent at activation
    tac: str  # IMEI type allocation code (8 digits)

    def props(self) -> dict[str, str]:
        fingerprint = (f"{self.brand}/{self.product}/{self.device}:{self.release}/{self.build_id}/"
                       f"{self.incremental}:userdebug/test-keys")
        return {
            "ro.product.brand": self.brand, "ro.product.manufacturer": self.manufacturer,
            "ro.product.model": self.model, "ro.product.device": self.device,
            "ro.product.name": self.product, "ro.product.board": self.device,
            "ro.product.cpu.abi": "x86_64", "ro.product.cpu.abilist": "x86_64,arm64-v8a",
            "ro.build.fingerprint": fingerprint, "ro.build.version.release": self.release,
            "ro.build.version.sdk": str(self.sdk), "ro.build.id": self.build_id,
            "ro.build.display.id": f"{self.build_id} {self.incremental}",
            "ro.build.version.incremental": self.incremental, "ro.build.type": "userdebug",
            "ro.build.tags": "test-keys", "ro.build.characteristics": "emulator",
            "ro.kernel.qemu": "1", "ro.boot.qemu": "1", "ro.hardware": "ranchu",
            "ro.debuggable": "1", "ro.product.locale": "en-US",
        }


PROFILES: dict[str, DeviceProfile] = {
    "redmi-note-9": DeviceProfile("redmi-note-9", "Redmi", "Xiaomi", "Redmi Note 9", "merlin",
                                  "merlin_global", "12", 31, "SP1A.210812.016",
                                  "V13.0.2.0.SJOMIXM", "86417905"),
    "pixel-6": DeviceProfile("pixel-6", "google", "Google", "Pixel 6", "oriole", "oriole", "13", 33,
                             "TQ3A.230901.001", "10754064", "35292611"),
}
DEFAULT_PROFILE = "redmi-note-9"


class UnknownProfile(ValueError):
    """`device.profile` names no known profile."""


def profile_named(name: str) -> DeviceProfile:
    try:
        return PROFILES[name or DEFAULT_PROFILE]
    except KeyError:
        raise UnknownProfile(f"device.profile={name!r} is unknown (known: {', '.join(PROFILES)})") from None


def luhn_check_digit(digits: str) -> str:
    """The digit that makes `digits + it` pass the Luhn check (IMEI's 15th digit)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # doubled positions, counted from the right of the payload
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and len(number) > 1 and luhn_check_digit(number[:-1]) == number[-1]


def make_imei(tac: str, rng: random.Random) -> str:
    body = tac + "".join(str(rng.randrange(10)) for _ in range(6))
    return body + luhn_check_digit(body)


@dataclass(frozen=True)
class Identity:
    imeis: tuple[str, ...]
    serial: str


@contextmanager
def _registry(path: Path) -> Iterator[set[str] | None]:
    """The IMEIs given so far in this home, held under a lock while new ones are drawn and added;
    None when the home cannot hold the registry (read-only): draws are then only random."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+", encoding="ascii")  # noqa: SIM115 -- held across the yield
    except OSError:
        yield None
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # instances of a lab boot at once
        handle.seek(0)
        given = set(handle.read().split())
        before = set(given)
        yield given
        handle.write("".join(f"{imei}\n" for imei in sorted(given - before)))


def _draw_unique(tac: str, rng: random.Random, given: set[str] | None) -> str:
    if given is None:
        return make_imei(tac, rng)
    for _ in range(1000):
        imei = make_imei(tac, rng)
        if imei not in given:
            given.add(imei)
            return imei
    raise RuntimeError(f"no unused IMEI left for TAC {tac} in {IMEI_REGISTRY} after 1000 draws")


def load_identity(path: Path, profile: DeviceProfile, slots: int, registry: Path | None = None,
                  rng: random.Random | None = None) -> Identity:
    """The instance's IMEIs (at least `slots`) and serial, created on first use and kept in `path`;
    a new IMEI is never one that `registry` (default: the emulator home's, which a lab's instances
    share) says was given before."""
    data = json.loads(path.read_text()) if path.exists() else {}
    rng = rng or random.SystemRandom()
    imeis = list(data.get("imeis", []))
    serial = data.get("serial") or "EMULATOR" + "".join(rng.choice("0123456789ABCDEF") for _ in range(8))
    changed = not path.exists()
    if len(imeis) < slots:
        with _registry(registry or emulator_home() / IMEI_REGISTRY) as given:
            while len(imeis) < slots:
                imeis.append(_draw_unique(profile.tac, rng, given))
        changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"imeis": imeis, "serial": serial}, indent=1))
    return Identity(tuple(imeis[:slots]), serial)


def renew_identity(path: Path, profile: DeviceProfile, slots: int, registry: Path | None = None) -> Identity:
    """New IMEIs and serial for the instance (the virtual emulator's `identity new`), kept in `path`."""
    path.unlink(missing_ok=True)
    return load_identity(path, profile, slots, registry)


def dumpsys_iphonesubinfo(identity: Identity) -> str:
    lines = ["Phone Subscriber Info:", "  Phone Type = GSM"]
    lines += [f"  Device ID (IMEI) slot {i}: {imei}" for i, imei in enumerate(identity.imeis)]
    return "\n".join(lines) + "\n"
