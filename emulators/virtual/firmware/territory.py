"""Which territory a GPS fix falls in: offline, and precise at the borders that matter here.

Why time-zone polygons
----------------------
The region-lock decision hinges on a handful of borders: Crimea versus the Kherson mainland,
Sudan versus South Sudan, North Korea versus Dandong across the Yalu, Cuba versus Key West. A
country polygon set at a coarse resolution gets exactly those wrong (the Yalu is a few hundred
metres wide; Crimea is not a country in any ISO data set). `timezonefinder` ships the
timezone-boundary-builder polygons (OpenStreetMap borders, metre precision) offline, and the IANA
zones happen to split every border we need: Crimea has its own zone (`Europe/Simferopol`) distinct
from the mainland (`Europe/Kyiv`), Sudan (`Africa/Khartoum`) and South Sudan (`Africa/Juba`) differ,
as do `Asia/Pyongyang` / `Asia/Shanghai` and `America/Havana` / `America/New_York`.

So a fix is mapped fix -> IANA zone -> territory with our own zone table below. Two corrections:
- Guantánamo Bay naval base is US-administered inside Cuba. Current boundary data puts it in
  `America/New_York`, but that is a property of one data release, so a small explicit polygon
  pins it to US whatever the release says.
- Zones not in the table (oceans `Etc/GMT+N`, countries nobody cares about here) give an unknown
  territory: a signal that cannot place the device, so the next signal in precedence decides.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Territory:
    """A place the policy can name: an ISO country, optionally a region inside it ("crimea")."""

    iso: str  # upper case ISO 3166-1 alpha-2
    region: str = ""
    zone: str = ""

    def label(self) -> str:
        return f"{self.iso}/{self.region}" if self.region else self.iso


# Zone -> (ISO, region). Every zone of the countries involved, their neighbours and common ones.
ZONE_TERRITORY: dict[str, tuple[str, str]] = {
    "Europe/Simferopol": ("UA", "crimea"),  # Crimea and Sevastopol
    "Europe/Kyiv": ("UA", ""), "Europe/Kiev": ("UA", ""), "Europe/Uzhgorod": ("UA", ""),
    "Europe/Zaporozhye": ("UA", ""),
    "Europe/Moscow": ("RU", ""), "Europe/Volgograd": ("RU", ""), "Europe/Samara": ("RU", ""),
    "Europe/Kaliningrad": ("RU", ""), "Asia/Yekaterinburg": ("RU", ""), "Asia/Novosibirsk": ("RU", ""),
    "Asia/Vladivostok": ("RU", ""), "Asia/Irkutsk": ("RU", ""), "Asia/Krasnoyarsk": ("RU", ""),
    "Europe/Minsk": ("BY", ""), "Europe/Chisinau": ("MD", ""), "Europe/Warsaw": ("PL", ""),
    "Europe/Bucharest": ("RO", ""), "Europe/Budapest": ("HU", ""), "Europe/Bratislava": ("SK", ""),
    "Europe/Istanbul": ("TR", ""), "Asia/Tbilisi": ("GE", ""), "Asia/Yerevan": ("AM", ""),
    "Asia/Baku": ("AZ", ""),
    "Europe/Madrid": ("ES", ""), "Atlantic/Canary": ("ES", ""), "Africa/Ceuta": ("ES", ""),
    "Europe/Lisbon": ("PT", ""), "Europe/Paris": ("FR", ""), "Europe/Berlin": ("DE", ""),
    "Europe/Rome": ("IT", ""), "Europe/London": ("GB", ""), "Europe/Dublin": ("IE", ""),
    "Europe/Amsterdam": ("NL", ""), "Europe/Brussels": ("BE", ""), "Europe/Vienna": ("AT", ""),
    "Europe/Zurich": ("CH", ""), "Europe/Prague": ("CZ", ""), "Europe/Athens": ("GR", ""),
    "Europe/Stockholm": ("SE", ""), "Europe/Oslo": ("NO", ""), "Europe/Helsinki": ("FI", ""),
    "Europe/Copenhagen": ("DK", ""), "Europe/Sofia": ("BG", ""), "Europe/Belgrade": ("RS", ""),
    "America/Havana": ("CU", ""),
    "America/New_York": ("US", ""), "America/Chicago": ("US", ""), "America/Denver": ("US", ""),
    "America/Los_Angeles": ("US", ""), "America/Phoenix": ("US", ""), "America/Anchorage": ("US", ""),
    "America/Detroit": ("US", ""), "Pacific/Honolulu": ("US", ""),
    "America/Kentucky/Louisville": ("US", ""), "America/Indiana/Indianapolis": ("US", ""),
    "America/Toronto": ("CA", ""), "America/Vancouver": ("CA", ""), "America/Mexico_City": ("MX", ""),
    "America/Cancun": ("MX", ""), "America/Nassau": ("BS", ""), "America/Jamaica": ("JM", ""),
    "America/Port-au-Prince": ("HT", ""), "America/Santo_Domingo": ("DO", ""),
    "America/Cayman": ("KY", ""), "America/Puerto_Rico": ("PR", ""), "America/Caracas": ("VE", ""),
    "America/Bogota": ("CO", ""), "America/Sao_Paulo": ("BR", ""),
    "America/Argentina/Buenos_Aires": ("AR", ""),
    "Asia/Tehran": ("IR", ""), "Asia/Baghdad": ("IQ", ""), "Asia/Kabul": ("AF", ""),
    "Asia/Karachi": ("PK", ""), "Asia/Ashgabat": ("TM", ""), "Asia/Dubai": ("AE", ""),
    "Asia/Muscat": ("OM", ""), "Asia/Qatar": ("QA", ""), "Asia/Bahrain": ("BH", ""),
    "Asia/Kuwait": ("KW", ""), "Asia/Riyadh": ("SA", ""),
    "Asia/Damascus": ("SY", ""), "Asia/Beirut": ("LB", ""), "Asia/Amman": ("JO", ""),
    "Asia/Jerusalem": ("IL", ""), "Asia/Nicosia": ("CY", ""), "Asia/Famagusta": ("CY", ""),
    "Asia/Pyongyang": ("KP", ""), "Asia/Seoul": ("KR", ""), "Asia/Shanghai": ("CN", ""),
    "Asia/Urumqi": ("CN", ""), "Asia/Hong_Kong": ("HK", ""), "Asia/Tokyo": ("JP", ""),
    "Asia/Ulaanbaatar": ("MN", ""), "Asia/Taipei": ("TW", ""),
    "Africa/Khartoum": ("SD", ""), "Africa/Juba": ("SS", ""), "Africa/Cairo": ("EG", ""),
    "Africa/Addis_Ababa": ("ET", ""), "Africa/Asmara": ("ER", ""), "Africa/Ndjamena": ("TD", ""),
    "Africa/Tripoli": ("LY", ""), "Africa/Bangui": ("CF", ""), "Africa/Nairobi": ("KE", ""),
    "Africa/Kampala": ("UG", ""), "Africa/Lubumbashi": ("CD", ""), "Africa/Kinshasa": ("CD", ""),
}

# Guantánamo Bay naval base (lat, lon), a little inside the fence line: US, though in Cuba.
GUANTANAMO_BASE: tuple[tuple[float, float], ...] = (
    (19.90, -75.21), (19.97, -75.21), (19.97, -75.08), (19.88, -75.08), (19.88, -75.15),
)
EXPLICIT_AREAS: tuple[tuple[tuple[tuple[float, float], ...], Territory], ...] = (
    (GUANTANAMO_BASE, Territory("US", "guantanamo", "America/Havana")),
)


def point_in_polygon(lat: float, lon: float, polygon: tuple[tuple[float, float], ...]) -> bool:
    """Even-odd ray casting; fine for the small, convex-ish areas used here."""
    inside = False
    count = len(polygon)
    for i in range(count):
        (lat1, lon1), (lat2, lon2) = polygon[i], polygon[(i + 1) % count]
        if (lat1 > lat) != (lat2 > lat):
            cross_lon = lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if lon < cross_lon:
                inside = not inside
    return inside


class TerritoryFinder:
    """Fix -> Territory. Build one per process: the polygon index takes a moment to load."""

    def __init__(self) -> None:
        from timezonefinder import TimezoneFinder

        self._tf = TimezoneFinder()
        self._lock = threading.Lock()  # TimezoneFinder is not documented as thread-safe

    def zone_at(self, lat: float, lon: float) -> str:
        with self._lock:
            return self._tf.timezone_at(lat=lat, lng=lon) or ""

    def territory_at(self, lat: float, lon: float) -> Territory | None:
        """The territory of a point, or None when no table entry places it."""
        for polygon, territory in EXPLICIT_AREAS:
            if point_in_polygon(lat, lon, polygon):
                return territory
        zone = self.zone_at(lat, lon)
        iso_region = ZONE_TERRITORY.get(zone)
        if iso_region is None:
            return None
        return Territory(iso_region[0], iso_region[1], zone)


_shared: TerritoryFinder | None = None
_shared_lock = threading.Lock()


def shared_finder() -> TerritoryFinder:
    """The process-wide finder (the device and the in-process activation server share it)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = TerritoryFinder()
        return _shared
