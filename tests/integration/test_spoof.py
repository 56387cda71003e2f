"""Verified spoofing on a real virtual emulator: each signal set, then read back by the device."""

from __future__ import annotations

from typing import Any

import pytest

from harness.scenario.model import NetworkSpec, Position, SimSpec
from harness.session import DeviceSession
from harness.spoof import Spoofer

pytestmark = pytest.mark.integration

HAVANA = Position(latitude=23.1136, longitude=-82.3666, place="Havana")


class NoProxies:
    def fresh_device(self, *a: Any) -> Any:
        raise NotImplementedError

    def sim_profile_supported(self) -> bool:
        return False

    def proxy_for_country(self, country: str | None) -> str | None:
        return None


def test_sim_and_network_spoof_read_back(session: DeviceSession) -> None:
    sp = Spoofer(session, NoProxies())
    readback = sp.sims([SimSpec(slot=0, mcc="368", mnc="01", country="CU")])
    assert readback["observed"]["gsm.sim.operator.numeric"] == "36801"
    props = session.getprops()
    assert props["gsm.sim.operator.iso-country"] == "cu"
    assert props["gsm.operator.numeric"] == "36801"
    sp.serving_network(NetworkSpec(registration="roaming", mcc="214", mnc="07", country="ES"))
    assert session.getprop("gsm.operator.isroaming") == "true"
    assert session.getprop("gsm.sim.operator.numeric") == "36801"  # re-applied after the console event


def test_hostile_operator_name_reaches_the_device_as_text(session: DeviceSession) -> None:
    Spoofer(session).sims([SimSpec(slot=0, mcc="368", mnc="01", country="CU", operator="; reboot; ")])
    assert session.getprop("gsm.sim.operator.alpha") == "; reboot; "
    assert session.getprop("sys.boot_completed") == "1"


def test_gps_fix_and_location_off(session: DeviceSession) -> None:
    sp = Spoofer(session)
    readback = sp.location(HAVANA)
    assert readback["observed"]["gps"] == pytest.approx([23.1136, -82.3666], abs=1e-4)
    assert sp.location_services(False)["observed"] == {"location_mode": "0"}
    # moving the fix leaves the switch as it was (issue 10): a location-off scenario stays off
    sp.location(HAVANA)
    assert session.check(["settings", "get", "secure", "location_mode"]) == "0"


def test_timezone_clock_connectivity_and_proxy(session: DeviceSession) -> None:
    sp = Spoofer(session, NoProxies())
    assert sp.timezone("America/Havana")["observed"]["persist.sys.timezone"] == "America/Havana"
    before = session.device_time()
    sp.advance_clock(2 * 86400)
    assert session.device_time() - before >= 2 * 86400 - 5
    assert sp.wifi(True, "HomeNet")["observed"]["connected_ssid"] == "HomeNet"
    assert sp.mobile_data(False)["observed"] == {"mobile_data": "0"}
    assert sp.airplane(True)["observed"] == {"airplane_mode_on": "1"}
    assert sp.airplane(False)["observed"] == {"airplane_mode_on": "0"}
    assert sp.ip_country(None)["observed"] == {"http_proxy": ":0"}


def test_locale_restarts_the_ui_in_that_language(session: DeviceSession) -> None:
    readback = Spoofer(session).locale("es-ES")
    assert readback["observed"] == {"persist.sys.locale": "es-ES"}
    assert "Te damos la bienvenida" in session.dump_hierarchy()
