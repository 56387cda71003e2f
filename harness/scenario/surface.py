"""The YAML surface of a step -> a resolved step model.

Each step is a bare word (``- reboot``) or a one-key mapping (``- sim: CU``). One small parser per
step kind turns the value into model fields, resolving names on the way (a place into coordinates,
a country into its default operator's MCC/MNC, ``2d`` into seconds), so the runtime never parses
text. Every complaint is a ScenarioError naming the file, line and field.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from pydantic import BaseModel, ValidationError

from harness import geo, radio, territory
from harness.errors import ScenarioError
from harness.safe_regex import UnsafeRegex, user_regex
from harness.scenario import model as m
from harness.scenario.yamlsource import LineDict, LineList

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_ON = {"on", "true", "yes", "enabled", "enable"}
_OFF = {"off", "false", "no", "disabled", "disable"}
_REGISTRATIONS = ("home", "roaming", "searching", "denied", "off")
_STATES = ("locked", "unlocked", "policy")


MAX_DURATION_SECONDS = 3650 * 86400.0  # ten years: longer is a typo, and .inf overflows a clock


def parse_duration(text: str | float) -> float:
    """``"30s"``, ``"5m"``, ``"2h"``, ``"2d"``, ``"1h30m"``, ``"250ms"`` or a number of seconds."""
    return _bounded_duration(_duration(text), text)


def _duration(text: str | float) -> float:
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ValueError(f"not a duration: {_describe(text)} (use e.g. 30s, 5m, 2h, 2d, 1h30m)")  # noqa: TRY004
    if isinstance(text, int | float):
        if text < 0:
            raise ValueError(f"a duration cannot be negative: {text!r}")
        return float(text)
    s = text.strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return float(s)
    if not s or _DURATION_PART.sub("", s):
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 2h, 2d, 1h30m)")
    return sum(float(n) * _UNITS[u] for n, u in _DURATION_PART.findall(s))


def _bounded_duration(seconds: float, text: object) -> float:
    if not seconds <= MAX_DURATION_SECONDS:  # also catches nan and inf
        raise ValueError(f"duration {text!r}: a duration is a finite time of at most 3650 days (the limit)")
    return seconds


@dataclass
class Ctx:
    """Where we are: file, the step's line and field path, for error messages."""

    file: str
    line: int
    field: str
    slots: int = 1  # device slots, for dual-SIM checks

    def fail(self, message: str, hint: str | list[str] | None = None, *, line: int | None = None,
             sub: str | None = None) -> NoReturn:
        field = f"{self.field}.{sub}" if sub else self.field
        raise ScenarioError(self.file, line or self.line, field, message, hint)

    def key(self, d: dict[Any, Any], key: str) -> Ctx:
        """The context of `d[key]`: its own line, field path extended by the key."""
        line = d.line_of(key) if isinstance(d, LineDict) else self.line
        return Ctx(self.file, line, f"{self.field}.{key}", self.slots)

    def build(self, model: type[BaseModel], **fields: Any) -> Any:
        """Construct a model, turning pydantic's complaint into a ScenarioError at this line."""
        try:
            return model(**fields)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            if loc == self.field.rsplit(".", 1)[-1]:
                loc = ""  # `- locale: x` fails in field `locale`: do not say steps[0].locale.locale
            self.fail(msg, sub=loc or None)


# --------------------------------------------------------------------------------------------
# Small value parsers
# --------------------------------------------------------------------------------------------

def as_bool(value: Any, ctx: Ctx) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _ON | _OFF:
        return value.strip().lower() in _ON
    ctx.fail(f"expected on/off (or true/false), got {value!r}")


def as_str(value: Any, ctx: Ctx, what: str = "a string") -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    ctx.fail(f"expected {what}, got {_describe(value)}")


def as_mapping(value: Any, ctx: Ctx, allowed: tuple[str, ...]) -> LineDict:
    if not isinstance(value, dict):
        ctx.fail(f"expected a mapping with keys {', '.join(allowed)}, got {_describe(value)}")
    for key in value:
        if key not in allowed:
            line = value.line_of(key) if isinstance(value, LineDict) else None
            ctx.fail(f"unknown key {key!r}; valid keys: {', '.join(allowed)}",
                     difflib.get_close_matches(str(key), allowed, n=2), line=line)
    return value if isinstance(value, LineDict) else _line_dict(value, ctx.line)


