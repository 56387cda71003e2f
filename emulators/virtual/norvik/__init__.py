"""The Norvik firmware family of the virtual emulator (`-prop firmware=norvik`; README.md is its contract).

A second vendor's firmware on the same device: its own setup wizard, launcher, restriction notice
and identity, no decision property. It never imports `harness`.
"""

from __future__ import annotations

from emulators.virtual.device import DeviceConfig, Firmware


def load_firmware(config: DeviceConfig) -> Firmware:
    from emulators.virtual.norvik.firmware import NorvikFirmware

    return NorvikFirmware(config)
