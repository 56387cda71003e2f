"""The emulator console protocol, sans-IO: bytes in, reply bytes out.

Theory of operation
-------------------
A `ConsoleSession` is one client connection. The socket edge (`console_server.py`) sends
`session.banner()` on connect, then feeds whatever it receives to `session.receive(data)` and
writes back what that returns; it closes the connection once `session.closed` is true. The session
never touches a socket, so the tests are tables of (input bytes, reply bytes).

Lines end `\\r\\n` on output; input lines may end `\\n` or `\\r\\n` (the adb client's `adb emu` sends
`auth TOKEN\\n`, the command and `quit\\n` in one write). A reply is its output lines then `OK`,
or a single `KO: <message>` line. Before `auth` succeeds only `help`, `ping`, `avd name`, `auth` and
`quit` exist: anything else is an unknown command, as on the SDK emulator.

State that outlives a connection (calls, battery, the VM's run state) lives in `ConsoleState`,
shared by all sessions of one emulator; device state goes to the `VirtualDevice`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from emulators.virtual.device import DeviceError, Fix
from emulators.virtual.sensors import SENSOR_DEFAULTS

if TYPE_CHECKING:  # pragma: no cover
    from emulators.virtual.device import VirtualDevice
    from emulators.virtual.snapshots import SnapshotStore

log = logging.getLogger("emulator.console")

EOL = "\r\n"
MAX_LINE = 4096  # longer input lines are refused, so a client cannot grow our buffer forever

BANNER_AUTH = (
    "Android Console: Authentication required\r\n"
    "Android Console: type 'auth <auth_token>' to authenticate\r\n"
    "Android Console: you can find your <auth_token> in \r\n"
    "'{path}'\r\n"
    "OK\r\n"
)
BANNER_OPEN = "Android Console: type 'help' for a list of commands\r\nOK\r\n"
AUTH_OK_LINE = "Android Console: type 'help' for a list of commands"

UNKNOWN_COMMAND = "unknown command, try 'help'"
BAD_SUB_COMMAND = " bad sub-command"  # the SDK emulator prints two spaces after "KO:"
MISSING_SUB_COMMAND = " missing sub-command"
AUTH_MISMATCH = "authentication token does not match ~/.emulator_console_auth_token"
AUTH_MISSING = "missing authentication token"
READ_ONLY_SAVE = 'Snapshot save is disabled because "-read-only" was specified'


class CommandError(Exception):
    """A command failed: the session answers `KO: <message>`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------------------------
# State shared by the sessions of one emulator
# --------------------------------------------------------------------------------------------

@dataclass
class Call:
    number: str
    inbound: bool
    state: str  # active|held|dialing|alerting|incoming|waiting


@dataclass
class ConsoleState:
    """Emulator-wide console state, shared by every session of one emulator."""

    avd_running: bool = True
    calls: list[Call] = field(default_factory=list)
    signal_profile: int = 4
    snapshots: SnapshotStore | None = None
    read_only: bool = False


# --------------------------------------------------------------------------------------------
# The session
# --------------------------------------------------------------------------------------------

Handler = Callable[["ConsoleSession", list[str]], str]