def _line_dict(value: dict[Any, Any], line: int) -> LineDict:
    d = LineDict(value)
    d.line, d.key_lines = line, {}
    return d


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def country_code(value: Any, ctx: Ctx) -> str:
    text = as_str(value, ctx, "a country (ISO code or name)")
    try:
        return radio.country(text).alpha2
    except radio.UnknownCode as exc:
        ctx.fail(f"unknown country {text!r}", exc.suggestions)


def mcc_text(value: Any, ctx: Ctx) -> str:
    text = as_str(value, ctx, "an MCC (3 digits)")
    if not re.fullmatch(r"\d{3}", text):
        ctx.fail(f"MCC must be 3 digits, got {text!r}")
    return text


def mnc_text(value: Any, ctx: Ctx) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value < 10:
        # `mnc: 1` lost its leading zero somewhere; "01" and "001" differ, so make the author say.
        ctx.fail(f"ambiguous MNC {value!r}: write it as a quoted string, e.g. \"0{value}\"")
    text = as_str(value, ctx, "an MNC (2 or 3 digits)")
    if not re.fullmatch(r"\d{2,3}", text):
        ctx.fail(f"MNC must be 2 or 3 digits, got {text!r}")
    return text


# --------------------------------------------------------------------------------------------
# SIM, network, position
# --------------------------------------------------------------------------------------------

_SIM_KEYS = ("mcc", "mnc", "country", "operator", "slot", "absent")


def sim_spec(value: Any, ctx: Ctx, slot: int) -> m.SimSpec:
    if isinstance(value, str):
        return _sim_from_word(value, ctx, slot)
    if value is None:
        ctx.fail("expected a SIM: a country (CU), an operator (Cubacel), none, or {mcc, mnc}")
    d = as_mapping(value, ctx, _SIM_KEYS)
    if "slot" in d:
        slot = _slot(d["slot"], ctx.key(d, "slot"))
    if d.get("absent") is not None and as_bool(d["absent"], ctx.key(d, "absent")):
        return ctx.build(m.SimSpec, slot=slot, absent=True)
    fields = _plmn_fields(d, ctx, what="SIM")
    return ctx.build(m.SimSpec, slot=slot, **fields)


def _sim_from_word(word: str, ctx: Ctx, slot: int) -> m.SimSpec:
    if word.strip().lower() in ("none", "absent", "no-sim"):
        return ctx.build(m.SimSpec, slot=slot, absent=True)
    fields = _plmn_from_word(word, ctx, what="SIM")
    return ctx.build(m.SimSpec, slot=slot, **fields)


def _slot(value: Any, ctx: Ctx) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in (0, 1):
        ctx.fail(f"slot must be 0 or 1, got {value!r}")
    return value


def _plmn_from_word(word: str, ctx: Ctx, what: str) -> dict[str, Any]:
    """``CU`` / ``Cuba`` -> the country's default operator; ``Cubacel`` -> that operator."""
    text = word.strip()
    if radio.is_country(text):
        code = radio.country(text).alpha2
        try:
            op = radio.default_operator(code)
        except radio.UnknownCode:
            ctx.fail(f"no default operator is known for {code}; give the {what} as {{mcc, mnc}}")
        return {"mcc": op.mcc, "mnc": op.mnc, "country": op.country, "operator": op.name}
    try:
        op = radio.operator_named(text)
    except radio.UnknownCode as exc:
        hint = radio.suggest_countries(text, 2) + exc.suggestions[:2]
        ctx.fail(f"unknown country or operator {text!r}", hint or None)
    return {"mcc": op.mcc, "mnc": op.mnc, "country": op.country, "operator": op.name}


