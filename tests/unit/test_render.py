"""Screen rendering: PNG/raw/JPEG shapes, caching, and that the drawn content changes with the UI."""

from __future__ import annotations

import io
import struct
import time
from pathlib import Path

import pytest
from PIL import Image

from emulators.virtual.builtin import BuiltinFirmware
from emulators.virtual.device import DeviceConfig, VirtualDevice
from emulators.virtual.ui.render import draw_frame, render_image, render_jpeg, render_png, render_raw
from emulators.virtual.ui.view import Screen, View, button, column, footer_button, label, switch


@pytest.fixture
def device(tmp_path: Path) -> VirtualDevice:
    dev = VirtualDevice(DeviceConfig(data_dir=tmp_path), BuiltinFirmware())
    dev.boot()
    return dev


def notice_screen() -> Screen:
    root = column("com.android.regionlock", [
        label("Device locked", "com.android.regionlock:id/notice_title", style="title"),
        label("This device has been locked due to international sanction restrictions.",
              "com.android.regionlock:id/notice_body", style="notice"),
    ], resource_id="com.android.regionlock:id/notice")
    return Screen("com.android.regionlock/.LockNoticeActivity", root)


def test_png_is_a_full_frame(device: VirtualDevice) -> None:
    png = render_png(device)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    assert image.size == (1080, 1920)


def test_raw_has_the_screencap_header(device: VirtualDevice) -> None:
    raw = render_raw(device)
    assert struct.unpack("<III", raw[:12]) == (1080, 1920, 1)
    assert len(raw) == 12 + 1080 * 1920 * 4


def test_jpeg_scales(device: VirtualDevice) -> None:
    image = Image.open(io.BytesIO(render_jpeg(device, 0.5, 60)))
    assert image.format == "JPEG" and image.size == (540, 960)


def test_unchanged_screen_is_served_from_the_cache(device: VirtualDevice) -> None:
    first = render_png(device)
    start = time.perf_counter()
    for _ in range(20):
        assert render_png(device) is first
    assert time.perf_counter() - start < 0.5


def test_a_change_gives_a_new_frame(device: VirtualDevice) -> None:
    home = render_image(device)
    device.firmware.open_settings()  # type: ignore[attr-defined]
    settings = render_image(device)
    assert home is not settings and home.tobytes() != settings.tobytes()
    device.props.set("gsm.operator.alpha", "CUBACEL")
    assert render_image(device) is not settings


def test_switch_state_is_visible() -> None:
    def frame(on: bool) -> Image.Image:
        root = column("p", [switch("Location", "p:id/s", on, lambda: None)])
        return draw_frame(Screen("p/.A", root), "Android", "12:00")

    assert frame(True).tobytes() != frame(False).tobytes()


def test_notice_is_dark_red_full_screen() -> None:
    image = draw_frame(notice_screen(), "Android", "12:00")
    red, green, blue = image.getpixel((540, 1800))  # type: ignore[misc]
    assert red > 100 and green < 40 and blue < 40
    ys = range(300, 700)
    assert any(image.getpixel((x, y)) == (255, 255, 255) for x in range(60, 600, 3) for y in ys)


def test_secure_screen_is_black() -> None:
    screen = Screen("p/.A", column("p", [label("secret")]), secure=True)
    assert draw_frame(screen, "Android", "12:00").getbbox() is None


def test_a_rich_screen_draws(tmp_path: Path) -> None:
    """Every style at once; the PNG is written where a person can open it."""
    edit = View(cls="android.widget.EditText", text="", content_desc="Name", style="edit",
                focused=True)
    item = View(cls="android.widget.TextView", text="English", clickable=True, selected=True,
                style="list_item")
    root = column("p", [
        label("Welcome", "p:id/title", style="title"),
        label("Set up your device to get started. " * 3, "p:id/body"),
        item, edit, switch("Use location", "p:id/loc", True, lambda: None),
        button("Start", "p:id/start", None), footer_button("Next", "p:id/next", None),
        footer_button("Skip", "p:id/skip", None, enabled=False, slot=1),
    ])
    image = draw_frame(Screen("p/.A", root), "Android", "09:41")
    image.save(tmp_path / "rich.png")
    assert image.size == (1080, 1920) and len(image.getcolors(1 << 16) or []) > 10
