"""The uiautomator XML dump: format, attributes, bounds, escaping, the status bar window."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from emulators.virtual.builtin import BuiltinFirmware
from emulators.virtual.device import DeviceConfig, VirtualDevice
from emulators.virtual.ui.hierarchy import XML_HEADER, dump_views, dump_xml
from emulators.virtual.ui.view import Screen, View, column, label

ATTRIBUTE_ORDER = ["index", "text", "resource-id", "class", "package", "content-desc",
                   "checkable", "checked", "clickable", "enabled", "focusable", "focused",
                   "scrollable", "long-clickable", "password", "selected", "bounds"]


@pytest.fixture
def device(tmp_path: Path) -> VirtualDevice:
    dev = VirtualDevice(DeviceConfig(data_dir=tmp_path), BuiltinFirmware())
    dev.boot()
    return dev


def parse(xml: str) -> ET.Element:
    return ET.fromstring(xml.encode("utf-8"))


def by_id(root: ET.Element, resource_id: str) -> ET.Element:
    return next(n for n in root.iter("node") if n.get("resource-id") == resource_id)


def test_header_and_root_window(device: VirtualDevice) -> None:
    xml = dump_xml(device)
    assert xml.startswith(XML_HEADER + '\r\n<hierarchy rotation="0">\r\n  <node index="0" text=""')
    app = parse(xml)[0]
    assert app.get("class") == "android.widget.FrameLayout"
    assert app.get("package") == "com.android.launcher3"
    assert app.get("bounds") == "[0,0][1080,1920]"
    assert list(app.attrib) == ATTRIBUTE_ORDER


def test_status_bar_shows_operator_and_device_time(device: VirtualDevice) -> None:
    device.props.set("gsm.operator.alpha", "CUBACEL,Movistar")
    device.props.set("persist.sys.timezone", "America/Havana")
    device.clock.set(1_700_000_000)  # 2023-11-14 22:13:20 UTC = 17:13 in Havana
    root = parse(dump_xml(device))
    bar = root[-1]
    assert bar.get("package") == "com.android.systemui"
    assert by_id(root, "com.android.systemui:id/operator_name").get("text") == "CUBACEL"
    assert by_id(root, "com.android.systemui:id/clock").get("text") == "17:13"


def test_attributes_follow_the_views(device: VirtualDevice) -> None:
    device.firmware.open_settings()  # type: ignore[attr-defined]
    root = parse(dump_xml(device))
    switch = by_id(root, "com.android.settings:id/location_switch")
    assert switch.get("class") == "android.widget.Switch"
    assert (switch.get("checkable"), switch.get("checked"), switch.get("clickable")) == \
        ("true", "true", "true")
    left, top, right, bottom = next(
        v for s in [device.top_screen()] if s for v in s.root.walk()
        if v.resource_id == "com.android.settings:id/location_switch").bounds
    assert switch.get("bounds") == f"[{left},{top}][{right},{bottom}]"
    assert root[0].get("package") == "com.android.settings"


def test_escaping_round_trips_through_a_parser() -> None:
    nasty = 'Terms & "conditions" <b>\nline two\x01'
    page = column("pkg", [label(nasty, "pkg:id/x")])
    xml = dump_views([View(package="pkg", bounds=(0, 0, 1080, 1920), children=[page])])
    assert "&#10;" in xml and "&quot;" in xml and "&amp;" in xml
    assert by_id(parse(xml), "pkg:id/x").get("text") == 'Terms & "conditions" <b>\nline two.'


def test_index_is_position_among_siblings() -> None:
    page = column("pkg", [label("a", "pkg:id/a"), label("b", "pkg:id/b")])
    root = parse(dump_views([page]))
    assert by_id(root, "pkg:id/b").get("index") == "1"


def test_compressed_drops_empty_layouts_and_max_depth_cuts() -> None:
    inner = View(cls="android.widget.LinearLayout", children=[label("deep", "pkg:id/deep")])
    outer = View(cls="android.widget.FrameLayout", package="pkg", children=[inner])
    full, compressed = parse(dump_views([outer])), parse(dump_views([outer], compressed=True))
    assert len(list(full.iter("node"))) == 3
    assert [n.get("text") for n in compressed.iter("node")] == ["", "deep"]
    assert len(list(parse(dump_views([outer], max_depth=1)).iter("node"))) == 1


def test_no_screen_before_boot_gives_empty_hierarchy(tmp_path: Path) -> None:
    dev = VirtualDevice(DeviceConfig(data_dir=tmp_path), BuiltinFirmware())
    assert dump_xml(dev).endswith('<hierarchy rotation="0" />')


def test_the_top_screen_is_dumped(device: VirtualDevice) -> None:
    with device.lock:
        device.screens.append(Screen("com.x/.Main", column("com.x", [label("hi", "com.x:id/hi")])))
    root = parse(dump_xml(device))
    assert root[0].get("package") == "com.x"
    assert by_id(root, "com.x:id/hi").get("text") == "hi"
