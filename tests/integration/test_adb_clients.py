"""The issue's client acceptance items, through the real `adb` binary (and adbutils) unmodified.

Each test drives one booted virtual emulator on the worker's private adb server, exactly as a user
at a terminal would: `adb install`, `adb push` then `md5sum` on the device, `adb logcat`, and the
exit status of `adb shell` (shell v2 carries it; shell v1 needs the `echo $?` idiom).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest

from tests.integration.conftest import RunningEmulator

pytestmark = pytest.mark.integration

U2_PACKAGE = "com.github.uiautomator"

# threadtime: "MM-DD HH:MM:SS.mmm  PID  TID P TAG     : message" (logcat's default format)
THREADTIME = re.compile(r"^\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} +\d+ +\d+ [VDIWEF] .+?: ")


def u2_apk() -> Path:
    """uiautomator2's own helper APK, bundled in the installed package: a real, small APK."""
    import uiautomator2

    apk = Path(uiautomator2.__file__).parent / "assets" / "app-uiautomator.apk"
    assert apk.is_file(), f"uiautomator2 no longer bundles {apk}"
    return apk


def packages(emulator: RunningEmulator) -> set[str]:
    out = emulator.adb("shell", "pm list packages").stdout
    return {line.removeprefix("package:").strip() for line in out.splitlines() if line.strip()}


# --------------------------------------------------------------------------------------------
# Install / uninstall
# --------------------------------------------------------------------------------------------

def test_install_lists_then_uninstall_removes_the_package(emulator: RunningEmulator) -> None:
    assert U2_PACKAGE not in packages(emulator)
    installed = emulator.adb("install", str(u2_apk()), timeout=120)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "Success" in installed.stdout
    assert U2_PACKAGE in packages(emulator)
    path = emulator.adb("shell", f"pm path {U2_PACKAGE}").stdout.strip()
    assert path.startswith("package:/data/app/")

    removed = emulator.adb("uninstall", U2_PACKAGE)
    assert (removed.returncode, removed.stdout.strip()) == (0, "Success")
    assert U2_PACKAGE not in packages(emulator)


def test_reinstall_needs_r_and_uninstall_of_unknown_package_fails(emulator: RunningEmulator) -> None:
    apk = str(u2_apk())
    assert emulator.adb("install", apk, timeout=120).returncode == 0
    again = emulator.adb("install", "-r", apk, timeout=120)
    assert again.returncode == 0 and "Success" in again.stdout
    missing = emulator.adb("uninstall", "com.example.not.installed")
    assert missing.returncode != 0
    assert "Failure" in missing.stdout + missing.stderr


# --------------------------------------------------------------------------------------------
# Push, then check on the device
# --------------------------------------------------------------------------------------------

def test_pushed_5mib_file_has_the_same_md5_on_the_device(emulator: RunningEmulator, tmp_path: Path) -> None:
    local = tmp_path / "random.bin"
    local.write_bytes(os.urandom(5 * 1024 * 1024))
    expected = hashlib.md5(local.read_bytes()).hexdigest()
    remote = "/data/local/tmp/random.bin"
    pushed = emulator.adb("push", str(local), remote, timeout=120)
    assert pushed.returncode == 0, pushed.stderr

    for tool in ("md5sum", "toybox md5sum"):
        out = emulator.adb("shell", f"{tool} {remote}").stdout.split()
        assert out == [expected, remote], tool
    size = emulator.adb("shell", f"stat -c %s {remote}").stdout.strip()
    assert size == str(5 * 1024 * 1024)


def test_adbutils_push_and_md5sum_agree(emulator: RunningEmulator, tmp_path: Path) -> None:
    data = os.urandom(300_000)
    remote = "/sdcard/Download/blob.bin"
    emulator.device.sync.push(data, remote)
    assert emulator.device.shell(f"md5sum {remote}").split()[0] == hashlib.md5(data).hexdigest()


# --------------------------------------------------------------------------------------------
# Logcat
# --------------------------------------------------------------------------------------------

def test_logcat_dump_is_threadtime(emulator: RunningEmulator) -> None:
    emulator.adb("shell", "log -t AcceptProbe -p w hello from the test")
    out = emulator.adb("logcat", "-d").stdout
    lines = [line for line in out.splitlines() if line and not line.startswith("---------")]
    assert lines, "logcat -d printed nothing after boot"
    for line in lines:
        assert THREADTIME.match(line), line
    probe = [line for line in lines if "AcceptProbe" in line]
    assert len(probe) == 1 and " W AcceptProbe: hello from the test" in probe[0]


def test_logcat_clear_then_filter_by_tag(emulator: RunningEmulator) -> None:
    assert emulator.adb("logcat", "-c").returncode == 0
    emulator.adb("shell", "log -t KeepMe kept message; log -t DropMe dropped message")
    out = emulator.adb("logcat", "-d", "-s", "KeepMe").stdout
    lines = [line for line in out.splitlines() if line and not line.startswith("---------")]
    assert len(lines) == 1 and lines[0].endswith(" I KeepMe  : kept message"), out
    everything = emulator.adb("logcat", "-d").stdout
    assert "DropMe" in everything
    assert emulator.adb("logcat", "-c").returncode == 0
    after = [line for line in emulator.adb("logcat", "-d").stdout.splitlines()
             if "KeepMe" in line or "DropMe" in line]
    assert after == []


# --------------------------------------------------------------------------------------------
# Exit status through the real binary
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("command", "status"), [("true", 0), ("false", 1), ("exit 3", 3),
                                                  ("sh -c 'exit 42'", 42), ("ls /no/such/dir", 1)])
def test_adb_shell_exit_status_with_shell_v2(emulator: RunningEmulator, command: str, status: int) -> None:
    assert emulator.adb("shell", command).returncode == status


def test_echo_status_idiom_and_shell_v1(emulator: RunningEmulator) -> None:
    assert emulator.adb("shell", "false; echo $?").stdout == "1\n"
    assert emulator.adb("shell", "true; echo $?").stdout == "0\n"
    # `-x` disables shell v2: adb then cannot see the status, as with an old adbd.
    v1 = emulator.adb("shell", "-x", "exit 3")
    assert v1.returncode == 0
    assert emulator.adb("shell", "-x", "exit 3; echo never").stdout == ""
    assert emulator.adb("shell", "-x", "false; echo $?").stdout.strip() == "1"


def test_unknown_command_is_127_with_message_on_stderr(emulator: RunningEmulator) -> None:
    result = emulator.adb("shell", "no-such-tool")
    assert result.returncode == 127
    assert "not found" in result.stderr and result.stdout == ""


def test_adb_binary_pty_shell_and_interactive_input(emulator: RunningEmulator) -> None:
    """`adb shell -tt` gets a real terminal in the device, and the exit status through shell v2."""
    result = emulator.adb("shell", "-tt", "[ -t 0 ] && [ -t 1 ] && echo on-a-tty; exit 3")
    assert result.returncode == 3
    assert "on-a-tty" in result.stdout  # (text mode folds the terminal's \r\n)
