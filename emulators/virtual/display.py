"""The display as Android's WindowManager sees it: rotation, size and density with their overrides.

Theory of operation
-------------------
Nothing here keeps state of its own; everything derives from where Android keeps it, so every
tool that asks gets the same answer:
- rotation: with auto-rotate on (`settings system accelerometer_rotation` = 1) the display follows
  the device's attitude, i.e. the gravity the accelerometer reads (the console's `rotate` and
  `sensor set acceleration` move it); with auto-rotate off it is `settings system user_rotation`
  (0..3), which is what `settings put`, uiautomator's setOrientation and freezeRotation write.
- size and density: the panel's, unless `wm size WxH` / `wm density D` forced others, which Android
  stores in `settings global display_size_forced` ("W,H") and `display_density_forced`.
The UI tree is laid out in natural orientation (screens here do not reflow, like an app that keeps
its portrait layout); what crosses the display's edge is in the rotated display's coordinates, as
on a phone: the frame (screencap, framebuffer, u2 screenshot, screenrecord), the bounds in the UI
dump and selector answers, and the points of taps and swipes. `to_display` / `to_natural` are that
one mapping (ROTATION_90: the natural top edge is on the left).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from emulators.virtual.ui.view import DENSITY, DISPLAY_HEIGHT, DISPLAY_WIDTH

if TYPE_CHECKING:  # pragma: no cover
    from emulators.virtual.device import VirtualDevice

def _setting_int(device: VirtualDevice, ns: str, key: str, default: int) -> int:
    value = device.settings.get(ns, key)
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def rotation(device: VirtualDevice) -> int:
    if _setting_int(device, "system", "accelerometer_rotation", 0) == 1:
        return device.sensors.attitude()
    return _setting_int(device, "system", "user_rotation", 0) % 4


Point = tuple[int, int]
Rect = tuple[int, int, int, int]


def _map(rotation: int, x: int, y: int, size: Point) -> Point:
    """Natural (x, y) on a natural `size` panel to display coordinates under `rotation`."""
    w, h = size
    return ((x, y), (y, w - x), (w - x, h - y), (h - y, x))[rotation % 4]


def to_display(device: VirtualDevice, x: int, y: int) -> Point:
    return _map(rotation(device), x, y, (DISPLAY_WIDTH, DISPLAY_HEIGHT))


def to_natural(device: VirtualDevice, x: int, y: int) -> Point:
    """A point the user touched (display coordinates) in the layout's natural coordinates."""
    r = rotation(device) % 4
    w, h = DISPLAY_WIDTH, DISPLAY_HEIGHT
    return ((x, y), (w - y, x), (w - x, h - y), (y, h - x))[r]


def rect_to_display(device: VirtualDevice, bounds: Rect) -> Rect:
    left, top, right, bottom = bounds
    (x1, y1), (x2, y2) = to_display(device, left, top), to_display(device, right, bottom)
    return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


@dataclass(frozen=True)
class Geometry:
    physical: tuple[int, int]
    override: tuple[int, int] | None
    physical_density: int
    override_density: int | None
    rotation: int

    @property
    def size(self) -> tuple[int, int]:
        """Natural-orientation size in effect (the override when there is one)."""
        return self.override or self.physical

    @property
    def density(self) -> int:
        return self.override_density or self.physical_density

    @property
    def rotated_size(self) -> tuple[int, int]:
        """Width and height as apps see them in the current rotation."""
        w, h = self.size
        return (h, w) if self.rotation % 2 else (w, h)


def geometry(device: VirtualDevice) -> Geometry:
    return Geometry((DISPLAY_WIDTH, DISPLAY_HEIGHT), _forced_size(device), DENSITY,
                    _setting_int(device, "global", "display_density_forced", 0) or None, rotation(device))


def _forced_size(device: VirtualDevice) -> tuple[int, int] | None:
    value = device.settings.get("global", "display_size_forced") or ""
    width, _, height = value.partition(",")
    return (int(width), int(height)) if width.isdigit() and height.isdigit() else None


def set_size(device: VirtualDevice, size: tuple[int, int] | None) -> None:
    if size is None:
        device.settings.delete("global", "display_size_forced")
    else:
        device.settings.put("global", "display_size_forced", f"{size[0]},{size[1]}")


def set_density(device: VirtualDevice, density: int | None) -> None:
    if density is None:
        device.settings.delete("global", "display_density_forced")
    else:
        device.settings.put("global", "display_density_forced", str(density))


def set_user_rotation(device: VirtualDevice, value: int, frozen: bool = True) -> None:
    """What WindowManager.freezeRotation(rotation) does: auto-rotate off, this rotation held."""
    if frozen:
        device.settings.put("system", "accelerometer_rotation", "0")
    device.settings.put("system", "user_rotation", str(value % 4))


def dumpsys_display(device: VirtualDevice) -> str:
    """`dumpsys display`, trimmed to the lines clients parse (DisplayViewport carries orientation)."""
    g = geometry(device)
    w, h = g.size
    rw, rh = g.rotated_size
    fps = 60.0
    return (
        "DISPLAY MANAGER (dumpsys display)\n"
        "  mOnlyCode=false\n  mSafeMode=false\n  mPendingTraversal=false\n"
        f"  mViewports=[DisplayViewport{{type=INTERNAL, valid=true, isActive=true, displayId=0, "
        f"uniqueId='local:4619827259835644672', physicalPort=0, orientation={g.rotation}, "
        f"logicalFrame=Rect(0, 0 - {rw}, {rh}), physicalFrame=Rect(0, 0 - {rw}, {rh}), "
        f"deviceWidth={rw}, deviceHeight={rh}}}]\n\n"
        "Display Devices: size=1\n"
        "  DisplayDeviceInfo{\"Built-in Screen\": uniqueId=\"local:4619827259835644672\", "
        f"{w} x {h}, modeId 1, defaultModeId 1, supportedModes [{{id=1, width={w}, height={h}, "
        f"fps={fps}}}], density {g.density}, {g.density}.0 x {g.density}.0 dpi, "
        "appVsyncOff 1000000, presDeadline 16666666, touch INTERNAL, rotation 0, type INTERNAL, "
        "address {port=0, model=0x0}, state ON, FLAG_DEFAULT_DISPLAY, FLAG_ROTATES_WITH_CONTENT, "
        "FLAG_SECURE, FLAG_SUPPORTS_PROTECTED_BUFFERS}\n\n"
        "Logical Displays: size=1\n"
        "  Display 0:\n"
        f"    mBaseDisplayInfo=DisplayInfo{{\"Built-in Screen\", displayId 0, real {w} x {h}, "
        f"rotation {g.rotation}, density {g.density}}}\n"
        f"    mOverrideDisplayInfo=DisplayInfo{{\"Built-in Screen\", displayId 0, app {rw} x {rh}, "
        f"real {rw} x {rh}, rotation {g.rotation}, density {g.density}}}\n"
    )