def _plmn_fields(d: LineDict, ctx: Ctx, what: str) -> dict[str, Any]:
    """Mapping form: {mcc, mnc} (country/operator derived) or {country} or {operator}."""
    if "mcc" not in d and "mnc" not in d:
        if "operator" in d:
            return _plmn_from_word(as_str(d["operator"], ctx.key(d, "operator")), ctx.key(d, "operator"), what)
        if "country" in d:
            return _plmn_from_word(country_code(d["country"], ctx.key(d, "country")), ctx.key(d, "country"), what)
        ctx.fail(f"a {what} needs mcc and mnc, a country, or an operator")
    if "mcc" not in d or "mnc" not in d:
        ctx.fail(f"a {what} needs both mcc and mnc", sub="mnc" if "mcc" in d else "mcc")
    mcc = mcc_text(d["mcc"], ctx.key(d, "mcc"))
    mnc = mnc_text(d["mnc"], ctx.key(d, "mnc"))
    country = radio.plmn_country(mcc, mnc)
    if "country" in d:
        given = country_code(d["country"], ctx.key(d, "country"))
        territories = radio.territories_of_mcc(mcc)
        if territories and given not in territories:
            ctx.key(d, "country").fail(f"MCC {mcc} belongs to {', '.join(territories)}, not {given}")
        country = given
    op = radio.operator(mcc, mnc)
    name = as_str(d["operator"], ctx.key(d, "operator")) if "operator" in d else (op.name if op else None)
    return {"mcc": mcc, "mnc": mnc, "country": country, "operator": name}


def sim_slots(value: Any, ctx: Ctx) -> tuple[m.SimSpec, ...]:
    if isinstance(value, list):
        if not value:
            ctx.fail("expected at least one SIM")
        sims = tuple(sim_spec(v, _item(value, i, ctx), i) for i, v in enumerate(value))
    else:
        sims = (sim_spec(value, ctx, 0),)
    slots = [s.slot for s in sims]
    if len(set(slots)) != len(slots):
        ctx.fail(f"two SIMs in the same slot {slots}")
    if max(slots) + 1 > ctx.slots:
        ctx.fail(f"SIM in slot {max(slots)} needs a dual-SIM device", "add `device: {slots: 2}`")
    return sims


def _item(seq: list[Any], index: int, ctx: Ctx) -> Ctx:
    line = seq.line_of(index) if isinstance(seq, LineList) else ctx.line
    return Ctx(ctx.file, line, f"{ctx.field}[{index}]", ctx.slots)


_NETWORK_KEYS = ("registration", "mcc", "mnc", "country", "operator")


def network_spec(value: Any, ctx: Ctx) -> m.NetworkSpec:
    if isinstance(value, str) and value.strip().lower() in _REGISTRATIONS:
        return ctx.build(m.NetworkSpec, registration=value.strip().lower())
    if isinstance(value, str):
        return ctx.build(m.NetworkSpec, **_plmn_from_word(value, ctx, "network"))
    d = as_mapping(value, ctx, _NETWORK_KEYS)
    fields: dict[str, Any] = {}
    if "registration" in d:
        reg = as_str(d["registration"], ctx.key(d, "registration")).lower()
        if reg not in _REGISTRATIONS:
            ctx.key(d, "registration").fail(f"unknown registration {reg!r}; valid: {', '.join(_REGISTRATIONS)}",
                                           difflib.get_close_matches(reg, _REGISTRATIONS, n=2))
        fields["registration"] = reg
    if any(k in d for k in ("mcc", "mnc", "country", "operator")):
        fields.update(_plmn_fields(d, ctx, "network"))
    return ctx.build(m.NetworkSpec, **fields)


_POSITION_KEYS = ("lat", "lon", "latitude", "longitude", "place", "territory", "country")


def position(value: Any, ctx: Ctx) -> m.Position:
    if isinstance(value, str):
        return _position_of_place(value, ctx)
    d = as_mapping(value, ctx, _POSITION_KEYS)
    if "place" in d and not any(k in d for k in ("lat", "lon", "latitude", "longitude")):
        return _position_of_place(as_str(d["place"], ctx.key(d, "place")), ctx.key(d, "place"))
    lat = _coordinate(d, ("lat", "latitude"), 90, ctx)
    lon = _coordinate(d, ("lon", "longitude"), 180, ctx)
    country = country_code(d["country"], ctx.key(d, "country")) if "country" in d else None
    territory = _territory(d["territory"], country, ctx.key(d, "territory")) if "territory" in d else country
    place = as_str(d["place"], ctx.key(d, "place")) if "place" in d else None
    return ctx.build(m.Position, latitude=lat, longitude=lon, place=place, territory=territory,
                     country=country)


