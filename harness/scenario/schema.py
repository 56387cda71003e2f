"""JSON Schema of the scenario file surface (what authors write), for editors and `harness schema`.

It describes the YAML *surface* (``- sim: CU``, ``- wait: 2d``), not the resolved pydantic models:
editors validate what people type. Names (places, countries, operators) are only typed as strings
here; the loader checks them and suggests corrections. Keep this in step with `surface.py`
(tests/unit/test_catalogue.py checks every shipped scenario against it when jsonschema is installed).
"""

from __future__ import annotations

from typing import Any

from harness.scenario.loader import DEVICE_KEYS, KNOWN_FIRMWARE
from harness.scenario.model import STEP_KINDS

_DURATION = {"anyOf": [
    {"type": "number", "minimum": 0},
    {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*)+$"},
], "description": "seconds, or 30s / 5m / 2h / 2d / 1h30m"}
_SWITCH = {"anyOf": [{"type": "boolean"}, {"enum": ["on", "off", "true", "false", "yes", "no",
                                                    "enabled", "disabled"]}]}
_WORD = {"type": "string", "minLength": 1}
_MATRIX_VAR = {"type": "string", "pattern": r"\$\{[A-Za-z_][A-Za-z0-9_]*\}"}
_CODE = {"anyOf": [{"type": "string", "pattern": r"^\d+$"}, {"type": "integer", "minimum": 0}]}


def _obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False, **extra}
    if required:
        out["required"] = required
    return out


_PLMN = {"mcc": _CODE, "mnc": {"type": "string", "pattern": r"^\d{2,3}$"}, "country": _WORD, "operator": _WORD}
_SIM_ONE = {"anyOf": [
    {"type": "string", "description": "country (CU, Cuba), operator (Cubacel), or none"},
    _obj({**_PLMN, "slot": {"enum": [0, 1]}, "absent": {"type": "boolean"}}),
]}
_SIM = {"anyOf": [_SIM_ONE, {"type": "array", "items": _SIM_ONE, "minItems": 1, "maxItems": 2}]}
_NETWORK = {"anyOf": [
    {"type": "string", "description": "home|roaming|searching|denied|off, a country or an operator"},
    _obj({**_PLMN, "registration": {"enum": ["home", "roaming", "searching", "denied", "off"]}}),
]}
_POSITION = {"anyOf": [
    {"type": "string", "description": "a place from harness/data/places.yaml"},
    _obj({"lat": {"type": "number", "minimum": -90, "maximum": 90},
          "latitude": {"type": "number", "minimum": -90, "maximum": 90},
          "lon": {"type": "number", "minimum": -180, "maximum": 180},
          "longitude": {"type": "number", "minimum": -180, "maximum": 180},
          "place": _WORD, "territory": _WORD, "country": _WORD}),
]}


def _step_values() -> dict[str, Any]:
    """The value schema of each `- kind: value` step."""
    return {
        "sim": _SIM,
        "network": _NETWORK,
        "location": {"anyOf": [_POSITION, {"const": "off"}, {"const": False}]},
        "locale": {"type": "string", "pattern": r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|\d{3}))?$"},
        "timezone": {"type": "string", "description": "IANA zone, e.g. America/Havana"},
        "wifi": {"anyOf": [_SWITCH, _WORD, _obj({"on": _SWITCH, "ssid": _WORD})]},
        "data": _SWITCH,
        "airplane": _SWITCH,
        "ip": {"anyOf": [_WORD, {"type": "null"}]},
        "activate": {"anyOf": [{"enum": ["online", "offline"]}, {"type": "null"}, _obj({
            "online": _SWITCH, "language": _WORD, "wifi": {"anyOf": [_WORD, {"const": False}]},
            "location_services": _SWITCH, "location": _SWITCH})]},
        "wait": _DURATION,
        "travel": {"anyOf": [{"type": "string"}, _obj({"to": _POSITION, "sim": _SIM, "network": _NETWORK},
                                                    minProperties=1)]},
        "expect": {"anyOf": [{"enum": ["locked", "unlocked", "policy"]}, _obj({
            "state": {"enum": ["locked", "unlocked", "policy"]}, "timeout": _DURATION,
            "settle": _DURATION, "text": {"type": "string"}}, ["state"])]},
        "screenshot": {"type": "string", "pattern": r"^[\w.-]+$"},
        "reset": {"type": "null"},
        "factory-reset": {"type": "null"},
        "reboot": {"type": "null"},
    }


def _step() -> dict[str, Any]:
    values = _step_values()
    assert set(values) == set(STEP_KINDS)
    bare = {"enum": ["reset", "factory-reset", "reboot", "activate"]}
    # A matrix variable (`expect: ${state}`) is checked by the loader after substitution.
    keyed = [_obj({kind: {"anyOf": [schema, _MATRIX_VAR]}}, [kind]) for kind, schema in values.items()]
    return {"anyOf": [bare, *keyed]}


def _document() -> dict[str, Any]:
    return _obj({
        "scenario": {"type": "string", "description": "what the scenario checks, in one sentence"},
        "id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
        "description": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]*$"}},
        "device": _obj({
            "firmware": {"anyOf": [{"enum": list(KNOWN_FIRMWARE)}, {"type": "string", "pattern": r"\.ya?ml$"}]},
            "profile": _WORD, "slots": {"enum": [1, 2]},
            "capabilities": {"type": "array", "items": _WORD},
        }),
        "matrix": {"anyOf": [
            {"type": "object", "additionalProperties": {"type": "array", "minItems": 1}},
            {"type": "array", "items": {"type": "object"}, "minItems": 1},
        ]},
        "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}, "minItems": 1},
    }, ["scenario", "steps"])


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one scenario document."""
    assert set(_document()["properties"]["device"]["properties"]) == set(DEVICE_KEYS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://regionlock-harness/scenario.schema.json",
        "title": "regionlock-harness scenario",
        **_document(),
        "$defs": {"step": _step()},
    }
