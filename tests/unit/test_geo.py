"""The gazetteer: places, aliases, territories, suggestions and distances."""

from __future__ import annotations

import pytest

from harness import geo
from harness.radio import UnknownCode


@pytest.mark.parametrize("name, country, territory", [
    ("Havana", "CU", "CU"), ("la habana", "CU", "CU"), ("Tehran", "IR", "IR"), ("Pyongyang", "KP", "KP"),
    ("Damascus", "SY", "SY"), ("Khartoum", "SD", "SD"), ("Juba", "SS", "SS"),
    ("Simferopol", "UA", "crimea"), ("Sevastopol", "UA", "crimea"), ("Kherson", "UA", "UA"),
    ("Kiev", "UA", "UA"), ("Madrid", "ES", "ES"), ("Barcelona", "ES", "ES"), ("Dandong", "CN", "CN"),
    ("Key West", "US", "US"), ("Guantanamo Bay", "CU", "US"), ("Caimanera", "CU", "CU"), ("Moscow", "RU", "RU"),
    ("Beijing", "CN", "CN"), ("Miami", "US", "US"),
])
def test_places(name: str, country: str, territory: str) -> None:
    p = geo.place(name)
    assert (p.country, p.territory) == (country, territory)


def test_crimea_subdivisions() -> None:
    assert geo.place("Simferopol").subdivision == "UA-43"
    assert geo.place("Sevastopol").subdivision == "UA-40"
    assert geo.place("Kherson").region is None


def test_unknown_place_suggests() -> None:
    with pytest.raises(UnknownCode) as info:
        geo.place("Simferpol")
    assert info.value.suggestions[0] == "Simferopol"


def test_every_place_is_well_formed() -> None:
    names = [p.name for p in geo.places()]
    assert len(names) == len(set(names)) and len(names) >= 20
    for p in geo.places():
        assert -90 <= p.latitude <= 90 and -180 <= p.longitude <= 180
        assert len(p.country) == 2 and p.country.isupper()
