"""The emulator console session, sans-IO: bytes in, reply bytes out."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.virtual.console import ConsoleSession, ConsoleState, parse_geo_fix, parse_nmea
from emulators.virtual.device import DeviceConfig, Firmware, Fix, RadioState, VirtualDevice
from emulators.virtual.snapshots import SnapshotStore

TOKEN = "abcdEFGH1234+/xy"


class RecordingFirmware(Firmware):
    """Records what the console told the device; adds one console command of its own."""

    name = "recording"

    def __init__(self) -> None:
        self.fixes: list[tuple[str, Fix]] = []
        self.radio_events: list[RadioState] = []
        self.broadcasts: list[tuple[str, dict[str, str]]] = []

    def on_location(self, provider: str, fix: Fix) -> None:
        self.fixes.append((provider, fix))

    def on_radio_changed(self, radio: RadioState) -> None:
        self.radio_events.append(radio)

    def on_broadcast(self, action: str, extras: dict[str, str]) -> None:
        self.broadcasts.append((action, extras))

    def console_command(self, words: list[str]) -> str | None:
        if words[0] == "firmware":
            return "firmware says hi"
        if words[0] == "broken":
            return "KO: firmware refused"
        return None


@pytest.fixture
def firmware() -> RecordingFirmware:
    return RecordingFirmware()


@pytest.fixture
def device(tmp_path: Path, firmware: RecordingFirmware) -> VirtualDevice:
    config = DeviceConfig(console_port=5570, avd_name="Pixel_Test", data_dir=tmp_path / "data")
    device = VirtualDevice(config, firmware)
    device.boot()
    return device


@pytest.fixture
def state(device: VirtualDevice, tmp_path: Path) -> ConsoleState:
    return ConsoleState(snapshots=SnapshotStore(device, tmp_path / "data" / "snapshots"))


def session_for(device: VirtualDevice, state: ConsoleState, token: str | None = TOKEN) -> ConsoleSession:
    return ConsoleSession(device, state, token, "/home/u/.emulator_console_auth_token")


@pytest.fixture
def authed(device: VirtualDevice, state: ConsoleState) -> ConsoleSession:
    session = session_for(device, state)
    session.receive(f"auth {TOKEN}\r\n".encode())
    return session


# --- banner and authentication ------------------------------------------------------------

def test_banner_with_auth(device: VirtualDevice, state: ConsoleState) -> None:
    assert session_for(device, state).banner() == (
        b"Android Console: Authentication required\r\n"
        b"Android Console: type 'auth <auth_token>' to authenticate\r\n"
        b"Android Console: you can find your <auth_token> in \r\n"
        b"'/home/u/.emulator_console_auth_token'\r\n"
        b"OK\r\n")


@pytest.mark.parametrize("token", [None, ""])
def test_banner_without_auth(device: VirtualDevice, state: ConsoleState, token: str | None) -> None:
    session = session_for(device, state, token)
    assert session.banner() == b"Android Console: type 'help' for a list of commands\r\nOK\r\n"
    assert session.receive(b"gsm status\r\n").startswith(b"gsm voice state: home\r\n")


@pytest.mark.parametrize(("line", "reply"), [
    (b"auth " + TOKEN.encode() + b"\r\n", b"Android Console: type 'help' for a list of commands\r\nOK\r\n"),
    (b"auth nope\r\n", b"KO: authentication token does not match ~/.emulator_console_auth_token\r\n"),
    (b"auth\r\n", b"KO: missing authentication token\r\n"),
    (b"ping\r\n", b"I am alive!\r\nOK\r\n"),
    (b"avd name\r\n", b"Pixel_Test\r\nOK\r\n"),
    (b"avd status\r\n", b"KO: unknown command, try 'help'\r\n"),
    (b"geo fix 1 2\r\n", b"KO: unknown command, try 'help'\r\n"),
    (b"kill\r\n", b"KO: unknown command, try 'help'\r\n"),
    (b"firmware\r\n", b"KO: unknown command, try 'help'\r\n"),
    (b"\r\n", b""),
])
def test_before_auth(device: VirtualDevice, state: ConsoleState, line: bytes, reply: bytes) -> None:
    assert session_for(device, state).receive(line) == reply


def test_help_before_auth_lists_only_the_open_commands(device: VirtualDevice, state: ConsoleState) -> None:
    reply = session_for(device, state).receive(b"help\r\n").decode()
    assert reply.startswith("Android console command help:\r\n")
    assert "auth " in reply and "geo " not in reply
    assert reply.endswith("try 'help <command>' for command-specific help\r\nOK\r\n")


def test_quit_closes(authed: ConsoleSession) -> None:
    assert authed.receive(b"quit\r\nping\r\n") == b""
    assert authed.closed


def test_kill_replies_then_asks_the_edge_to_stop(authed: ConsoleSession) -> None:
    assert authed.receive(b"kill\r\n") == b"OK: killing emulator, bye bye\r\nOK\r\n"
    assert authed.closed and authed.kill_requested


def test_lines_split_across_reads_and_bare_newlines(device: VirtualDevice, state: ConsoleState) -> None:
    session = session_for(device, state)
    assert session.receive(b"au") == b""
    assert session.receive(f"th {TOKEN}\nping\nqu".encode()) == (
        b"Android Console: type 'help' for a list of commands\r\nOK\r\nI am alive!\r\nOK\r\n")
    assert session.receive(b"it\n") == b""
    assert session.closed


def test_overlong_line_is_refused(authed: ConsoleSession) -> None:
    assert authed.receive(b"x" * 5000) == b"KO: line too long\r\n"
    assert authed.receive(b"ping\r\n") == b"I am alive!\r\nOK\r\n"


# --- commands after auth -----------------------------------------------------------------------

@pytest.mark.parametrize(("line", "reply"), [
    (b"frobnicate\r\n", b"KO: unknown command, try 'help'\r\n"),
    (b"gsm fly\r\n", b"KO:  bad sub-command\r\n"),
    (b"geo\r\n", b"KO:  missing sub-command\r\n"),
    (b"avd status\r\n", b"virtual device is running\r\nOK\r\n"),
    (b"firmware\r\n", b"firmware says hi\r\nOK\r\n"),
    (b"broken\r\n", b"KO: firmware refused\r\n"),
    (b"gsm status\r\n", b"gsm voice state: home\r\ngsm data state: home\r\nOK\r\n"),
    (b"gsm signal 40\r\n", b"KO: invalid RSSI - must be 0..31 or 99\r\n"),
    (b"gsm call +5551234\r\n", b"OK\r\n"),
    (b"gsm call 55x\r\n", b"KO: bad phone number format, use digits, # and +\r\n"),
    (b"power capacity 50\r\n", b"OK\r\n"),
    (b"power capacity 150\r\n", b"KO: Usage: \"capacity <percentage>\"\r\n"),
    (b"network speed lte\r\n", b"OK\r\n"),
    (b"network delay fast\r\n", b"KO: invalid network latency 'fast'\r\n"),
    (b"sms send 555\r\n", b"KO: missing argument, try 'sms send <phonenumber> <text message>'\r\n"),
    (b"avd snapshot\r\n", b"KO:  missing sub-command\r\n"),
])
def test_commands(authed: ConsoleSession, line: bytes, reply: bytes) -> None:
    assert authed.receive(line) == reply


def test_geo_fix_goes_to_the_device_longitude_first(authed: ConsoleSession, device: VirtualDevice,
                                                     firmware: RecordingFirmware) -> None:
    assert authed.receive(b"geo fix -82.3666 23.1136 59 7 2.5\r\n") == b"OK\r\n"
    provider, fix = firmware.fixes[-1]
    assert provider == "gps"
    assert (fix.latitude, fix.longitude, fix.altitude, fix.satellites, fix.speed_knots) == (
        23.1136, -82.3666, 59.0, 7, 2.5)
    assert fix.time > 0 and not fix.mock
    assert device.location.last_fix["gps"] == fix


@pytest.mark.parametrize(("args", "message"), [
    ("1", "not enough arguments: see 'help geo fix' for details"),
    ("1 2 3 4 5 6", "too many arguments: see 'help geo fix' for details"),
    ("abc 2", "argument 'abc' is not a number"),
    ("nan 2", "argument 'nan' is not a number"),
    ("180.5 2", "invalid longitude value. Should be in [-180,+180] range"),
    ("-181 2", "invalid longitude value. Should be in [-180,+180] range"),
    ("10 -90.1", "invalid latitude value. Should be in [-90,+90] range"),
    ("10 20 x", "argument 'x' is not a number"),
    ("10 20 0 13", "invalid number of satellites. Must be an integer between 1 and 12"),
    ("10 20 0 0", "invalid number of satellites. Must be an integer between 1 and 12"),
    ("10 20 0 4 -1", "invalid velocity value. Must be a non-negative number"),
])
def test_geo_fix_validation(authed: ConsoleSession, firmware: RecordingFirmware, args: str,
                            message: str) -> None:
    assert authed.receive(f"geo fix {args}\r\n".encode()) == f"KO: {message}\r\n".encode()
    assert firmware.fixes == []


def test_geo_fix_edges_are_valid() -> None:
    assert parse_geo_fix(["180", "-90"]) == Fix(latitude=-90.0, longitude=180.0)


@pytest.mark.parametrize(("sentence", "lat", "lon"), [
    ("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47", 48.1173, 11.516667),
    ("$GPRMC,123519,A,2306.816,N,08222.000,W,022.4,084.4,230394,003.1,W*6A", 23.1136, -82.366667),
])
def test_nmea(sentence: str, lat: float, lon: float) -> None:
    fix = parse_nmea(sentence)
    assert fix.latitude == pytest.approx(lat, abs=1e-5)
    assert fix.longitude == pytest.approx(lon, abs=1e-5)


@pytest.mark.parametrize(("sentence", "reply"), [
    ("$GPGSV,1,1,13", b"KO: unsupported NMEA sentence, only $GPGGA and $GPRMC are supported\r\n"),
    ("$GPRMC,123519,V,,,,,,,230394,,", b"KO: NMEA sentence has no valid fix\r\n"),
    ("$GPGGA,1", b"KO: invalid NMEA sentence '$GPGGA,1'\r\n"),
])
def test_nmea_errors(authed: ConsoleSession, sentence: str, reply: bytes) -> None:
    assert authed.receive(f"geo nmea {sentence}\r\n".encode()) == reply


@pytest.mark.parametrize(("command", "voice", "data"), [
    ("gsm voice roaming", "roaming", "home"),
    ("gsm voice off", "unregistered", "home"),
    ("gsm data on", "home", "home"),
    ("gsm data denied", "home", "denied"),
    ("gsm data searching", "home", "searching"),
])
def test_gsm_registration(authed: ConsoleSession, device: VirtualDevice, firmware: RecordingFirmware,
                          command: str, voice: str, data: str) -> None:
    assert authed.receive(f"{command}\r\n".encode()) == b"OK\r\n"
    assert (device.radio.voice, device.radio.data) == (voice, data)
    assert firmware.radio_events, "the firmware hears about every registration change"
    assert authed.receive(b"gsm status\r\n") == (
        f"gsm voice state: {voice}\r\ngsm data state: {data}\r\nOK\r\n".encode())


def test_gsm_bad_state(authed: ConsoleSession) -> None:
    assert authed.receive(b"gsm data flying\r\n") == (
        b"KO: bad GSM data state name, try 'help gsm data' for list of valid values\r\n")


def test_gsm_calls(authed: ConsoleSession) -> None:
    authed.receive(b"gsm call 5551234\r\n")
    assert authed.receive(b"gsm list\r\n") == b"inbound from 5551234 : incoming\r\nOK\r\n"
    assert authed.receive(b"gsm accept 5551234\r\n") == b"OK\r\n"
    assert authed.receive(b"gsm list\r\n") == b"inbound from 5551234 : active\r\nOK\r\n"
    assert authed.receive(b"gsm cancel 5551234\r\n") == b"OK\r\n"
    assert authed.receive(b"gsm list\r\n") == b"OK\r\n"
    assert authed.receive(b"gsm cancel 5551234\r\n") == b"KO: no phone call with number '5551234'\r\n"


def test_gsm_signal(authed: ConsoleSession, device: VirtualDevice) -> None:
    assert authed.receive(b"gsm signal 12 3\r\n") == b"OK\r\n"
    assert (device.radio.signal_rssi, device.radio.signal_ber) == (12, 3)


def test_sms_is_logged_and_broadcast(authed: ConsoleSession, device: VirtualDevice,
                                     firmware: RecordingFirmware) -> None:
    assert authed.receive(b"sms send +5551234 hello  there\r\n") == b"OK\r\n"
    entries = [e for e in device.iter_logs() if e.tag == "SmsReceiver"]
    assert entries and "hello there" in entries[-1].message
    assert firmware.broadcasts[-1][1]["sender"] == "+5551234"


def test_network_status(authed: ConsoleSession) -> None:
    authed.receive(b"network speed gsm\r\n")
    authed.receive(b"network delay 10:20\r\n")
    reply = authed.receive(b"network status\r\n").decode()
    assert "download speed:   14400 bits/s (1.8 KB/s)" in reply
    assert "minimum latency:  10 ms" in reply and "maximum latency:  20 ms" in reply


def test_power(authed: ConsoleSession) -> None:
    authed.receive(b"power ac off\r\n")
    authed.receive(b"power status discharging\r\n")
    authed.receive(b"power capacity 42\r\n")
    assert authed.receive(b"power display\r\n") == (
        b"AC: offline\r\nstatus: Discharging\r\nhealth: Good\r\npresent: true\r\ncapacity: 42\r\nOK\r\n")


def test_avd_stop_start(authed: ConsoleSession) -> None:
    authed.receive(b"avd stop\r\n")
    assert authed.receive(b"avd status\r\n") == b"virtual device is stopped\r\nOK\r\n"
    authed.receive(b"avd start\r\n")
    assert authed.receive(b"avd status\r\n") == b"virtual device is running\r\nOK\r\n"


def test_snapshot_read_only(device: VirtualDevice, tmp_path: Path) -> None:
    state = ConsoleState(snapshots=SnapshotStore(device, tmp_path / "snaps"), read_only=True)
    session = session_for(device, state, None)
    assert session.receive(b"avd snapshot save x\r\n") == (
        b'KO: Snapshot save is disabled because "-read-only" was specified\r\n')


def test_snapshot_commands(authed: ConsoleSession) -> None:
    assert authed.receive(b"avd snapshot list\r\n") == b"There is no snapshot available.\r\nOK\r\n"
    assert authed.receive(b"avd snapshot save first\r\n") == b"OK\r\n"
    listing = authed.receive(b"avd snapshot list\r\n").decode()
    assert listing.startswith("List of snapshots present on all disks:\r\n")
    assert "--        first " in listing
    assert authed.receive(b"avd snapshot load first\r\n") == b"OK\r\n"
    assert authed.receive(b"avd snapshot save ../x\r\n") == b"KO: invalid snapshot name '../x'\r\n"
    assert authed.receive(b"avd snapshot delete first\r\n") == b"OK\r\n"
    assert authed.receive(b"avd snapshot del first\r\n") == b"KO: snapshot 'first' does not exist\r\n"


def test_a_crashing_firmware_hook_is_a_ko_not_a_crash(authed: ConsoleSession, firmware: RecordingFirmware) -> None:
    def explode(provider: str, fix: Fix) -> None:
        raise RuntimeError("boom")

    firmware.on_location = explode  # type: ignore[method-assign]
    assert authed.receive(b"geo fix 1 2\r\n") == b"KO: internal error: boom\r\n"
    assert authed.receive(b"ping\r\n") == b"I am alive!\r\nOK\r\n"
