"""The Norvik firmware family end to end: fresh virtual emulators with `-prop firmware=norvik`, driven
only through adb, the emulator console and uiautomator2, checking its README's contract: the OOBE
pages and their confirmation dialog, the notice per language, the NorvikGuard log line as the only
decision sign, the recovery factory reset. Waits are on conditions with deadlines, never sleeps; one
test runs with `realistic` timing (short boot, the family's own page and reply delays).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.test_firmware import _safe, wait_for

pytestmark = pytest.mark.integration

O = "com.norvik.oobe:id/"
G = "com.norvik.guard:id/"
HOME = "com.norvik.launcher:id/home_grid"
PLACES = {"Havana": (-82.3666, 23.1136), "Tehran": (51.3890, 35.6892), "Madrid": (-3.7038, 40.4168)}


class NorvikPhone:
    def __init__(self, emulator: Any) -> None:
        import uiautomator2

        self.emulator = emulator
        self.adb = emulator.device
        self.u2 = uiautomator2.connect(emulator.device)

    def sh(self, command: str) -> str:
        return str(self.adb.shell(command)).strip()

    def geo(self, place: str) -> None:
        lon, lat = PLACES[place]
        assert not any(line.startswith("KO") for line in self.emulator.console_command(f"geo fix {lon} {lat}"))

    def on_page(self, fragment: str) -> None:
        assert self.u2(resourceId=O + fragment).wait(timeout=10), f"page {fragment} not shown"

    def tap(self, resource_id: str, **more: Any) -> None:
        self.u2(resourceId=resource_id, **more).click(timeout=10)

    def walk(self, language: str = "English", wifi: bool = True) -> None:
        self.on_page("lang_fragment")
        self.tap(O + "lang_row", text=language)
        self.tap(O + "btn_next")
        self.on_page("region_fragment")
        self.tap(O + "btn_next")
        self.on_page("eula_fragment")
        assert not self.u2(resourceId=O + "btn_agree").info["enabled"]
        self.tap(O + "eula_checkbox")
        self.tap(O + "btn_agree", enabled=True)
        self.on_page("wlan_fragment")
        if wifi:
            self.tap(O + "wlan_ap", text="HomeNet")
            self.tap(O + "btn_next")
        else:
            self.tap(O + "btn_skip")
        self.on_page("privacy_fragment")
        self.tap(O + "btn_next")
        self.on_page("activation_fragment")
        self.tap(O + "btn_activate")
        self.tap("android:id/button1")  # the confirmation dialog
        self.on_page("finish_fragment")
        self.tap(O + "btn_start")
        wait_for(lambda: self.sh("settings get secure user_setup_complete") == "1", 10, "setup complete")

    def result(self, count: int = 1, timeout: float = 20.0) -> str:
        """The `count`-th decision line of NorvikGuard (the only sign of the decision)."""
        def lines() -> list[str]:
            return [line.split("NorvikGuard: ", 1)[1] for line in self.sh("logcat -d -s NorvikGuard").splitlines()
                    if "activation result:" in line]

        return wait_for(lambda: len(lines()) >= count and lines()[count - 1], timeout, "a NorvikGuard result")

    def close(self) -> None:
        self.u2.stop_uiautomator(wait=False)


@pytest.fixture
def norvik(emulator_factory: Any) -> Any:
    phones: list[NorvikPhone] = []

    def start(**props: str) -> NorvikPhone:
        emulator = emulator_factory.start(firmware="norvik", timeout=60.0, props=props)
        phone = NorvikPhone(emulator)
        phones.append(phone)
        return phone

    yield start
    for phone in phones:
        try:
            phone.close()
        except Exception:  # noqa: BLE001, S110 - teardown of a device that may already be gone
            pass


def test_identity_packages_and_no_decision_property(norvik: Any) -> None:
    p = norvik()
    assert p.sh("getprop ro.product.brand") == "Norvik"
    assert p.sh("getprop ro.build.fingerprint").startswith("Norvik/atlas5_global/atlas5:13/")
    packages = p.sh("pm list packages")
    assert "package:com.norvik.guard" in packages and "com.android.regionlock" not in packages
    p.geo("Havana")
    p.walk(language="Русский")
    assert p.result() == "activation result: RESTRICTED region=CU"
    assert p.u2(resourceId=G + "restricted_title").get_text(timeout=5) == "Устройство ограничено"
    assert "международных санкций" in p.u2(resourceId=G + "restricted_message").get_text()
    assert p.sh("getprop sys.activation.state") == ""
    p.u2.press("back")
    p.u2.press("home")
    assert p.u2(resourceId=G + "restricted_root").exists


def test_realistic_timing_madrid_is_allowed(norvik: Any) -> None:
    p = norvik(**{"timing": "realistic", "timing.boot_seconds": "3", "timing.seed": "7"})
    p.geo("Madrid")
    p.walk(language="Español")
    assert p.result() == "activation result: ALLOWED"
    assert p.u2(resourceId=HOME).wait(timeout=5)
    assert not p.u2(resourceId=G + "restricted_root").wait(timeout=1.0)


def test_recovery_factory_reset_keeps_the_restriction(norvik: Any) -> None:
    p = norvik()
    p.geo("Tehran")
    p.walk(language="فارسی")
    assert p.result() == "activation result: RESTRICTED region=IR"
    assert "تحریم" in p.u2(resourceId=G + "restricted_message").get_text(timeout=5)
    p.emulator.adb("root")
    wait_for(lambda: _safe(lambda: p.sh("id")).startswith("uid=0"), 15, "adbd as root")
    p.sh("echo --wipe_data > /cache/recovery/command")
    p.adb.shell("reboot recovery")
    wait_for(lambda: _safe(lambda: p.sh("settings get secure user_setup_complete")) == "0"
             and _safe(lambda: p.sh("getprop sys.boot_completed")) == "1", 30, "the wiped boot")
    assert "--wipe_data: formatting /data" in p.sh("logcat -d -s Recovery")
    p.geo("Madrid")  # somewhere fine: the server remembers the IMEI
    p.walk()
    assert p.result(count=2) == "activation result: RESTRICTED region=IR"
    assert p.u2(resourceId=G + "restricted_root").wait(timeout=5)
