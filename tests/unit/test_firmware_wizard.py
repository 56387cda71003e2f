"""The reference firmware on an in-process VirtualDevice: wizard, connectivity, activation, notice.

These drive the firmware through the same seams the shell, console and input layer use (settings,
props, `set_fix`, `radio_changed`, broadcasts, taps), fast and without sockets except the
in-process activation server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulators.virtual.device import DeviceConfig, Fix, VirtualDevice
from emulators.virtual.firmware import load_firmware
from emulators.virtual.firmware.reference import ReferenceFirmware
from emulators.virtual.ui import input as ui_input
from emulators.virtual.ui.view import KEYCODE_BACK, KEYCODE_HOME

P = "com.android.provision:id/"
NOTICE = "com.android.regionlock/.LockNoticeActivity"
HAVANA, MADRID, SIMFEROPOL = (23.1136, -82.3666), (40.4168, -3.7038), (44.9521, 34.1024)
CUBACEL_ICC = "<IccProfile><CCID>8953010000000000012</CCID><CIMI>368010123456789</CIMI>" \
              '<EF id="6FAD"><SIMIO>144,0,00000002</SIMIO></EF></IccProfile>'


@pytest.fixture
def make_device(tmp_path: Path) -> Iterator:
    devices: list[VirtualDevice] = []

    def make(avd_dir: Path | None = None, **knobs: str) -> VirtualDevice:
        config = DeviceConfig(data_dir=tmp_path / "data", avd_dir=avd_dir, boot_props=dict(knobs))
        device = VirtualDevice(config, load_firmware(config))
        device.boot()
        devices.append(device)
        return device

    yield make
    for device in devices:
        device.shutdown()
        server = device.firmware._server  # type: ignore[attr-defined]
        if server is not None:
            server.close()


def tap(device: VirtualDevice, resource_id: str) -> None:
    screen = device.top_screen()
    assert screen is not None
    view = screen.find(P + resource_id)
    assert view is not None, f"{resource_id} not on {screen.root.resource_id}"
    ui_input.tap(device, *view.center)


def page(device: VirtualDevice) -> str:
    screen = device.top_screen()
    return screen.root.resource_id.rsplit("/", 1)[-1] if screen else ""


def walk_wizard(device: VirtualDevice, *, wifi: bool = True, location: bool = True, language: str = "") -> None:
    if language:
        tap(device, f"language_{language}")
    tap(device, "next")
    tap(device, "next")
    if wifi:
        tap(device, "wifi_network")
        tap(device, "next")
    else:
        tap(device, "skip")
    tap(device, "accept")
    tap(device, "skip")
    if not location:
        tap(device, "location_switch")
    tap(device, "next")
    tap(device, "finish")


def state(device: VirtualDevice, expected: str) -> str:
    device.props.wait_for("sys.activation.state", expected, 5)
    return device.props.get("sys.activation.state")


def fix(device: VirtualDevice, place: tuple[float, float]) -> None:
    device.set_fix("gps", Fix(*place))


def test_boot_publishes_identity_and_modem(make_device) -> None:
    device = make_device(**{"device.profile": "pixel-6"})
    assert device.props.get("sys.boot_completed") == "1"
    assert device.props.get("init.svc.bootanim") == "stopped"
    assert device.props.get("ro.product.model") == "Pixel 6"
    assert device.props.get("gsm.sim.operator.numeric") == "310260"
    assert page(device) == "page_welcome"
    assert device.settings.get("secure", "user_setup_complete") == "0"


def test_wizard_pages_back_and_home(make_device) -> None:
    device = make_device()
    tap(device, "next")
    assert page(device) == "page_sim"
    ui_input.key(device, KEYCODE_HOME)
    assert page(device) == "page_sim"
    ui_input.key(device, KEYCODE_BACK)
    assert page(device) == "page_welcome"


def test_spanish_wizard_and_notice(make_device) -> None:
    device = make_device()
    fix(device, HAVANA)
    tap(device, "language_es")
    assert device.props.get("persist.sys.locale") == "es-ES"
    screen = device.top_screen()
    assert screen is not None and screen.find(P + "title").text == "Te damos la bienvenida"
    walk_wizard(device)
    assert state(device, "locked") == "locked"
    notice = device.top_screen()
    assert notice is not None and notice.component == NOTICE
    assert notice.find("com.android.regionlock:id/notice_title").text == "Dispositivo bloqueado"


def test_madrid_activates_and_travel_keeps_it(make_device, tmp_path: Path) -> None:
    device = make_device()
    fix(device, MADRID)
    walk_wizard(device)
    assert state(device, "activated") == "activated"
    assert device.settings.get("global", "device_provisioned") == "1"
    fix(device, HAVANA)
    device.reboot()
    assert state(device, "activated") == "activated"
    assert device.top_screen().component == "com.android.launcher3/.Launcher"


def test_notice_eats_back_and_home_and_survives_reboot(make_device) -> None:
    device = make_device()
    fix(device, SIMFEROPOL)
    walk_wizard(device)
    assert state(device, "locked") == "locked"
    ui_input.key(device, KEYCODE_BACK)
    ui_input.key(device, KEYCODE_HOME)
    assert device.top_screen().component == NOTICE
    device.reboot()
    assert device.top_screen().component == NOTICE


def test_factory_reset_keeps_the_server_side_lock(make_device) -> None:
    device = make_device()
    fix(device, HAVANA)
    walk_wizard(device)
    assert state(device, "locked") == "locked"
    firmware: ReferenceFirmware = device.firmware  # type: ignore[assignment]
    firmware._factory_reset_and_reboot()
    assert page(device) == "page_welcome"
    fix(device, MADRID)
    walk_wizard(device)
    assert state(device, "locked") == "locked"


def test_reset_clears_defect(make_device) -> None:
    device = make_device(**{"regionlock.policy": "defect-reset-clears"})
    fix(device, HAVANA)
    walk_wizard(device)
    assert state(device, "locked") == "locked"
    device.firmware._factory_reset_and_reboot()  # type: ignore[attr-defined]
    fix(device, HAVANA)
    walk_wizard(device)
    assert state(device, "activated") == "activated"


def test_every_boot_defect_locks_the_traveller(make_device) -> None:
    device = make_device(**{"regionlock.policy": "defect-every-boot"})
    fix(device, MADRID)
    walk_wizard(device)
    assert state(device, "activated") == "activated"
    fix(device, HAVANA)
    device.reboot()
    assert state(device, "locked") == "locked"


def test_offline_through_setup_then_online_locks(make_device) -> None:
    device = make_device(**{"sim0.absent": "1"})
    fix(device, HAVANA)
    walk_wizard(device, wifi=False)
    assert state(device, "pending") == "pending"
    device.firmware.connect_wifi("HomeNet")  # type: ignore[attr-defined]
    assert state(device, "locked") == "locked"


def test_airplane_mode_holds_activation_until_it_ends(make_device) -> None:
    device = make_device()
    fix(device, HAVANA)
    device.settings.put("global", "airplane_mode_on", "1")
    device.broadcast("android.intent.action.AIRPLANE_MODE")
    assert device.props.get("gsm.operator.numeric") == ""
    walk_wizard(device, wifi=False)
    assert state(device, "pending") == "pending"
    device.settings.put("global", "airplane_mode_on", "0")
    device.broadcast("android.intent.action.AIRPLANE_MODE")
    assert device.props.get("gsm.operator.numeric") == "310260"
    assert state(device, "locked") == "locked"


def test_location_off_and_no_network_fall_back_to_the_sim(make_device, tmp_path: Path) -> None:
    (tmp_path / "avd" / "modem_simulator").mkdir(parents=True)
    (tmp_path / "avd" / "modem_simulator" / "iccprofile_for_sim0.xml").write_text(CUBACEL_ICC)
    device = make_device(tmp_path / "avd")
    assert device.props.get("gsm.sim.operator.numeric") == "36801"
    assert device.props.get("gsm.operator.numeric") == "311740"  # not in numeric_operator.xml
    device.radio.voice = "searching"
    device.radio_changed()
    assert device.props.get("gsm.operator.numeric") == ""
    fix(device, MADRID)
    walk_wizard(device, location=False)
    assert device.settings.get("secure", "location_mode") == "0"
    assert state(device, "locked") == "locked"  # the Cuban SIM decides


def test_setprop_spoof_holds_until_the_next_radio_event(make_device) -> None:
    device = make_device()
    device.props.set("gsm.operator.numeric", "36801")
    assert device.props.get("gsm.operator.numeric") == "36801"
    device.radio_changed()
    assert device.props.get("gsm.operator.numeric") == "310260"


def test_custom_rom_never_activates(make_device) -> None:
    device = make_device(**{"regionlock.policy": "custom-rom"})
    fix(device, HAVANA)
    walk_wizard(device)
    assert device.settings.get("secure", "user_setup_complete") == "1"
    assert device.props.get("sys.activation.state") == ""


def test_cmd_wifi_alarm_and_dumpsys(make_device) -> None:
    device = make_device()
    firmware = device.firmware
    assert firmware.cmd("wifi", ["connect-network", "CafeGuest", "open"]) == ("Connection initiated\n", 0)
    assert 'connected to "CafeGuest"' in firmware.cmd("wifi", ["status"])[0]
    firmware.cmd("wifi", ["set-wifi-enabled", "disabled"])
    assert firmware.cmd("wifi", ["status"])[0] == "Wifi is disabled\n"
    firmware.cmd("alarm", ["set-time", "1700000000000"])
    assert abs(device.clock.now() - 1_700_000_000) < 5
    firmware.cmd("alarm", ["set-timezone", "America/Havana"])
    assert device.props.get("persist.sys.timezone") == "America/Havana"
    assert "Device ID (IMEI) slot 0:" in firmware.dumpsys("iphonesubinfo", [])
    fix(device, HAVANA)
    assert "last location=Location[gps 23.113600,-82.366600" in firmware.dumpsys("location", [])


def test_double_tap_during_a_realistic_transition_does_not_skip_a_page(make_device) -> None:
    device = make_device(timing="realistic", **{"timing.boot_seconds": "0"})
    tap(device, "next")
    tap(device, "next")
    assert device.wait_ui(lambda: page(device) == "page_sim", 3)
    assert not device.wait_ui(lambda: page(device) == "page_wifi", 2)


def test_auto_time_on_resyncs_the_clock(make_device) -> None:
    import time

    device = make_device()
    device.firmware.cmd("alarm", ["set-time", "1000"])
    assert device.clock.now() < 100
    device.settings.put("global", "auto_time", "0")
    device.settings.put("global", "auto_time", "1")
    assert abs(device.clock.now() - time.time()) < 5


def test_zygote_restart_rerenders_in_the_new_locale_every_time(make_device) -> None:
    device = make_device()
    for locale, title in (("es-ES", "Te damos la bienvenida"), ("en-US", "Welcome"), ("es-ES", "Te damos la bienvenida")):
        device.props.set("persist.sys.locale", locale)
        device.props.set("ctl.restart", "zygote")
        assert device.top_screen().find(P + "title").text == title
