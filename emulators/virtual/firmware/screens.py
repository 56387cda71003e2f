"""The firmware's screens: setup wizard pages, the home screen and the lock notice.

Pure builders: each takes what it shows and the callbacks its views run, and returns a `Screen`.
The firmware (reference.py) owns the state and pushes the screens on `device.screens`. Ids and
texts are the README's contract.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from emulators.virtual.firmware.texts import LANGUAGES, language_of, text
from emulators.virtual.ui.view import (
    KEYCODE_BACK,
    KEYCODE_HOME,
    KEYCODE_MENU,
    Screen,
    View,
    button,
    column,
    footer_button,
    label,
    switch,
)

PROVISION = "com.android.provision"
WIZARD_COMPONENT = f"{PROVISION}/.SetupWizardActivity"
LAUNCHER = "com.android.launcher3"
HOME_COMPONENT = f"{LAUNCHER}/.Launcher"
REGIONLOCK = "com.android.regionlock"
NOTICE_COMPONENT = f"{REGIONLOCK}/.LockNoticeActivity"
PAGES = ("welcome", "sim", "wifi", "terms", "account", "location", "done")
KEYCODE_APP_SWITCH = 187


def pid(name: str) -> str:
    return f"{PROVISION}:id/{name}"


@dataclass
class WizardView:
    """Everything a wizard page shows, and what its buttons do."""

    page: str
    locale: str
    sim_lines: list[str] = field(default_factory=list)
    wifi_enabled: bool = True
    networks: tuple[str, ...] = ()
    connected: str = ""
    location_on: bool = True
    on_next: Callable[[], None] = lambda: None
    on_back: Callable[[], None] = lambda: None
    on_language: Callable[[str], None] = lambda language: None
    on_wifi_toggle: Callable[[], None] = lambda: None
    on_connect: Callable[[str], None] = lambda ssid: None
    on_location_toggle: Callable[[], None] = lambda: None


def wizard_screen(w: WizardView) -> Screen:
    children = [label(text(w.locale, f"{w.page}.title"), pid("title"), style="title")]
    children += _PAGE_BODIES[w.page](w)

    def on_key(code: int) -> bool:
        if code == KEYCODE_BACK:
            w.on_back()
            return True
        return code in (KEYCODE_HOME, KEYCODE_APP_SWITCH)  # a setup wizard cannot be left

    root = column(PROVISION, children, resource_id=pid(f"page_{w.page}"))
    return Screen(WIZARD_COMPONENT, root, on_key=on_key)


def _welcome(w: WizardView) -> list[View]:
    current = language_of(w.locale)
    items = [label(text(w.locale, "welcome.body"))]
    for language, (name, _) in LANGUAGES.items():
        item = View(cls="android.widget.TextView", text=name, resource_id=pid(f"language_{language}"),
                    clickable=True, focusable=True, selected=language == current, style="list_item",
                    on_click=functools.partial(w.on_language, language))
        items.append(item)
    return items + [footer_button(text(w.locale, "welcome.next"), pid("next"), w.on_next)]


def _sim(w: WizardView) -> list[View]:
    status = "\n".join(w.sim_lines) or text(w.locale, "sim.none")
    return [label(status, pid("sim_status")), footer_button(text(w.locale, "sim.next"), pid("next"), w.on_next)]


def _wifi(w: WizardView) -> list[View]:
    views = [switch(text(w.locale, "wifi.switch"), pid("wifi_switch"), w.wifi_enabled, w.on_wifi_toggle)]
    if not w.wifi_enabled:
        views.append(label(text(w.locale, "wifi.off"), pid("wifi_status")))
    else:
        status = text(w.locale, "wifi.connected", ssid=w.connected) if w.connected else \
            text(w.locale, "wifi.not_connected")
        views.append(label(status, pid("wifi_status")))
        for ssid in w.networks:
            views.append(View(cls="android.widget.TextView", text=ssid, resource_id=pid("wifi_network"),
                              clickable=True, focusable=True, selected=ssid == w.connected,
                              style="list_item", on_click=functools.partial(w.on_connect, ssid)))
    views.append(footer_button(text(w.locale, "wifi.skip"), pid("skip"), w.on_next, slot=1))
    views.append(footer_button(text(w.locale, "wifi.next"), pid("next"), w.on_next))
    return views


def _terms(w: WizardView) -> list[View]:
    return [label(text(w.locale, "terms.body"), pid("terms_text")),
            footer_button(text(w.locale, "terms.accept"), pid("accept"), w.on_next)]


def _account(w: WizardView) -> list[View]:
    return [label(text(w.locale, "account.body"), pid("account_text")),
            footer_button(text(w.locale, "account.skip"), pid("skip"), w.on_next)]


def _location(w: WizardView) -> list[View]:
    return [switch(text(w.locale, "location.switch"), pid("location_switch"), w.location_on,
                   w.on_location_toggle),
            footer_button(text(w.locale, "location.next"), pid("next"), w.on_next)]


def _done(w: WizardView) -> list[View]:
    return [label(text(w.locale, "done.body"), pid("done_text")),
            footer_button(text(w.locale, "done.finish"), pid("finish"), w.on_next)]


_PAGE_BODIES: dict[str, Callable[[WizardView], list[View]]] = {
    "welcome": _welcome, "sim": _sim, "wifi": _wifi, "terms": _terms, "account": _account,
    "location": _location, "done": _done,
}


def home_screen(locale: str) -> Screen:
    apps = [button(name, f"{LAUNCHER}:id/app_{name.lower()}", None) for name in ("Phone", "Messages", "Chrome")]
    root = column(LAUNCHER, [label(text(locale, "home.title"), f"{LAUNCHER}:id/home_title", style="title"),
                             *apps], resource_id=f"{LAUNCHER}:id/workspace")
    return Screen(HOME_COMPONENT, root)


def notice_screen(title: str, body: str) -> Screen:
    """Full screen; eats Back, Home, Menu and Recents so nothing leaves it."""
    root = column(REGIONLOCK, [label(title, f"{REGIONLOCK}:id/notice_title", style="title"),
                               label(body, f"{REGIONLOCK}:id/notice_body", style="notice")],
                  resource_id=f"{REGIONLOCK}:id/notice")
    return Screen(NOTICE_COMPONENT, root,
                  on_key=lambda code: code in (KEYCODE_BACK, KEYCODE_HOME, KEYCODE_MENU, KEYCODE_APP_SWITCH))