def _territory(value: Any, country: str | None, ctx: Ctx) -> str:
    """One canonical spelling (harness.territory): `UA-43`, `Crimea`, `crimea` all mean `crimea`."""
    text = as_str(value, ctx, "a territory: a country (CU, Cuba) or a region (crimea, UA-43)")
    try:
        found = territory.canonical(text)
    except radio.UnknownCode as exc:
        ctx.fail(f"unknown territory {text!r}; a territory is an ISO country or one of the regions "
                 f"{', '.join(territory.REGIONS)}", exc.suggestions or None)
    if country is not None and territory.country_of(found) != country:
        ctx.fail(f"territory {found!r} lies in {territory.country_of(found)}, not in country {country}")
    return found


def _coordinate(d: LineDict, keys: tuple[str, str], limit: int, ctx: Ctx) -> float:
    key = next((k for k in keys if k in d), None)
    if key is None:
        ctx.fail(f"missing {keys[0]} (or {keys[1]})")
    value, sub = d[key], ctx.key(d, key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        sub.fail(f"expected a number of degrees, got {_describe(value)}")
    if not -limit <= value <= limit:
        sub.fail(f"{keys[1]} {value} out of range [-{limit}, {limit}]")
    return float(value)


def _position_of_place(name: str, ctx: Ctx) -> m.Position:
    try:
        p = geo.place(name)
    except radio.UnknownCode as exc:
        ctx.fail(f"unknown place {name!r} (not in harness/data/places.yaml; or give {{lat, lon}})",
                 exc.suggestions or None)
    return ctx.build(m.Position, latitude=p.latitude, longitude=p.longitude, place=p.name,
                     territory=p.territory, country=p.country)


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------

StepParser = Callable[[Any, Ctx], dict[str, Any]]


def _bare(kind: str) -> StepParser:
    def parse(value: Any, ctx: Ctx) -> dict[str, Any]:
        if value is not None and value is not True:
            ctx.fail(f"'{kind}' takes no value; write it as `- {kind}`")
        return {}
    return parse


def _sim(value: Any, ctx: Ctx) -> dict[str, Any]:
    return {"slots": sim_slots(value, ctx)}


def _network(value: Any, ctx: Ctx) -> dict[str, Any]:
    return {"network": network_spec(value, ctx)}


def _location(value: Any, ctx: Ctx) -> dict[str, Any]:
    """`location: off|on` flips location services; a place or {lat, lon} only moves the fix."""
    if isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in _ON | _OFF):
        return {"enabled": as_bool(value, ctx)}
    return {"position": position(value, ctx)}


def _locale(value: Any, ctx: Ctx) -> dict[str, Any]:
    return {"locale": as_str(value, ctx, "a locale like es-ES")}


def _timezone(value: Any, ctx: Ctx) -> dict[str, Any]:
    tz = as_str(value, ctx, "an IANA time zone like Europe/Madrid")
    if tz not in zoneinfo.available_timezones():
        ctx.fail(f"unknown IANA time zone {tz!r}",
                 difflib.get_close_matches(tz, sorted(zoneinfo.available_timezones()), n=3))
    return {"timezone": tz}


def _wifi(value: Any, ctx: Ctx) -> dict[str, Any]:
    if isinstance(value, dict):
        d = as_mapping(value, ctx, ("on", "ssid"))
        ssid = as_str(d["ssid"], ctx.key(d, "ssid")) if d.get("ssid") is not None else None
        return {"on": as_bool(d.get("on", True), ctx.key(d, "on")), "ssid": ssid}
    if isinstance(value, str) and value.strip().lower() not in _ON | _OFF:
        return {"on": True, "ssid": value.strip()}  # `wifi: HomeNet` joins that network
    return {"on": as_bool(value, ctx)}