class ConsoleSession:
    """One console connection. `token` None (or empty) means authentication is disabled."""

    def __init__(self, device: VirtualDevice, state: ConsoleState, token: str | None,
                 token_path: str = "~/.emulator_console_auth_token") -> None:
        self.device = device
        self.state = state
        self.token = token or None
        self.token_path = token_path
        self.authenticated = self.token is None
        self.closed = False
        self.kill_requested = False  # the edge stops the emulator after sending the reply
        self._buffer = b""

    def banner(self) -> bytes:
        if self.authenticated:
            return BANNER_OPEN.encode()
        return BANNER_AUTH.format(path=self.token_path).encode()

    def receive(self, data: bytes) -> bytes:
        """Feed received bytes; returns the replies to every complete line in them."""
        self._buffer += data
        out: list[str] = []
        while not self.closed and b"\n" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\n", 1)
            out.append(self.handle_line(raw.rstrip(b"\r").decode("utf-8", "replace")))
        if len(self._buffer) > MAX_LINE:
            self._buffer = b""
            out.append(f"KO: line too long{EOL}")
        return "".join(out).encode()

    def handle_line(self, line: str) -> str:
        """The reply text to one input line ('' for a blank line or `quit`)."""
        words = line.split()  # the SDK console splits on blanks, with no quoting
        if not words:
            return ""
        try:
            return self._dispatch(words)
        except CommandError as error:
            return f"KO: {error.message}{EOL}"
        except Exception as error:  # a broken command must never take the console down
            log.exception("console command %r failed", line)
            return f"KO: internal error: {error}{EOL}"

    def _dispatch(self, words: list[str]) -> str:
        name = words[0].lower()
        if not self.authenticated:
            handler = PRE_AUTH_COMMANDS.get(name)
            if handler is None or (name == "avd" and words[1:2] != ["name"]):
                raise CommandError(UNKNOWN_COMMAND)
            return handler(self, words[1:])
        extra = self.device.firmware.console_command(words)
        if extra is not None:
            if extra.startswith("KO:"):
                return extra.rstrip("\r\n") + EOL
            return _ok(extra)
        handler = COMMANDS.get(name)
        if handler is None:
            raise CommandError(UNKNOWN_COMMAND)
        return handler(self, words[1:])


def _ok(text: str = "") -> str:
    lines = [line for line in text.splitlines()]
    return "".join(f"{line}{EOL}" for line in lines) + f"OK{EOL}"


def _sub(args: list[str], table: dict[str, Callable[[list[str]], str]]) -> str:
    """Runs a sub-command from `table`; the SDK's texts for a missing or unknown one."""
    if not args:
        raise CommandError(MISSING_SUB_COMMAND)
    handler = table.get(args[0].lower())
    if handler is None:
        raise CommandError(BAD_SUB_COMMAND)
    return handler(args[1:])


# --------------------------------------------------------------------------------------------
# Session-level commands: help, ping, auth, quit, kill
# --------------------------------------------------------------------------------------------

HELP_PRE_AUTH = [
    ("help|h|?", "print a list of commands"),
    ("avd", "control virtual device execution"),
    ("auth", "user authentication for the emulator console"),
    ("ping", "check if the emulator is alive"),
    ("quit|exit", "quit control session"),
]
HELP_ALL = [
    ("help|h|?", "print a list of commands"),
    ("kill", "kill the emulator instance"),
    ("quit|exit", "quit control session"),
    ("power", "power related commands"),
    ("avd", "control virtual device execution"),
    ("geo", "Geo-location commands"),
    ("sms", "SMS related commands"),
    ("gsm", "GSM related commands"),
    ("network", "manage network settings"),
    ("rotate", "rotate the screen clockwise by 90 degrees"),
    ("sensor", "manage emulator sensors"),
    ("ping", "check if the emulator is alive"),
    ("auth", "user authentication for the emulator console"),
    ("identity", "virtual emulator only: give the device a new hardware identity"),
]
COMMAND_HELP = {
    "geo": "allows you to change Geo-related settings, or to send GPS NMEA sentences\n\n"
           "available sub-commands:\n    geo nmea             send a GPS NMEA sentence\n"
           "    geo fix              send a simple GPS fix",
    "gsm": "allows you to change GSM-related settings, or to make a new inbound phone call\n\n"
           "available sub-commands:\n    gsm list             list current phone calls\n"
           "    gsm call             create inbound phone call\n"
           "    gsm busy             close waiting outbound call as busy\n"
           "    gsm hold             change the state of an outbound call to 'held'\n"
           "    gsm accept           change the state of an outbound call to 'active'\n"
           "    gsm cancel           disconnect an inbound or outbound phone call\n"
           "    gsm data             modify data connection state\n"
           "    gsm voice            modify voice connection state\n"
           "    gsm status           display GSM status\n"
           "    gsm signal           set sets the rssi and ber\n"
           "    gsm signal-profile   set the signal strength profile",
    "avd": "allows you to control (e.g. start/stop) the execution of the virtual device\n\n"
           "available sub-commands:\n    avd stop             stop the virtual device\n"
           "    avd start            start/restart the virtual device\n"
           "    avd status           query virtual device status\n"
           "    avd name             query virtual device name\n"
           "    avd snapshot         state snapshot commands",
    "identity": "virtual emulator only (an SDK emulator has no such command): the device's hardware identity\n\n"
                "available sub-commands:\n    identity new         new IMEIs and serial, printed as 'imei<slot> <imei>'",
}


