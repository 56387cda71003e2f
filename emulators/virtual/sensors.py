"""The emulated sensors (the console's `sensor` command) and the attitude gravity gives the device.

The SDK emulator moves the virtual device by changing what its accelerometer reads: `rotate` turns
the gravity vector by 90 degrees, `sensor set acceleration X:Y:Z` sets it. Android's auto-rotate
follows that attitude (see `display.py`). Values are volatile, like the host-side state they model.
"""

from __future__ import annotations

import threading

GRAVITY = 9.80665
# Android's Surface.ROTATION_* -> the accelerometer's (x, y, z) when the device is held that way.
ROTATION_GRAVITY = {0: (0.0, GRAVITY, 0.0), 1: (GRAVITY, 0.0, 0.0), 2: (0.0, -GRAVITY, 0.0),
                    3: (-GRAVITY, 0.0, 0.0)}

# The SDK emulator's console `sensor` names and their values at rest in portrait (sensors.proto).
SENSOR_DEFAULTS: dict[str, tuple[float, ...]] = {
    "acceleration": ROTATION_GRAVITY[0], "gyroscope": (0.0, 0.0, 0.0),
    "magnetic-field": (0.0, 5.9, -48.4), "orientation": (0.0, 0.0, 0.0), "temperature": (0.0,),
    "proximity": (1.0,), "light": (0.0,), "pressure": (0.0,), "humidity": (0.0,),
    "magnetic-field-uncalibrated": (0.0, 5.9, -48.4), "gyroscope-uncalibrated": (0.0, 0.0, 0.0),
    "hinge-angle0": (0.0,), "heart-rate": (0.0,), "rgbc-light": (0.0, 0.0, 0.0, 0.0),
}


class Sensors:
    """The emulated sensors' current values (volatile: a reboot keeps them, as the host's do)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict(SENSOR_DEFAULTS)

    def get(self, name: str) -> tuple[float, ...]:
        with self._lock:
            return self._values[name]

    def set(self, name: str, values: tuple[float, ...]) -> None:
        if name not in SENSOR_DEFAULTS or len(values) != len(SENSOR_DEFAULTS[name]):
            raise ValueError(name)
        with self._lock:
            self._values[name] = values

    def attitude(self) -> int:
        """The rotation the accelerometer's gravity says the device is held in."""
        x, y, _ = self.get("acceleration")[:3]
        if abs(x) > abs(y):
            return 1 if x > 0 else 3
        return 2 if y < 0 else 0

    def rotate(self) -> int:
        """The console's `rotate`: turn the device 90 degrees to the next rotation."""
        turned = (self.attitude() + 1) % 4
        self.set("acceleration", ROTATION_GRAVITY[turned])
        return turned
