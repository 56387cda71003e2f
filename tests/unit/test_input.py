"""Input routing: taps hit views, toggle switches, keys go to the screen then to the system."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.virtual.builtin import SETTINGS_COMPONENT, BuiltinFirmware
from emulators.virtual.device import DeviceConfig, Firmware, VirtualDevice
from emulators.virtual.ui import input as ui_input
from emulators.virtual.ui.view import KEYCODE_BACK, KEYCODE_HOME, Screen, View, column, label


@pytest.fixture
def device(tmp_path: Path) -> VirtualDevice:
    dev = VirtualDevice(DeviceConfig(data_dir=tmp_path), BuiltinFirmware())
    dev.boot()
    return dev


def center_of(device: VirtualDevice, resource_id: str = "", text: str = "") -> tuple[int, int]:
    screen = device.top_screen()
    assert screen is not None
    view = next(v for v in screen.root.walk()
                if (resource_id and v.resource_id == resource_id) or (text and v.text == text))
    return view.center


def test_tap_runs_on_click_and_back_pops(device: VirtualDevice) -> None:
    ui_input.tap(device, *center_of(device, text="Settings"))
    assert device.top_screen().component == SETTINGS_COMPONENT  # type: ignore[union-attr]
    ui_input.key(device, KEYCODE_BACK)
    assert len(device.screens) == 1
    ui_input.key(device, KEYCODE_BACK)  # the last screen stays
    assert len(device.screens) == 1


def test_tap_toggles_a_switch_and_the_firmware_sees_it(device: VirtualDevice) -> None:
    device.firmware.open_settings()  # type: ignore[attr-defined]
    ui_input.tap(device, *center_of(device, "com.android.settings:id/location_switch"))
    assert device.settings.get("secure", "location_mode") == "0"


def test_tap_on_nothing_hits_nothing(device: VirtualDevice) -> None:
    assert ui_input.tap(device, 5, 400) is None


def test_home_uses_the_firmware_hook(device: VirtualDevice) -> None:
    device.firmware.open_settings()  # type: ignore[attr-defined]
    ui_input.key(device, KEYCODE_HOME)
    assert [s.component for s in device.screens] == ["com.android.launcher3/.Launcher"]


def test_home_without_hook_pops_to_bottom(tmp_path: Path) -> None:
    dev = VirtualDevice(DeviceConfig(data_dir=tmp_path), Firmware())
    dev.screens[:] = [Screen(f"p/.{n}", column("p", [label(n)])) for n in "ABC"]
    ui_input.key(dev, KEYCODE_HOME)
    assert [s.component for s in dev.screens] == ["p/.A"]


def test_a_screen_can_eat_keys(device: VirtualDevice) -> None:
    seen: list[int] = []

    def eat(code: int) -> bool:
        seen.append(code)
        return True

    device.screens.append(Screen("lock/.Notice", column("lock", [label("locked")]), on_key=eat))
    ui_input.key(device, KEYCODE_BACK)
    ui_input.key(device, KEYCODE_HOME)
    assert seen == [KEYCODE_BACK, KEYCODE_HOME] and len(device.screens) == 2


def test_text_goes_to_the_focused_field(device: VirtualDevice) -> None:
    received: list[str] = []
    edit = View(cls="android.widget.EditText", clickable=True, focusable=True, style="edit")
    plain = View(cls="android.widget.EditText", resource_id="p:id/plain", clickable=True,
                 focusable=True, style="edit", on_text=received.append)
    device.screens.append(Screen("p/.A", column("p", [edit, plain])))
    assert ui_input.text(device, "x") is False  # nothing focused yet
    ui_input.tap(device, *edit.center)
    ui_input.text(device, "hello world")
    assert edit.text == "hello world" and edit.focused
    ui_input.tap(device, *plain.center)
    ui_input.text(device, "abc")
    assert received == ["abc"] and not edit.focused


def test_short_swipe_is_a_tap_and_key_names_resolve(device: VirtualDevice) -> None:
    x, y = center_of(device, text="Settings")
    ui_input.swipe(device, x, y, x + 3, y + 3, 50)
    assert device.top_screen().component == SETTINGS_COMPONENT  # type: ignore[union-attr]
    assert [ui_input.key_code(k) for k in ("back", "KEYCODE_HOME", "66", 4, "center", "nope")] \
        == [4, 3, 66, 4, 23, None]


def test_taps_are_logged(device: VirtualDevice) -> None:
    ui_input.tap(device, *center_of(device, text="Settings"))
    assert any(e.tag == "InputDispatcher" and "Settings" in e.message
               for e in device.iter_logs())
