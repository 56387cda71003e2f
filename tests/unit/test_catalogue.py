"""Every shipped scenario loads, ids are unique, and the catalogue covers what it promises."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.scenario import load_file, load_paths
from harness.scenario.loader import scenario_files
from harness.scenario.schema import json_schema
from tests.support import scenario_schema_validator

ROOT = Path(__file__).resolve().parents[2] / "scenarios"
FILES = scenario_files([ROOT])


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_file_loads(path: Path) -> None:
    scenarios = load_file(path)
    assert scenarios
    for sc in scenarios:
        assert sc.steps[0].kind == "reset", "catalogue scenarios start from a factory-fresh device"
        assert any(s.kind == "expect" for s in sc.steps)


def test_catalogue_shape() -> None:
    scenarios = load_paths([ROOT])
    assert len(FILES) >= 15
    tags = {t for sc in scenarios for t in sc.tags}
    assert {"smoke", "cuba", "iran", "crimea", "travel", "first-activation", "defect-check"} <= tags
    smoke = [sc for sc in scenarios if "smoke" in sc.tags]
    assert 4 <= len(smoke) <= 8
    for sc in scenarios:
        if "defect-check" in sc.tags:
            assert sc.device.firmware == "global", sc.id
    kinds = {s.kind for sc in scenarios for s in sc.steps}
    assert {"factory-reset", "travel", "reboot", "wait", "ip", "network"} <= kinds


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_file_matches_json_schema(path: Path) -> None:
    pytest.importorskip("jsonschema")
    for doc in yaml.safe_load_all(path.read_text()):
        scenario_schema_validator().validate(doc)


def test_schema_shape() -> None:
    schema = json_schema()
    assert schema["required"] == ["scenario"]
    assert schema["oneOf"] == [{"required": ["steps"]}, {"required": ["generate"]}]
    assert "step" in schema["$defs"]