def _switch(value: Any, ctx: Ctx) -> dict[str, Any]:
    return {"on": as_bool(value, ctx)}


def _ip(value: Any, ctx: Ctx) -> dict[str, Any]:
    if value is None or value is False or (isinstance(value, str) and value.lower() in ("direct", "off")):
        return {"country": None}
    return {"country": country_code(value, ctx)}


_ACTIVATE_KEYS = ("online", "language", "wifi", "location_services", "location")


def _activate(value: Any, ctx: Ctx) -> dict[str, Any]:
    if value is None or value is True:
        return {}
    if isinstance(value, str) and value.strip().lower() in ("online", "offline"):
        return {"online": value.strip().lower() == "online"}
    d = as_mapping(value, ctx, _ACTIVATE_KEYS)
    out: dict[str, Any] = {}
    if "online" in d:
        out["online"] = as_bool(d["online"], ctx.key(d, "online"))
    if "language" in d:
        out["language"] = _language(d["language"], ctx.key(d, "language"))
    if d.get("wifi") is not None and d["wifi"] is not False:
        out["wifi"] = as_str(d["wifi"], ctx.key(d, "wifi"), "an SSID")
    for key in ("location_services", "location"):
        if key in d:
            out["location_services"] = as_bool(d[key], ctx.key(d, key))
    return out


def _language(value: Any, ctx: Ctx) -> str:
    text = as_str(value, ctx, "a language like en or es").lower()
    code = text.split("-")[0]
    if not re.fullmatch(r"[a-z]{2,3}", code):
        ctx.fail(f"expected a language code like en or es, got {text!r}")
    return code


def _wait(value: Any, ctx: Ctx) -> dict[str, Any]:
    try:
        return {"seconds": parse_duration(value)}
    except (ValueError, TypeError) as exc:
        ctx.fail(str(exc))


_TRAVEL_KEYS = ("to", "sim", "network")


def _travel(value: Any, ctx: Ctx) -> dict[str, Any]:
    if isinstance(value, str):
        return {"position": position(value, ctx)}
    d = as_mapping(value, ctx, _TRAVEL_KEYS)
    if not d:
        ctx.fail("travel needs at least one of: to, sim, network")
    out: dict[str, Any] = {}
    if "to" in d:
        out["position"] = position(d["to"], ctx.key(d, "to"))
    if "sim" in d:
        out["sims"] = sim_slots(d["sim"], ctx.key(d, "sim"))
    if "network" in d:
        out["network"] = network_spec(d["network"], ctx.key(d, "network"))
    return out


def _expect(value: Any, ctx: Ctx) -> dict[str, Any]:
    if isinstance(value, str):
        return {"state": _state(value, ctx)}
    d = as_mapping(value, ctx, ("state", "timeout", "settle", "text"))
    if "state" not in d:
        ctx.fail(f"missing state; one of {', '.join(_STATES)}")
    out: dict[str, Any] = {"state": _state(d["state"], ctx.key(d, "state"))}
    for key in ("timeout", "settle"):
        if key in d:
            out[key] = _wait(d[key], ctx.key(d, key))["seconds"]
    if "text" in d:
        out["text"] = _regex(d["text"], ctx.key(d, "text"))
    return out


def _state(value: Any, ctx: Ctx) -> str:
    text = as_str(value, ctx, f"one of {', '.join(_STATES)}").lower()
    if text not in _STATES:
        ctx.fail(f"unknown state {text!r}; valid: {', '.join(_STATES)}",
                 difflib.get_close_matches(text, _STATES, n=2))
    return text


def _regex(value: Any, ctx: Ctx) -> str:
    text = as_str(value, ctx, "a regular expression")
    try:
        user_regex(text)
    except UnsafeRegex as exc:
        ctx.fail(f"invalid regular expression: {exc}")
    return text


