"""Issue 8's device gaps, through the real adb binary, adbutils and the console, on one shared device.

One emulator (built-in firmware) serves the whole module: none of these needs a factory-new device,
and each test puts back what it changed (rotation, overrides, reverse forwards).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import AdbServer, EmulatorFactory, RunningEmulator, VirtualHome
from tests.integration.test_adb_clients import U2_PACKAGE, u2_apk

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def device(adb_server: AdbServer, virtual_home: VirtualHome,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    factory = EmulatorFactory(adb_server, virtual_home, tmp_path_factory.mktemp("gaps"))
    try:
        yield factory.start()
    finally:
        factory.stop_all()


def shell(device: RunningEmulator, command: str) -> str:
    return str(device.device.shell(command))


# --------------------------------------------------------------------------------------------
# adbd services: features, reverse, framebuffer, install-multiple
# --------------------------------------------------------------------------------------------

def test_features_list_what_adbd_serves(device: RunningEmulator) -> None:
    features = set(device.adb("features").stdout.split())
    assert {"shell_v2", "cmd", "abb", "abb_exec", "sendrecv_v2", "stat_v2", "ls_v2"} <= features


def _echo_server() -> tuple[socket.socket, int]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"echo:" + conn.recv(100))

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


def test_reverse_carries_a_device_connection_to_the_host_and_lists_and_removes(device: RunningEmulator) -> None:
    server, host_port = _echo_server()
    chosen = device.adb("reverse", "tcp:0", f"tcp:{host_port}")
    assert chosen.returncode == 0, chosen.stderr
    device_port = int(chosen.stdout.strip())
    assert f"tcp:{device_port} tcp:{host_port}" in device.adb("reverse", "--list").stdout
    # a device-side client: reach the device port through a forward, the reverse carries it home
    local = device.device.forward_port(f"tcp:{device_port}")
    with socket.create_connection(("127.0.0.1", local), timeout=5) as client:
        client.sendall(b"ping")
        assert client.recv(100) == b"echo:ping"
    server.close()
    assert device.adb("reverse", "--remove", f"tcp:{device_port}").returncode == 0
    assert f"tcp:{device_port}" not in device.adb("reverse", "--list").stdout
    missing = device.adb("reverse", "--remove", "tcp:9")
    assert missing.returncode != 0 and "listener 'tcp:9' not found" in missing.stderr


def test_framebuffer_is_the_screen(device: RunningEmulator) -> None:
    image = device.device.framebuffer()
    assert image.size == (1080, 1920)


def test_install_multiple_and_versions_from_the_manifest(device: RunningEmulator) -> None:
    done = device.adb("install-multiple", str(u2_apk()), timeout=120)
    assert done.returncode == 0 and "Success" in done.stdout, done.stdout + done.stderr
    info = device.device.app_info(U2_PACKAGE)
    assert (info.version_name, info.version_code) == ("2.4.0", 2004001)  # the APK's manifest
    assert "minSdk=19 targetSdk=32" in shell(device, f"dumpsys package {U2_PACKAGE}")
    assert device.adb("uninstall", U2_PACKAGE).returncode == 0


def test_built_in_apps_are_packages(device: RunningEmulator) -> None:
    listed = shell(device, "pm list packages -s")
    assert "package:com.android.launcher3" in listed and "package:com.android.settings" in listed
    current = device.device.app_current()
    assert current.package == "com.android.launcher3"
    info = device.device.app_info(current.package)
    assert info is not None and info.version_name == "12"
    assert shell(device, "pm path com.android.settings").startswith("package:/system/")


# --------------------------------------------------------------------------------------------
# Sync: symlinks and who may write where
# --------------------------------------------------------------------------------------------

def test_push_a_folder_holding_symlinks_keeps_them_inside_the_device(device: RunningEmulator,
                                                                       tmp_path: Path) -> None:
    folder = tmp_path / "tree"
    folder.mkdir()
    (folder / "a.txt").write_text("hello\n")
    (folder / "link").symlink_to("a.txt")
    (folder / "host").symlink_to("/etc/hostname")
    pushed = device.adb("push", str(folder), "/data/local/tmp/")
    assert pushed.returncode == 0, pushed.stderr
    assert shell(device, "cat /data/local/tmp/tree/link").strip() == "hello"
    leak = device.data_dir / "fs" / "data" / "local" / "tmp" / "tree" / "host"
    assert leak.resolve().is_relative_to((device.data_dir / "fs").resolve())  # never the host's file


def test_push_refused_where_the_shell_user_may_not_write(device: RunningEmulator, tmp_path: Path) -> None:
    local = tmp_path / "x.txt"
    local.write_text("x")
    system = device.adb("push", str(local), "/system/x.txt")
    assert system.returncode != 0 and "Read-only file system" in system.stderr
    data = device.adb("push", str(local), "/data/x.txt")
    assert data.returncode != 0 and "Permission denied" in data.stderr


# --------------------------------------------------------------------------------------------
# Display, gestures, battery, sensors, network
# --------------------------------------------------------------------------------------------

def test_rotation_from_user_rotation_and_from_the_console(device: RunningEmulator) -> None:
    d = device.device
    assert d.rotation() == 0 and d.window_size() == (1080, 1920)
    shell(device, "settings put system user_rotation 1")
    assert d.rotation() == 1 and d.window_size() == (1920, 1080)
    shell(device, "settings put system user_rotation 0")
    shell(device, "settings put system accelerometer_rotation 1")  # auto-rotate follows the device
    try:
        assert device.console_command("rotate") == []
        assert d.rotation() == 1
        assert device.console_command("sensor get acceleration")[0].startswith("acceleration = 9.80665:0:0")
        device.console_command("sensor set acceleration 0:9.8:0")
        assert d.rotation() == 0
    finally:
        shell(device, "settings put system accelerometer_rotation 0")


def test_wm_size_and_density_overrides(device: RunningEmulator) -> None:
    try:
        shell(device, "wm size 720x1280")
        shell(device, "wm density 320")
        assert device.device.window_size() == (720, 1280)
        assert "Override density: 320" in shell(device, "wm density")
    finally:
        shell(device, "wm size reset")
        shell(device, "wm density reset")
    assert shell(device, "wm size").strip() == "Physical size: 1080x1920"


def test_input_swipe_takes_the_time_asked(device: RunningEmulator) -> None:
    started = time.monotonic()
    shell(device, "input swipe 500 1500 500 500 700")
    assert time.monotonic() - started >= 0.7


def test_console_power_reaches_dumpsys_battery(device: RunningEmulator) -> None:
    assert device.console_command("power capacity 42") == []
    device.console_command("power ac off")
    try:
        battery = device.device.battery()
        assert battery.level == 42 and battery.ac_powered is False
    finally:
        device.console_command("power capacity 100")
        device.console_command("power ac on")


def test_network_delay_names_are_the_sdk_emulators(device: RunningEmulator) -> None:
    assert device.console_command("network delay gprs") == []
    assert "minimum latency:  150 ms" in "\n".join(device.console_command("network status"))
    assert device.console_command("network delay gsm")[0].startswith("KO:")
    device.console_command("network delay none")


# --------------------------------------------------------------------------------------------
# Settings, properties, logcat, ip
# --------------------------------------------------------------------------------------------

def test_android_id_wlan_ip_and_a_full_getprop(device: RunningEmulator) -> None:
    assert re.fullmatch(r"[0-9a-f]{16}", shell(device, "settings get secure android_id").strip())
    assert device.device.wlan_ip() == "10.0.2.15"
    props = shell(device, "getprop")
    assert props.count("\n") > 100 and "[init.svc.adbd]: [running]" in props


def test_logcat_options_filter_and_exit(device: RunningEmulator) -> None:
    shell(device, "log -t GapTest 'alpha one'; log -t GapTest 'beta two'")
    matched = device.adb("logcat", "-d", "-s", "GapTest", "-e", "be.a").stdout
    assert "beta two" in matched and "alpha one" not in matched
    assert "chatty" not in device.adb("logcat", "-d", "-b", "main").stdout
    assert "ring buffer is 256 KiB" in device.adb("logcat", "-g", timeout=10).stdout
    assert "Total" in device.adb("logcat", "-S", timeout=10).stdout
    assert "GapTest" not in device.adb("logcat", "-d", "--pid", "1").stdout


def test_adbutils_logcat_reader_stops_on_a_quiet_filter(device: RunningEmulator, tmp_path: Path) -> None:
    reader = device.device.logcat(tmp_path / "log.txt", command="logcat -v time", re_filter="nothing-matches")
    time.sleep(0.1)
    started = time.monotonic()
    reader.stop(timeout=5)  # returns once a line arrives: the device's chatter provides one
    assert time.monotonic() - started < 3
