"""The device's userland as a user types at it: everyday tools, screenrecord, app processes.

One emulator (built-in firmware) serves the whole module through the real adb binary and adbutils.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from tests.integration.conftest import AdbServer, EmulatorFactory, RunningEmulator, VirtualHome

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def device(adb_server: AdbServer, virtual_home: VirtualHome,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    factory = EmulatorFactory(adb_server, virtual_home, tmp_path_factory.mktemp("userland"))
    try:
        yield factory.start()
    finally:
        factory.stop_all()


# What issue 8 names (sed, awk, find, sort, tr, xargs, pidof, base64, head -c, ...), each as typed
# into `adb shell`, with what Android prints.
EVERYDAY = [
    ("echo 'b a' | sed 's/a/z/'", "b z\n"),
    ("echo 'x 1 y' | awk '{ print $2 + 41 }'", "42\n"),
    ("awk 'BEGIN { printf \"%s-%d\\n\", \"v\", 3 }'", "v-3\n"),
    ("awk --version", "awk version 20220912\n"),
    ("printf 'b\\na\\nc\\n' | sort -r", "c\nb\na\n"),
    ("echo hello | tr a-z A-Z", "HELLO\n"),
    ("echo 'a:b:c' | tr -d :", "abc\n"),
    ("echo '1 2 3' | tr -s ' ' '\\n' | xargs -n 1 echo n", "n 1\nn 2\nn 3\n"),
    ("find /system/bin -name sh", "/system/bin/sh\n"),
    ("printf hi | base64", "aGk=\n"),
    ("printf aGk= | base64 -d", "hi"),
    ("echo abcdef | head -c 3", "abc"),
    ("expr 6 \\* 7", "42\n"),
    ("printf abc | dd bs=1 count=2 2>/dev/null", "ab"),
    ("pidof system_server >/dev/null && echo yes", "yes\n"),
    ("cd /data/local/tmp; echo a > d1; echo b > d2; diff d1 d2 >/dev/null; echo $?", "1\n"),
    ("echo x | gzip | gzip -d", "x\n"),
    ("seq 3 | awk '{ s += $1 } END { print s }'", "6\n"),
]


@pytest.mark.parametrize(("command", "expected"), EVERYDAY, ids=[c for c, _ in EVERYDAY])
def test_everyday_tools_work_in_adb_shell(device: RunningEmulator, command: str, expected: str) -> None:
    result = device.device.shell2(command)
    assert (result.output, result.returncode) == (expected, 0)


def test_busybox_is_not_on_the_path_and_awk_is_one_true_awk(device: RunningEmulator) -> None:
    assert device.device.shell2("which busybox").returncode != 0
    assert device.device.shell2("which awk tr").output.split() == ["/system/bin/awk", "/system/bin/tr"]


# --------------------------------------------------------------------------------------------
# screenrecord
# --------------------------------------------------------------------------------------------

def _video(path: Path) -> tuple[str, int, int, int, float]:
    """codec, width, height, frames decoded, duration in seconds (from the file's own index)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        duration = float(stream.duration * stream.time_base) if stream.duration else 0.0
        return stream.codec_context.name, stream.width, stream.height, frames, duration


def test_adbutils_start_and_stop_recording_pulls_a_playable_mp4(device: RunningEmulator, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    adb = device.device  # the recorder lives on this AdbDevice object
    adb.start_recording(str(out))  # screenrecord FILE & ... kill -INT $PID; wait
    # the encoder starts a while after start_recording returns (on a loaded machine up to a second or
    # more), and the video lasts from then on: a window of 2.5 s leaves room for that above the 0.8 s
    time.sleep(2.0)
    adb.keyevent("HOME")
    time.sleep(0.5)
    adb.stop_recording()
    codec, width, height, frames, duration = _video(out)
    size = adb.window_size()
    assert (codec, width, height) == ("h264", size.width, size.height)
    assert frames >= 2 and 0.8 <= duration <= 5.0


def test_time_limit_size_and_options(device: RunningEmulator, tmp_path: Path) -> None:
    began = time.monotonic()
    result = device.device.shell2("screenrecord --time-limit 1 --size 360x640 --bit-rate 4M --bugreport "
                                  "--verbose /sdcard/limit.mp4; echo status=$?")
    took = time.monotonic() - began
    assert result.output.endswith("status=0\n") and "360x640 video/avc at 4.00Mbps" in result.output
    assert 0.9 <= took <= 4.0
    device.device.sync.pull("/sdcard/limit.mp4", str(tmp_path / "limit.mp4"))
    codec, width, height, frames, duration = _video(tmp_path / "limit.mp4")
    assert (codec, width, height) == ("h264", 360, 640) and frames >= 2 and 0.8 <= duration <= 1.5


@pytest.mark.parametrize(("command", "output"), [
    ("screenrecord", "Must specify output file (see --help).\n"),
    ("screenrecord --time-limit 500 /sdcard/x.mp4", "Time limit 500s outside acceptable range [1,180]\n"),
    ("screenrecord --size 12 /sdcard/x.mp4", "Invalid size '12', must be width x height\n"),
    ("screenrecord /system/x.mp4", "Unable to open '/system/x.mp4': Read-only file system\n"),
])
def test_screenrecord_refuses_bad_input(device: RunningEmulator, command: str, output: str) -> None:
    result = device.device.shell2(command)
    assert result.returncode != 0 and result.output == output


def test_a_tool_that_catches_no_signal_dies_by_it_even_in_the_background(device: RunningEmulator) -> None:
    # logcat keeps the default action: SIGINT ends it (its `&` job had SIGINT ignored by the shell:
    # still ignored), SIGTERM ends it
    result = device.device.shell2("logcat & p=$!; sleep 0.2; kill -INT $p; sleep 0.2; kill -0 $p && echo alive; "
                                  "kill -TERM $p; wait $p; echo status=$?")
    assert "\nalive\n" in result.output and result.output.endswith("status=143\n")


# --------------------------------------------------------------------------------------------
# app processes
# --------------------------------------------------------------------------------------------

def test_app_current_and_dumpsys_activity_top_give_the_apps_real_pid(device: RunningEmulator) -> None:
    import uiautomator2

    adb = device.device
    adb.shell("am start -n com.android.settings/.Settings")
    top = adb.shell("dumpsys activity top")
    pid = int(adb.shell("pidof com.android.settings").strip())
    assert top.endswith(f"ACTIVITY com.android.settings/.Settings 5d2e0f1 pid={pid}")
    # adbutils reads mCurrentFocus first, which names no pid: 0 there, as on a phone
    assert (adb.app_current().package, adb.app_current().activity) == ("com.android.settings",
                                                                        "com.android.settings.Settings")
    d = uiautomator2.connect(adb)
    began = time.monotonic()
    d.app_start("com.android.settings", wait=True)
    assert time.monotonic() - began < 3.0
    assert d.app_wait("com.android.settings", timeout=2, front=True) == pid
    adb.shell("am force-stop com.android.settings")
    adb.shell("input keyevent HOME")


# --------------------------------------------------------------------------------------------
# landscape
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rotation", [1, 3])
def test_in_landscape_screenshot_dump_and_touch_agree(device: RunningEmulator, rotation: int) -> None:
    import re

    import uiautomator2
    from PIL import Image

    adb = device.device
    adb.shell("input keyevent HOME")
    adb.shell(f"settings put system accelerometer_rotation 0; settings put system user_rotation {rotation}")
    try:
        d = uiautomator2.connect(adb)
        assert d.window_size() == (1920, 1080) and d.screenshot().size == (1920, 1080)
        assert Image.open(__import__("io").BytesIO(adb.shell("screencap -p", encoding=None))).size == (1920, 1080)
        xml = d.dump_hierarchy()
        assert f'<hierarchy rotation="{rotation}">' in xml
        found = re.search(r'text="Settings"[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"', xml)
        assert found is not None
        left, top, right, bottom = map(int, found.groups())
        assert 0 <= left < right <= 1920 and 0 <= top < bottom <= 1080
        assert d(text="Settings").info["bounds"] == {"left": left, "top": top, "right": right, "bottom": bottom}
        # a relative click where the landscape dump shows the icon opens it
        d.click((left + right) / 2 / 1920, (top + bottom) / 2 / 1080)
        assert d.app_current()["package"] == "com.android.settings"
    finally:
        adb.shell("settings put system user_rotation 0")
        adb.shell("am force-stop com.android.settings; input keyevent HOME")