def _screenshot(value: Any, ctx: Ctx) -> dict[str, Any]:
    name = as_str(value, ctx, "a screenshot name")
    if not re.fullmatch(r"[\w.-]+", name):
        ctx.fail(f"screenshot names are file-name safe (letters, digits, . _ -), got {name!r}")
    return {"name": name}


# --------------------------------------------------------------------------------------------
# The step kinds: one entry each, from which parsing, the JSON Schema and its tests follow
# --------------------------------------------------------------------------------------------

_DURATION_SCHEMA = {"anyOf": [
    {"type": "number", "minimum": 0},
    {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*)+$"},
], "description": "seconds, or 30s / 5m / 2h / 2d / 1h30m"}
_SWITCH = {"anyOf": [{"type": "boolean"}, {"enum": sorted(_ON | _OFF)}]}
_WORD = {"type": "string", "minLength": 1}
_CODE = {"anyOf": [{"type": "string", "pattern": r"^\d+$"}, {"type": "integer", "minimum": 0}]}
_STATE = {"enum": list(_STATES)}


def obj_schema(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False, **extra}
    if required:
        out["required"] = required
    return out


_PLMN = {"mcc": _CODE, "mnc": {"type": "string", "pattern": r"^\d{2,3}$"}, "country": _WORD, "operator": _WORD}
_PAIRED = {"mcc": ["mnc"], "mnc": ["mcc"]}  # the parsers want both or neither
_SIM_ONE = {"anyOf": [
    {"type": "string", "description": "country (CU, Cuba), operator (Cubacel), or none"},
    obj_schema({**_PLMN, "slot": {"enum": [0, 1]}, "absent": {"type": "boolean"}}, dependentRequired=_PAIRED),
]}
_SIM_SCHEMA = {"anyOf": [_SIM_ONE, {"type": "array", "items": _SIM_ONE, "minItems": 1, "maxItems": 2}]}
_NETWORK_SCHEMA = {"anyOf": [
    {"type": "string", "description": "home|roaming|searching|denied|off, a country or an operator"},
    obj_schema({**_PLMN, "registration": {"enum": list(_REGISTRATIONS)}}, dependentRequired=_PAIRED),
]}
_DEGREES = {"lat": 90, "latitude": 90, "lon": 180, "longitude": 180}
_POSITION_SCHEMA = {"anyOf": [
    {"type": "string", "description": "a place from harness/data/places.yaml"},
    obj_schema({**{k: {"type": "number", "minimum": -v, "maximum": v} for k, v in _DEGREES.items()},
                "place": _WORD, "territory": _WORD, "country": _WORD}),
]}


@dataclass(frozen=True)
class StepSurface:
    """How authors write one step kind: its model, parser, value schema and examples that must load."""

    model: type[BaseModel]
    parse: StepParser
    schema: dict[str, Any]  # JSON Schema of the value in `- kind: value`
    examples: tuple[str, ...]  # list items as authors write them (tests load and validate each)
    bare: bool = False  # may be written as a word alone (`- reboot`)

    @property
    def kind(self) -> str:
        return str(self.model.model_fields["kind"].default)


def _no_value(kind: str) -> StepSurface:
    model = next(c for c in m.STEP_MODELS if c.model_fields["kind"].default == kind)
    return StepSurface(model, _bare(kind), {"type": "null"}, (kind,), bare=True)