def cmd_help(session: ConsoleSession, args: list[str]) -> str:
    if args and session.authenticated:
        text = COMMAND_HELP.get(args[0].lower())
        if text is None:
            raise CommandError(UNKNOWN_COMMAND)
        return _ok(text)
    table = HELP_ALL if session.authenticated else HELP_PRE_AUTH
    lines = ["Android console command help:", ""]
    lines += [f"    {name:<17}{text}" for name, text in table]
    lines += ["", "try 'help <command>' for command-specific help"]
    return _ok("\n".join(lines))


def cmd_ping(session: ConsoleSession, args: list[str]) -> str:
    return _ok("I am alive!")


def cmd_auth(session: ConsoleSession, args: list[str]) -> str:
    if not args:
        raise CommandError(AUTH_MISSING)
    if session.token is not None and args[0] != session.token:
        raise CommandError(AUTH_MISMATCH)
    session.authenticated = True
    return _ok(AUTH_OK_LINE)


def cmd_quit(session: ConsoleSession, args: list[str]) -> str:
    session.closed = True
    return ""


def cmd_kill(session: ConsoleSession, args: list[str]) -> str:
    session.closed = True
    session.kill_requested = True
    return _ok("OK: killing emulator, bye bye")


# --------------------------------------------------------------------------------------------
# avd
# --------------------------------------------------------------------------------------------

def cmd_avd(session: ConsoleSession, args: list[str]) -> str:
    state = session.state

    def name(_: list[str]) -> str:
        return _ok(session.device.config.avd_name)

    def status(_: list[str]) -> str:
        return _ok(f"virtual device is {'running' if state.avd_running else 'stopped'}")

    def stop(_: list[str]) -> str:
        state.avd_running = False
        return _ok()

    def start(_: list[str]) -> str:
        state.avd_running = True
        return _ok()

    def snapshot(rest: list[str]) -> str:
        return _snapshot(session, rest)

    return _sub(args, {"name": name, "status": status, "stop": stop, "start": start, "snapshot": snapshot})


def _snapshot(session: ConsoleSession, args: list[str]) -> str:
    store = session.state.snapshots
    if store is None:
        raise CommandError("snapshots are not available on this instance")

    def needs_name(rest: list[str]) -> str:
        if not rest:
            raise CommandError("no snapshot name given")
        return rest[0]

    def list_(_: list[str]) -> str:
        return _ok(store.format_list())

    def save(rest: list[str]) -> str:
        if session.state.read_only:
            raise CommandError(READ_ONLY_SAVE)
        store.save(needs_name(rest))
        return _ok()

    def load(rest: list[str]) -> str:
        store.load(needs_name(rest))
        return _ok()

    def delete(rest: list[str]) -> str:
        store.delete(needs_name(rest))
        return _ok()

    table = {"list": list_, "save": save, "load": load, "del": delete, "delete": delete}
    try:
        return _sub(args, table)
    except (DeviceError, OSError) as error:  # SnapshotError and file errors: the message is the reply
        raise CommandError(str(error)) from None


# --------------------------------------------------------------------------------------------
# geo
# --------------------------------------------------------------------------------------------

def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CommandError(f"argument '{text}' is not a number") from None
    if not math.isfinite(value):
        raise CommandError(f"argument '{text}' is not a number")
    return value


