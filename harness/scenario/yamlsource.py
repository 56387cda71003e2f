"""YAML that remembers where each value came from.

PyYAML's node tree knows every node's line, but the plain Python objects it builds do not. This
loader builds `LineDict`/`LineList` (ordinary dict/list subclasses) that keep the line of the
collection and of each key/item, so the scenario parser can say ``file:12: steps[3].sim: ...``.

Two YAML 1.1 habits are switched off because they silently corrupt scenario data:
- ``on/off/yes/no`` are *not* booleans (``sim: NO`` is Norway, ``location: off`` a word the parser
  reads); only ``true``/``false`` are;
- digit strings with a leading zero stay strings (``mnc: 01`` must not become the int 1, and
  ``010`` must not become octal 8): MNC "01" and "001" are different networks.

Scenario files come from users, reports and generators, so loading one is bounded whatever it
holds (see `Limits`): its size, its nesting depth, the number of values after aliases are expanded
(half a kilobyte of anchors can otherwise stand for gigabytes), the digits of an integer, and text
that is not text (a lone surrogate such as ``"\ud800"`` cannot be printed or sent to a device). A
value PyYAML cannot build (``!!int abc``, an unhashable key) is a YAML error at its line like any
other; only the safe tags exist (``!!python/object`` stays unknown).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent
from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode
from yaml.scanner import ScannerError


@dataclass(frozen=True)
class Limits:
    """What one scenario file may hold; each error message names the limit it hit."""

    max_chars: int = 128 * 1024  # the catalogue's largest file is ~2 KB; the pure-Python scanner reads ~250 KB/s
    max_depth: int = 32  # nested mappings/lists
    max_values: int = 20_000  # values in one document, aliases expanded
    max_int_digits: int = 30


LIMITS = Limits()


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
    """SafeLoader building LineDict/LineList, with YAML-1.2-like booleans and zero-padded digits,
    within `LIMITS`."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def fetch_flow_collection_start(self, token_class: Any) -> None:
        # the scanner re-checks every open flow level per token: 100,000 `[` would take hours
        if self.flow_level >= LIMITS.max_depth:
            raise ScannerError(None, None, f"nested deeper than {LIMITS.max_depth} levels (the depth limit)",
                               self.get_mark())
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        # PyYAML composes recursively: a 1,000-deep document would end in RecursionError
        alias = self.check_event(AliasEvent)
        if not alias:
            self._depth += 1
            if self._depth > LIMITS.max_depth:
                raise ComposerError(None, None, f"nested deeper than {LIMITS.max_depth} levels (the depth limit)",
                                    self.peek_event().start_mark)
        try:
            node: Node | None = super().compose_node(parent, index)
        finally:
            if not alias:
                self._depth -= 1
        return node

    def compose_document(self) -> Node | None:
        node: Node | None = super().compose_document()
        if node is not None:
            _ExpansionCount(LIMITS).count(node)
        return node

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # noqa: BLE001 -- PyYAML's builders raise anything for a bad value
            # `!!int abc` (ValueError), `!!timestamp 2020-99-99x` (AttributeError), `!!float x`...
            raise ConstructorError(None, None, f"cannot read this {_tag_name(node)} value: {exc}",
                                   node.start_mark) from None


def _tag_name(node: Node) -> str:
    return str(node.tag).rsplit(":", 1)[-1]


class _ExpansionCount:
    """Counts a document's values as a consumer would see them, aliases expanded, without expanding.

    Each node's expanded size is computed once (memoised by identity), so the count is linear in
    the node graph even for an alias bomb; a node met again while its own size is being counted is a
    recursive alias.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.sizes: dict[int, int] = {}
        self.open: set[int] = set()

    def count(self, node: Node, depth: int = 1) -> int:
        key = id(node)
        if key in self.sizes:
            return self.sizes[key]
        if key in self.open:
            raise ComposerError(None, None, "an alias refers to the value that contains it (a recursive alias)",
                                node.start_mark)
        if depth > self.limits.max_depth:
            raise ComposerError(None, None, f"nested deeper than {self.limits.max_depth} levels once aliases "
                                "are expanded (the depth limit)", node.start_mark)
        self.open.add(key)
        size = 1
        if isinstance(node, MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = list(node.value) if isinstance(node, CollectionNode) else []
        for child in children:
            size += self.count(child, depth + 1)
            if size > self.limits.max_values:
                raise ComposerError(None, None, f"expands to more than {self.limits.max_values} values once "
                                    "aliases are expanded (the expansion limit)", node.start_mark)
        self.open.discard(key)
        self.sizes[key] = size
        return size


def _construct_str(loader: ScenarioYamlLoader, node: ScalarNode) -> str:
    value = str(loader.construct_scalar(node))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ConstructorError(None, None, f"not text: {value[exc.start:exc.end]!r} is a lone surrogate "
                               "(an escape such as \\ud800 that no character has)", node.start_mark) from None
    return value


def _construct_int(loader: ScenarioYamlLoader, node: ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    digits = sum(ch.isdigit() or ch in "abcdefABCDEF" for ch in text)
    if digits > LIMITS.max_int_digits:
        raise ConstructorError(None, None, f"an integer of {digits} digits; the limit is {LIMITS.max_int_digits}",
                               node.start_mark)
    return int(yaml.SafeLoader.construct_yaml_int(loader, node))


def _construct_mapping(loader: ScenarioYamlLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, dict | list | set):
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a plain value, not a {'mapping' if isinstance(key, dict) else 'list'}",
                key_node.start_mark)
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
ScenarioYamlLoader.add_constructor("tag:yaml.org,2002:str", _construct_str)
ScenarioYamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


class TooLarge(ValueError):
    """The text is over `Limits.max_chars`."""


def load_documents(text: str) -> list[Any]:
    """All YAML documents of `text`, empty documents dropped. Raises yaml.YAMLError or TooLarge."""
    if len(text) > LIMITS.max_chars:
        raise TooLarge(f"{len(text)} characters; the size limit is {LIMITS.max_chars}")
    return [doc for doc in yaml.load_all(text, Loader=ScenarioYamlLoader) if doc is not None]


def value_count(value: Any) -> int:
    """How many values a loaded document holds (it is within `Limits.max_values`)."""
    if isinstance(value, dict):
        return 1 + sum(value_count(k) + value_count(v) for k, v in value.items())
    if isinstance(value, list):
        return 1 + sum(value_count(v) for v in value)
    return 1


def yaml_error_line(exc: yaml.YAMLError, text: str = "") -> int | None:
    """The 1-based line a PyYAML error points at, if it says (a reader error gives an offset)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    position = getattr(exc, "position", None)
    return text.count("\n", 0, position) + 1 if isinstance(position, int) else None


def yaml_error_message(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if isinstance(exc, yaml.reader.ReaderError):
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        return f"invalid YAML: character {char} is not allowed in YAML text ({exc.reason})"
    if problem:
        return f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    return f"invalid YAML: {exc}"
