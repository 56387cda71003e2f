"""The emulator console over TCP on a running virtual emulator, and through `adb emu`."""

from __future__ import annotations

import socket

from tests.integration.conftest import RunningEmulator, VirtualHome
from tests.support import ConsoleClient, wait_until


def gps_line(emulator: RunningEmulator) -> str:
    text = emulator.device.shell("dumpsys location")
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.strip() == "gps provider:":
            following = lines[index + 1:index + 3]
            return next((l for l in following if "last location=" in l), "")
    return ""


def test_banner_asks_for_auth_and_names_the_token_file(emulator: RunningEmulator,
                                                        virtual_home: VirtualHome) -> None:
    with emulator.console(authenticate=False) as console:
        assert console.banner == [
            "Android Console: Authentication required",
            "Android Console: type 'auth <auth_token>' to authenticate",
            "Android Console: you can find your <auth_token> in ",
            f"'{virtual_home.token_file}'",
        ]
        assert console.command("geo fix 1 2") == ["KO: unknown command, try 'help'"]
        assert console.command("auth wrongtoken000000") == [
            "KO: authentication token does not match ~/.emulator_console_auth_token"]
        assert console.command(f"auth {virtual_home.token}") == [
            "Android Console: type 'help' for a list of commands"]
        assert console.command("ping") == ["I am alive!"]


def test_raw_bytes_end_with_crlf(emulator: RunningEmulator) -> None:
    with socket.create_connection(("127.0.0.1", emulator.console_port), timeout=5) as sock:
        data = b""
        while not data.endswith(b"OK\r\n"):
            data += sock.recv(4096)
        assert data.startswith(b"Android Console: Authentication required\r\n")
        sock.sendall(b"ping\r\n")
        reply = b""
        while not reply.endswith(b"OK\r\n"):
            reply += sock.recv(4096)
        assert reply == b"I am alive!\r\nOK\r\n"


def test_empty_token_file_disables_auth(emulator: RunningEmulator, virtual_home: VirtualHome) -> None:
    original = virtual_home.token_file.read_text()
    try:
        virtual_home.token_file.write_text("")  # re-read on every connection
        with ConsoleClient(emulator.console_port) as console:
            assert console.banner == ["Android Console: type 'help' for a list of commands"]
            assert console.command("gsm status")[0] == "gsm voice state: home"
    finally:
        virtual_home.token_file.write_text(original)


def test_geo_fix_reaches_dumpsys_location(emulator: RunningEmulator) -> None:
    assert emulator.console_command("geo fix -82.3666 23.1136 59") == []
    assert "23.113600,-82.366600" in gps_line(emulator)  # longitude first on the console


def test_geo_fix_validation(emulator: RunningEmulator) -> None:
    with emulator.console() as console:
        assert console.command("geo fix 200 10") == [
            "KO: invalid longitude value. Should be in [-180,+180] range"]
        assert console.command("geo fix 10 95") == ["KO: invalid latitude value. Should be in [-90,+90] range"]


def test_geo_nmea(emulator: RunningEmulator) -> None:
    sentence = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47"
    assert emulator.console_command(f"geo nmea {sentence}") == []
    assert "48.117300,11.516667" in gps_line(emulator)


def test_adb_emu_geo_fix(emulator: RunningEmulator) -> None:
    result = emulator.adb("emu", "geo", "fix", "30.5234", "50.4501")
    assert result.returncode == 0, result.stderr
    assert "KO" not in result.stdout
    wait_until(lambda: "50.450100,30.523400" in gps_line(emulator), 5, message="the fix in dumpsys location")


def test_adb_emu_reports_ko(emulator: RunningEmulator) -> None:
    result = emulator.adb("emu", "geo", "fix", "500", "1")
    assert "KO: invalid longitude value" in result.stdout + result.stderr


def test_gsm_roaming_and_status(emulator: RunningEmulator) -> None:
    with emulator.console() as console:
        assert console.command("gsm voice roaming") == []
        assert console.command("gsm data off") == []
        assert console.command("gsm status") == ["gsm voice state: roaming", "gsm data state: unregistered"]
        assert console.command("gsm voice flying") == [
            "KO: bad GSM voice state name, try 'help gsm voice' for list of valid values"]


def test_sms_lands_in_the_log(emulator: RunningEmulator) -> None:
    assert emulator.console_command("sms send 5551234 hello there") == []
    log = emulator.device.shell("logcat -d -s SmsReceiver")
    assert "hello there" in log


def test_snapshot_save_change_load(emulator: RunningEmulator) -> None:
    device = emulator.device
    with emulator.console() as console:
        assert console.command("geo fix 2.3522 48.8566") == []
        device.shell("setprop persist.debug.snap before")
        assert console.command("avd snapshot save clean") == []
        assert "clean" in "\n".join(console.command("avd snapshot list"))
        device.shell("setprop persist.debug.snap after")
        assert console.command("geo fix 13.4050 52.5200") == []
        assert console.command("avd snapshot load clean") == []
    wait_until(lambda: device.shell("getprop sys.boot_completed").strip() == "1", 10, message="resume")
    assert device.shell("getprop persist.debug.snap").strip() == "before"
    assert "48.856600,2.352200" in gps_line(emulator)
    with emulator.console() as console:
        assert console.command("avd snapshot load missing") == ["KO: snapshot 'missing' does not exist"]
        assert console.command("avd snapshot del clean") == []
        assert console.command("avd snapshot list") == ["There is no snapshot available."]


def test_pipelined_commands_like_adb_emu(emulator: RunningEmulator, virtual_home: VirtualHome) -> None:
    """adb emu writes `auth`, the command and `quit` in one go, with bare \\n line ends."""
    with socket.create_connection(("127.0.0.1", emulator.console_port), timeout=5) as sock:
        sock.sendall(f"auth {virtual_home.token}\nping\nquit\n".encode())
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    assert data.endswith(b"I am alive!\r\nOK\r\n")


def test_adb_emu_kill_stops_the_emulator(emulator: RunningEmulator) -> None:
    result = emulator.adb("emu", "kill")
    assert result.stdout.splitlines() == ["OK: killing emulator, bye bye", "OK"]
    assert emulator.process.wait(10) == 0