def parse_geo_fix(args: list[str]) -> Fix:
    """`geo fix <longitude> <latitude> [<altitude> [<satellites> [<velocity>]]]`, longitude first."""
    if len(args) < 2 or len(args) > 5:
        raise CommandError("not enough arguments: see 'help geo fix' for details"
                           if len(args) < 2 else "too many arguments: see 'help geo fix' for details")
    longitude, latitude = _number(args[0]), _number(args[1])
    if not -180.0 <= longitude <= 180.0:
        raise CommandError("invalid longitude value. Should be in [-180,+180] range")
    if not -90.0 <= latitude <= 90.0:
        raise CommandError("invalid latitude value. Should be in [-90,+90] range")
    altitude = _number(args[2]) if len(args) > 2 else 0.0
    satellites = 0
    if len(args) > 3:
        try:
            satellites = int(args[3])
        except ValueError:
            satellites = -1
        if not 1 <= satellites <= 12:
            raise CommandError("invalid number of satellites. Must be an integer between 1 and 12")
    velocity = _number(args[4]) if len(args) > 4 else 0.0
    if velocity < 0:
        raise CommandError("invalid velocity value. Must be a non-negative number")
    return Fix(latitude=latitude, longitude=longitude, altitude=altitude, satellites=satellites,
               speed_knots=velocity)


def _nmea_coordinate(value: str, hemisphere: str, degree_digits: int) -> float:
    """`ddmm.mmmm` (latitude) or `dddmm.mmmm` (longitude) plus N/S/E/W -> signed degrees."""
    try:
        degrees = int(value[:degree_digits])
        minutes = float(value[degree_digits:])
    except ValueError:
        raise CommandError(f"invalid NMEA coordinate '{value}'") from None
    result = degrees + minutes / 60.0
    if hemisphere.upper() not in ("N", "S", "E", "W"):
        raise CommandError(f"invalid NMEA hemisphere '{hemisphere}'")
    return -result if hemisphere.upper() in ("S", "W") else result


def parse_nmea(sentence: str) -> Fix:
    """A `$GPGGA` or `$GPRMC` sentence -> Fix (the only two the emulator's GPS takes)."""
    body = sentence.split("*", 1)[0]
    fields = body.split(",")
    kind = fields[0].upper()
    try:
        if kind == "$GPGGA":
            latitude = _nmea_coordinate(fields[2], fields[3], 2)
            longitude = _nmea_coordinate(fields[4], fields[5], 3)
            satellites = int(fields[7]) if fields[7] else 0
            altitude = float(fields[9]) if fields[9] else 0.0
            return Fix(latitude=latitude, longitude=longitude, altitude=altitude, satellites=satellites)
        if kind == "$GPRMC":
            if fields[2].upper() != "A":
                raise CommandError("NMEA sentence has no valid fix")
            latitude = _nmea_coordinate(fields[3], fields[4], 2)
            longitude = _nmea_coordinate(fields[5], fields[6], 3)
            speed = float(fields[7]) if fields[7] else 0.0
            return Fix(latitude=latitude, longitude=longitude, speed_knots=speed)
    except (IndexError, ValueError):
        raise CommandError(f"invalid NMEA sentence '{sentence}'") from None
    raise CommandError("unsupported NMEA sentence, only $GPGGA and $GPRMC are supported")


def cmd_geo(session: ConsoleSession, args: list[str]) -> str:
    def publish(fix: Fix) -> str:
        if not (-180.0 <= fix.longitude <= 180.0 and -90.0 <= fix.latitude <= 90.0):
            raise CommandError("invalid NMEA coordinates")
        stamped = Fix(fix.latitude, fix.longitude, fix.altitude, fix.satellites, fix.speed_knots,
                      time=session.device.clock.now())
        session.device.set_fix("gps", stamped)
        return _ok()

    def fix(rest: list[str]) -> str:
        return publish(parse_geo_fix(rest))

    def nmea(rest: list[str]) -> str:
        if not rest:
            raise CommandError("missing NMEA sentence")
        return publish(parse_nmea(rest[0]))

    return _sub(args, {"fix": fix, "nmea": nmea})


# --------------------------------------------------------------------------------------------
# gsm
# --------------------------------------------------------------------------------------------

