"""The window hierarchy uiautomator sees, and its XML dump (`uiautomator dump`, dumpWindowHierarchy).

Two windows are on screen: the top activity's window and SystemUI's status bar, which shows the
operator name (first slot of `gsm.operator.alpha`) and the clock in the device's time zone. The
status bar is rebuilt on every call from the device's props and clock, so it always tells the
truth about what the radio published; the app window is the firmware's own View tree.

The XML follows AccessibilityNodeInfoDumper: the same attribute order, `\\r\\n` line ends and
two-space indentation of Android's XmlSerializer, and invalid XML characters replaced by '.'.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from emulators.virtual.display import rect_to_display, rotation
from emulators.virtual.ui.view import DISPLAY_HEIGHT, DISPLAY_WIDTH, STATUS_BAR_HEIGHT, View

if TYPE_CHECKING:  # pragma: no cover
    from emulators.virtual.device import VirtualDevice

SYSTEMUI = "com.android.systemui"
OPERATOR_ID = f"{SYSTEMUI}:id/operator_name"
CLOCK_ID = f"{SYSTEMUI}:id/clock"
XML_HEADER = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"


# --------------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------------

def operator_name(device: VirtualDevice) -> str:
    """The status bar's carrier text: the first slot of the comma-joined gsm.operator.alpha."""
    return device.props.get("gsm.operator.alpha").split(",")[0].strip()


def clock_text(device: VirtualDevice) -> str:
    """HH:MM of the device clock in its time zone (persist.sys.timezone, UTC when unknown)."""
    zone_name = device.props.get("persist.sys.timezone") or "UTC"
    try:
        zone: _dt.tzinfo = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = _dt.UTC
    return _dt.datetime.fromtimestamp(device.clock.now(), zone).strftime("%H:%M")


def status_bar(device: VirtualDevice) -> View:
    """SystemUI's status bar window, built fresh from the props and the clock."""
    height = STATUS_BAR_HEIGHT
    operator = View(cls="android.widget.TextView", text=operator_name(device),
                    resource_id=OPERATOR_ID, package=SYSTEMUI, bounds=(32, 0, 560, height))
    clock = View(cls="android.widget.TextView", text=clock_text(device), resource_id=CLOCK_ID,
                 package=SYSTEMUI, bounds=(DISPLAY_WIDTH - 200, 0, DISPLAY_WIDTH - 32, height))
    return View(cls="android.widget.FrameLayout", package=SYSTEMUI,
                resource_id=f"{SYSTEMUI}:id/status_bar", bounds=(0, 0, DISPLAY_WIDTH, height),
                children=[operator, clock])


def app_window(device: VirtualDevice) -> View | None:
    """The top activity's window: a full-screen DecorView-like frame around the screen's root."""
    screen = device.top_screen()
    if screen is None:
        return None
    return View(cls="android.widget.FrameLayout", package=screen.package,
                bounds=(0, 0, DISPLAY_WIDTH, DISPLAY_HEIGHT), children=[screen.root])


def window_roots(device: VirtualDevice) -> list[View]:
    """Roots uiautomator searches and dumps: the app window first, then the status bar."""
    roots = [] if (app := app_window(device)) is None else [app]
    if device.booted.is_set() or roots:
        roots.append(status_bar(device))
    return roots


# --------------------------------------------------------------------------------------------
# XML
# --------------------------------------------------------------------------------------------

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;",
            "\r": "&#13;", "\t": "&#9;"}
_ESCAPE_RE = re.compile("[&<>\"\n\r\t]")


def escape_attr(value: str) -> str:
    """An attribute value as XmlSerializer writes it (quotes and newlines as entities)."""
    value = _INVALID_XML.sub(".", value)
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], value)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def node_attributes(view: View, index: int, device: VirtualDevice | None = None) -> list[tuple[str, str]]:
    """The attributes of one <node>, in AccessibilityNodeInfoDumper's order (bounds on the rotated
    display when a device is given)."""
    left, top, right, bottom = view.bounds if device is None else rect_to_display(device, view.bounds)
    return [
        ("index", str(index)), ("text", view.text), ("resource-id", view.resource_id),
        ("class", view.cls), ("package", view.package), ("content-desc", view.content_desc),
        ("checkable", _bool(view.checkable)), ("checked", _bool(view.checked)),
        ("clickable", _bool(view.clickable)), ("enabled", _bool(view.enabled)),
        ("focusable", _bool(view.focusable)), ("focused", _bool(view.focused)),
        ("scrollable", _bool(view.scrollable)), ("long-clickable", _bool(view.long_clickable)),
        ("password", _bool(view.password)), ("selected", _bool(view.selected)),
        ("bounds", f"[{left},{top}][{right},{bottom}]"),
    ]


def _is_unimportant(view: View) -> bool:
    """What a compressed dump leaves out: plain layout containers that say and do nothing."""
    return (not view.text and not view.content_desc and not view.resource_id
            and not (view.clickable or view.long_clickable or view.checkable or view.scrollable
                     or view.focusable) and bool(view.children))


def _flatten(views: list[View], compressed: bool) -> list[View]:
    if not compressed:
        return views
    out: list[View] = []
    for view in views:
        out.extend(_flatten(view.children, True) if _is_unimportant(view) else [view])
    return out


def _dump_node(view: View, index: int, depth: int, max_depth: int, compressed: bool,
               lines: list[str], device: VirtualDevice | None) -> None:
    pad = "  " * (depth + 1)
    attrs = " ".join(f'{k}="{escape_attr(v)}"' for k, v in node_attributes(view, index, device))
    children = _flatten(view.children, compressed) if depth + 1 < max_depth else []
    if not children:
        lines.append(f"{pad}<node {attrs} />")
        return
    lines.append(f"{pad}<node {attrs}>")
    for i, child in enumerate(children):
        _dump_node(child, i, depth + 1, max_depth, compressed, lines, device)
    lines.append(f"{pad}</node>")


def dump_views(roots: list[View], compressed: bool = False, max_depth: int = 50,
               device: VirtualDevice | None = None) -> str:
    """The XML text for these window roots (each root is index 0, as the real dumper does), on
    `device`'s rotated display when one is given."""
    turn = rotation(device) if device is not None else 0
    if not roots:
        return XML_HEADER + f'\r\n<hierarchy rotation="{turn}" />'
    lines = [XML_HEADER, f'<hierarchy rotation="{turn}">']
    for root in roots:
        _dump_node(root, 0, 0, max(1, max_depth), compressed, lines, device)
    lines.append("</hierarchy>")
    return "\r\n".join(lines)


def dump_xml(device: VirtualDevice, compressed: bool = False, max_depth: int = 50) -> str:
    """The device's current UI as uiautomator's XML (the `uiautomator dump` file's content)."""
    with device.lock:
        roots = window_roots(device)
        return dump_views(roots, compressed, max_depth, device)
