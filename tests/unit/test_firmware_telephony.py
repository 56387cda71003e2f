"""MCC table, ICC profile / numeric_operator parsing and the gsm.* properties Android publishes."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.virtual.firmware import mcc, telephony

ICC = """<IccProfile><MF>
  <EF id="2FE2"><CCID>8953010000000000012</CCID></EF>
  <ADF aid="A0000000871002FF86FF0389FFFFFFFF">
    <EF id="6F07"><CIMI>368010123456789</CIMI></EF>
    <EF id="6FAD"><SIMIO cmd="B0" p1="0" p2="0" p3="4">144,0,00000002</SIMIO></EF>
    <EF id="6F46"><SIMIO cmd="B0" p1="0" p2="0" p3="11">144,0,00FFFFFF</SIMIO></EF>
  </ADF></MF></IccProfile>"""
OPERATORS = """<resources><string-array name="numeric_operator">
    <item numeric="310260">T-Mobile=T-Mobile</item>
    <item numeric="36801">CUBACEL=CUBACEL</item>
</string-array></resources>"""


@pytest.mark.parametrize(("mcc_code", "iso"), [
    (368, "cu"), (432, "ir"), (467, "kp"), (417, "sy"), (634, "sd"), (659, "ss"), (214, "es"),
    (310, "us"), (316, "us"), (255, "ua"), (250, "ru"), (460, "cn"), (999, ""),
])
def test_mcc_table(mcc_code: int, iso: str) -> None:
    assert mcc.country_for_mcc(mcc_code) == iso


def test_mcc_table_covers_sixty_countries() -> None:
    assert len(set(mcc.MCC_COUNTRY.values())) >= 60


def test_plmn_and_mnc_length() -> None:
    assert mcc.country_for_plmn("36801") == "cu"
    assert mcc.country_for_plmn("") == ""
    assert mcc.mnc_length(310) == 3 and mcc.mnc_length(214) == 2


def test_parse_icc_profile_reads_imsi_iccid_and_mnc_length() -> None:
    sim = telephony.parse_icc_profile(0, ICC)
    assert (sim.present, sim.imsi, sim.iccid, sim.mnc_length, sim.plmn) == (
        True, "368010123456789", "8953010000000000012", 2, "36801")


def test_mnc_length_three_from_ef_ad() -> None:
    sim = telephony.parse_icc_profile(0, ICC.replace("144,0,00000002", "144,0,00000003"))
    assert sim.plmn == "368010"


def test_profile_without_imsi_is_absent() -> None:
    assert not telephony.parse_icc_profile(0, "<IccProfile/>").present


def test_numeric_operators() -> None:
    assert telephony.parse_numeric_operators(OPERATORS) == {"310260": "T-Mobile", "36801": "CUBACEL"}


def test_load_from_avd(tmp_path: Path) -> None:
    (tmp_path / "modem_simulator").mkdir()
    (tmp_path / "modem_simulator" / "iccprofile_for_sim0.xml").write_text(ICC)
    (tmp_path / "modem_simulator" / "numeric_operator.xml").write_text(OPERATORS)
    sims = telephony.load_sims(tmp_path, 2, set())
    operators = telephony.load_operators(tmp_path)
    assert [s.plmn for s in sims] == ["36801", ""]
    network = telephony.serving_network(sims[0], operators, "home", radio_on=True)
    assert network == telephony.Network("36801", "CUBACEL", roaming=False)


def test_unlisted_plmn_registers_on_the_fallback_operator() -> None:
    sim = telephony.parse_icc_profile(0, ICC)
    network = telephony.serving_network(sim, dict(telephony.BUILTIN_OPERATORS), "roaming", radio_on=True)
    assert network == telephony.Network("311740", "Android Virtual Operator", roaming=True)


@pytest.mark.parametrize(("voice", "radio_on"), [("searching", True), ("denied", True), ("off", True),
                                                 ("home", False)])
def test_no_serving_network(voice: str, radio_on: bool) -> None:
    sim = telephony.builtin_sim(0)
    assert telephony.serving_network(sim, dict(telephony.BUILTIN_OPERATORS), voice, radio_on) is None


def test_builtin_and_absent_sim(tmp_path: Path) -> None:
    assert telephony.load_sims(None, 1, set())[0].plmn == "310260"
    assert not telephony.load_sims(None, 1, {0})[0].present


def test_publish_is_comma_joined_per_slot() -> None:
    sims = [telephony.parse_icc_profile(0, ICC), telephony.absent(1)]
    operators = {**telephony.BUILTIN_OPERATORS, **telephony.parse_numeric_operators(OPERATORS)}
    networks = [telephony.serving_network(s, operators, "home", True) for s in sims]
    props = telephony.publish(sims, networks, operators)
    assert props["gsm.sim.state"] == "READY,ABSENT"
    assert props["gsm.sim.operator.numeric"] == "36801,"
    assert props["gsm.sim.operator.iso-country"] == "cu,"
    assert props["gsm.sim.operator.alpha"] == "CUBACEL,"
    assert props["gsm.operator.numeric"] == "36801,"
    assert props["gsm.operator.alpha"] == "CUBACEL,"
    assert props["gsm.operator.iso-country"] == "cu,"
    assert props["gsm.operator.isroaming"] == "false,false"


def test_dumpsys_registry_shows_the_modem_state() -> None:
    sims = [telephony.builtin_sim(0)]
    networks = [telephony.serving_network(sims[0], dict(telephony.BUILTIN_OPERATORS), "home", True)]
    text = telephony.dumpsys_registry(sims, networks, "home", "home")
    assert "mOperatorNumeric=310260" in text and "mMcc=310" in text and "mMnc=260" in text