REGISTRATION_STATES = ("unregistered", "home", "roaming", "searching", "denied")
# `on`/`off` are the SDK's aliases: the modem reports them as home/unregistered.
REGISTRATION_ALIASES = {"on": "home", "off": "unregistered"}


def _registration(value: list[str], what: str) -> str:
    if not value:
        raise CommandError(f"missing argument, try 'gsm {what} <state>'")
    state = REGISTRATION_ALIASES.get(value[0].lower(), value[0].lower())
    if state not in REGISTRATION_STATES:
        raise CommandError(f"bad GSM {what} state name, try 'help gsm {what}' for list of valid values")
    return state


def _phone_number(text: str) -> str:
    if not text or not all(ch.isdigit() or ch in "+#*" for ch in text):
        raise CommandError("bad phone number format, use digits, # and +")
    return text


def cmd_gsm(session: ConsoleSession, args: list[str]) -> str:
    device, state = session.device, session.state

    def find_call(rest: list[str]) -> Call:
        number = _phone_number(rest[0] if rest else "")
        for call in state.calls:
            if call.number == number:
                return call
        raise CommandError(f"no phone call with number '{number}'")

    def list_(_: list[str]) -> str:
        lines = [f"{'inbound from' if c.inbound else 'outbound to '} {c.number} : {c.state}"
                 for c in state.calls]
        return _ok("\n".join(lines))

    def call(rest: list[str]) -> str:
        number = _phone_number(rest[0] if rest else "")
        state.calls.append(Call(number, inbound=True, state="incoming"))
        device.log.i("GsmConnection", f"incoming call from {number}")
        return _ok()

    def set_call_state(new_state: str | None) -> Callable[[list[str]], str]:
        def apply(rest: list[str]) -> str:
            target = find_call(rest)
            if new_state is None:
                state.calls.remove(target)
            else:
                target.state = new_state
            return _ok()
        return apply

    def voice(rest: list[str]) -> str:
        device.radio.voice = _registration(rest, "voice")
        device.radio_changed()
        return _ok()

    def data(rest: list[str]) -> str:
        device.radio.data = _registration(rest, "data")
        device.radio_changed()
        return _ok()

    def status(_: list[str]) -> str:
        return _ok(f"gsm voice state: {device.radio.voice}\ngsm data state: {device.radio.data}")

    def signal(rest: list[str]) -> str:
        rssi, ber = _signal_values(rest)
        device.radio.signal_rssi, device.radio.signal_ber = rssi, ber
        device.radio_changed()
        return _ok()

    def signal_profile(rest: list[str]) -> str:
        if not rest or not rest[0].isdigit() or not 0 <= int(rest[0]) <= 4:
            raise CommandError("invalid signal strength profile, must be an integer between 0 and 4")
        state.signal_profile = int(rest[0])
        device.radio.signal_rssi = (0, 7, 13, 19, 31)[state.signal_profile]
        device.radio_changed()
        return _ok()

    return _sub(args, {
        "list": list_, "call": call, "accept": set_call_state("active"), "hold": set_call_state("held"),
        "busy": set_call_state(None), "cancel": set_call_state(None), "voice": voice, "data": data,
        "status": status, "signal": signal, "signal-profile": signal_profile,
    })


def _signal_values(rest: list[str]) -> tuple[int, int]:
    if not rest:
        raise CommandError("missing argument, try 'gsm signal <rssi> [<ber>]'")
    try:
        rssi = int(rest[0])
        ber = int(rest[1]) if len(rest) > 1 else 99
    except ValueError:
        raise CommandError("invalid signal strength, use integers") from None
    if not (0 <= rssi <= 31 or rssi == 99):
        raise CommandError("invalid RSSI - must be 0..31 or 99")
    if not (0 <= ber <= 7 or ber == 99):
        raise CommandError("invalid BER - must be 0..7 or 99")
    return rssi, ber


# --------------------------------------------------------------------------------------------
# network, power, sms
# --------------------------------------------------------------------------------------------

