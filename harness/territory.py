"""The territory vocabulary: what a region-lock policy can name, in one canonical spelling.

A territory is either an ISO 3166-1 alpha-2 country in upper case (``CU``) or a named region inside
a country in lower case (``crimea``). Every spelling a scenario author may use (``Cuba``, ``cu``,
``UA-43``, ``Crimea``, ``Krym``) resolves here to that one form, so a prohibited list, the gazetteer,
`territory:` on raw coordinates and the oracle cannot disagree over spelling: before this module
``territory: UA-43`` silently counted as "not prohibited" because only ``crimea`` matched.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from harness.radio import UnknownCode, country, is_country, suggest_countries


@dataclass(frozen=True)
class Region:
    """A sanctions region inside a country, known by ISO 3166-2 subdivisions and names."""

    key: str  # canonical, lower case
    name: str
    country: str  # ISO alpha-2 the region belongs to de jure
    subdivisions: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    geonames_admin1: tuple[str, ...] = ()  # GeoNames admin1 codes of the region (harness.repro.places)


REGIONS: dict[str, Region] = {
    "crimea": Region("crimea", "Crimea", "UA", ("UA-43", "UA-40"),
                     ("Krym", "Crimean peninsula", "Autonomous Republic of Crimea"), ("11", "20")),
}


def _region_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for region in REGIONS.values():
        for spelling in (region.key, region.name, *region.subdivisions, *region.aliases):
            index[spelling.casefold()] = region.key
    return index


def canonical(text: str) -> str:
    """``UA-43``/``Crimea``/``crimea`` -> ``crimea``; ``Cuba``/``cu`` -> ``CU``; else UnknownCode."""
    key = text.strip()
    region = _region_index().get(key.casefold())
    if region is not None:
        return region
    if is_country(key):
        return country(key).alpha2
    if "-" in key and is_country(key.split("-")[0]):
        raise UnknownCode("territory", text, [country(key.split("-")[0]).alpha2])  # a subdivision we do not name
    close = difflib.get_close_matches(key.casefold(), list(_region_index()), n=2, cutoff=0.6)
    raise UnknownCode("territory", text, [_region_index()[c] for c in close] + suggest_countries(key, 2))


def country_of(territory: str) -> str:
    """The ISO country a canonical territory lies in (``crimea`` -> ``UA``)."""
    region = REGIONS.get(territory)
    return region.country if region else territory


def label(territory: str) -> str:
    """For people: ``Crimea (UA-43/UA-40)``, ``Cuba (CU)``."""
    region = REGIONS.get(territory)
    if region is not None:
        return f"{region.name} ({'/'.join(region.subdivisions)})"
    try:
        return f"{country(territory).name} ({territory})"
    except UnknownCode:
        return territory
