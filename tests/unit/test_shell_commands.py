"""adb shell commands against a VirtualDevice with a small recording firmware.

Every command runs in the device's real userland (mksh and toybox in its bubblewrap sandbox); the
framework tools call back into the device. So these tests check what a phone's shell does, plus the
framework tools' texts and side effects.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uiautomator2  # type: ignore[import-untyped]

from emulators.virtual import shell
from emulators.virtual.device import DeviceConfig, Firmware, Fix, Package, ShellIO, VirtualDevice
from emulators.virtual.ui.view import Screen, View, button, column

U2_ASSETS = Path(uiautomator2.__file__).parent / "assets"


class RecordingFirmware(Firmware):
    """Answers a few hooks and records what the shell asked for."""

    name = "test"

    def __init__(self) -> None:
        self.broadcasts: list[tuple[str, dict[str, str]]] = []
        self.started: list[tuple[str, dict[str, str]]] = []
        self.stopped: list[str] = []
        self.props: list[tuple[str, str]] = []

    def on_broadcast(self, action: str, extras: dict[str, str]) -> None:
        self.broadcasts.append((action, extras))

    def on_prop_changed(self, key: str, value: str) -> None:
        self.props.append((key, value))

    def am_start(self, component: str, extras: dict[str, str]) -> str | None:
        self.started.append((component, extras))
        return None if component.startswith("com.android.provision") else \
            f"Error: Activity class {{{component}}} does not exist."

    def force_stop(self, package: str) -> None:
        self.stopped.append(package)

    def dumpsys(self, service: str, args: list[str]) -> str | None:
        return "Phone Subscriber Info:\n  Device ID (IMEI) slot 0: 356938035643809" \
            if service == "iphonesubinfo" else None

    def cmd(self, service: str, args: list[str]) -> tuple[str, int] | None:
        return ("Time zone set\n", 0) if service == "alarm" else None


@dataclass
class Result:
    status: int
    out: str
    err: str


@dataclass
class Harness:
    device: VirtualDevice
    firmware: RecordingFirmware
    closed: threading.Event = field(default_factory=threading.Event)

    def raw(self, command: str, *, root: bool = False, stdin: bytes = b"", pty: bool = False
            ) -> tuple[int, bytes, bytes]:
        self.device.root = root
        out: list[bytes] = []
        err: list[bytes] = []
        pending = [stdin]

        def read(n: int) -> bytes:
            data = pending[0][:n]
            pending[0] = pending[0][n:]
            return data

        status = shell.run(self.device, command, ShellIO(read, out.append, err.append, self.closed, pty))
        return status, b"".join(out), b"".join(err)

    def __call__(self, command: str, **kwargs: object) -> Result:
        status, out, err = self.raw(command, **kwargs)  # type: ignore[arg-type]
        return Result(status, out.decode(), err.decode())

    def put(self, device_path: str, data: bytes) -> None:
        host = self.device.fs.host_path(device_path)
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_bytes(data)


@pytest.fixture
def sh(tmp_path: Path) -> Harness:
    firmware = RecordingFirmware()
    device = VirtualDevice(DeviceConfig(data_dir=tmp_path), firmware)
    device.boot()
    device.props.set("ro.product.device", "emu64x", notify=False)
    device.props.set("ro.build.type", "userdebug", notify=False)
    firmware.props.clear()
    return Harness(device, firmware)


# --- the shell language --------------------------------------------------------------------------

def test_adbutils_exit_marker_reports_the_status(sh: Harness) -> None:
    assert sh("false; echo X4EXIT:$?").out == "X4EXIT:1\n"
    assert sh("getprop ro.nope; echo X4EXIT:$?").out == "\nX4EXIT:0\n"


def test_and_or_and_unknown_commands(sh: Harness) -> None:
    result = sh("false || echo a; true && echo b; nosuchcmd; echo $?")
    assert result.out == "a\nb\n127\n"
    assert result.err.endswith("/system/bin/sh: nosuchcmd: inaccessible or not found\n")  # mksh's words
    assert sh("nosuchcmd").status == 127


def test_quoting_variables_and_prefix_assignments(sh: Harness) -> None:
    assert sh("X='a  b'; echo $X \"$X\" ${X}").out == "a b a  b a b\n"
    assert sh("A=1 env | grep '^A='").out == "A=1\n"
    assert sh("echo $NOPE.").out == ".\n"


def test_command_substitution_and_exit(sh: Harness) -> None:
    assert sh("echo id=$(id -u)").out == "id=2000\n"
    assert sh("sh -c 'echo in; exit 3'; echo $?").out == "in\n3\n"
    assert sh("exit 4; echo never").status == 4


def test_redirects(sh: Harness) -> None:
    assert sh("echo one > /data/local/tmp/f; echo two >> /data/local/tmp/f; cat /data/local/tmp/f").out \
        == "one\ntwo\n"
    both = sh("(echo out; nosuch) > /data/local/tmp/g 2>&1; cat /data/local/tmp/g")
    assert both.out.startswith("out\n") and both.out.endswith("/system/bin/sh: nosuch: inaccessible or not found\n")
    quiet = sh("ls /nope 2>/dev/null; echo $?")
    assert (quiet.out, quiet.err) == ("1\n", "")
    assert sh("cat </dev/null; echo $?").out == "0\n"
    denied = sh("echo x > /system/x")
    assert denied.status == 1
    assert "/system/x: create: Read-only file system" in denied.err
    assert "/data/x: create: Read-only file system" in sh("echo x > /data/x").err  # shell may not write /data
    assert sh("echo x > /data/x", root=True).status == 0


def test_pipes_into_filters(sh: Harness) -> None:
    assert sh("ps -A | grep -E 'init|zygote' | wc -l").out == "3\n"
    assert sh("printenv | head -n 2 | wc -l").out == "2\n"
    assert sh("echo 'a:b:c' | cut -d : -f 2").out == "b\n"
    assert sh("getprop | grep -c boot_completed").out == "1\n"
    assert sh("echo a | grep -q b").status == 1


def test_globs_expand_in_the_last_component(sh: Harness) -> None:
    sh.put("/data/local/tmp/a.jar", b"1")
    sh.put("/data/local/tmp/b.jar", b"2")
    assert sh("ls /data/local/tmp/*.jar").out == "/data/local/tmp/a.jar\n/data/local/tmp/b.jar\n"
    assert sh("echo '/x/*.jar'").out == "/x/*.jar\n"


def test_syntax_error_is_reported_not_raised(sh: Harness) -> None:
    result = sh("echo 'open")
    assert result.status == 1
    assert "/system/bin/sh: no closing quote" in result.err


@pytest.mark.parametrize("command", ["f() { echo a; }; f", "echo a(b", "echo $((1+", "case x in", "((("])
def test_shapes_that_hung_the_old_interpreter_finish(sh: Harness, command: str) -> None:
    started = time.monotonic()
    sh(command)
    assert time.monotonic() - started < 2


def test_the_whole_shell_language(sh: Harness) -> None:
    script = ('f() { echo "f:$1"; }; f a; for i in 1 2 3; do printf %s $i; done; echo; '
              'i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo $i; '
              'case ab in a*) echo star;; esac; if false; then :; else echo else; fi; '
              'echo ${NOPE:-dflt} $(( 6 * 7 )); x=$(getprop ro.product.device); echo "$x" | sed s/emu/EMU/')
    assert sh(script).out == "f:a\n123\n3\nstar\nelse\ndflt 42\nEMU64x\n"


def test_toybox_tools(sh: Harness) -> None:
    script = ("printf 'b\\na\\nb\\n' | sort | uniq -c | awk '{print $2\"=\"$1}' 2>/dev/null || "
              "printf 'b\\na\\nb\\n' | sort | uniq | xargs echo")
    assert sh(script).out in ("a=1\nb=2\n", "a b\n")
    assert sh("echo aGk= | base64 -d; echo; printf abcdef | head -c 3; echo; seq 3 | sed -n 2p").out == "hi\nabc\n2\n"
    assert sh("find /data/local -name tmp").out == "/data/local/tmp\n"



def test_interactive_session_with_pty_prompts_and_echoes(sh: Harness) -> None:
    status, out, _ = sh.raw("", stdin=b"echo hi\rexit 5\r", pty=True)
    assert status == 5
    assert b"emu64x:/ $ " in out  # mkshrc's prompt
    assert b"\r\nhi\r\n" in out  # the terminal's own echo and onlcr
    status, out, _ = sh.raw("", stdin=b"echo a\nwhoami\n", root=True)
    assert (status, out) == (0, b"a\nroot\n")


def test_one_sandbox_per_device_not_per_command(sh: Harness) -> None:
    """A shell is a fork in the running sandbox: far cheaper than starting the sandbox, which only
    the first shell (or one after adb root) pays. Compared on the same machine at the same moment,
    so load inflates both alike (bench/bench_emulator.py has the absolute figures)."""
    from emulators.virtual.sandbox.userland import userland_for

    cold = []
    for _ in range(3):
        userland_for(sh.device).stop()
        started = time.perf_counter()
        sh("getprop ro.product.device; echo X4EXIT:$?")
        cold.append(time.perf_counter() - started)
    warm = []
    for _ in range(30):
        started = time.perf_counter()
        sh("getprop ro.product.device; echo X4EXIT:$?")
        warm.append(time.perf_counter() - started)
    assert sorted(warm)[len(warm) // 2] * 4 < min(cold)


# --- properties and settings -----------------------------------------------------------------------

def test_getprop_formats(sh: Harness) -> None:
    listing = sh("getprop").out.splitlines()
    assert "[ro.product.device]: [emu64x]" in listing
    keys = [line.split("]", 1)[0] for line in listing]
    assert keys == sorted(keys)  # sorted by property name, as getprop lists them
    assert sh("getprop ro.product.device").out == "emu64x\n"
    assert sh("getprop ro.missing fallback").out == "fallback\n"


@pytest.mark.parametrize(("key", "root", "ok"), [
    ("debug.x", False, True), ("log.tag.Foo", False, True), ("persist.log.tag", False, True),
    ("vendor.debug.y", False, True), ("persist.sys.locale", False, False),
    ("gsm.sim.operator.numeric", False, False), ("gsm.sim.operator.numeric", True, True),
    ("ro.new.thing", False, False), ("ro.new.thing", True, True), ("ro.product.device", True, False),
])
def test_setprop_permissions(sh: Harness, key: str, root: bool, ok: bool) -> None:
    result = sh(f"setprop {key} v1", root=root)
    assert (result.status == 0) == ok
    if ok:
        assert sh.device.props.get(key) == "v1"
    else:
        assert result.err == f"Failed to set property '{key}' to 'v1'.\nSee dmesg for error reason.\n"


def test_setprop_notifies_the_firmware(sh: Harness) -> None:
    sh("setprop ctl.restart zygote", root=True)
    assert sh.firmware.props == [("ctl.restart", "zygote")]


def test_settings(sh: Harness) -> None:
    assert sh("settings get secure nope").out == "null\n"
    sh("settings put --user 0 secure location_mode 0")
    assert sh("settings get secure location_mode").out == "0\n"
    assert "location_mode=0\n" in sh("settings list secure").out
    assert sh("settings delete secure location_mode").out == "Deleted 1 rows\n"
    assert sh("settings get bogus x").status == 255


# --- packages, activities, broadcasts ------------------------------------------------------------

def test_pm_install_reads_the_package_from_the_manifest(sh: Harness) -> None:
    sh.put("/data/local/tmp/app.apk", (U2_ASSETS / "app-uiautomator.apk").read_bytes())
    result = sh("pm install -r -t /data/local/tmp/app.apk")
    assert (result.status, result.out) == (0, "Success\n")
    assert "com.github.uiautomator" in sh.device.packages
    assert sh("pm list packages -3").out == "package:com.github.uiautomator\n"
    path = sh("pm path com.github.uiautomator").out
    assert path.startswith("package:/data/app/") and path.endswith("/base.apk\n")
    assert sh("pm list packages -f -3").out == f"{path.strip()}=com.github.uiautomator\n"
    assert sh("pm clear com.github.uiautomator").out == "Success\n"
    assert sh("pm uninstall com.github.uiautomator").out == "Success\n"
    assert "com.github.uiautomator" not in sh("pm list packages").out
    assert "package:com.android.shell\n" in sh("pm list packages -s").out


def test_pm_install_rejects_a_non_apk(sh: Harness) -> None:
    sh.put("/data/local/tmp/bad.apk", b"not a zip")
    result = sh("pm install /data/local/tmp/bad.apk")
    assert result.status == 1
    assert result.out.startswith("Failure [INSTALL_PARSE_FAILED_NOT_APK")


def test_am_start_and_force_stop_reach_the_firmware(sh: Harness) -> None:
    result = sh("am start -W -n com.android.provision/.SetupWizardActivity --es mode fresh")
    assert result.out.startswith("Starting: Intent { cmp=com.android.provision/.SetupWizardActivity }\n")
    assert "Status: ok" in result.out
    assert sh.firmware.started == [("com.android.provision/.SetupWizardActivity", {"mode": "fresh"})]
    failed = sh("am start -n x.y/.Z")
    assert failed.status == 1 and "does not exist" in failed.err
    sh("am force-stop com.example")
    assert sh.firmware.stopped == ["com.example"]


def test_am_broadcast(sh: Harness) -> None:
    result = sh("am broadcast -a android.intent.action.AIRPLANE_MODE --ez state true --ei n 1")
    assert result.out == ("Broadcasting: Intent { act=android.intent.action.AIRPLANE_MODE flg=0x400000 }\n"
                          "Broadcast completed: result=0\n")
    assert sh.firmware.broadcasts == [("android.intent.action.AIRPLANE_MODE", {"state": "true", "n": "1"})]


def test_factory_reset_broadcast_needs_root(sh: Harness) -> None:
    denied = sh("am broadcast -a android.intent.action.FACTORY_RESET")
    assert denied.status == 255 and "Permission Denial" in denied.err
    assert sh.firmware.broadcasts == []
    assert sh("am broadcast -a android.intent.action.FACTORY_RESET", root=True).status == 0
    assert sh.firmware.broadcasts == [("android.intent.action.FACTORY_RESET", {})]


# --- dumpsys and cmd ---------------------------------------------------------------------------------

def test_dumpsys_defaults_and_firmware_override(sh: Harness) -> None:
    assert "AC powered: true" in sh("dumpsys battery").out
    assert "Device ID (IMEI) slot 0: 356938035643809" in sh("dumpsys iphonesubinfo").out
    missing = sh("dumpsys nosuch")
    assert missing.err == "Can't find service: nosuch\n"


def test_dumpsys_window_and_activity_name_the_top_screen(sh: Harness) -> None:
    sh.device.screens.append(Screen("com.android.launcher3/.Launcher", column("com.android.launcher3", [])))
    window = sh("dumpsys window windows").out
    assert "mCurrentFocus=Window{8f2d1c4 u0 com.android.launcher3/com.android.launcher3.Launcher}" in window
    assert "mResumedActivity: ActivityRecord{5d2e0f1 u0 com.android.launcher3/.Launcher t12}" \
        in sh("dumpsys activity activities").out
    pid = sh("pidof com.android.launcher3").out.strip()
    assert f"ACTIVITY com.android.launcher3/.Launcher 5d2e0f1 pid={pid}\n" in sh("dumpsys activity top").out


def test_mock_location_needs_the_app_op(sh: Harness) -> None:
    denied = sh("cmd location providers add-test-provider gps")
    assert denied.status == 255 and "SecurityException" in denied.err
    script = ("appops set com.android.shell android:mock_location allow && "
              "cmd location providers add-test-provider gps && "
              "cmd location providers set-test-provider-enabled gps true && "
              "cmd location providers set-test-provider-location gps --location 23.1136,-82.3666")
    assert sh(script).status == 0
    fix = sh.device.location.last_fix["gps"]
    assert (fix.latitude, fix.longitude, fix.mock) == (23.1136, -82.3666, True)
    assert "last location=Location[gps 23.113600,-82.366600 hAcc=5.0" in sh("dumpsys location").out
    assert sh("appops get com.android.shell android:mock_location").out == "MOCK_LOCATION: allow\n"
    assert sh("cmd location providers remove-test-provider gps").status == 0


def test_location_master_switch(sh: Harness) -> None:
    sh("cmd location set-location-enabled false")
    assert sh.device.settings.get("secure", "location_mode") == "0"
    assert sh("cmd location is-location-enabled").out == "false\n"
    assert "Location Enabled: false" in sh("dumpsys location").out
    sh.device.set_fix("gps", Fix(1.5, 2.5))
    assert "Location[gps 1.500000,2.500000" in sh("dumpsys location").out


def test_cmd_goes_to_the_firmware_or_fails(sh: Harness) -> None:
    assert sh("cmd alarm set-timezone America/Havana").out == "Time zone set\n"
    missing = sh("cmd nosuch x")
    assert (missing.status, missing.err) == (20, "cmd: Can't find service: nosuch\n")


def test_svc_falls_back_to_settings(sh: Harness) -> None:
    sh("svc wifi disable; svc data enable")
    assert sh.device.settings.get("global", "wifi_on") == "0"
    assert sh.device.settings.get("global", "mobile_data") == "1"


# --- files ---------------------------------------------------------------------------------------------

def test_md5sum_as_uiautomator2_checks_its_jar(sh: Harness) -> None:
    jar = (U2_ASSETS / "u2.jar").read_bytes()
    sh.put("/data/local/tmp/u2.jar", jar)
    assert sh("toybox md5sum /data/local/tmp/u2.jar").out == \
        f"{hashlib.md5(jar).hexdigest()}  /data/local/tmp/u2.jar\n"
    missing = sh("md5sum /data/local/tmp/none")
    assert (missing.status, missing.err) == (1, "md5sum: /data/local/tmp/none: No such file or directory\n")


@pytest.mark.parametrize("tool", ["cat"])
def test_file_tools_refuse_a_directory_and_go_on(sh: Harness, tool: str) -> None:
    sh.put("/data/local/tmp/a", b"x")
    result = sh(f"{tool} /data/local/tmp /data/local/tmp/a")
    assert result.status == 1
    assert result.err == f"{tool.split()[-1]}: /data/local/tmp: Is a directory\n"
    assert result.out in ("x", f"{hashlib.md5(b'x').hexdigest()}  /data/local/tmp/a\n")


def test_file_commands(sh: Harness) -> None:
    script = ("mkdir -p /sdcard/d/e && touch /sdcard/d/f && cp /sdcard/d/f /sdcard/d/g && "
              "mv /sdcard/d/g /sdcard/d/h && chmod 666 /sdcard/d/h && ls /sdcard/d")
    assert sh(script).out == "e\nf\nh\n"
    long = sh("ls -l /sdcard/d/h").out
    assert long.startswith("-rw-rw-rw- 1 ") and long.endswith(" 0 " + long.split(" 0 ")[1])
    assert sh("rm /sdcard/d").status == 1
    assert sh("rm -rf /sdcard/d; test -e /sdcard/d; echo $?").out == "1\n"
    assert sh("[ -d /sdcard ] && echo dir").out == "dir\n"
    assert "Read-only file system" in sh("mkdir /data/secret").err


def test_identity_and_system_tools(sh: Harness) -> None:
    assert sh("whoami").out == "shell\n"
    assert sh("id").out.startswith("uid=2000(shell)")
    assert sh("id", root=True).out.startswith("uid=0(root)")
    assert sh("wm size; wm density").out == "Physical size: 1080x1920\nPhysical density: 420\n"
    assert sh("getenforce").out == "Enforcing\n"
    assert sh("echo -n a; echo -e 'b\\tc'").out == "ab\tc\n"


def test_ps_shows_the_device_processes_as_android_does(sh: Harness) -> None:
    lines = sh("ps -A").out.splitlines()
    assert lines[0].split() == ["USER", "PID", "PPID", "VSZ", "RSS", "WCHAN", "ADDR", "S", "NAME"]
    assert lines[1].split()[1] == "1" and lines[1].split()[-1] == "init"
    names = [line.split()[-1] for line in lines]
    assert {"zygote64", "system_server", "adbd", "ps"} <= set(names)
    assert sh("ps -A | grep -E 'init|zygote' | wc -l").out.strip() == "3"


def test_a_started_activity_runs_as_a_process(sh: Harness) -> None:
    sh("true")  # the userland is up
    sh.device.screens.append(Screen("com.example/.Main", column("com.example", [])))
    sh.device.notify_ui()
    pid = sh("pidof com.example").out.strip()
    assert pid.isdigit()
    assert sh(f"ps -A | grep ' {pid} '").out.split()[-1] == "com.example"
    sh.device.screens.pop()  # what force-stop does to the app's activity on a phone
    sh("am force-stop com.example")
    assert sh("pidof com.example").status == 1


def test_kill_stops_a_device_process(sh: Harness) -> None:
    pid = sh("pidof logd").out.strip()
    assert sh(f"kill -9 {pid}; sleep 0.1; pidof logd").status == 1
    assert "No such process" in sh("kill 99999").err


def test_date_reads_and_sets_the_device_clock(sh: Harness) -> None:
    assert abs(int(sh("date +%s").out) - time.time()) < 5
    denied = sh("date 112508002026.30")
    assert (denied.status, denied.err) == (1, "date: cannot set date: Operation not permitted\n")
    assert sh("date 112508002026.30", root=True).out == "Wed Nov 25 08:00:30 UTC 2026\n"
    assert abs(sh.device.clock.now() - 1795593630) < 5
    sh("date @1700000000", root=True)
    assert sh("date -u +%Y-%m-%d").out == "2023-11-14\n"
    sh.device.props.set("persist.sys.timezone", "America/Havana")
    assert sh("date +%Z").out == "CST\n"  # Cuba Standard Time


def test_sleep_is_interrupted_by_a_closed_stream(sh: Harness) -> None:
    sh.closed.set()
    started = time.monotonic()
    sh("sleep 30")
    assert time.monotonic() - started < 1


# --- logcat ------------------------------------------------------------------------------------------

def test_logcat_dump_formats_and_filters(sh: Harness) -> None:
    sh.device.clock.set(1795593630.25)
    sh.device.log.log("I", "Activation", "state=pending", pid=1234)
    sh.device.log.log("W", "RegionLock", "locked: CU", pid=1234)
    threadtime = sh("logcat -d").out.splitlines()
    assert threadtime[0] == "--------- beginning of main"
    assert threadtime[-1] == "11-25 08:00:30.250  1234  1234 W RegionLock: locked: CU"
    assert sh("logcat -d -v time -s Activation").out.splitlines()[1] == \
        "11-25 08:00:30.250 I/Activation( 1234): state=pending"
    assert sh("logcat -d -v brief RegionLock:W *:S").out.splitlines()[1:] == ["W/RegionLock( 1234): locked: CU"]
    assert len(sh("logcat -d -t 1").out.splitlines()) == 2
    sh("logcat -c")
    assert sh("logcat -d").out == ""


def test_logcat_streams_until_closed(sh: Harness) -> None:
    result: list[tuple[int, bytes, bytes]] = []
    worker = threading.Thread(target=lambda: result.append(sh.raw("logcat -v brief -s Tag")))
    worker.start()
    time.sleep(0.1)
    sh.device.log.log("I", "Tag", "live line")
    time.sleep(0.4)
    sh.closed.set()
    worker.join(timeout=3)
    assert not worker.is_alive()
    assert b"I/Tag     ( 1000): live line\n" in result[0][1]


def test_logcat_piped_into_grep_stops_with_the_stream(sh: Harness) -> None:
    result: list[Result] = []
    worker = threading.Thread(target=lambda: result.append(sh("logcat | grep -m 1 needle")))
    worker.start()
    time.sleep(0.1)
    sh.device.log.i("X", "hay")
    sh.device.log.i("X", "a needle here")
    worker.join(timeout=3)
    assert not worker.is_alive()
    assert result[0].out.endswith("a needle here\n")


# --- UI tools -----------------------------------------------------------------------------------------

def _clickable_screen(sh: Harness) -> list[str]:
    clicks: list[str] = []
    root = column("com.example", [button("Go", "com.example:id/go", lambda: clicks.append("go"))])
    sh.device.screens.append(Screen("com.example/.Main", root))
    return clicks


def test_input_tap_and_keyevent(sh: Harness) -> None:
    clicks = _clickable_screen(sh)
    go = sh.device.screens[-1].find("com.example:id/go")
    assert go is not None
    x, y = go.center
    assert sh(f"input tap {x} {y}").status == 0
    assert clicks == ["go"]
    assert sh("input keyevent KEYCODE_HOME").status == 0
    bad = sh("input keyevent NOT_A_KEY")
    assert bad.status == 1 and "Unknown keycode" in bad.err


def test_screencap_png_and_raw(sh: Harness) -> None:
    _clickable_screen(sh)
    status, png, _ = sh.raw("screencap -p")
    assert status == 0 and png.startswith(b"\x89PNG")
    _, raw, _ = sh.raw("screencap")
    width, height, fmt = struct.unpack_from("<III", raw)
    assert (width, height, fmt) == (1080, 1920, 1)
    assert sh("screencap -p /sdcard/s.png").status == 0
    assert sh.device.fs.host_path("/sdcard/s.png").read_bytes().startswith(b"\x89PNG")


def test_uiautomator_dump(sh: Harness) -> None:
    _clickable_screen(sh)
    assert sh("uiautomator dump").out == "UI hierchary dumped to: /sdcard/window_dump.xml\n"
    xml = sh.device.fs.host_path("/sdcard/window_dump.xml").read_text()
    assert "com.example:id/go" in xml


def test_app_process_runs_the_u2_server_until_closed(sh: Harness) -> None:
    command = "CLASSPATH=/data/local/tmp/u2.jar app_process / com.wetest.uia2.Main -p 9008"
    missing = sh(command)
    assert missing.status == 1 and "com.wetest.uia2.Main" in missing.err
    sh.put("/data/local/tmp/u2.jar", (U2_ASSETS / "u2.jar").read_bytes())
    result: list[Result] = []
    worker = threading.Thread(target=lambda: result.append(sh(command)))
    worker.start()
    deadline = time.monotonic() + 5
    while 9008 not in sh.device.tcp_servers and time.monotonic() < deadline:
        time.sleep(0.02)
    assert 9008 in sh.device.tcp_servers
    assert "app_process" in sh("ps -A").out.split()  # the u2 server, as uiautomator2 looks for it
    sh.closed.set()
    worker.join(timeout=5)
    assert not worker.is_alive()
    sh.closed.clear()
    while 9008 in sh.device.tcp_servers and time.monotonic() < deadline + 5:
        time.sleep(0.02)  # the hang-up reaches the server as it would a phone's: asynchronously
    assert 9008 not in sh.device.tcp_servers
    assert sh("app_process / com.example.Other").status == 1


def test_reboot_runs_in_the_background(sh: Harness) -> None:
    booted_again = threading.Event()
    sh.device.on_reboot.append(booted_again.set)
    assert sh("reboot").status == 0
    assert booted_again.wait(3)


def test_a_crashing_command_becomes_an_error_status(sh: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(_: object) -> int:
        raise RuntimeError("bug")

    monkeypatch.setitem(shell.COMMANDS, "boom", boom)
    result = sh("boom; echo after")
    assert result.out == "after\n"
    assert result.err == "boom: RuntimeError: bug\n"



def test_printf(sh: Harness) -> None:
    assert sh("printf '%s=%d\\n' a 1 b 2").out == "a=1\nb=2\n"
    assert sh("printf '100%%'").out == "100%"


def test_uiautomator2_send_keys_through_adb_keyboard(sh: Harness) -> None:
    typed: list[str] = []
    field = View(cls="android.widget.EditText", resource_id="com.example:id/name", focused=True,
                 clickable=True, style="edit", on_text=typed.append)
    sh.device.screens.append(Screen("com.example/.Main", column("com.example", [field])))
    ime_id = "com.github.uiautomator/.AdbKeyboard"
    assert ime_id not in sh("ime list -s -a").out
    sh.put("/data/local/tmp/app.apk", (U2_ASSETS / "app-uiautomator.apk").read_bytes())
    sh("pm install -r -t /data/local/tmp/app.apk")
    assert sh("ime list -s -a").out.splitlines()[-1] == ime_id
    assert sh(f"ime enable {ime_id}").out == f"Input method {ime_id}: now enabled for user #0\n"
    assert sh(f"ime set {ime_id}").out == f"Input method {ime_id} selected for user #0\n"
    assert sh("settings get secure default_input_method").out == f"{ime_id}\n"
    text = base64.b64encode("Café 1".encode()).decode()
    result = sh(f"am broadcast -a ADB_KEYBOARD_INPUT_TEXT --es text {text}")
    assert 'result=-1, data="success"' in result.out
    assert typed == ["Café 1"]
    sh(f"ime disable {ime_id}")
    assert "result=0" in sh("am broadcast -a ADB_KEYBOARD_HIDE").out


def test_streamed_install_and_cmd_aliases(sh: Harness) -> None:
    apk = (U2_ASSETS / "app-uiautomator.apk").read_bytes()
    status, out, _ = sh.raw(f"cmd package 'install' -S {len(apk)}", stdin=apk)
    assert (status, out) == (0, b"Success\n")
    assert sh("cmd package list packages uiautomator").out == "package:com.github.uiautomator\n"
    assert sh("cmd settings get global nope").out == "null\n"


def test_monkey_launches_a_package_through_the_firmware(sh: Harness) -> None:
    sh.device.install_package(Package("com.android.provision", "/system/app/Provision/Provision.apk",
                                      system=True))
    result = sh("monkey -p com.android.provision -c android.intent.category.LAUNCHER 1")
    assert result.status == 0 and "Events injected: 1" in result.out
    assert sh.firmware.started[-1] == ("com.android.provision", {})
    assert sh("monkey -p com.nope -c android.intent.category.LAUNCHER 1").status == 252  # firmware refused


def test_an_interactive_session_reads_lines_until_exit(sh: Harness) -> None:
    status, out, _ = sh.raw("", stdin=b"whoami\ncd /data/local/tmp\npwd\nexit 2\nwhoami\n")
    assert (status, out) == (2, b"shell\n/data/local/tmp\n")


def test_nohup_and_exec_run_the_rest_of_the_line(sh: Harness) -> None:
    assert sh("nohup echo a; exec sh -c 'exit 6'; echo never") == Result(6, "a\n", "")


def test_logcat_options_parse() -> None:
    from emulators.virtual.shell.logcat import parse_args

    opts = parse_args(["-b", "main,radio", "-bsystem", "-e", "x.y", "--pid=42", "-f", "/sdcard/l.txt", "-g"])
    assert opts.buffers == ("main", "radio", "system") and opts.pid == 42 and opts.sizes
    assert opts.regex is not None and opts.regex.pattern == "x.y" and opts.file == "/sdcard/l.txt"
    assert parse_args(["-b", "all"]).buffers == ("main", "system", "radio", "events", "crash", "kernel")


def test_without_namespaces_the_shell_refuses_with_the_reason(sh: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """bwrap fails where user namespaces are off: no shell runs at all, and the client is told why."""
    from emulators.virtual import sandbox
    from emulators.virtual.sandbox.userland import userland_for

    real_tool = sandbox._tool
    fake = sh.device.fs.root / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox, "_tool", lambda name: fake if name == "bwrap" else real_tool(name))
    userland_for(sh.device).stop()
    started = time.monotonic()
    result = sh("echo never")
    assert (result.status, result.out) == (1, "")
    assert "userland is unavailable" in result.err and "No permissions to create new namespace" in result.err
    assert time.monotonic() - started < 5


def test_a_replaced_data_folder_gets_a_fresh_sandbox(sh: Harness) -> None:
    """A snapshot load or wipe replaces /data on the host; the shell must see the new one."""
    import shutil

    assert sh("echo old > /data/local/tmp/f; cat /data/local/tmp/f").out == "old\n"
    shutil.rmtree(sh.device.fs.host_path("/data"))
    sh.put("/data/local/tmp/f", b"restored\n")
    assert sh("cat /data/local/tmp/f").out == "restored\n"


def test_system_services_answer_from_the_moment_boot_completed_reads_1(sh: Harness) -> None:
    # a booting device: the shell and properties answer, the package manager is not up yet
    sh.device.props.set("sys.boot_completed", "", notify=False)
    sh.device.booted.clear()
    assert (sh("pm list packages").status, sh("pm list packages").err) == (20, "cmd: Can't find service: package\n")
    assert sh("dumpsys location").err == "Can't find service: location\n"
    assert sh("getprop ro.product.device").out == "emu64x\n"
    # whoever reads sys.boot_completed=1 finds them up, even before the device's own booted event
    sh.device.props.set("sys.boot_completed", "1", notify=False)
    assert sh("pm list packages").status == 0
