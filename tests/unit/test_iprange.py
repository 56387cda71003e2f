"""harness.iprange: the harness's own per-country IPv4 table and address picking."""

from __future__ import annotations

from ipaddress import IPv4Address, ip_network

import pytest

from harness import iprange
from harness.iprange import IpTableError, UnknownCountry, parse_table

SMALL = parse_table({"KP": ["175.45.176.0/22"], "CU": ["152.206.0.0/15", "169.158.0.0/16"]})


# --- the packaged table ---------------------------------------------------------------------

def test_packaged_table_covers_the_countries_scenarios_use() -> None:
    wanted = {"CU", "IR", "KP", "SY", "SD", "SS", "ES", "US", "UA", "RU", "CN"}
    assert wanted <= set(iprange.countries())


def test_packaged_table_has_no_crimea_guess() -> None:
    """Registries record countries, not regions: Crimea is left to a real exit (see the YAML)."""
    assert not any("CRIMEA" in cc for cc in iprange.countries())


@pytest.mark.parametrize(("address", "country"), [
    ("175.45.176.10", "KP"),   # Star JV, North Korea's only block
    ("152.206.1.1", "CU"),     # ETECSA
    ("2.180.0.1", "IR"),
    ("8.8.8.8", "US"),
    ("77.88.8.8", "RU"),       # Yandex DNS
    ("80.58.61.250", "ES"),    # Telefonica DNS
    ("114.114.114.114", "CN"),
    ("10.0.0.1", None),        # private: places nobody
    ("127.0.0.1", None),
    ("192.0.2.1", None),       # documentation range, never allocated
])
def test_country_of_well_known_addresses(address: str, country: str | None) -> None:
    assert iprange.country_of(address) == country


def test_every_country_picks_an_address_inside_its_own_ranges() -> None:
    for cc in iprange.countries():
        for seed in (None, 1, 2, 3):
            address = iprange.pick_address(cc, seed=seed)
            assert iprange.country_of(address) == cc, (cc, seed, address)


# --- picking ------------------------------------------------------------------------------

def test_default_pick_is_the_middle_host_of_the_first_range_and_stable() -> None:
    assert iprange.pick_address("CU", table=SMALL) == IPv4Address("152.207.0.1")
    assert iprange.pick_address("cu", table=SMALL) == iprange.pick_address("CU", table=SMALL)


def test_seeded_pick_is_reproducible_and_never_network_or_broadcast() -> None:
    picks = {iprange.pick_address("KP", seed=s, table=SMALL) for s in range(200)}
    net = ip_network("175.45.176.0/22")
    assert all(p in net and p not in (net.network_address, net.broadcast_address) for p in picks)
    assert len(picks) > 100  # spread, not one address
    assert iprange.pick_address("KP", seed=7, table=SMALL) == iprange.pick_address("KP", seed=7, table=SMALL)


def test_seeded_pick_reaches_every_range_of_a_country() -> None:
    picks = [iprange.pick_address("CU", seed=s, table=SMALL) for s in range(200)]
    hit = {str(net) for net in SMALL["CU"].networks if any(p in net for p in picks)}
    assert hit == {"152.206.0.0/15", "169.158.0.0/16"}


def test_single_address_range_picks_that_address() -> None:
    table = parse_table({"US": ["8.8.8.8/32"]})
    assert iprange.pick_address("US", table=table) == IPv4Address("8.8.8.8")
    assert iprange.pick_address("US", seed=5, table=table) == IPv4Address("8.8.8.8")


def test_unknown_country_names_what_is_known() -> None:
    with pytest.raises(UnknownCountry, match=r"'FR'.*known: CU, KP"):
        iprange.pick_address("FR", table=SMALL)
    assert not iprange.has_country("FR", SMALL)
    assert iprange.has_country("kp", SMALL)


# --- validation ---------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "message"), [
    ({}, "expected a mapping"),
    ([], "expected a mapping"),
    ({"cu": ["152.206.0.0/15"]}, "'cu': a country must be"),
    ({"CUB": ["152.206.0.0/15"]}, "'CUB': a country must be"),
    ({"CU": []}, "CU: expected a non-empty list"),
    ({"CU": "152.206.0.0/15"}, "CU: expected a non-empty list"),
    ({"CU": ["152.206.0.1/15"]}, "CU: '152.206.0.1/15' is not a CIDR range"),
    ({"CU": ["not-an-ip"]}, "is not a CIDR range"),
    ({"CU": ["2001:db8::/32"]}, "is not IPv4"),
    ({"CU": ["10.0.0.0/8"]}, "CU: '10.0.0.0/8' is not a public"),
    ({"CU": ["152.206.0.0/15"], "IR": ["152.207.0.0/16"]}, r"152.206.0.0/15 \(CU\) overlaps 152.207.0.0/16 \(IR\)"),
])
def test_parse_table_rejects_with_the_key_and_value(raw: object, message: str) -> None:
    with pytest.raises(IpTableError, match=message):
        parse_table(raw, "t.yaml")
