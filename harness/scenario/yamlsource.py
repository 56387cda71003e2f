"""YAML that remembers where each value came from.

PyYAML's node tree knows every node's line, but the plain Python objects it builds do not. This
loader builds `LineDict`/`LineList` (ordinary dict/list subclasses) that keep the line of the
collection and of each key/item, so the scenario parser can say ``file:12: steps[3].sim: ...``.

Two YAML 1.1 habits are switched off because they silently corrupt scenario data:
- ``on/off/yes/no`` are *not* booleans (``sim: NO`` is Norway, ``location: off`` a word the parser
  reads); only ``true``/``false`` are;
- digit strings with a leading zero stay strings (``mnc: 01`` must not become the int 1, and
  ``010`` must not become octal 8): MNC "01" and "001" are different networks.
"""

from __future__ import annotations

import re
from typing import Any

import yaml


class LineDict(dict[Any, Any]):
    """A mapping plus the 1-based line of itself (`line`) and of each key (`key_lines`)."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A sequence plus the 1-based line of itself (`line`) and of each item (`item_lines`)."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


def line_of(value: Any, default: int) -> int:
    return getattr(value, "line", default) or default


class ScenarioYamlLoader(yaml.SafeLoader):
    """SafeLoader building LineDict/LineList, with YAML-1.2-like booleans and zero-padded digits."""


def _construct_mapping(loader: ScenarioYamlLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: ScenarioYamlLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _install_resolvers() -> None:
    resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [(tag, rx) for tag, rx in entries if tag != "tag:yaml.org,2002:bool"]
        resolvers[first] = kept
    bool_rx = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
    for first in "tTfF":
        resolvers.setdefault(first, []).insert(0, ("tag:yaml.org,2002:bool", bool_rx))
    # A leading zero followed by digits/underscores: keep the text (MNCs, octal-looking codes).
    zero_rx = re.compile(r"^0[0-9_]+$")
    resolvers.setdefault("0", []).insert(0, ("tag:yaml.org,2002:str", zero_rx))
    ScenarioYamlLoader.yaml_implicit_resolvers = resolvers


_install_resolvers()
ScenarioYamlLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
ScenarioYamlLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_documents(text: str) -> list[Any]:
    """All YAML documents of `text`, empty documents dropped. Raises yaml.YAMLError."""
    return [doc for doc in yaml.load_all(text, Loader=ScenarioYamlLoader) if doc is not None]


def yaml_error_line(exc: yaml.YAMLError) -> int | None:
    """The 1-based line a PyYAML error points at, if it says."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def yaml_error_message(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem:
        return f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    return f"invalid YAML: {exc}"
