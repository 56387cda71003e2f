"""The built-in trivial firmware: a stock-looking SDK emulator with a launcher and Settings.

Used when the reference firmware is not selected. It has no setup wizard and no activation: it
boots straight to the home screen, which is what a plain `sdk_gphone64_x86_64` image shows, so the
plumbing (adb, the console, uiautomator2, screenshots) can be exercised without the product.
"""

from __future__ import annotations

from emulators.virtual.device import Firmware, Package
from emulators.virtual.ui.view import (
    DISPLAY_WIDTH,
    STATUS_BAR_HEIGHT,
    Screen,
    View,
    column,
    label,
    switch,
)

LAUNCHER = "com.android.launcher3"
LAUNCHER_COMPONENT = f"{LAUNCHER}/.Launcher"
SETTINGS = "com.android.settings"
SETTINGS_COMPONENT = f"{SETTINGS}/.Settings"

# What an API 31 SDK emulator image reports (ro.* as on sdk_gphone64_x86_64, the test SIM's radio).
DEFAULT_PROPS: dict[str, str] = {
    "ro.product.model": "sdk_gphone64_x86_64",
    "ro.product.name": "sdk_gphone64_x86_64",
    "ro.product.device": "emu64x",
    "ro.product.brand": "google",
    "ro.product.manufacturer": "Google",
    "ro.product.cpu.abi": "x86_64",
    "ro.build.version.sdk": "31",
    "ro.build.version.release": "12",
    "ro.build.type": "userdebug",
    "ro.build.tags": "dev-keys",
    "ro.build.fingerprint": "google/sdk_gphone64_x86_64/emu64x:12/SE1A.220203.002.A1/8151367:"
                            "userdebug/dev-keys",
    "ro.kernel.qemu": "1",
    "ro.boot.qemu": "1",
    "ro.hardware": "ranchu",
    "ro.serialno": "EMULATOR31X1X1X0",
    "gsm.sim.state": "READY",
    "gsm.sim.operator.numeric": "310260",
    "gsm.sim.operator.alpha": "Android",
    "gsm.sim.operator.iso-country": "us",
    "gsm.operator.numeric": "310260",
    "gsm.operator.alpha": "Android",
    "gsm.operator.iso-country": "us",
    "gsm.operator.isroaming": "false",
    "init.svc.bootanim": "stopped",
}

HOME_APPS = ("Phone", "Messages", "Chrome", "Settings")


class BuiltinFirmware(Firmware):
    """Home screen + Settings; HOME returns to the launcher; nothing else happens."""

    name = "builtin"

    def boot(self) -> None:
        device = self.device
        device.props.set_many(DEFAULT_PROPS)
        if not device.props.get("persist.sys.timezone"):
            device.props.set("persist.sys.timezone", "GMT")
        device.settings.put_default("secure", "location_mode", "3")
        device.settings.put_default("global", "device_provisioned", "1")
        device.settings.put_default("secure", "user_setup_complete", "1")
        with device.lock:
            device.screens[:] = [self.home_screen()]
        device.notify_ui()
        device.log.i("ActivityTaskManager", f"Displayed {LAUNCHER_COMPONENT}")
        device.boot_done()

    def system_packages(self) -> list[Package]:
        # as on sdk_gphone64_x86_64 (API 31): their manifests' versionCode/versionName
        return [Package(LAUNCHER, "/system/system_ext/priv-app/Launcher3QuickStep/Launcher3QuickStep.apk",
                        31, system=True, version_name="12"),
                Package(SETTINGS, "/system/system_ext/priv-app/Settings/Settings.apk", 31, system=True,
                        version_name="12")]

    def shutdown(self) -> None:
        with self.device.lock:
            self.device.screens.clear()

    # --- screens ---------------------------------------------------------------------------
    def home_screen(self) -> Screen:
        icons = [self._icon(name, i) for i, name in enumerate(HOME_APPS)]
        workspace = View(cls="android.widget.FrameLayout", package=LAUNCHER,
                         resource_id=f"{LAUNCHER}:id/workspace",
                         bounds=(0, STATUS_BAR_HEIGHT, DISPLAY_WIDTH, 1920), children=icons)
        return Screen(LAUNCHER_COMPONENT, workspace)

    def _icon(self, name: str, slot: int) -> View:
        width = DISPLAY_WIDTH // len(HOME_APPS)
        left = slot * width
        on_click = self.open_settings if name == "Settings" else None
        return View(cls="android.widget.TextView", text=name, content_desc=name, package=LAUNCHER,
                    bounds=(left + 20, 1500, left + width - 20, 1740), clickable=True,
                    focusable=True, long_clickable=True, on_click=on_click, style="icon")

    def settings_screen(self) -> Screen:
        device = self.device
        location_on = device.settings.get("secure", "location_mode") not in (None, "0")
        prefix = f"{SETTINGS}:id/"
        rows = [
            label("Settings", f"{prefix}title", style="title"),
            self._row("Network & internet", "network"),
            self._row("Connected devices", "devices"),
            self._row("Apps", "apps"),
            switch("Location", f"{prefix}location_switch", location_on, self._toggle_location),
            self._row("About emulated device", "about"),
            label(device.props.get("ro.product.model"), f"{prefix}model"),
        ]
        return Screen(SETTINGS_COMPONENT, column(SETTINGS, rows, resource_id=f"{prefix}main"))

    @staticmethod
    def _row(text: str, key: str) -> View:
        return View(cls="android.widget.TextView", text=text, resource_id=f"{SETTINGS}:id/{key}",
                    clickable=True, focusable=True, style="list_item")

    # --- behaviour -------------------------------------------------------------------------
    def open_settings(self) -> None:
        screen = self.settings_screen()
        with self.device.lock:
            self.device.screens.append(screen)
        self.device.log.i("ActivityTaskManager", f"Displayed {SETTINGS_COMPONENT}")
        self.device.notify_ui()

    def _toggle_location(self) -> None:
        screen = self.device.top_screen()
        view = screen.find(f"{SETTINGS}:id/location_switch") if screen else None
        on = bool(view and view.checked)
        self.device.settings.put("secure", "location_mode", "3" if on else "0")

    def go_home(self) -> None:
        with self.device.lock:
            del self.device.screens[1:]
        self.device.notify_ui()

    def am_start(self, component: str, extras: dict[str, str]) -> str | None:
        full = component.replace("/.", "/" + component.split("/", 1)[0] + ".", 1)
        if component in (SETTINGS_COMPONENT, SETTINGS) or full == f"{SETTINGS}/{SETTINGS}.Settings":
            self.open_settings()
            return None
        if component in (LAUNCHER_COMPONENT, LAUNCHER) or full == f"{LAUNCHER}/{LAUNCHER}.Launcher":
            self.go_home()
            return None
        return super().am_start(component, extras)

    def force_stop(self, package: str) -> None:
        if package == LAUNCHER:
            return
        with self.device.lock:
            self.device.screens[1:] = [s for s in self.device.screens[1:] if s.package != package]
        self.device.notify_ui()
