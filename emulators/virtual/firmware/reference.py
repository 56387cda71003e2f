"""The reference firmware: its setup wizard, launcher, lock notice, identity and decision property.

The device's own parts (boot, modem, connectivity, location, the activation client and its policy)
are `SystemFirmware`'s (system.py), shared with every family. What is the reference family's: the
pages of `com.android.provision` (screens.py, texts.py), the notice texts from the policy file,
the `sys.activation.state` property and the `RegionLock` log lines, `dumpsys regionlock`.
"""

from __future__ import annotations

import json
from typing import Any

from emulators.virtual.device import Package
from emulators.virtual.firmware import connectivity, identity, telephony
from emulators.virtual.firmware.screens import (
    HOME_COMPONENT,
    NOTICE_COMPONENT,
    PAGES,
    WIZARD_COMPONENT,
    WizardView,
    home_screen,
    notice_screen,
    wizard_screen,
)
from emulators.virtual.firmware.system import SystemFirmware
from emulators.virtual.firmware.texts import LANGUAGES, text
from emulators.virtual.ui.view import Screen

STATE_PROPERTY = "sys.activation.state"


class ReferenceFirmware(SystemFirmware):
    name = "reference"
    pages = PAGES
    wizard_component = WIZARD_COMPONENT
    notice_component = NOTICE_COMPONENT
    home_component = HOME_COMPONENT

    def device_profile(self, name: str) -> identity.DeviceProfile:
        return identity.profile_named(name)

    def system_packages(self) -> list[Package]:
        """The image's own apps, with their manifests' versions; a build without the activation
        service (a custom ROM) ships without its app, as a ROM built without the vendor's code does."""
        apps = [
            (WIZARD_COMPONENT.split("/")[0], "/system/priv-app/Provision/Provision.apk", 31, "12"),
            (HOME_COMPONENT.split("/")[0], "/system/system_ext/priv-app/Launcher3QuickStep/Launcher3QuickStep.apk",
             31, "12"),
        ]
        if self.policy.service:
            apps.append((NOTICE_COMPONENT.split("/")[0], "/system/priv-app/RegionLock/RegionLock.apk", 1, "1.0"))
        return [Package(name, path, code, system=True, version_name=version) for name, path, code, version in apps]

    def factory_reset(self) -> None:
        self.device.log.i("RegionLock", "factory reset: /data wiped")

    # --- the decision sign: a property and RegionLock log lines ----------------------------------
    def publish_state(self, state: str) -> None:
        self.device.props.set(STATE_PROPERTY, state)

    def log_started(self) -> None:
        self.device.log.i("RegionLock", f"policy {self.policy.name}: {self.policy.description}")

    def log_decision(self, reply: dict[str, Any]) -> None:
        self.device.log.i("RegionLock", f"verdict={reply['verdict']} territory={reply.get('territory') or 'unknown'} "
                                        f"signal={reply.get('signal') or 'none'} signals={reply.get('signals')} "
                                        f"policy={self.policy.name} reason={reply.get('reason')}")

    def log_restored(self, stored: dict[str, Any]) -> None:
        self.device.log.i("RegionLock", f"verdict kept on the device: {stored['verdict']} ({stored['reason']})")

    def family_dumpsys(self, service: str, args: list[str]) -> str | None:
        if service != "regionlock":
            return None
        verdict = self.stored_verdict() or {}
        return (f"RegionLock policy={self.policy.name} decide={self.policy.decide} persist={self.policy.persist}\n"
                f"  state={self.device.props.get(STATE_PROPERTY)} online={self.online()}\n"
                f"  stored={json.dumps(verdict)}\n")

    # --- screens -----------------------------------------------------------------------------------
    def home_screen(self) -> Screen:
        return home_screen(self.locale())

    def notice_screen(self) -> Screen:
        notice = self.policy.notice(self.locale())
        return notice_screen(notice.title, notice.body)

    def wizard_screen(self) -> Screen:
        return wizard_screen(WizardView(
            page=self.current_page(), locale=self.locale(), sim_lines=self._sim_lines(),
            wifi_enabled=self.wifi_enabled(), networks=connectivity.VISIBLE_NETWORKS,
            connected=self.wifi_connected_ssid(),
            location_on=self.location_on(), on_next=self._next_page, on_back=self._previous_page,
            on_language=self._choose_language, on_wifi_toggle=self._toggle_wifi,
            on_connect=self._tap_network, on_location_toggle=self._toggle_location))

    def _sim_lines(self) -> list[str]:
        locale = self.locale()
        lines = []
        for sim in self.sims:
            if sim.present:
                name = telephony.sim_name(sim, self.operators) or sim.plmn
                lines.append(text(locale, "sim.slot", slot=str(sim.slot + 1), name=name, plmn=sim.plmn))
            elif self.slots > 1:
                lines.append(text(locale, "sim.slot_absent", slot=str(sim.slot + 1)))
        return lines if any(s.present for s in self.sims) else []

    def _choose_language(self, language: str) -> None:
        self._set_locale(LANGUAGES[language][1])
