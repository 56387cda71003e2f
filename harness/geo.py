"""The harness's gazetteer: named places and the territory the harness believes each is in.

Data lives in `harness/data/places.yaml`. A place's `territory` is the most specific label a
region-lock policy can care about: a named sanctions region (``crimea``) when the place is in one,
else its ISO alpha-2 country. The firmware decides territories its own way (time-zone polygons); this
table is the independent opinion the harness checks it against.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from harness.radio import UnknownCode, is_country
from harness.territory import REGIONS


@dataclass(frozen=True)
class Place:
    name: str
    latitude: float
    longitude: float
    country: str  # ISO 3166-1 alpha-2
    subdivision: str | None = None  # ISO 3166-2, e.g. "UA-43"
    region: str | None = None  # named sanctions region, e.g. "crimea"
    held_by: str | None = None  # ISO alpha-2 of the power holding land ISO lists under `country`
    aliases: tuple[str, ...] = ()
    note: str | None = None

    @property
    def territory(self) -> str:
        """``crimea`` for Simferopol, ``CU`` for Havana, ``US`` for the Guantánamo Bay naval base:
        what a policy's prohibited list names (the holder, for a base held by another power)."""
        return self.region or self.held_by or self.country


def _place(entry: dict[str, object]) -> Place:
    lat, lon = float(entry["lat"]), float(entry["lon"])  # type: ignore[arg-type]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"place {entry['name']!r} has coordinates out of range")
    country, held_by = str(entry["country"]), _opt(entry.get("held_by"))
    for code in (country, held_by or country):
        if not is_country(code):
            raise ValueError(f"place {entry['name']!r} has unknown country {code!r}")
    region = _opt(entry.get("region"))
    if region is not None and region not in REGIONS:
        raise ValueError(f"place {entry['name']!r} has unknown region {region!r} (known: {', '.join(REGIONS)})")
    return Place(
        name=str(entry["name"]), latitude=lat, longitude=lon, country=country,
        subdivision=_opt(entry.get("subdivision")), region=region, held_by=held_by,
        aliases=tuple(str(a) for a in entry.get("aliases", ()) or ()),  # type: ignore[attr-defined]
        note=_opt(entry.get("note")),
    )


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


@cache
def places() -> tuple[Place, ...]:
    raw = yaml.safe_load(resources.files("harness.data").joinpath("places.yaml").read_text("utf-8"))
    return tuple(_place(e) for e in raw)


@cache
def _index() -> dict[str, Place]:
    index: dict[str, Place] = {}
    for p in places():
        for spelling in (p.name, *p.aliases):
            index[spelling.casefold()] = p
    return index


def place(name: str) -> Place:
    """Look a place up by name or alias (case-insensitive); UnknownCode suggests the closest."""
    found = _index().get(name.strip().casefold())
    if found is None:
        raise UnknownCode("place", name, suggest_places(name))
    return found


def suggest_places(name: str, n: int = 3) -> list[str]:
    spellings = {s: p.name for s, p in _index().items()}
    close = difflib.get_close_matches(name.strip().casefold(), list(spellings), n=n * 2, cutoff=0.5)
    out: list[str] = []
    for s in close:
        if spellings[s] not in out:
            out.append(spellings[s])
    return out[:n]


EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine); border sweeps measure along the line between two places."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))
