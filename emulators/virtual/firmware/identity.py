"""Device profiles (what `ro.*` says the device is) and per-instance identifiers (IMEIs, serial).

IMEIs and the serial are hardware facts: they are generated once per instance and kept in the
instance folder *outside* /data, so a factory reset keeps them (and the server-side lock keyed by
IMEI still finds the device).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path


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


def load_identity(path: Path, profile: DeviceProfile, slots: int) -> Identity:
    """The instance's IMEIs (at least `slots`) and serial, created on first use and kept in `path`."""
    data = json.loads(path.read_text()) if path.exists() else {}
    rng = random.SystemRandom()
    imeis = list(data.get("imeis", []))
    serial = data.get("serial") or "EMULATOR" + "".join(rng.choice("0123456789ABCDEF") for _ in range(8))
    changed = not path.exists()
    while len(imeis) < slots:
        imeis.append(make_imei(profile.tac, rng))
        changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"imeis": imeis, "serial": serial}, indent=1))
    return Identity(tuple(imeis[:slots]), serial)


def renew_identity(path: Path, profile: DeviceProfile, slots: int) -> Identity:
    """New IMEIs and serial for the instance (the virtual emulator's `identity new`), kept in `path`."""
    path.unlink(missing_ok=True)
    return load_identity(path, profile, slots)


def dumpsys_iphonesubinfo(identity: Identity) -> str:
    lines = ["Phone Subscriber Info:", "  Phone Type = GSM"]
    lines += [f"  Device ID (IMEI) slot {i}: {imei}" for i, imei in enumerate(identity.imeis)]
    return "\n".join(lines) + "\n"
