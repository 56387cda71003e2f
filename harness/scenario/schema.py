"""JSON Schema of the scenario file surface (what authors write), for editors and `harness schema`.

It describes the YAML *surface* (``- sim: CU``, ``- wait: 2d``), not the resolved pydantic models:
editors validate what people type. Each step's value schema comes from its entry in
`surface.STEPS` (next to its parser, with examples a test loads and validates), the device keys from
`DeviceHints`, the capability names from `harness.capabilities`: nothing here is a second copy.
Names (places, countries, operators) are only typed as strings; the loader checks them.
"""

from __future__ import annotations

from typing import Any

from harness.capabilities import CAPABILITIES
from harness.generate import FACTORS, MODES
from harness.scenario.loader import DEVICE_KEYS, FIRMWARE_NAME, TOP_KEYS
from harness.scenario.surface import STEPS, obj_schema

_WORD = {"type": "string", "minLength": 1}
_MATRIX_VAR = {"type": "string", "pattern": r"\$\{[A-Za-z_][A-Za-z0-9_]*\}"}


def _step() -> dict[str, Any]:
    bare = {"enum": [kind for kind, surface in STEPS.items() if surface.bare]}
    # A matrix variable (`expect: ${state}`) is checked by the loader after substitution.
    keyed = [obj_schema({kind: {"anyOf": [s.schema, _MATRIX_VAR]}}, [kind]) for kind, s in STEPS.items()]
    return {"anyOf": [bare, *keyed]}


def _device() -> dict[str, Any]:
    props = {
        "firmware": {"type": "string", "pattern": FIRMWARE_NAME.pattern,
                     "description": "a firmware build the device or backend has, or a policy .yaml path"},
        "profile": _WORD,
        "slots": {"enum": [1, 2]},
        "capabilities": {"type": "array", "items": {"enum": list(CAPABILITIES)}},
    }
    assert tuple(props) == DEVICE_KEYS
    return obj_schema(props)


def _document() -> dict[str, Any]:
    props = {
        "scenario": {"type": "string", "description": "what the scenario checks, in one sentence"},
        "id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
        "description": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]*$"}},
        "device": _device(),
        "matrix": {"anyOf": [
            {"type": "object", "additionalProperties": {"type": "array", "minItems": 1}},
            {"type": "array", "items": {"type": "object"}, "minItems": 1},
        ]},
        "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}, "minItems": 1},
        "generate": _generate(),
    }
    assert set(props) == set(TOP_KEYS)
    return {**obj_schema(props, ["scenario"]), "oneOf": [{"required": ["steps"]}, {"required": ["generate"]}]}


def _generate() -> dict[str, Any]:
    """`generate:` (harness.generate): one mode, a mapping of factors (or a sweep) to their values."""
    factors = {**obj_schema({name: {"type": "array", "minItems": 1} for name in FACTORS}), "minProperties": 1}
    sweep = obj_schema({"crossings": {"type": "array", "items": _WORD},
                        "distances_km": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}}})
    modes = obj_schema({mode: sweep if mode == "sweep" else factors for mode in MODES})
    return {**modes, "minProperties": 1, "maxProperties": 1}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one scenario document."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://regionlock-harness/scenario.schema.json",
        "title": "regionlock-harness scenario",
        **_document(),
        "$defs": {"step": _step()},
    }
