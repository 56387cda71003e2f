"""The Norvik firmware family: a vendor's OOBE, launcher and restriction notice on the device's system.

What is Norvik's (README.md is the contract): identity (`Norvik` brand, its models), the OOBE pages
(screens.py, texts.py: English, Spanish, Russian, Persian), the restriction notice of
`com.norvik.guard` with its own wording (the policy file's notice texts are the reference
family's and are not used), its timing, the `NorvikGuard` log line that is the only sign of the
decision besides the notice (no property), and a factory reset through the recovery command file.
Everything else, the activation client and the region-lock policy included, is the device's
(`SystemFirmware`), so every policy and defect variant applies here unchanged.
"""

from __future__ import annotations

from typing import Any

from emulators.virtual.device import Package
from emulators.virtual.firmware import connectivity, identity
from emulators.virtual.firmware.policy import LOCKED
from emulators.virtual.firmware.system import SystemFirmware
from emulators.virtual.firmware.timing import TimingProfile
from emulators.virtual.norvik import screens
from emulators.virtual.norvik.texts import LANGUAGES, region_of
from emulators.virtual.ui.view import Screen

GUARD_TAG = "NorvikGuard"
RECOVERY_COMMAND = "/cache/recovery/command"
RESULTS = {"locked": "RESTRICTED", "activated": "ALLOWED"}

PROFILES: dict[str, identity.DeviceProfile] = {
    "atlas-5": identity.DeviceProfile("atlas-5", "Norvik", "Norvik Mobile", "Norvik Atlas 5", "atlas5",
                                      "atlas5_global", "13", 33, "TP1A.220624.014", "NV4.2.1.0.GL", "35847211"),
    "atlas-5-pro": identity.DeviceProfile("atlas-5-pro", "Norvik", "Norvik Mobile", "Norvik Atlas 5 Pro",
                                          "atlas5pro", "atlas5pro_global", "13", 33, "TP1A.220624.014",
                                          "NV4.2.1.0.GL", "35847212"),
}
DEFAULT_PROFILE = "atlas-5"
OS_PROPS = {"ro.norvik.os.version": "4.2.1", "ro.norvik.os.name": "NorvikOS"}

TIMING = {
    "fast": TimingProfile("fast", (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)),
    "realistic": TimingProfile("realistic", (24.0, 30.0), (0.5, 2.0), (3.0, 9.0), (1.0, 3.0)),
}


class NorvikFirmware(SystemFirmware):
    name = "norvik"
    pages = screens.PAGES
    wizard_component = screens.WIZARD_COMPONENT
    notice_component = screens.NOTICE_COMPONENT
    home_component = screens.HOME_COMPONENT
    timing_profiles = TIMING
    activation_tag = "NvActivation"

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.eula_checked = False
        self.dialog_open = False

    def system_packages(self) -> list[Package]:
        """The image's own apps (pm list packages), with their manifests' versions: how a harness
        recognises this family."""
        apps = [(screens.OOBE, "/system/priv-app/NorvikOobe/NorvikOobe.apk"),
                (screens.LAUNCHER, "/system/priv-app/NorvikHome/NorvikHome.apk")]
        if self.policy.service:  # a custom ROM is built without the restriction service
            apps.append((screens.GUARD, "/system/priv-app/NorvikGuard/NorvikGuard.apk"))
        return [Package(name, path, 42, system=True, version_name="4.2.1") for name, path in apps]

    def device_profile(self, name: str) -> identity.DeviceProfile:
        try:
            return PROFILES[name or DEFAULT_PROFILE]
        except KeyError:
            raise identity.UnknownProfile(
                f"device.profile={name!r} is unknown on Norvik (known: {', '.join(PROFILES)})") from None

    # --- lifecycle: recovery runs its command file before the system comes up ---------------------
    def boot(self, delay: float | None = None) -> None:
        command = self.device.fs.host_path(RECOVERY_COMMAND)
        if command.is_file() and "--wipe_data" in command.read_text(errors="replace").split():
            self.device.log.i("Recovery", "--wipe_data: formatting /data and /cache")
            self.device.wipe_data()  # /cache lives in the wiped tree too: the command is gone
            self.device.boot()  # the normal boot after recovery, on the wiped data
            return
        self.eula_checked = False
        self.dialog_open = False
        self.device.fs.host_path(RECOVERY_COMMAND).parent.mkdir(parents=True, exist_ok=True)
        super().boot(delay)
        self.device.props.set_many(OS_PROPS)

    # --- the decision sign: a log line only ----------------------------------------------------------
    def log_decision(self, reply: dict[str, Any]) -> None:
        self._log_result(reply["verdict"], reply.get("territory"), "")

    def log_restored(self, stored: dict[str, Any]) -> None:
        self._log_result(stored["verdict"], stored.get("territory"), " (kept on the device)")

    def _log_result(self, verdict: str, territory: Any, note: str) -> None:
        result = RESULTS.get(verdict, verdict.upper())
        where = f" region={territory}" if verdict == LOCKED and territory else ""
        self.device.log.i(GUARD_TAG, f"activation result: {result}{where}{note}")

    def publish_state(self, state: str) -> None:
        if state == "pending":
            self.device.log.i(GUARD_TAG, "activation requested")

    # --- screens -----------------------------------------------------------------------------------
    def home_screen(self) -> Screen:
        return screens.home_screen(self.locale())

    def notice_screen(self) -> Screen:
        return screens.notice_screen(self.locale())

    def wizard_screen(self) -> Screen:
        if self.dialog_open:
            return screens.confirm_dialog(self.locale(), self._confirm_activation, self._cancel_activation)
        return screens.wizard_screen(screens.OobeView(
            page=self.current_page(), locale=self.locale(), region=self._region(),
            eula_checked=self.eula_checked, wifi_enabled=self.wifi_enabled(),
            networks=connectivity.VISIBLE_NETWORKS, connected=self.wifi_connected_ssid(),
            location_on=self.location_on(), diagnostics=self.device.settings.get("global", "norvik_diagnostics") == "1",
            on_next=self._next_page, on_back=self._previous_page, on_language=self._choose_language,
            on_region=self._choose_region, on_eula=self._toggle_eula, on_wifi_toggle=self._toggle_wifi,
            on_connect=self._tap_network, on_location_toggle=self._toggle_location,
            on_diagnostics_toggle=self._toggle_diagnostics, on_activate=self._open_dialog))

    def _region(self) -> str:
        return self.device.settings.get("global", "norvik_region") or region_of(self.locale())

    def _choose_language(self, language: str) -> None:
        self._set_locale(LANGUAGES[language][1])

    def _choose_region(self, region: str) -> None:
        self.device.settings.put("global", "norvik_region", region)
        self._refresh_wizard()

    def _toggle_eula(self) -> None:
        self.eula_checked = not self.eula_checked
        self._refresh_wizard()

    def _toggle_diagnostics(self) -> None:
        on = self.device.settings.get("global", "norvik_diagnostics") == "1"
        self.device.settings.put("global", "norvik_diagnostics", "0" if on else "1")
        self._refresh_wizard()

    def _open_dialog(self) -> None:
        def show() -> None:
            self.dialog_open = True
            self._refresh_wizard()

        self._after_delay(show)

    def _cancel_activation(self) -> None:
        self.dialog_open = False
        self._refresh_wizard()

    def _confirm_activation(self) -> None:
        self.dialog_open = False
        self.device.log.i("NorvikOobe", "activation confirmed by the user")
        self._next_page()