NETWORK_SPEEDS = {  # name -> (upload, download) kbit/s, as the SDK emulator's table
    "gsm": (14.4, 14.4), "hscsd": (14.4, 57.6), "gprs": (40.0, 80.0), "edge": (118.4, 236.8),
    "umts": (128.0, 1920.0), "hsdpa": (348.0, 14400.0), "lte": (58000.0, 173000.0),
    "evdo": (75000.0, 280000.0), "full": (0.0, 0.0),
}
NETWORK_DELAYS = {"gprs": (150, 550), "edge": (80, 400), "umts": (35, 200), "none": (0, 0)}  # android_netdelays


def _speed_line(label: str, kbits: float) -> str:
    if kbits <= 0:
        return f"  {label}:   unlimited"
    bits = int(kbits * 1000)
    return f"  {label}:   {bits} bits/s ({bits / 8000:.1f} KB/s)"


def cmd_network(session: ConsoleSession, args: list[str]) -> str:
    radio = session.device.radio

    def status(_: list[str]) -> str:
        up, down = _network_speed(radio.network_speed)
        low, high = _network_delay(radio.network_delay)
        return _ok("\n".join(["Current network status:", _speed_line("download speed", down),
                              _speed_line("upload speed", up), f"  minimum latency:  {low} ms",
                              f"  maximum latency:  {high} ms"]))

    def setter(name: str, validate: Callable[[str], object], usage: str) -> Callable[[list[str]], str]:
        def set_value(rest: list[str]) -> str:
            if not rest:
                raise CommandError(f"missing argument, try 'network {name} <{usage}>'")
            validate(rest[0])
            setattr(radio, f"network_{name}", rest[0])
            session.device.radio_changed()
            return _ok()
        return set_value

    return _sub(args, {"status": status, "speed": setter("speed", _network_speed, "speed"),
                       "delay": setter("delay", _network_delay, "latency")})


def _pair(text: str, what: str) -> tuple[float, float]:
    parts = text.split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise CommandError(f"invalid {what} '{text}'") from None
    if len(values) not in (1, 2) or any(v < 0 for v in values):
        raise CommandError(f"invalid {what} '{text}'")
    return (values[0], values[-1])


def _network_speed(text: str) -> tuple[float, float]:
    return NETWORK_SPEEDS.get(text.lower()) or _pair(text, "network speed")


def _network_delay(text: str) -> tuple[int, int]:
    known = NETWORK_DELAYS.get(text.lower())
    if known is not None:
        return known
    low, high = _pair(text, "network latency")
    return int(low), int(high)


POWER_STATUSES = {"unknown": "Unknown", "charging": "Charging", "discharging": "Discharging",
                  "not-charging": "Not charging", "full": "Full"}
POWER_HEALTHS = {"unknown": "Unknown", "good": "Good", "overheat": "Overheat", "dead": "Dead",
                 "overvoltage": "Overvoltage", "failure": "Failure"}


def cmd_power(session: ConsoleSession, args: list[str]) -> str:
    power = session.device.battery

    def display(_: list[str]) -> str:
        return _ok("\n".join([f"AC: {power.ac}", f"status: {power.status}", f"health: {power.health}",
                              f"present: {'true' if power.present else 'false'}",
                              f"capacity: {power.capacity}"]))

    def ac(rest: list[str]) -> str:
        if not rest or rest[0] not in ("on", "off"):
            raise CommandError("Usage: \"ac on\" or \"ac off\"")
        power.ac = "online" if rest[0] == "on" else "offline"
        return _ok()

    def status(rest: list[str]) -> str:
        value = POWER_STATUSES.get(rest[0].lower()) if rest else None
        if value is None:
            raise CommandError("Usage: \"status unknown|charging|discharging|not-charging|full\"")
        power.status = value
        return _ok()

    def capacity(rest: list[str]) -> str:
        if not rest or not rest[0].isdigit() or not 0 <= int(rest[0]) <= 100:
            raise CommandError("Usage: \"capacity <percentage>\"")
        power.capacity = int(rest[0])
        return _ok()

    def health(rest: list[str]) -> str:
        value = POWER_HEALTHS.get(rest[0].lower()) if rest else None
        if value is None:
            raise CommandError('Usage: "health unknown|good|overheat|dead|overvoltage|failure"')
        power.health = value
        return _ok()

    def present(rest: list[str]) -> str:
        if not rest or rest[0] not in ("true", "false"):
            raise CommandError('Usage: "present true" or "present false"')
        power.present = rest[0] == "true"
        return _ok()

    return _sub(args, {"display": display, "ac": ac, "status": status, "capacity": capacity,
                       "health": health, "present": present})


