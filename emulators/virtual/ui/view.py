"""Views and screens: the UI tree that uiautomator dumps, selectors match, taps hit and PNGs show.

A firmware builds each screen as a tree of `View`s with `column()` laying them out top to bottom,
and pushes screens on `device.screens`. Everything that looks at the UI (the XML dump, the u2
selectors, the renderer, `input tap`) reads these objects; nothing else keeps a copy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

DISPLAY_WIDTH = 1080
DISPLAY_HEIGHT = 1920
DENSITY = 420
STATUS_BAR_HEIGHT = 63

# Android KeyEvent codes used here
KEYCODE_HOME = 3
KEYCODE_BACK = 4
KEYCODE_POWER = 26
KEYCODE_ENTER = 66
KEYCODE_DEL = 67
KEYCODE_MENU = 82
KEYCODE_WAKEUP = 224

KEY_NAMES = {
    "home": KEYCODE_HOME, "back": KEYCODE_BACK, "power": KEYCODE_POWER, "enter": KEYCODE_ENTER,
    "delete": KEYCODE_DEL, "del": KEYCODE_DEL, "menu": KEYCODE_MENU, "wakeup": KEYCODE_WAKEUP,
    "recent": 187, "volume_up": 24, "volume_down": 25, "search": 84, "camera": 27,
}

Bounds = tuple[int, int, int, int]  # left, top, right, bottom


@dataclass(eq=False)
class View:
    cls: str = "android.widget.FrameLayout"
    text: str = ""
    resource_id: str = ""
    content_desc: str = ""
    package: str = ""
    bounds: Bounds = (0, 0, 0, 0)
    clickable: bool = False
    long_clickable: bool = False
    enabled: bool = True
    focusable: bool = False
    focused: bool = False
    checkable: bool = False
    checked: bool = False
    scrollable: bool = False
    selected: bool = False
    password: bool = False
    children: list[View] = field(default_factory=list)
    # behaviour: what a click does, and what a setText does (EditText)
    on_click: Callable[[], None] | None = None
    on_text: Callable[[str], None] | None = None
    # rendering hint for the PNG: title | body | button | switch | edit | list_item | notice | plain
    style: str = "plain"

    def walk(self) -> Iterator[View]:
        yield self
        for child in self.children:
            yield from child.walk()

    def contains(self, x: int, y: int) -> bool:
        left, top, right, bottom = self.bounds
        return left <= x < right and top <= y < bottom

    @property
    def center(self) -> tuple[int, int]:
        left, top, right, bottom = self.bounds
        return (left + right) // 2, (top + bottom) // 2


@dataclass(eq=False)
class Screen:
    """One activity's window. `component` is what `dumpsys activity` calls it (pkg/.Activity)."""

    component: str
    root: View
    # BACK/HOME etc.: return True when the screen consumed the key (a lock notice eats them all)
    on_key: Callable[[int], bool] | None = None
    secure: bool = False  # FLAG_SECURE: screencap shows black (not used by default)

    @property
    def package(self) -> str:
        return self.component.split("/", 1)[0]

    def view_at(self, x: int, y: int) -> View | None:
        """The deepest clickable view under the point (what a tap hits)."""
        hit: View | None = None
        for view in self.root.walk():
            if view.contains(x, y) and view.enabled and (view.clickable or view.checkable):
                hit = view
        return hit

    def find(self, resource_id: str) -> View | None:
        return next((v for v in self.root.walk() if v.resource_id == resource_id), None)


ROW_HEIGHTS = {"title": 160, "body": 120, "button": 150, "switch": 140, "edit": 140,
               "list_item": 140, "notice": 200, "plain": 110}


def column(package: str, children: list[View], *, top: int = STATUS_BAR_HEIGHT,
           margin: int = 48, resource_id: str = "") -> View:
    """A full-screen vertical LinearLayout: gives each child its bounds, top to bottom.

    A child whose bounds are already set (non-zero) keeps them: that is how a footer button is
    pinned to the bottom. A body text grows with its length (about 38 characters a line).
    """
    y = top + margin
    for child in children:
        child.package = child.package or package
        if child.bounds == (0, 0, 0, 0):
            height = ROW_HEIGHTS.get(child.style, 110)
            if child.style in ("body", "notice") and child.text:
                lines = max(1, -(-len(child.text) // 38))
                height = max(height, 70 * lines + 30)
            child.bounds = (margin, y, DISPLAY_WIDTH - margin, y + height)
            y += height + 24
        _assign_package(child, package)
    return View(cls="android.widget.LinearLayout", package=package, resource_id=resource_id,
                bounds=(0, top, DISPLAY_WIDTH, DISPLAY_HEIGHT), children=children)


def _assign_package(view: View, package: str) -> None:
    for v in view.walk():
        v.package = v.package or package


def button(text: str, resource_id: str, on_click: Callable[[], None] | None,
           *, enabled: bool = True) -> View:
    return View(cls="android.widget.Button", text=text, resource_id=resource_id, clickable=True,
                focusable=True, enabled=enabled, on_click=on_click, style="button")


def label(text: str, resource_id: str = "", style: str = "body") -> View:
    return View(cls="android.widget.TextView", text=text, resource_id=resource_id, style=style)


def switch(text: str, resource_id: str, checked: bool, on_toggle: Callable[[], None]) -> View:
    return View(cls="android.widget.Switch", text=text, resource_id=resource_id, clickable=True,
                focusable=True, checkable=True, checked=checked, on_click=on_toggle, style="switch")


def footer_button(text: str, resource_id: str, on_click: Callable[[], None] | None,
                  *, enabled: bool = True, slot: int = 0) -> View:
    """A button pinned to the bottom of the screen (slot 0 right, slot 1 left)."""
    view = button(text, resource_id, on_click, enabled=enabled)
    half = DISPLAY_WIDTH // 2
    left = half + 24 if slot == 0 else 48
    view.bounds = (left, DISPLAY_HEIGHT - 200, left + half - 72, DISPLAY_HEIGHT - 60)
    return view
