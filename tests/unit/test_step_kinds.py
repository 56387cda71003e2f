"""One definition per step kind: every kind's documented examples load AND validate against the schema.

The step union in model.py is the list of kinds; surface.STEPS gives each its parser, value schema and
examples; the runner and the oracle `match` on the union (mypy checks they are exhaustive). This test
is what catches the loader and the schema disagreeing (`- data: enable` loaded but was refused).
"""

from __future__ import annotations

import pytest

from harness.scenario import load_text, model
from harness.scenario.schema import json_schema
from harness.scenario.surface import STEPS
from harness.scenario.yamlsource import load_documents
from tests.support import scenario_schema_validator

jsonschema = pytest.importorskip("jsonschema")
EXAMPLES = [(kind, example) for kind, surface in STEPS.items() for example in surface.examples]


def document(step: str) -> str:
    """A scenario around one step; read with the harness's own YAML reader (YAML 1.2: `on` is a word)."""
    return f"scenario: example\ndevice: {{slots: 2}}\nsteps:\n  - {step}\n"


@pytest.mark.parametrize("kind, example", EXAMPLES, ids=[e for _, e in EXAMPLES])
def test_example_loads_and_validates(kind: str, example: str) -> None:
    text = document(example)
    (scenario,) = load_text(text, "example.yaml")
    assert scenario.steps[0].kind == kind
    scenario_schema_validator().validate(load_documents(text)[0])


def test_every_kind_has_a_surface_and_examples() -> None:
    assert tuple(STEPS) == model.STEP_KINDS
    assert all(surface.examples for surface in STEPS.values())
    bare = set(json_schema()["$defs"]["step"]["anyOf"][0]["enum"])
    assert bare == {kind for kind, s in STEPS.items() if s.bare} == {"reset", "factory-reset", "reboot", "activate"}


@pytest.mark.parametrize("step", ["data: maybe", "sim: {mcc: 368}", "expect: {timeout: 3}", "wait: soon",
                                  "frobnicate: 1", "location: {lat: 100, lon: 0}"])
def test_the_schema_refuses_what_the_loader_refuses(step: str) -> None:
    text = document(step)
    with pytest.raises(Exception):  # noqa: B017 -- ScenarioError from the loader
        load_text(text, "bad.yaml")
    with pytest.raises(jsonschema.ValidationError):
        scenario_schema_validator().validate(load_documents(text)[0])
