"""ICC profiles and numeric_operator.xml as the harness writes them, read back by the device's parser."""

from __future__ import annotations

from pathlib import Path

from emulators.virtual.firmware import telephony  # the device's reader: what a modem would see
from harness.iccprofile import (
    card_for,
    icc_profile_xml,
    operators_xml,
    parse_operators,
    with_networks,
    write_modem_files,
)
from harness.scenario.model import SimSpec

CUBACEL = SimSpec(mcc="368", mnc="01", operator="Cubacel")
US = SimSpec(slot=1, mcc="310", mnc="410")
IMAGE_PROFILE = """<?xml version="1.0"?>
<IccProfile><PinProfile>keep me</PinProfile><MF><EF id="2FE2"><CCID>89014103211118510720</CCID></EF>
<ADF aid="A0000000871002FF86FF0389FFFFFFFF"><EF id="6F07"><CIMI>310260000000000</CIMI></EF>
<EF id="6FAD"><SIMIO cmd="B0" p1="0" p2="0" p3="4">144,0,00000003</SIMIO></EF></ADF></MF></IccProfile>"""


def test_card_for_a_scenario_sim() -> None:
    card = card_for(CUBACEL)
    assert (card.imsi, len(card.imsi), card.mnc_length, card.plmn, card.spn) == (
        "368010123456789", 15, 2, "36801", "Cubacel")
    assert card_for(US).plmn == "310410" and card_for(US).imsi.isdigit()


def test_skeleton_profile_reads_back_as_the_card() -> None:
    sim = telephony.parse_icc_profile(0, icc_profile_xml(card_for(CUBACEL)))
    assert (sim.imsi, sim.plmn, sim.spn) == ("368010123456789", "36801", "Cubacel")


def test_image_profile_is_patched_not_replaced() -> None:
    xml = icc_profile_xml(card_for(CUBACEL), IMAGE_PROFILE)
    assert "<PinProfile>keep me</PinProfile>" in xml
    assert "144,0,00000002" in xml  # MNC length 3 -> 2 in EF_AD
    assert telephony.parse_icc_profile(0, xml).plmn == "36801"


def test_names_are_escaped() -> None:
    hostile = SimSpec(mcc="368", mnc="01", operator='<b>"x"&</b>')
    xml = icc_profile_xml(card_for(hostile))
    assert "<b>" not in xml and "&amp;" in xml
    listed = operators_xml(with_networks({}, [card_for(hostile)]))
    assert parse_operators(listed) == {"36801": '&lt;b&gt;"x"&amp;&lt;/b&gt;=&lt;b&gt;"x"&amp;&lt;/b&gt;'}


def test_write_modem_files_keeps_the_image_networks_and_adds_the_sims(tmp_path: Path) -> None:
    folder = tmp_path / "modem_simulator"
    folder.mkdir()
    (folder / "numeric_operator.xml").write_text(operators_xml({"310260": "T-Mobile=T-Mobile"}))
    (folder / "iccprofile_for_sim1.xml").write_text("old")
    written = write_modem_files(folder, [CUBACEL, SimSpec(slot=1, absent=True)])
    assert not written.no_sim and not (folder / "iccprofile_for_sim1.xml").exists()
    operators = telephony.parse_numeric_operators((folder / "numeric_operator.xml").read_text())
    assert operators == {"310260": "T-Mobile", "36801": "Cubacel"}
    sims = telephony.load_sims(tmp_path, 2, set())
    assert [s.plmn for s in sims] == ["36801", ""]


def test_an_empty_slot_zero_is_no_sim(tmp_path: Path) -> None:
    assert write_modem_files(tmp_path / "m", [SimSpec(absent=True)]).no_sim
