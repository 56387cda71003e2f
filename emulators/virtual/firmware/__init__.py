"""The reference firmware of the virtual emulator (see README.md: the contract with the harness).

`load_firmware(config)` is what the launcher calls. This package never imports `harness`.
"""

from __future__ import annotations

from emulators.virtual.device import DeviceConfig, Firmware


def load_firmware(config: DeviceConfig) -> Firmware:
    """The reference firmware configured by the instance's knobs (profile, timing, policy, SIM slots)."""
    from emulators.virtual.firmware.reference import ReferenceFirmware

    return ReferenceFirmware(config)
