"""A user's report (free English text or a structured ticket) -> facts, each with the words it came from.

Every fact the scenario needs is either *read* (with a quote), *assumed* (a stated default, listed
as an assumption) or a *gap* (the report says something we cannot read surely: the scenario marks
it and `repro` says so, rather than a confident wrong scenario).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from harness import radio
from harness.repro.places import Found, find, lookup

# Adjectives people use for a SIM's country ("a Cuban SIM").
DEMONYMS = {"cuban": "CU", "iranian": "IR", "syrian": "SY", "sudanese": "SD", "north korean": "KP",
            "korean": "KP", "ukrainian": "UA", "russian": "RU", "spanish": "ES", "american": "US", "us": "US",
            "chinese": "CN", "turkish": "TR", "german": "DE", "french": "FR", "british": "GB", "uk": "GB",
            "mexican": "MX", "italian": "IT", "south sudanese": "SS", "iraqi": "IQ", "lebanese": "LB"}
_OPERATOR_WORDS = sorted({o.name for o in radio.operators()}, key=len, reverse=True)


class UnreadableReport(ValueError):
    """The report gives nothing to build a scenario from; the message says what is missing."""


@dataclass
class Fact:
    value: Any
    quote: str  # the report's words ("" for an assumption)


@dataclass
class Report:
    text: str
    device: Fact | None = None
    first_place: Fact | None = None
    purchase: Fact | None = None
    sims: Fact | None = None  # list of SIM words ("none", "CU", "Cubacel")
    connection: Fact | None = None  # "wifi" | "mobile"
    location_off: Fact | None = None
    airplane: Fact | None = None
    proxy: Fact | None = None  # IP country
    custom_rom: Fact | None = None
    later: list[tuple[str, Fact]] = field(default_factory=list)  # ("travel"|"reboot"|"factory-reset", fact)
    outcome: Fact | None = None  # "locked" | "unlocked" | None (asked, not told)
    assumptions: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)


# --- phrase families --------------------------------------------------------------------------------

_FIRST_USE = re.compile(r"(first (switched|turned) on|first (used|booted|started)|switched on|turned on|set ?up|"
                        r"activated|activation|first boot|powered on)", re.IGNORECASE)
_PURCHASE = re.compile(r"\b(bought|purchased|ordered|from a shop|imported)\b[^.;,]*?\bin\b\s+([A-Z][\w’'-]+(?: [A-Z][\w’'-]+)?)", re.IGNORECASE)
_TRAVEL = re.compile(r"\b(taken|took it|travel(?:l)?ed|flew|went|moved|brought it|carried it|drove)\b", re.IGNORECASE)
_NO_SIM = re.compile(r"\b(no sim|without (a |any )?sim|sim-?less|wi-?fi[ -]only)\b", re.IGNORECASE)
_LOCATION_OFF = re.compile(r"\b(location|gps|location services)\s+(was |were |turned |switched )?(off|disabled)\b|"
                           r"\b(turned|switched|kept) (off )?(location|gps)( services)? off\b|\bno gps\b", re.IGNORECASE)
_AIRPLANE = re.compile(r"\b(airplane|aeroplane|flight) mode\b", re.IGNORECASE)
_WIFI = re.compile(r"\bwi-?fi\b", re.IGNORECASE)
_MOBILE = re.compile(r"\b(mobile data|cellular data|4g|3g|lte)\b", re.IGNORECASE)
_FACTORY = re.compile(r"\b(factory[- ]reset|hard reset|wiped)\b", re.IGNORECASE)
_REBOOT = re.compile(r"\b(reboot(ed)?|restart(ed)?|turned it off and on)\b", re.IGNORECASE)
_CUSTOM = re.compile(r"\b(custom rom|lineage ?os|flashed [a-z]+|aosp rom)\b", re.IGNORECASE)
_PROXY = re.compile(r"\b(vpn|proxy)\b[^.;]*?\b(?:in|to|via|through)\s+(?:an? |the )?([A-Z][\w]+)", re.IGNORECASE)
_LOCKED = re.compile(r"\b(locked|blocked|lock screen|notice about sanctions|sanctions notice|"
                     r"sanction(s)? restrictions?|bricked)\b", re.IGNORECASE)
_UNLOCKED = re.compile(r"\b(works( fine| normally)?|still works|not locked|no lock|unlocked|no notice|never locked|"
                       r"stays? unlocked|no problem)\b", re.IGNORECASE)
_QUESTION = re.compile(r"\b(is it|will it|would it|does it)\b[^.?]*\?|\?\s*$", re.IGNORECASE)


def read(text: str) -> Report:
    """Free text or a YAML ticket (a mapping with `first_boot:`) -> Report; UnreadableReport if hopeless."""
    ticket = _ticket(text)
    if ticket is not None:
        return _from_ticket(ticket, text)
    report = Report(text=text.strip())
    if len(report.text) < 10:
        raise UnreadableReport("the report is empty or too short to read: say where the phone was first "
                               "switched on, with which SIM, and what happened")
    places = find(report.text)
    _purchase(report, places)
    _places(report, places)
    _signals(report)
    _later(report, places)
    _outcome(report)
    if report.first_place is None and report.sims is None:
        raise UnreadableReport("found no place and no SIM in the report; nothing tells where the phone was "
                               "first used (name a city, e.g. 'first switched on in Havana')")
    return report


def _ticket(text: str) -> dict[str, Any] | None:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) and "first_boot" in data else None


def _purchase(report: Report, places: list[Found]) -> None:
    match = _PURCHASE.search(report.text)
    if match and not _FIRST_USE.search(match.group(0)):  # "bought and first used in Madrid" is first use
        report.purchase = Fact(match.group(2), match.group(0))


def _places(report: Report, places: list[Found]) -> None:
    """The first-use place: the one after a first-use phrase, else the first one not bought in."""
    candidates = [p for p in places if not (report.purchase and p.words in report.purchase.quote)]
    if not candidates:
        report.gaps.append("no place of first use found: the scenario has no GPS fix (location is the gap)")
        return
    cue = _FIRST_USE.search(report.text)
    after = [p for p in candidates if cue and p.start > cue.start()]
    chosen = after[0] if after else candidates[0]
    report.first_place = Fact(chosen, _quote(report.text, chosen.start, chosen.words))


def _signals(report: Report) -> None:
    text = report.text
    if m := _NO_SIM.search(text):
        report.sims = Fact(["none"], m.group(0))
    else:
        report.sims = _sim_words(text)
    if m := _LOCATION_OFF.search(text):
        report.location_off = Fact(True, m.group(0))
    if m := _AIRPLANE.search(text):
        report.airplane = Fact(True, m.group(0))
    wifi, mobile = _WIFI.search(text), _MOBILE.search(text)
    if wifi and not (mobile and mobile.start() < wifi.start()):
        report.connection = Fact("wifi", wifi.group(0))
    elif mobile:
        report.connection = Fact("mobile", mobile.group(0))
    if m := _CUSTOM.search(text):
        report.custom_rom = Fact(True, m.group(0))
    if (m := _PROXY.search(text)) and radio.is_country(_demonym(m.group(2)) or m.group(2)):
        report.proxy = Fact(radio.country(_demonym(m.group(2)) or m.group(2)).alpha2, m.group(0))
    if m := re.search(r"\b(redmi|xiaomi|poco|pixel|samsung|galaxy)\b[\w ]{0,20}", text, re.IGNORECASE):
        report.device = Fact(m.group(0).strip(), m.group(0).strip())


def _sim_words(text: str) -> Fact | None:
    found: list[tuple[int, str, str]] = []
    for name in _OPERATOR_WORDS:
        for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text, re.IGNORECASE):
            if not any(s <= m.start() < s + len(q) for s, _, q in found):
                found.append((m.start(), name, m.group(0)))
    for m in re.finditer(r"\b(" + "|".join(sorted(DEMONYMS, key=len, reverse=True)) + r")\s+(sim|card|number)",
                         text, re.IGNORECASE):
        found.append((m.start(), DEMONYMS[m.group(1).lower()], m.group(0)))
    if not found:
        return None
    found.sort()
    return Fact([word for _, word, _ in found[:2]], "; ".join(q for _, _, q in found[:2]))


def _demonym(word: str) -> str | None:
    return DEMONYMS.get(word.lower())


def _later(report: Report, places: list[Found]) -> None:
    """After the first use: travels (later places), reboots, factory resets, in the order told."""
    events: list[tuple[int, str, Fact]] = []
    first = report.first_place.value if report.first_place else None
    for p in places:
        if first is not None and p.start > first.start and p.territory is not None:
            before = report.text[max(0, p.start - 60):p.start]
            if _TRAVEL.search(before) or re.search(r"\bthen\b|\blater\b|\bnow in\b", before, re.IGNORECASE):
                events.append((p.start, "travel", Fact(p, _quote(report.text, p.start, p.words))))
    for kind, pattern in (("factory-reset", _FACTORY), ("reboot", _REBOOT)):
        for m in pattern.finditer(report.text):
            events.append((m.start(), kind, Fact(True, m.group(0))))
    report.later = [(kind, fact) for _, kind, fact in sorted(events, key=lambda e: e[0])]


def _outcome(report: Report) -> None:
    text = report.text
    if _QUESTION.search(text):
        report.outcome = Fact(None, _QUESTION.search(text).group(0))  # type: ignore[union-attr]
        return
    locked = [m for m in _LOCKED.finditer(text)]
    unlocked = [m for m in _UNLOCKED.finditer(text)]
    if unlocked and (not locked or unlocked[-1].start() > locked[-1].start()):
        report.outcome = Fact("unlocked", unlocked[-1].group(0))
    elif locked:
        report.outcome = Fact("locked", locked[0].group(0))


def _quote(text: str, start: int, words: str) -> str:
    """A few words around a place: `first switched on in Holguín`."""
    head = text[max(0, start - 40):start].split(",")[-1].split(".")[-1].split(";")[-1].lstrip()
    return f"{head}{words}"


# --- structured tickets -------------------------------------------------------------------------------

def _from_ticket(data: dict[str, Any], text: str) -> Report:
    report = Report(text=text.strip())
    first = data.get("first_boot") or {}
    if not isinstance(first, dict):
        raise UnreadableReport("`first_boot:` must be a mapping with place, sim, wifi, location")
    if "place" in first:
        found = lookup(str(first["place"]))
        if found is None:
            raise UnreadableReport(f"first_boot.place: unknown place {first['place']!r}")
        report.first_place = Fact(found, f"first_boot.place: {first['place']}")
    if "sim" in first:
        sims = first["sim"] if isinstance(first["sim"], list) else [first["sim"]]
        report.sims = Fact([str(s) for s in sims], f"first_boot.sim: {first['sim']}")
    if first.get("wifi") is not None:
        report.connection = Fact("wifi" if first["wifi"] else "mobile", f"first_boot.wifi: {first['wifi']}")
    if first.get("location") is False or str(first.get("location", "")).lower() == "off":
        report.location_off = Fact(True, f"first_boot.location: {first['location']}")
    if data.get("device"):
        report.device = Fact(str(data["device"]), f"device: {data['device']}")
    for item in data.get("then") or []:
        _ticket_event(report, item)
    if data.get("outcome") in ("locked", "unlocked"):
        report.outcome = Fact(data["outcome"], f"outcome: {data['outcome']}")
    return report


def _ticket_event(report: Report, item: Any) -> None:
    if isinstance(item, str) and item in ("reboot", "factory-reset"):
        report.later.append((item, Fact(True, f"then: {item}")))
    elif isinstance(item, dict) and "travel" in item and (found := lookup(str(item["travel"]))) is not None:
        report.later.append(("travel", Fact(found, f"then: travel {item['travel']}")))
    else:
        report.gaps.append(f"then: cannot read {item!r} (use reboot, factory-reset or {{travel: PLACE}})")
