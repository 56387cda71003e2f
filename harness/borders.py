"""Border sweeps: points on both sides of each border that matters, placed by the harness's own data.

The harness's border knowledge is `harness/data/borders.yaml`: for each crossing, two gazetteer
places on either side and a *clearance* per place, the distance along the line between them within
which the harness is sure the ground is on that place's side. That is deliberately less than a
polygon: it is independent of the firmware's time-zone polygons (a wrong border in one is caught by
the other), and it is honest about what it does not know. A point farther from both places than
their clearances is "oracle uncertain": it is generated and reported apart, never given a verdict.

Points lie on the great circle from place A to place B, at set distances from A (on A's side of the
sweep) and from B.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from harness import geo

DEFAULT_DISTANCES_KM = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


@dataclass(frozen=True)
class Crossing:
    name: str
    a: geo.Place
    a_clear_km: float
    b: geo.Place
    b_clear_km: float
    note: str = ""

    @property
    def length_km(self) -> float:
        return geo.distance_km(self.a.latitude, self.a.longitude, self.b.latitude, self.b.longitude)


@dataclass(frozen=True)
class SweepPoint:
    crossing: str
    near: str  # the place the distance is measured from
    km: float  # distance from `near` along the line to the other place
    latitude: float
    longitude: float
    territory: str | None  # None: oracle uncertain (outside both clearances)

    @property
    def label(self) -> str:
        return f"{self.crossing}/{self.near}+{self.km:g}km"


@cache
def crossings() -> dict[str, Crossing]:
    raw = yaml.safe_load(resources.files("harness.data").joinpath("borders.yaml").read_text("utf-8"))
    out: dict[str, Crossing] = {}
    for entry in raw:
        a, b = geo.place(str(entry["a"])), geo.place(str(entry["b"]))
        if a.territory == b.territory:
            raise ValueError(f"crossing {entry['name']!r}: {a.name} and {b.name} are both in {a.territory}")
        crossing = Crossing(str(entry["name"]), a, float(entry["a_clear_km"]), b, float(entry["b_clear_km"]),
                            str(entry.get("note", "")))
        if crossing.a_clear_km + crossing.b_clear_km >= crossing.length_km:
            raise ValueError(f"crossing {crossing.name!r}: clearances overlap ({crossing.length_km:.1f} km apart)")
        out[crossing.name] = crossing
    return out


def along(lat1: float, lon1: float, lat2: float, lon2: float, fraction: float) -> tuple[float, float]:
    """The point `fraction` of the way along the great circle from 1 to 2 (spherical interpolation)."""
    p1, l1, p2, l2 = map(math.radians, (lat1, lon1, lat2, lon2))
    d = 2 * math.asin(math.sqrt(math.sin((p2 - p1) / 2) ** 2
                                + math.cos(p1) * math.cos(p2) * math.sin((l2 - l1) / 2) ** 2))
    if d == 0:
        return lat1, lon1
    a, b = math.sin((1 - fraction) * d) / math.sin(d), math.sin(fraction * d) / math.sin(d)
    x = a * math.cos(p1) * math.cos(l1) + b * math.cos(p2) * math.cos(l2)
    y = a * math.cos(p1) * math.sin(l1) + b * math.cos(p2) * math.sin(l2)
    z = a * math.sin(p1) + b * math.sin(p2)
    return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))


def sweep(crossing: Crossing, distances_km: tuple[float, ...] = DEFAULT_DISTANCES_KM) -> list[SweepPoint]:
    """Points at each distance from A toward B and from B toward A (those past the middle are dropped)."""
    points = []
    length = crossing.length_km
    for near, other, clear in ((crossing.a, crossing.b, crossing.a_clear_km),
                               (crossing.b, crossing.a, crossing.b_clear_km)):
        for km in distances_km:
            if km >= length / 2:
                continue
            lat, lon = along(near.latitude, near.longitude, other.latitude, other.longitude, km / length)
            points.append(SweepPoint(crossing.name, near.name, km, round(lat, 6), round(lon, 6),
                                     near.territory if km <= clear else None))
    return points


def sweep_all(names: list[str] | None = None,
              distances_km: tuple[float, ...] = DEFAULT_DISTANCES_KM) -> list[SweepPoint]:
    known = crossings()
    unknown = [n for n in names or [] if n not in known]
    if unknown:
        raise KeyError(f"unknown border crossing(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [p for name in names or list(known) for p in sweep(known[name], distances_km)]
