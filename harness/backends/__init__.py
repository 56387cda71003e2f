"""Where devices come from: `virtual` (starts virtual emulators) and `adb` (devices already attached).

A backend turns "I need N devices" into N `DeviceHandle`s and tears down whatever it started. The
pool (`harness.pool`) decides who gets which handle; the pytest plugin only talks to these two.
"""

from __future__ import annotations

from harness.backends.base import Backend, DeviceHandle, load_backend

__all__ = ["Backend", "DeviceHandle", "load_backend"]
