"""The sdk backend's pure parts: finding the SDK and AVDs, ports, the command line, readiness."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.backends.base import BackendError, DeviceHandle
from harness.backends.sdk import (
    Sdk,
    copy_avd,
    emulator_argv,
    find_sdk,
    focused_window,
    is_anr,
    parse_avd_option,
    pick_console_port,
    read_avd,
    still_waiting_for,
    wait_button,
)
from harness.backends.sdk import avd_home as sdk_avd_home


def make_tool(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)


def test_find_sdk_order_and_errors(tmp_path: Path) -> None:
    sdk = tmp_path / "sdk"
    make_tool(sdk / "emulator" / "emulator")
    make_tool(sdk / "platform-tools" / "adb")
    assert find_sdk(None, {"ANDROID_HOME": str(sdk)}).root == sdk
    assert find_sdk(str(sdk), {"ANDROID_SDK_ROOT": "/nowhere"}).root == sdk  # --sdk wins
    with pytest.raises(BackendError, match=r"from ANDROID_SDK_ROOT\) has no executable emulator/emulator"):
        find_sdk(None, {"ANDROID_SDK_ROOT": str(tmp_path), "ANDROID_HOME": str(sdk)})
    with pytest.raises(BackendError, match="--sdk DIR or set ANDROID_SDK_ROOT"):
        find_sdk(None, {})


def test_avd_home_order(tmp_path: Path) -> None:
    assert sdk_avd_home({"ANDROID_AVD_HOME": "/a", "ANDROID_EMULATOR_HOME": "/e"}, tmp_path) == Path("/a")
    assert sdk_avd_home({"ANDROID_EMULATOR_HOME": "/e"}, tmp_path) == Path("/e/avd")
    assert sdk_avd_home({}, tmp_path) == tmp_path / ".android" / "avd"


def write_avd(home: Path, name: str, ini: str, config: str = "image.sysdir.1=system-images/android-30/x/\n") -> Path:
    folder = home / f"{name}.avd"
    folder.mkdir(parents=True)
    (folder / "config.ini").write_text("# avdmanager\n" + config)
    (home / f"{name}.ini").write_text(ini.format(folder=folder))
    return folder


def test_read_avd_path_path_rel_and_api_level(tmp_path: Path) -> None:
    home = tmp_path / "avd"
    folder = write_avd(home, "Pixel_6", "avd.ini.encoding=UTF-8\npath={folder}\ntarget=android-30\n")
    avd = read_avd("Pixel_6", home)
    assert (avd.folder, avd.config["image.sysdir.1"], avd.api_level) == (folder, "system-images/android-30/x/", 30)
    write_avd(home, "Moved", "path=/old/place/Moved.avd\npath.rel=avd/Moved.avd\n", "hw.gps=yes\n")
    moved = read_avd("Moved", home)
    assert moved.folder == home / "Moved.avd" and moved.api_level is None
    with pytest.raises(BackendError, match=r"no AVD named 'Nope' in .* \(AVDs there: Moved, Pixel_6\)"):
        read_avd("Nope", home)


def test_copy_avd_leaves_disk_state_out(tmp_path: Path) -> None:
    home = tmp_path / "avd"
    folder = write_avd(home, "A", "path={folder}\ntarget=android-33\n")
    (folder / "modem_simulator").mkdir()
    (folder / "modem_simulator" / "numeric_operator.xml").write_text("<resources/>")
    for heavy in ("userdata-qemu.img", "cache.img.qcow2", "hardware-qemu.ini.lock"):
        (folder / heavy).write_text("x")
    (folder / "snapshots").mkdir()
    copied_home = copy_avd(read_avd("A", home), tmp_path / "inst")
    copy = read_avd("A", copied_home)
    assert copy.folder == copied_home / "A.avd" and copy.target == "android-33"
    assert sorted(p.name for p in copy.folder.iterdir()) == ["config.ini", "modem_simulator"]


def test_parse_avd_option() -> None:
    assert parse_avd_option(["Pixel", "custom-rom=Custom"]) == {None: "Pixel", "custom-rom": "Custom"}
    for bad in ("", "=Name", "fw="):
        with pytest.raises(ValueError, match="NAME or FIRMWARE=NAME"):
            parse_avd_option([bad])


def test_console_port_is_the_first_free_even_pair_in_the_sdk_range() -> None:
    busy = {5554, 5557}  # 5554 taken; 5556's adb port 5557 taken
    assert pick_console_port(lambda p: p not in busy) == 5558
    assert pick_console_port(lambda p: True, taken={5554, 5556}) == 5558
    with pytest.raises(BackendError, match="5554-5682"):
        pick_console_port(lambda p: p > 5683)


def test_emulator_command_line() -> None:
    handle = DeviceHandle(serial="emulator-5556", kind="sdk", console_port=5556, avd="Pixel",
                          http_proxy="10.0.0.1:3128", props={"b": "2"})
    argv = emulator_argv(Sdk(Path("/sdk")), handle, wipe=True, no_sim=True)
    assert argv == ["/sdk/emulator/emulator", "-avd", "Pixel", "-port", "5556", "-no-window", "-no-audio",
                    "-no-boot-anim", "-no-snapshot", "-wipe-data", "-no-sim", "-http-proxy", "10.0.0.1:3128",
                    "-prop", "b=2"]
    assert "-wipe-data" not in emulator_argv(Sdk(Path("/sdk")), handle, wipe=False, no_sim=False)


WINDOW = "  mCurrentFocus=Window{8f2d1c4 u0 com.android.provision/com.android.provision.DefaultActivity}\n"
ANR = "  mCurrentFocus=Window{1a2b3c u0 Application Not Responding: com.android.systemui}\n"


def test_focused_window_and_anr() -> None:
    assert focused_window(WINDOW) == "com.android.provision/com.android.provision.DefaultActivity"
    assert focused_window("  mCurrentFocus=null\n") is None and focused_window("") is None
    assert is_anr(focused_window(ANR)) and not is_anr(focused_window(WINDOW))


@pytest.mark.parametrize(("props", "pm", "window", "missing"), [
    ({}, "", None, ["sys.boot_completed=1", "the package manager (pm path android)",
                    "a focused window (dumpsys window mCurrentFocus)"]),
    ({"sys.boot_completed": "1", "init.svc.bootanim": "running"}, "package:/x.apk", "w", ["init.svc.bootanim=stopped"]),
    ({"sys.boot_completed": "1"}, "package:/system/framework/framework-res.apk", "launcher", []),
    ({"sys.boot_completed": "1"}, "package:/x", "Application Not Responding: com.android.systemui",
     ["the dialog 'Application Not Responding: com.android.systemui' to go"]),
])
def test_still_waiting_for(props: dict[str, str], pm: str, window: str | None, missing: list[str]) -> None:
    assert still_waiting_for(props, pm, window) == missing


def test_wait_button_of_an_anr_dialog() -> None:
    dump = ('<hierarchy><node text="System UI isn\'t responding" bounds="[0,0][1080,200]" clickable="false"/>'
            '<node text="Close app" resource-id="android:id/aerr_close" bounds="[80,900][1000,1000]" clickable="true"/>'
            '<node text="Wait" resource-id="android:id/aerr_wait" bounds="[80,1000][1000,1100]" clickable="true"/>'
            '</hierarchy>')
    assert wait_button(dump) == (540, 1050)
    assert wait_button("<hierarchy/>") is None and wait_button("not xml") is None
