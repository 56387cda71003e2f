"""The Norvik firmware family on an in-process VirtualDevice: OOBE, notice, log sign, recovery reset.

Driven through the same seams the shell, console and input layer use (settings, props, `set_fix`,
taps, keys), fast and without sockets except the in-process activation server. The contract is
emulators/virtual/norvik/README.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulators.virtual.device import DeviceConfig, DeviceError, Fix, VirtualDevice
from emulators.virtual.firmware.identity import UnknownProfile, luhn_valid
from emulators.virtual.launcher import make_firmware
from emulators.virtual.norvik.screens import HOME_COMPONENT, NOTICE_COMPONENT, PAGES
from emulators.virtual.norvik.texts import LANGUAGES, REGIONS, TEXTS, language_of, region_of
from emulators.virtual.ui import input as ui_input
from emulators.virtual.ui.render import draw_frame, is_rtl
from emulators.virtual.ui.view import KEYCODE_BACK, KEYCODE_HOME

O = "com.norvik.oobe:id/"
G = "com.norvik.guard:id/"
HAVANA, MADRID, SIMFEROPOL = (23.1136, -82.3666), (40.4168, -3.7038), (44.9521, 34.1024)


@pytest.fixture
def make_device(tmp_path: Path) -> Iterator:
    devices: list[VirtualDevice] = []

    def make(**knobs: str) -> VirtualDevice:
        config = DeviceConfig(data_dir=tmp_path / "data", boot_props={"firmware": "norvik", **knobs})
        device = VirtualDevice(config, make_firmware(config))
        device.boot()
        devices.append(device)
        return device

    yield make
    for device in devices:
        device.shutdown()
        server = device.firmware._server  # type: ignore[attr-defined]
        if server is not None:
            server.close()


def view(device: VirtualDevice, resource_id: str, text: str | None = None):
    screen = device.top_screen()
    assert screen is not None
    found = next((v for v in screen.root.walk() if v.resource_id == resource_id
                  and (text is None or v.text == text)), None)
    assert found is not None, f"{resource_id} {text or ''} not on {screen.root.resource_id}"
    return found


def tap(device: VirtualDevice, resource_id: str, text: str | None = None) -> None:
    ui_input.tap(device, *view(device, resource_id, text).center)


def page(device: VirtualDevice) -> str:
    """The recognisable fragment of the top screen (or the dialog's panel)."""
    screen = device.top_screen()
    assert screen is not None
    ids = [v.resource_id for v in screen.root.walk()]
    return next((i.rsplit("/", 1)[-1] for i in ids if i.endswith(("_fragment", "parentPanel"))),
                screen.component)


def walk(device: VirtualDevice, *, language: str = "English", wifi: bool = True, location: bool = True) -> None:
    tap(device, O + "lang_row", language)
    tap(device, O + "btn_next")
    tap(device, O + "btn_next")
    tap(device, O + "eula_checkbox")
    tap(device, O + "btn_agree")
    if wifi:
        tap(device, O + "wlan_ap", "HomeNet")
        tap(device, O + "btn_next")
    else:
        tap(device, O + "btn_skip")
    if not location:
        tap(device, O + "loc_toggle")
    tap(device, O + "btn_next")
    tap(device, O + "btn_activate")
    tap(device, "android:id/button1")
    tap(device, O + "btn_start")


def results(device: VirtualDevice) -> list[str]:
    return [e.message for e in device.iter_logs() if e.tag == "NorvikGuard" and "activation result" in e.message]


def wait_result(device: VirtualDevice, count: int = 1) -> str:
    device.wait_ui(lambda: len(results(device)) >= count, 5)
    found = results(device)
    assert len(found) >= count, f"no decision in the log: {found}"
    return found[count - 1]


# --- pure parts ------------------------------------------------------------------------------------

def test_every_language_has_every_text() -> None:
    keys = set(TEXTS["en"])
    for language in LANGUAGES:
        assert set(TEXTS[language]) == keys, language
    assert {f"region.{code}" for code in REGIONS} <= keys


def test_language_and_region_of_a_locale() -> None:
    assert language_of("fa-IR") == "fa" and language_of("ru_RU") == "ru" and language_of("de-DE") == "en"
    assert region_of("es-ES") == "ES" and region_of("fa-IR") == "IR" and region_of("en") == "US"
    assert region_of("fr-FR") == "US"


def test_persian_is_right_to_left_and_drawn() -> None:
    assert is_rtl(TEXTS["fa"]["notice.body"]) and not is_rtl(TEXTS["ru"]["notice.body"])
    assert is_rtl("NorvikOS " + TEXTS["fa"]["finish.body"]) is False  # firstStrong: Latin first
    from emulators.virtual.norvik.screens import notice_screen

    image = draw_frame(notice_screen("fa-IR"), "", "12:00")
    # right-aligned: the title's ink is in the right half of its row, none at the left margin
    row = image.crop((0, 120, 1080, 260)).convert("L")
    ink = [x for x in range(1080) if any(row.getpixel((x, y)) > 200 for y in range(0, 140, 4))]
    assert ink and min(ink) > 400 and max(ink) > 900


def test_unknown_family_and_profile_are_boot_errors(tmp_path: Path) -> None:
    with pytest.raises(DeviceError, match="firmware='acme' is unknown"):
        make_firmware(DeviceConfig(data_dir=tmp_path, boot_props={"firmware": "acme"}))
    with pytest.raises(UnknownProfile, match="unknown on Norvik"):
        make_firmware(DeviceConfig(data_dir=tmp_path, boot_props={"firmware": "norvik", "device.profile": "pixel-6"}))


# --- the device ------------------------------------------------------------------------------------

def test_identity_differs_from_the_reference(make_device) -> None:
    device = make_device(**{"device.profile": "atlas-5-pro"})
    props = device.props
    assert props.get("ro.product.brand") == "Norvik" and props.get("ro.product.model") == "Norvik Atlas 5 Pro"
    assert props.get("ro.build.fingerprint").startswith("Norvik/atlas5pro_global/atlas5pro:13/")
    assert props.get("ro.norvik.os.name") == "NorvikOS"
    packages = {p.name for p in device.firmware.system_packages()}
    assert packages == {"com.norvik.oobe", "com.norvik.guard", "com.norvik.launcher"}
    imei = device.firmware.dumpsys("iphonesubinfo", []).split(": ")[-1].strip()
    assert imei.startswith("35847212") and luhn_valid(imei)


def test_page_order_and_the_agreement_gate(make_device) -> None:
    device = make_device()
    seen = [page(device)]
    tap(device, O + "btn_next")
    seen.append(page(device))
    tap(device, O + "btn_next")
    seen.append(page(device))
    tap(device, O + "btn_agree")  # disabled until the box is checked: a tap does nothing
    assert page(device) == "eula_fragment" and not view(device, O + "btn_agree").enabled
    tap(device, O + "eula_checkbox")
    assert view(device, O + "eula_checkbox").checked and view(device, O + "btn_agree").enabled
    tap(device, O + "btn_agree")
    for _ in range(2):
        seen.append(page(device))
        tap(device, O + "btn_next")
    seen.append(page(device))
    assert seen == [f"{p}_fragment".replace("language", "lang") for p in PAGES[:5]] + ["activation_fragment"]


def test_activation_needs_the_dialog_confirmed(make_device) -> None:
    device = make_device()
    walk_to_activation(device)
    tap(device, O + "btn_activate")
    assert page(device) == "parentPanel"
    assert view(device, "android:id/alertTitle").text == "Activate now?"
    ui_input.key(device, KEYCODE_BACK)  # Back cancels the dialog, not the page
    assert page(device) == "activation_fragment"
    tap(device, O + "btn_activate")
    tap(device, "android:id/button2")
    assert page(device) == "activation_fragment"
    ui_input.key(device, KEYCODE_HOME)
    assert page(device) == "activation_fragment"
    tap(device, O + "btn_activate")
    tap(device, "android:id/button1")
    assert page(device) == "finish_fragment"


def walk_to_activation(device: VirtualDevice) -> None:
    tap(device, O + "btn_next")
    tap(device, O + "btn_next")
    tap(device, O + "eula_checkbox")
    tap(device, O + "btn_agree")
    tap(device, O + "btn_skip")
    tap(device, O + "btn_next")


def test_region_is_preselected_from_the_locale_and_can_be_chosen(make_device) -> None:
    device = make_device()
    tap(device, O + "lang_row", "Русский")
    tap(device, O + "btn_next")
    assert view(device, O + "header_title").text == "Регион"
    assert [v.text for v in device.top_screen().root.walk() if v.checked] == ["Россия"]
    tap(device, O + "region_row", "Испания")
    assert device.settings.get("global", "norvik_region") == "ES"


def test_havana_is_restricted_with_no_property_only_log_and_notice(make_device) -> None:
    device = make_device()
    device.set_fix("gps", Fix(*HAVANA))
    walk(device)
    assert wait_result(device) == "activation result: RESTRICTED region=CU"
    top = device.top_screen()
    assert top is not None and top.component == NOTICE_COMPONENT
    assert view(device, G + "restricted_title").text == "Device restricted"
    assert device.props.get("sys.activation.state") == ""
    assert device.firmware.dumpsys("regionlock", []) is None
    for key in (KEYCODE_BACK, KEYCODE_HOME):
        ui_input.key(device, key)
    assert device.top_screen().component == NOTICE_COMPONENT
    device.reboot()
    assert device.top_screen().component == NOTICE_COMPONENT
    assert results(device)[-1] == "activation result: RESTRICTED region=CU (kept on the device)"


@pytest.mark.parametrize(("language", "title"), [("Español", "Dispositivo restringido"),
                                                 ("Русский", "Устройство ограничено"),
                                                 ("فارسی", "دستگاه محدود شده است")])
def test_notice_in_the_wizard_language(make_device, language: str, title: str) -> None:
    device = make_device()
    device.set_fix("gps", Fix(*SIMFEROPOL))
    walk(device, language=language)
    wait_result(device)
    assert view(device, G + "restricted_title").text == title


def test_madrid_is_allowed_and_stays_so_after_travel(make_device) -> None:
    device = make_device()
    device.set_fix("gps", Fix(*MADRID))
    walk(device)
    assert wait_result(device) == "activation result: ALLOWED"
    assert device.top_screen().component == HOME_COMPONENT
    device.set_fix("gps", Fix(*HAVANA))
    device.reboot()
    assert device.top_screen().component == HOME_COMPONENT


def test_recovery_wipe_keeps_the_server_side_restriction(make_device) -> None:
    device = make_device()
    device.set_fix("gps", Fix(*HAVANA))
    walk(device)
    wait_result(device)
    command = device.fs.host_path("/cache/recovery/command")
    assert command.parent.is_dir()
    command.write_text("--wipe_data\n")
    device.reboot()
    assert not command.exists() and page(device) == "lang_fragment"
    assert device.settings.get("secure", "user_setup_complete") == "0"
    assert any(e.tag == "Recovery" for e in device.iter_logs())
    device.set_fix("gps", Fix(*MADRID))
    walk(device)
    assert wait_result(device, 2) == "activation result: RESTRICTED region=CU"


def test_defect_variants_apply_to_this_family(make_device) -> None:
    device = make_device(**{"regionlock.policy": "defect-crimea-blind"})
    device.set_fix("gps", Fix(*SIMFEROPOL))
    walk(device)
    assert wait_result(device) == "activation result: ALLOWED"


def test_offline_setup_decides_when_first_online(make_device) -> None:
    device = make_device(**{"sim0.absent": "1"})
    device.set_fix("gps", Fix(*HAVANA))
    walk(device, wifi=False)
    assert results(device) == []
    assert any(e.tag == "NvActivation" and "offline" in e.message for e in device.iter_logs())
    device.firmware.connect_wifi("HomeNet")  # type: ignore[attr-defined]
    assert wait_result(device) == "activation result: RESTRICTED region=CU"


def test_custom_rom_never_decides(make_device) -> None:
    device = make_device(**{"regionlock.policy": "custom-rom"})
    device.set_fix("gps", Fix(*HAVANA))
    walk(device)
    assert device.top_screen().component == HOME_COMPONENT
    assert not any(e.tag == "NorvikGuard" for e in device.iter_logs())
