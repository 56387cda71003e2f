"""Spoof command construction, quoting, strategy selection and read-back, against a fake session."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.errors import CapabilityMissing, InfrastructureError, SpoofMismatch
from harness.scenario.model import NetworkSpec, Position, SimSpec
from harness.session import DeviceFacts, DeviceKind, ShellResult
from harness.spoof import (
    Spoofer,
    SpoofUnsupported,
    clock_commands,
    geo_fix_command,
    mock_location_commands,
    network_props,
    parse_last_locations,
    sim_props,
    split_slots,
)

CUBACEL = SimSpec(slot=0, mcc="368", mnc="01", country="CU", operator="CUBACEL")
TMO = SimSpec(slot=0, mcc="310", mnc="260", country="US", operator="T-Mobile")
HAVANA = Position(latitude=23.1136, longitude=-82.3666, place="Havana")


def facts(*, emulator: bool = True, sdk: int = 31, root: str | None = "adbd") -> DeviceFacts:
    return DeviceFacts("emulator-5554", "Xiaomi", "Redmi Note 9", "12", sdk, "fp", "V1", "userdebug",
                       emulator, root)


@dataclass
class FakeSession:
    """A device that executes the shell commands the spoofer sends, and records them."""

    facts: DeviceFacts = field(default_factory=facts)
    serial: str = "emulator-5554"
    has_console: bool = True
    props: dict[str, str] = field(default_factory=lambda: {
        "gsm.sim.state": "READY", "gsm.sim.operator.numeric": "310260",
        "gsm.sim.operator.alpha": "Android", "gsm.sim.operator.iso-country": "us",
        "persist.sys.locale": "en-US", "persist.sys.timezone": "America/New_York"})
    settings: dict[tuple[str, str], str] = field(default_factory=dict)
    sent: list[tuple[str, bool]] = field(default_factory=list)  # (shell line, as root)
    console: list[str] = field(default_factory=list)
    gps: tuple[float, float] | None = None
    clock: int = 1_700_000_000
    ignore_setprop: set[str] = field(default_factory=set)  # props the "device" refuses to take
    ui_forgotten: int = 0

    # the session surface the spoofer uses
    def getprops(self) -> dict[str, str]:
        return dict(self.props)

    def getprop(self, name: str) -> str:
        return self.props.get(name, "")

    def shell(self, args: list[str], *, timeout: float = 30, root: bool = False) -> ShellResult:
        return self._run(shlex.join(args), root)

    def shell_batch(self, commands: list[list[str]], *, timeout: float = 30, root: bool = False) -> ShellResult:
        line = " ; ".join(shlex.join(c) for c in commands)
        result = ShellResult((), line, "", 0)
        self.sent.append((line, root))
        for args in commands:
            self._execute(args)
        return result

    def check(self, args: list[str], *, timeout: float = 30, root: bool = False) -> str:
        return self._run(shlex.join(args), root).text

    def settings_get(self, ns: str, key: str) -> str | None:
        return self.settings.get((ns, key))

    def settings_put(self, ns: str, key: str, value: str) -> None:
        self._run(shlex.join(["settings", "put", ns, key, value]), False)

    def console_command(self, command: str) -> list[str]:
        self.console.append(command)
        words = command.split()
        if words[:2] == ["geo", "fix"]:
            self.gps = (float(words[3]), float(words[2]))
        return []

    def device_time(self) -> int:
        return self.clock

    def forget_ui(self) -> None:
        self.ui_forgotten += 1

    def wait_boot_completed(self, timeout: float = 120) -> None:
        pass

    # the fake device
    def _run(self, line: str, root: bool) -> ShellResult:
        self.sent.append((line, root))
        return ShellResult((), line, self._execute(shlex.split(line)), 0)

    def _execute(self, args: list[str]) -> str:
        match args:
            case ["setprop", key, value] if key not in self.ignore_setprop:
                self.props[key] = value
            case ["settings", "put", ns, key, value]:
                self.settings[(ns, key)] = value
            case ["cmd", "alarm", "set-timezone", zone]:
                self.props["persist.sys.timezone"] = zone
            case ["cmd", "alarm", "set-time", ms]:
                self.clock = int(ms) // 1000
            case ["cmd", "wifi", "set-wifi-enabled", state]:
                self.settings[("global", "wifi_on")] = "1" if state == "enabled" else "0"
            case ["cmd", "wifi", "status"]:
                return 'Wifi is connected to "HomeNet"'
            case ["cmd", "location", "providers", "set-test-provider-location", _, "--location", where]:
                lat, lon = where.split(",")
                self.gps = (float(lat), float(lon))
            case ["dumpsys", "location"]:
                return (f"  last location=Location[gps {self.gps[0]},{self.gps[1]} hAcc=5]"
                        if self.gps else "  last location=null")
        return ""

    def lines(self) -> list[str]:
        return [line for line, _ in self.sent]


def spoofer(session: FakeSession, ops: Any = None) -> Spoofer:
    return Spoofer(session, ops, settle_timeout=0.2)  # type: ignore[arg-type]


# --- pure parts ---------------------------------------------------------------------------------

def test_split_slots_pads_and_trims() -> None:
    assert split_slots("READY", 2) == ["READY", ""]
    assert split_slots("READY,ABSENT,X", 2) == ["READY", "ABSENT"]
    assert split_slots("", 1) == [""]


def test_sim_props_replace_only_the_given_slot() -> None:
    current = {"gsm.sim.state": "READY,READY", "gsm.sim.operator.numeric": "310260,310260",
               "gsm.sim.operator.alpha": "Android,Android", "gsm.sim.operator.iso-country": "us,us"}
    props = sim_props(current, [SimSpec(slot=1, mcc="368", mnc="01", country="CU", operator="CUBACEL")], 2)
    assert props == {"gsm.sim.state": "READY,READY", "gsm.sim.operator.numeric": "310260,36801",
                     "gsm.sim.operator.alpha": "Android,CUBACEL",
                     "gsm.sim.operator.iso-country": "us,cu"}


def test_absent_sim_publishes_absent_and_blanks() -> None:
    props = sim_props({}, [SimSpec(slot=0, absent=True)], 1)
    assert props["gsm.sim.state"] == "ABSENT"
    assert props["gsm.sim.operator.numeric"] == ""


def test_sim_of_a_missing_slot_is_unsupported() -> None:
    with pytest.raises(CapabilityMissing):
        sim_props({"gsm.sim.state": "READY"}, [SimSpec(slot=1, mcc="368", mnc="01")], 1)


def test_network_follows_the_sim_by_default_and_flags_roaming_abroad() -> None:
    sims = {"gsm.sim.state": "READY", "gsm.sim.operator.numeric": "36801"}
    home = network_props(sims, NetworkSpec(), 1)
    assert home["gsm.operator.numeric"] == "36801"
    assert home["gsm.operator.isroaming"] == "false"
    abroad = network_props(sims, NetworkSpec(mcc="214", mnc="07", country="ES", operator="Movistar"), 1)
    assert abroad == {"gsm.operator.numeric": "21407", "gsm.operator.alpha": "Movistar",
                      "gsm.operator.iso-country": "es", "gsm.operator.isroaming": "true"}


def test_no_network_without_a_ready_sim_or_when_unregistered() -> None:
    assert network_props({"gsm.sim.state": "ABSENT"}, NetworkSpec(), 1)["gsm.operator.numeric"] == ""
    ready = {"gsm.sim.state": "READY", "gsm.sim.operator.numeric": "36801"}
    assert network_props(ready, NetworkSpec(registration="searching"), 1)["gsm.operator.numeric"] == ""


def test_geo_fix_is_longitude_first_and_test_provider_latitude_first() -> None:
    assert geo_fix_command(HAVANA) == "geo fix -82.3666 23.1136"
    assert mock_location_commands(HAVANA)[-1][-1] == "23.1136,-82.3666"


def test_parse_last_locations() -> None:
    text = ("Location Manager State:\n  gps provider:\n    last location=Location[gps 23.113600,-82.366600 "
            "hAcc=5.0 et=+1s]\n  network provider:\n    last location=null\n")
    assert parse_last_locations(text) == {"gps": (23.1136, -82.3666)}


def test_clock_commands_stop_network_time_first() -> None:
    modern = clock_commands(1_700_000_000_000, DeviceKind.EMULATOR_MODERN)
    assert modern == [["settings", "put", "global", "auto_time", "0"],
                      ["cmd", "alarm", "set-time", "1700000000000"]]
    legacy = clock_commands(1_700_000_000_000, DeviceKind.EMULATOR_LEGACY)
    assert legacy[1] == ["date", "-u", "111422132023.20"]


# --- quoting ------------------------------------------------------------------------------------

def test_hostile_operator_name_reaches_setprop_as_one_quoted_word() -> None:
    session = FakeSession()
    evil = SimSpec(slot=0, mcc="368", mnc="01", country="CU", operator='"; reboot; "')
    spoofer(session).sims([evil])
    batch, root = session.sent[0]
    assert root is True
    assert shlex.quote('"; reboot; "') in batch
    assert session.props["gsm.sim.operator.alpha"] == '"; reboot; "'
    assert ["reboot"] not in [shlex.split(part) for part in batch.split(" ; ")]


def test_hostile_ssid_is_quoted() -> None:
    session = FakeSession()
    spoofer(session).wifi(True, "HomeNet")  # the fake's status mentions HomeNet
    assert "cmd wifi connect-network HomeNet open" in session.lines()[0]
    session2 = FakeSession()
    with pytest.raises(SpoofMismatch):
        spoofer(session2).wifi(True, "x; reboot")
    assert "'x; reboot'" in session2.lines()[0]


# --- strategy selection and read-back ----------------------------------------------------------

def test_sim_spoof_is_one_root_batch_and_returns_the_read_back() -> None:
    session = FakeSession()
    readback = spoofer(session).sims([CUBACEL])
    assert readback["strategy"] == "setprop-root"
    assert readback["observed"]["gsm.sim.operator.numeric"] == "36801"
    assert readback["observed"]["gsm.operator.iso-country"] == "cu"
    assert len([1 for _, root in session.sent if root]) == 1


def test_a_prop_that_does_not_take_is_a_spoof_mismatch() -> None:
    session = FakeSession(ignore_setprop={"gsm.sim.operator.numeric"})
    with pytest.raises(SpoofMismatch) as info:
        spoofer(session).sims([CUBACEL])
    assert isinstance(info.value, InfrastructureError)
    assert (info.value.signal, info.value.expected, info.value.observed) == (
        "gsm.sim.operator.numeric", "36801", "310260")


def test_no_root_means_sim_spoof_unsupported() -> None:
    session = FakeSession(facts=facts(emulator=False, root=None))
    with pytest.raises(SpoofUnsupported) as info:
        spoofer(session).sims([CUBACEL])
    assert "root" in str(info.value)
    assert session.sent == []


def test_reapply_radio_writes_the_remembered_values() -> None:
    session = FakeSession()
    sp = spoofer(session)
    sp.sims([CUBACEL])
    session.props["gsm.sim.operator.numeric"] = "310260"  # a radio event republished the modem's view
    sp.reapply_radio()
    assert session.props["gsm.sim.operator.numeric"] == "36801"


def test_network_registration_goes_through_the_console_before_the_props() -> None:
    session = FakeSession()
    readback = spoofer(session).serving_network(NetworkSpec(registration="roaming"))
    assert session.console == ["gsm voice roaming", "gsm data roaming"]
    assert readback["observed"]["gsm.operator.isroaming"] == "true"


def test_gps_on_an_emulator_uses_the_console() -> None:
    session = FakeSession()
    readback = spoofer(session).location(HAVANA)
    assert session.console == ["geo fix -82.3666 23.1136"]
    assert readback["strategy"] == "console-geo-fix"
    assert readback["observed"]["gps"] == [23.1136, -82.3666]
    # moving the fix never switches location services: a scenario that turned them off keeps them off
    assert ("secure", "location_mode") not in session.settings


def test_gps_on_a_phone_31_uses_the_test_provider() -> None:
    session = FakeSession(facts=facts(emulator=False, sdk=33, root=None), has_console=False)
    readback = spoofer(session).location(HAVANA)
    assert readback["strategy"] == "test-provider"
    assert session.console == []


def test_gps_on_an_old_phone_is_unsupported() -> None:
    session = FakeSession(facts=facts(emulator=False, sdk=29, root="su"), has_console=False)
    with pytest.raises(SpoofUnsupported):
        spoofer(session).location(HAVANA)


def test_location_services_switch_reads_back() -> None:
    session = FakeSession()
    assert spoofer(session).location_services(False)["observed"] == {"location_mode": "0"}
    assert spoofer(session).location_services(True)["observed"] == {"location_mode": "3"}


def test_locale_restarts_zygote_as_root_and_reads_back() -> None:
    session = FakeSession()
    readback = spoofer(session).locale("es-ES")
    assert session.sent[0] == ("setprop persist.sys.locale es-ES ; setprop ctl.restart zygote", True)
    assert readback["observed"] == {"persist.sys.locale": "es-ES"}
    assert session.ui_forgotten == 1


def test_timezone_clock_data_airplane() -> None:
    session = FakeSession()
    sp = spoofer(session)
    assert sp.timezone("America/Havana")["observed"] == {"persist.sys.timezone": "America/Havana"}
    assert session.settings[("global", "auto_time_zone")] == "0"
    assert sp.advance_clock(86400)["observed"] == {"date +%s": 1_700_086_400}
    assert sp.mobile_data(False)["observed"] == {"mobile_data": "0"}
    assert sp.airplane(True)["observed"] == {"airplane_mode_on": "1"}
    assert "android.intent.action.AIRPLANE_MODE" in session.lines()[-1]


def test_ip_country_needs_a_proxy_from_the_backend() -> None:
    class Ops:
        def proxy_for_country(self, country: str | None) -> str | None:
            return "127.0.0.1:8888" if country == "CU" else None

    session = FakeSession()
    assert spoofer(session, Ops()).ip_country("CU")["observed"] == {"http_proxy": "127.0.0.1:8888"}
    with pytest.raises(SpoofUnsupported):
        spoofer(session, Ops()).ip_country("IR")
    assert spoofer(session, Ops()).ip_country(None)["observed"] == {"http_proxy": ":0"}
