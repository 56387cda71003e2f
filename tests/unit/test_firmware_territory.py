"""Territory of a fix at the borders the region lock depends on (real coordinates, both sides)."""

from __future__ import annotations

import pytest

from emulators.virtual.firmware.territory import GUANTANAMO_BASE, point_in_polygon, shared_finder

CASES = [
    # place, lat, lon, ISO, region
    ("Havana", 23.1136, -82.3666, "CU", ""),
    ("Key West", 24.5551, -81.7800, "US", ""),
    ("Guantánamo Bay naval base", 19.9030, -75.1680, "US", "guantanamo"),
    ("Guantánamo city", 20.1444, -75.2092, "CU", ""),
    ("Simferopol", 44.9521, 34.1024, "UA", "crimea"),
    ("Sevastopol", 44.6166, 33.5254, "UA", "crimea"),
    ("Armyansk (Crimea, north)", 46.1100, 33.6900, "UA", "crimea"),
    ("Chaplynka (Kherson mainland)", 46.3600, 33.5400, "UA", ""),
    ("Kherson", 46.6354, 32.6169, "UA", ""),
    ("Kyiv", 50.4501, 30.5234, "UA", ""),
    ("Khartoum", 15.5007, 32.5599, "SD", ""),
    ("Juba", 4.8594, 31.5713, "SS", ""),
    ("Pyongyang", 39.0392, 125.7625, "KP", ""),
    ("Sinuiju (across the Yalu)", 40.1300, 124.4200, "KP", ""),
    ("Dandong", 40.1292, 124.3947, "CN", ""),
    ("Tehran", 35.6892, 51.3890, "IR", ""),
    ("Damascus", 33.5138, 36.2765, "SY", ""),
    ("Madrid", 40.4168, -3.7038, "ES", ""),
    ("Moscow", 55.7558, 37.6173, "RU", ""),
]


@pytest.mark.parametrize(("place", "lat", "lon", "iso", "region"), CASES, ids=[c[0] for c in CASES])
def test_territory_at_borders(place: str, lat: float, lon: float, iso: str, region: str) -> None:
    territory = shared_finder().territory_at(lat, lon)
    assert territory is not None, place
    assert (territory.iso, territory.region) == (iso, region)


def test_open_ocean_is_unknown() -> None:
    assert shared_finder().territory_at(30.0, -40.0) is None


def test_guantanamo_polygon() -> None:
    assert point_in_polygon(19.92, -75.15, GUANTANAMO_BASE)
    assert not point_in_polygon(20.14, -75.21, GUANTANAMO_BASE)
    assert not point_in_polygon(23.11, -82.36, GUANTANAMO_BASE)


def test_label() -> None:
    territory = shared_finder().territory_at(44.9521, 34.1024)
    assert territory is not None and territory.label() == "UA/crimea"
