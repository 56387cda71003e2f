"""Country, MCC and operator look-ups (the harness's own tables)."""

from __future__ import annotations

import pytest

from harness import radio


@pytest.mark.parametrize("text, alpha2", [
    ("CU", "CU"), ("cu", "CU"), ("CUB", "CU"), ("Cuba", "CU"), ("Iran", "IR"), ("IRN", "IR"),
    ("KP", "KP"), ("Syria", "SY"), ("Sudan", "SD"), ("South Sudan", "SS"), ("XK", "XK"), ("NO", "NO"),
])
def test_country_resolution(text: str, alpha2: str) -> None:
    assert radio.country(text).alpha2 == alpha2


def test_unknown_country_suggests() -> None:
    with pytest.raises(radio.UnknownCode) as info:
        radio.country("Cubba")
    assert "CU" in info.value.suggestions


@pytest.mark.parametrize("country, mcc, mnc, name", [
    ("CU", "368", "01", "Cubacel"), ("IR", "432", "11", "MCI"), ("KP", "467", "05", "Koryolink"),
    ("SY", "417", "01", "Syriatel"), ("SD", "634", "01", "Zain SD"), ("SS", "659", "02", "MTN South Sudan"),
    ("RU", "250", "01", "MTS"), ("ES", "214", "07", "Movistar"), ("UA", "255", "03", "Kyivstar"),
    ("CN", "460", "01", "China Unicom"), ("US", "310", "410", "AT&T"),
])
def test_default_operators(country: str, mcc: str, mnc: str, name: str) -> None:
    op = radio.default_operator(country)
    assert (op.mcc, op.mnc, op.name) == (mcc, mnc, name)


def test_operator_lookups() -> None:
    assert radio.operator("310", "260").name == "T-Mobile"  # type: ignore[union-attr]
    assert radio.operator_named("cubacel").plmn == "36801"
    assert radio.operator("999", "99") is None
    with pytest.raises(radio.UnknownCode):
        radio.default_operator("AQ")


def test_mcc_table() -> None:
    assert radio.country_of_mcc("368") == "CU" and radio.country_of_mcc("659") == "SS"
    assert radio.country_of_mcc("634") == "SD" and radio.country_of_mcc("250") == "RU"
    assert radio.country_of_mcc("242") == "NO"  # not YAML's False
    assert radio.country_of_mcc("310") == "US" == radio.country_of_mcc("316")
    assert radio.country_of_mcc("000") is None


def test_tables_are_consistent() -> None:
    for mcc, territories in radio._mcc_table().items():
        assert len(mcc) == 3 and mcc.isdigit()
        assert all(radio.is_country(t) and len(t) == 2 for t in territories), (mcc, territories)
    defaults: dict[str, int] = {}
    for op in radio.operators():
        assert op.country in radio.territories_of_mcc(op.mcc), op
        assert len(op.mnc) in (2, 3) and op.mnc.isdigit(), op
        defaults[op.country] = defaults.get(op.country, 0) + op.default
    assert all(n <= 1 for n in defaults.values()), defaults
    plmns = [o.plmn for o in radio.operators()]
    assert len(plmns) == len(set(plmns))


def test_crimean_operators_are_russian() -> None:
    # A SIM or network can never place a device in Crimea: its operators hold Russian PLMNs.
    assert radio.operator_named("Win Mobile").country == "RU"
    assert radio.plmn_country("250", "32") == "RU"