def cmd_sms(session: ConsoleSession, args: list[str]) -> str:
    def send(rest: list[str]) -> str:
        if len(rest) < 2:
            raise CommandError("missing argument, try 'sms send <phonenumber> <text message>'")
        number = _phone_number(rest[0])
        text = " ".join(rest[1:])
        session.device.log.i("SmsReceiver", f"SMS received from {number}: {text}")
        session.device.broadcast("android.provider.Telephony.SMS_RECEIVED",
                                 {"sender": number, "body": text})
        return _ok()

    return _sub(args, {"send": send})


def cmd_rotate(session: ConsoleSession, args: list[str]) -> str:
    """Turns the device 90 degrees (its accelerometer's gravity); auto-rotate decides the display."""
    session.device.sensors.rotate()
    return _ok()


def _sensor_values(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(":"))
    except ValueError:
        raise CommandError(f"bad sensor value '{text}'") from None


def _format_value(value: float) -> str:
    return f"{value:g}"


def cmd_sensor(session: ConsoleSession, args: list[str]) -> str:
    sensors = session.device.sensors

    def status(_: list[str]) -> str:
        return _ok("\n".join(f"{name}: enabled." for name in SENSOR_DEFAULTS))

    def known(rest: list[str], usage: str) -> str:
        if not rest:
            raise CommandError(f"missing sensor name, try 'sensor {usage}'")
        if rest[0] not in SENSOR_DEFAULTS:
            raise CommandError(f"can't find sensor {rest[0]}.")
        return rest[0]

    def get(rest: list[str]) -> str:
        name = known(rest, "get <sensorname>")
        return _ok(f"{name} = " + ":".join(_format_value(v) for v in sensors.get(name)))

    def set_(rest: list[str]) -> str:
        name = known(rest, "set <sensorname> <value-a>[:<value-b>[:<value-c>]]")
        if len(rest) < 2:
            raise CommandError(f"missing sensor value, try 'sensor set {name} <value>'")
        try:
            sensors.set(name, _sensor_values(rest[1]))
        except ValueError:
            raise CommandError(f"wrong number of values for sensor {name}") from None
        return _ok()

    return _sub(args, {"status": status, "get": get, "set": set_})


# --------------------------------------------------------------------------------------------
# identity (virtual-only: an SDK emulator has no such command; see the emulator README)
# --------------------------------------------------------------------------------------------

def cmd_identity(session: ConsoleSession, args: list[str]) -> str:
    """`identity new`: new IMEIs and serial, as if the instance were another phone of the same
    model. A lab restoring one factory snapshot many times needs it: the activation server keys its
    memory on the IMEI, so every restored device would otherwise be the same, already known phone."""
    def new(_: list[str]) -> str:
        try:
            imeis = session.device.firmware.renew_identity()
        except DeviceError as error:
            raise CommandError(str(error)) from None
        return _ok("\n".join(f"imei{slot} {imei}" for slot, imei in enumerate(imeis)))

    return _sub(args, {"new": new})


PRE_AUTH_COMMANDS: dict[str, Handler] = {
    "help": cmd_help, "h": cmd_help, "?": cmd_help, "ping": cmd_ping, "avd": cmd_avd,
    "auth": cmd_auth, "quit": cmd_quit, "exit": cmd_quit,
}
COMMANDS: dict[str, Handler] = {
    **PRE_AUTH_COMMANDS, "kill": cmd_kill, "geo": cmd_geo, "gsm": cmd_gsm, "network": cmd_network,
    "power": cmd_power, "sms": cmd_sms, "rotate": cmd_rotate, "sensor": cmd_sensor,
    "identity": cmd_identity,
}
