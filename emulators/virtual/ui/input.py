"""Input routing: what `input tap|keyevent|text|swipe` and uiautomator2's clicks do to the UI.

A tap hits the deepest enabled clickable view under the point (`Screen.view_at`), toggles it
when it is checkable, focuses it when it is an edit field, then runs its `on_click`. Behaviour
callbacks run *outside* the device lock: they may push screens, set props or wait, and the lock
is re-entrant only for the thread holding it. Keys go first to the top screen (a lock notice eats
BACK and HOME), then get the system's default: BACK pops a screen, HOME asks the firmware.
Every event is logged the way InputDispatcher's debug lines would show it, so a report's log says
what the harness touched.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from emulators.virtual.display import to_natural
from emulators.virtual.ui.view import (
    KEY_NAMES,
    KEYCODE_BACK,
    KEYCODE_DEL,
    KEYCODE_HOME,
    View,
)

if TYPE_CHECKING:  # pragma: no cover
    from emulators.virtual.device import VirtualDevice

TAG = "InputDispatcher"
TAP_SLOP = 24  # pixels a swipe may move and still count as a tap (ViewConfiguration touch slop)
LONG_PRESS_MS = 500
# Names uiautomator2's press() documents that view.py's KEY_NAMES does not carry.
EXTRA_KEY_NAMES = {"up": 19, "down": 20, "left": 21, "right": 22, "center": 23, "dpad_up": 19,
                   "dpad_down": 20, "dpad_left": 21, "dpad_right": 22, "dpad_center": 23,
                   "volume_mute": 164, "tab": 61, "space": 62, "escape": 111, "sleep": 223,
                   "app_switch": 187}


def _describe(view: View | None) -> str:
    if view is None:
        return "nothing"
    return view.resource_id or view.text or view.content_desc or view.cls


def _is_edit(view: View) -> bool:
    return view.style == "edit" or view.cls.endswith("EditText")


def _focus(device: VirtualDevice, target: View) -> None:
    screen = device.top_screen()
    if screen is None:
        return
    for view in screen.root.walk():
        view.focused = view is target


def tap(device: VirtualDevice, x: int, y: int) -> View | None:
    """A tap at display point (x, y); returns the view it hit (None when it hit nothing clickable)."""
    nx, ny = to_natural(device, int(x), int(y))
    with device.lock:
        screen = device.top_screen()
        view = screen.view_at(nx, ny) if screen is not None else None
        if view is not None:
            if view.checkable:
                view.checked = not view.checked
            if _is_edit(view):
                _focus(device, view)
        callback = view.on_click if view is not None else None
    device.log.log("D", TAG, f"tap ({int(x)},{int(y)}) -> {_describe(view)}")
    if callback is not None:
        callback()
    device.notify_ui()
    return view


def long_tap(device: VirtualDevice, x: int, y: int) -> View | None:
    """A long press: views here have no long-click behaviour, so it lands like a tap on
    long-clickable views and does nothing elsewhere (as on Android, where a plain button
    ignores a long press)."""
    nx, ny = to_natural(device, int(x), int(y))
    with device.lock:
        screen = device.top_screen()
        view = screen.view_at(nx, ny) if screen is not None else None
    device.log.log("D", TAG, f"long press ({int(x)},{int(y)}) -> {_describe(view)}")
    if view is not None and view.long_clickable:
        return tap(device, x, y)
    return view


def swipe(device: VirtualDevice, x1: int, y1: int, x2: int, y2: int, ms: int = 300) -> None:
    """A swipe. Screens here do not scroll; a swipe that stays within the touch slop is a tap,
    or a long press when held (`input swipe x y x y 1000` is the usual long-press idiom)."""
    device.log.log("D", TAG, f"swipe ({x1},{y1}) -> ({x2},{y2}) in {ms} ms")
    if math.hypot(x2 - x1, y2 - y1) <= TAP_SLOP:
        if ms >= LONG_PRESS_MS:
            long_tap(device, x1, y1)
        else:
            tap(device, x1, y1)
        return
    device.notify_ui()


def focused_edit(device: VirtualDevice) -> View | None:
    screen = device.top_screen()
    if screen is None:
        return None
    return next((v for v in screen.root.walk() if v.focused and _is_edit(v)), None)


def set_text(device: VirtualDevice, view: View, value: str) -> None:
    """Replace a field's text: its `on_text` decides, or the text is simply set."""
    callback = view.on_text
    if callback is not None:
        callback(value)
    else:
        with device.lock:
            view.text = value
    device.notify_ui()


def text(device: VirtualDevice, s: str) -> bool:
    """`input text`: appended to the focused edit field. False when no field has focus."""
    with device.lock:
        view = focused_edit(device)
    device.log.log("D", TAG, f"text {len(s)} chars -> {_describe(view)}")
    if view is None:
        return False
    set_text(device, view, view.text + s)
    return True


def key_code(name: str | int) -> int | None:
    """A key given as a code, `KEYCODE_BACK`, or uiautomator2's names (`back`, `home`...)."""
    if isinstance(name, int):
        return name
    word = name.strip()
    if word.lstrip("-").isdigit():
        return int(word)
    word = word.lower().removeprefix("keycode_")
    return KEY_NAMES.get(word, EXTRA_KEY_NAMES.get(word))


def key(device: VirtualDevice, keycode: int) -> None:
    """A key press: the top screen's `on_key` first, then the system's default handling."""
    device.log.log("D", TAG, f"key {keycode}")
    screen = device.top_screen()
    if screen is not None and screen.on_key is not None and screen.on_key(keycode):
        device.notify_ui()
        return
    if keycode == KEYCODE_BACK:
        with device.lock:
            if len(device.screens) > 1:
                device.screens.pop()
    elif keycode == KEYCODE_HOME:
        go_home(device)
    elif keycode == KEYCODE_DEL:
        with device.lock:
            view = focused_edit(device)
        if view is not None and view.text:
            set_text(device, view, view.text[:-1])
    device.notify_ui()


def go_home(device: VirtualDevice) -> None:
    """HOME: the firmware's `go_home()` when it has one, else back to the bottom screen."""
    hook = getattr(device.firmware, "go_home", None)
    if callable(hook):
        hook()
        return
    with device.lock:
        del device.screens[1:]
