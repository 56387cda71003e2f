"""The Norvik firmware's screens: the OOBE wizard pages, its confirmation dialog, home and notice.

Pure builders: each takes what it shows and the callbacks its views run, and returns a `Screen`.
The firmware (firmware.py) owns the state. Ids and texts are the README's contract. Every wizard
page is one fragment of a single activity: the frame `oobe_frame` holds a fragment named for the
page (`<page>_fragment`) under a common header `header_title`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from emulators.virtual.norvik.texts import LANGUAGES, REGIONS, language_of, text
from emulators.virtual.ui.view import (
    DISPLAY_HEIGHT,
    DISPLAY_WIDTH,
    KEYCODE_BACK,
    KEYCODE_HOME,
    KEYCODE_MENU,
    STATUS_BAR_HEIGHT,
    Screen,
    View,
    column,
    footer_button,
    label,
    switch,
)

OOBE = "com.norvik.oobe"
WIZARD_COMPONENT = f"{OOBE}/.OobeActivity"
LAUNCHER = "com.norvik.launcher"
HOME_COMPONENT = f"{LAUNCHER}/.HomeActivity"
GUARD = "com.norvik.guard"
NOTICE_COMPONENT = f"{GUARD}/.RestrictedActivity"
PAGES = ("language", "region", "eula", "wlan", "privacy", "activation", "finish")
FRAGMENTS = {"language": "lang_fragment", "region": "region_fragment", "eula": "eula_fragment",
             "wlan": "wlan_fragment", "privacy": "privacy_fragment", "activation": "activation_fragment",
             "finish": "finish_fragment"}
HOME_APPS = ("Phone", "Messages", "Browser", "Settings")
KEYCODE_APP_SWITCH = 187


def oid(name: str) -> str:
    return f"{OOBE}:id/{name}"


@dataclass
class OobeView:
    """Everything a wizard page shows, and what its views do."""

    page: str
    locale: str
    region: str = "US"
    eula_checked: bool = False
    wifi_enabled: bool = True
    networks: tuple[str, ...] = ()
    connected: str = ""
    location_on: bool = True
    diagnostics: bool = False
    on_next: Callable[[], None] = lambda: None
    on_back: Callable[[], None] = lambda: None
    on_language: Callable[[str], None] = lambda language: None
    on_region: Callable[[str], None] = lambda region: None
    on_eula: Callable[[], None] = lambda: None
    on_wifi_toggle: Callable[[], None] = lambda: None
    on_connect: Callable[[str], None] = lambda ssid: None
    on_location_toggle: Callable[[], None] = lambda: None
    on_diagnostics_toggle: Callable[[], None] = lambda: None
    on_activate: Callable[[], None] = lambda: None


def _wizard_keys(on_back: Callable[[], None]) -> Callable[[int], bool]:
    def on_key(code: int) -> bool:
        if code == KEYCODE_BACK:
            on_back()
            return True
        return code in (KEYCODE_HOME, KEYCODE_APP_SWITCH)  # the OOBE cannot be left

    return on_key


def wizard_screen(w: OobeView) -> Screen:
    views = _PAGE_BODIES[w.page](w)
    fragment = View(cls="android.widget.FrameLayout", resource_id=oid(FRAGMENTS[w.page]),
                    bounds=(0, STATUS_BAR_HEIGHT, DISPLAY_WIDTH, DISPLAY_HEIGHT))
    # the fragment wraps the page's views; laid out first as one column, then re-parented
    laid = column(OOBE, [label(text(w.locale, f"{w.page}.title"), oid("header_title"), style="title"), *views])
    fragment.children = laid.children[1:]
    fragment.package = OOBE
    root = View(cls="android.widget.FrameLayout", package=OOBE, resource_id=oid("oobe_frame"),
                bounds=laid.bounds, children=[laid.children[0], fragment])
    return Screen(WIZARD_COMPONENT, root, on_key=_wizard_keys(w.on_back))


def _row(title: str, resource_id: str, selected: bool, on_click: Callable[[], None]) -> View:
    return View(cls="android.widget.CheckedTextView", text=title, resource_id=resource_id, clickable=True,
                focusable=True, checkable=True, checked=selected, style="list_item", on_click=on_click)


def _language(w: OobeView) -> list[View]:
    current = language_of(w.locale)
    rows = [_row(name, oid("lang_row"), language == current, functools.partial(w.on_language, language))
            for language, (name, _) in LANGUAGES.items()]
    return rows + [footer_button(text(w.locale, "language.next"), oid("btn_next"), w.on_next)]


def _region(w: OobeView) -> list[View]:
    rows = [_row(text(w.locale, f"region.{code}"), oid("region_row"), code == w.region,
                 functools.partial(w.on_region, code)) for code in REGIONS]
    return [label(text(w.locale, "region.body"), oid("region_hint")), *rows,
            footer_button(text(w.locale, "region.next"), oid("btn_next"), w.on_next)]


def _eula(w: OobeView) -> list[View]:
    check = View(cls="android.widget.CheckBox", text=text(w.locale, "eula.check"), resource_id=oid("eula_checkbox"),
                 clickable=True, focusable=True, checkable=True, checked=w.eula_checked, style="list_item",
                 on_click=w.on_eula)
    return [label(text(w.locale, "eula.body"), oid("eula_text")), check,
            footer_button(text(w.locale, "eula.agree"), oid("btn_agree"), w.on_next, enabled=w.eula_checked)]


def _wlan(w: OobeView) -> list[View]:
    views = [switch(text(w.locale, "wlan.toggle"), oid("wlan_toggle"), w.wifi_enabled, w.on_wifi_toggle)]
    if not w.wifi_enabled:
        views.append(label(text(w.locale, "wlan.off"), oid("wlan_summary")))
    else:
        summary = text(w.locale, "wlan.connected", ssid=w.connected) if w.connected else \
            text(w.locale, "wlan.not_connected")
        views.append(label(summary, oid("wlan_summary")))
        views += [_row(ssid, oid("wlan_ap"), ssid == w.connected, functools.partial(w.on_connect, ssid))
                  for ssid in w.networks]
    views.append(footer_button(text(w.locale, "wlan.skip"), oid("btn_skip"), w.on_next, slot=1))
    views.append(footer_button(text(w.locale, "wlan.next"), oid("btn_next"), w.on_next))
    return views


def _privacy(w: OobeView) -> list[View]:
    return [switch(text(w.locale, "privacy.location"), oid("loc_toggle"), w.location_on, w.on_location_toggle),
            switch(text(w.locale, "privacy.diagnostics"), oid("diag_toggle"), w.diagnostics,
                   w.on_diagnostics_toggle),
            footer_button(text(w.locale, "privacy.next"), oid("btn_next"), w.on_next)]


def _activation(w: OobeView) -> list[View]:
    return [label(text(w.locale, "activation.body"), oid("activation_text")),
            footer_button(text(w.locale, "activation.button"), oid("btn_activate"), w.on_activate)]


def _finish(w: OobeView) -> list[View]:
    return [label(text(w.locale, "finish.body"), oid("finish_text")),
            footer_button(text(w.locale, "finish.button"), oid("btn_start"), w.on_next)]


_PAGE_BODIES: dict[str, Callable[[OobeView], list[View]]] = {
    "language": _language, "region": _region, "eula": _eula, "wlan": _wlan, "privacy": _privacy,
    "activation": _activation, "finish": _finish,
}


def confirm_dialog(locale: str, on_confirm: Callable[[], None], on_cancel: Callable[[], None]) -> Screen:
    """The activation page's AlertDialog: framework ids (android:id/...), the OOBE's window."""
    views = [label(text(locale, "dialog.title"), "android:id/alertTitle", style="title"),
             label(text(locale, "dialog.message"), "android:id/message"),
             footer_button(text(locale, "dialog.cancel"), "android:id/button2", on_cancel, slot=1),
             footer_button(text(locale, "dialog.confirm"), "android:id/button1", on_confirm)]
    root = column(OOBE, views, resource_id="android:id/parentPanel")
    return Screen(WIZARD_COMPONENT, root, on_key=_wizard_keys(on_cancel))


def home_screen(locale: str) -> Screen:
    width = DISPLAY_WIDTH // len(HOME_APPS)
    icons = [View(cls="android.widget.TextView", text=name, content_desc=name, package=LAUNCHER,
                  resource_id=f"{LAUNCHER}:id/app_icon", bounds=(i * width + 20, 1500, (i + 1) * width - 20, 1740),
                  clickable=True, focusable=True, style="icon") for i, name in enumerate(HOME_APPS)]
    title = label(text(locale, "home.title"), f"{LAUNCHER}:id/home_label", style="title")
    title.bounds = (48, STATUS_BAR_HEIGHT + 48, DISPLAY_WIDTH - 48, STATUS_BAR_HEIGHT + 208)
    root = View(cls="android.widget.FrameLayout", package=LAUNCHER, resource_id=f"{LAUNCHER}:id/home_grid",
                bounds=(0, STATUS_BAR_HEIGHT, DISPLAY_WIDTH, DISPLAY_HEIGHT), children=[title, *icons])
    for view in root.walk():
        view.package = LAUNCHER
    return Screen(HOME_COMPONENT, root)


def notice_screen(locale: str) -> Screen:
    """Full screen; eats Back, Home, Menu and Recents. The emergency-call button is always there."""
    views = [label(text(locale, "notice.title"), f"{GUARD}:id/restricted_title", style="title"),
             label(text(locale, "notice.body"), f"{GUARD}:id/restricted_message", style="notice"),
             footer_button(text(locale, "notice.emergency"), f"{GUARD}:id/btn_emergency", None)]
    root = column(GUARD, views, resource_id=f"{GUARD}:id/restricted_root")
    return Screen(NOTICE_COMPONENT, root,
                  on_key=lambda code: code in (KEYCODE_BACK, KEYCODE_HOME, KEYCODE_MENU, KEYCODE_APP_SWITCH))