STEPS: dict[str, StepSurface] = {s.kind: s for s in (
    _no_value("reset"),
    _no_value("factory-reset"),
    _no_value("reboot"),
    StepSurface(m.SimStep, _sim, _SIM_SCHEMA, (
        "sim: CU", "sim: Cubacel", "sim: none", "sim: {mcc: 368, mnc: '01'}", "sim: {country: IR}",
        "sim: [ES, {slot: 1, absent: true}]")),
    StepSurface(m.NetworkStep, _network, _NETWORK_SCHEMA, (
        "network: roaming", "network: IR", "network: {country: IR, registration: roaming}",
        "network: {mcc: 432, mnc: '11'}")),
    StepSurface(m.LocationStep, _location, {"anyOf": [_POSITION_SCHEMA, _SWITCH]}, (
        "location: Havana", "location: off", "location: false", "location: disabled", "location: on",
        "location: {lat: 23.1, lon: -82.3, territory: CU}", "location: {place: Tehran}")),
    StepSurface(m.LocaleStep, _locale, {"type": "string", "pattern": m.LOCALE_PATTERN}, ("locale: es-ES",)),
    StepSurface(m.TimezoneStep, _timezone, {"type": "string", "description": "IANA zone, e.g. America/Havana"},
                ("timezone: America/Havana",)),
    StepSurface(m.WifiStep, _wifi, {"anyOf": [_SWITCH, _WORD, obj_schema({"on": _SWITCH, "ssid": _WORD})]}, (
        "wifi: on", "wifi: disabled", "wifi: HomeNet", "wifi: {on: true, ssid: HomeNet}")),
    StepSurface(m.DataStep, _switch, _SWITCH, ("data: on", "data: enable", "data: false", "data: no")),
    StepSurface(m.AirplaneStep, _switch, _SWITCH, ("airplane: on", "airplane: disable")),
    StepSurface(m.ProxyStep, _ip, {"anyOf": [_WORD, {"type": "null"}, {"const": False}]}, (
        "ip: CU", "ip: direct", "ip: off", "ip: false")),
    StepSurface(m.ActivateStep, _activate, {"anyOf": [{"enum": ["online", "offline"]}, {"type": "null"}, obj_schema({
        "online": _SWITCH, "language": _WORD, "wifi": {"anyOf": [_WORD, {"const": False}]},
        "location_services": _SWITCH, "location": _SWITCH})]}, (
        "activate", "activate: offline", "activate: {language: es, wifi: HomeNet, location_services: off}",
        "activate: {online: no, wifi: false, location: false}"), bare=True),
    StepSurface(m.WaitStep, _wait, _DURATION_SCHEMA, ("wait: 2d", "wait: 1.5", "wait: 1h30m", "wait: 250ms")),
    StepSurface(m.TravelStep, _travel, {"anyOf": [{"type": "string"}, obj_schema(
        {"to": _POSITION_SCHEMA, "sim": _SIM_SCHEMA, "network": _NETWORK_SCHEMA}, minProperties=1)]}, (
        "travel: Havana", "travel: {to: Tehran, sim: IR, network: roaming}")),
    StepSurface(m.ExpectStep, _expect, {"anyOf": [_STATE, obj_schema({
        "state": _STATE, "timeout": _DURATION_SCHEMA, "settle": _DURATION_SCHEMA, "text": {"type": "string"}},
        ["state"])]}, ("expect: locked", "expect: policy", "expect: {state: unlocked, timeout: 30s, settle: 5}",
                       "expect: {state: locked, text: 'sanction'}")),
    StepSurface(m.ScreenshotStep, _screenshot, {"type": "string", "pattern": r"^[\w.-]+$"}, ("screenshot: after-setup",)),
)}
assert tuple(STEPS) == m.STEP_KINDS, "every step model needs exactly one surface, in the model's order"


def parse_step(raw: Any, ctx: Ctx) -> m.Step:
    """One list item of `steps:` -> a step model."""
    if isinstance(raw, str):
        kind, value = raw.strip(), None
        if kind in STEPS and not STEPS[kind].bare:
            ctx.fail(f"step '{kind}' needs a value, e.g. `- {kind}: ...`")
    elif isinstance(raw, dict) and len(raw) == 1:
        (kind, value), = raw.items()
    else:
        ctx.fail("a step is a word (`- reboot`) or a one-key mapping (`- sim: CU`), got "
                 + (f"a mapping with keys {', '.join(map(str, raw))}" if isinstance(raw, dict) else _describe(raw)))
    if kind not in STEPS:
        ctx.fail(f"unknown step {kind!r}; valid steps: {', '.join(m.STEP_KINDS)}",
                 difflib.get_close_matches(str(kind), m.STEP_KINDS, n=2))
    surface = STEPS[kind]
    sub = Ctx(ctx.file, ctx.line, f"{ctx.field}.{kind}", ctx.slots)
    return sub.build(surface.model, line=ctx.line, **surface.parse(value, sub))
