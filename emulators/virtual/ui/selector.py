"""uiautomator `UiSelector` matching, as uiautomator2 serialises selectors over JSON-RPC.

uiautomator2 sends a dict such as
``{"mask": 0x200001, "text": "Next", "resourceId": "pkg:id/next", "childOrSibling": [],
"childOrSiblingSelector": []}``. The `mask` bit field, not the presence of a key, says which
criteria count (the client deletes a criterion by clearing its bit), so parsing reads only the
keys whose bit is set. `instance` picks the n-th match in document order; `childOrSibling` chains
further selectors: "child" searches the matched views' descendants, "sibling" (fromParent)
searches the subtree of the matched views' parent.

The search runs over a list of window roots (the app window, the status bar) in that order, like
the real server's multi-window search. Nothing here knows about the device: it takes Views.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emulators.virtual.ui.view import View


class SelectorError(ValueError):
    """The selector itself is malformed (unknown kind, bad regex): the client's mistake."""


# Bit values from uiautomator2's _selector.py (the server's MASK_* constants).
MASKS: dict[str, int] = {
    "text": 0x01, "textContains": 0x02, "textMatches": 0x04, "textStartsWith": 0x08,
    "className": 0x10, "classNameMatches": 0x20,
    "description": 0x40, "descriptionContains": 0x80, "descriptionMatches": 0x0100,
    "descriptionStartsWith": 0x0200,
    "checkable": 0x0400, "checked": 0x0800, "clickable": 0x1000, "longClickable": 0x2000,
    "scrollable": 0x4000, "enabled": 0x8000, "focusable": 0x010000, "focused": 0x020000,
    "selected": 0x040000, "packageName": 0x080000, "packageNameMatches": 0x100000,
    "resourceId": 0x200000, "resourceIdMatches": 0x400000, "index": 0x800000,
    "instance": 0x01000000,
}


@dataclass(frozen=True)
class Node:
    """A view with where it sits: what `index` and fromParent need and View does not keep."""

    view: View
    parent: Node | None
    index: int  # position among the parent's children (0 for a window root)
    depth: int


def _full(pattern: str, value: str) -> bool:
    """Java `String.matches`: the whole string must match."""
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error as exc:
        raise SelectorError(f"java.util.regex.PatternSyntaxException: {exc} near index "
                            f"{exc.pos}\n{pattern}") from exc


Test = Callable[[Node, Any], bool]

# One row per criterion: how a node is tested against the selector's value.
TESTS: dict[str, Test] = {
    "text": lambda n, v: n.view.text == v,
    "textContains": lambda n, v: str(v) in n.view.text,
    "textMatches": lambda n, v: _full(v, n.view.text),
    "textStartsWith": lambda n, v: n.view.text.startswith(v),
    "className": lambda n, v: n.view.cls == v,
    "classNameMatches": lambda n, v: _full(v, n.view.cls),
    "description": lambda n, v: n.view.content_desc == v,
    "descriptionContains": lambda n, v: str(v) in n.view.content_desc,
    "descriptionMatches": lambda n, v: _full(v, n.view.content_desc),
    "descriptionStartsWith": lambda n, v: n.view.content_desc.startswith(v),
    "checkable": lambda n, v: n.view.checkable == bool(v),
    "checked": lambda n, v: n.view.checked == bool(v),
    "clickable": lambda n, v: n.view.clickable == bool(v),
    "longClickable": lambda n, v: n.view.long_clickable == bool(v),
    "scrollable": lambda n, v: n.view.scrollable == bool(v),
    "enabled": lambda n, v: n.view.enabled == bool(v),
    "focusable": lambda n, v: n.view.focusable == bool(v),
    "focused": lambda n, v: n.view.focused == bool(v),
    "selected": lambda n, v: n.view.selected == bool(v),
    "packageName": lambda n, v: n.view.package == v,
    "packageNameMatches": lambda n, v: _full(v, n.view.package),
    "resourceId": lambda n, v: n.view.resource_id == v,
    "resourceIdMatches": lambda n, v: _full(v, n.view.resource_id),
    "index": lambda n, v: n.index == int(v),
}


@dataclass(frozen=True)
class UiSelector:
    criteria: tuple[tuple[str, Any], ...] = ()
    instance: int | None = None
    chain: tuple[tuple[str, UiSelector], ...] = ()  # ("child" | "sibling", selector)

    def matches(self, node: Node) -> bool:
        return all(TESTS[key](node, value) for key, value in self.criteria)

    def __str__(self) -> str:
        """Roughly how the real server prints a UiSelector in exception messages."""
        parts = [f"{_java_name(k)}={v}" for k, v in self.criteria]
        if self.instance is not None:
            parts.append(f"INSTANCE={self.instance}")
        for kind, sub in self.chain:
            parts.append(f"{'CHILD' if kind == 'child' else 'PARENT'}={sub}")
        return "UiSelector[" + ", ".join(parts) + "]"


def _java_name(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).upper()


def parse_selector(raw: Mapping[str, Any]) -> UiSelector:
    """Build a UiSelector from uiautomator2's dict; raises SelectorError when it is malformed."""
    if not isinstance(raw, Mapping):
        raise SelectorError(f"selector must be an object, got {type(raw).__name__}")
    try:
        mask = int(raw.get("mask", 0))
    except (TypeError, ValueError) as exc:
        raise SelectorError(f"selector mask is not a number: {raw.get('mask')!r}") from exc
    criteria = tuple((key, raw.get(key)) for key, bit in MASKS.items()
                     if key != "instance" and mask & bit and key in raw)
    instance = int(raw.get("instance", 0)) if mask & MASKS["instance"] else None
    kinds = list(raw.get("childOrSibling") or [])
    subs = list(raw.get("childOrSiblingSelector") or [])
    if len(kinds) != len(subs):
        raise SelectorError("childOrSibling and childOrSiblingSelector differ in length")
    chain = []
    for kind, sub in zip(kinds, subs):
        if kind not in ("child", "sibling"):
            raise SelectorError(f"childOrSibling must be 'child' or 'sibling', got {kind!r}")
        chain.append((kind, parse_selector(sub)))
    return UiSelector(criteria, instance, tuple(chain))


# --------------------------------------------------------------------------------------------
# Searching
# --------------------------------------------------------------------------------------------

def index_tree(roots: Iterable[View]) -> list[Node]:
    """Every view of every window in document (pre-)order, with its parent and index."""
    out: list[Node] = []

    def visit(view: View, parent: Node | None, index: int, depth: int) -> None:
        node = Node(view, parent, index, depth)
        out.append(node)
        for i, child in enumerate(view.children):
            visit(child, node, i, depth + 1)

    for root in roots:
        visit(root, None, 0, 0)
    return out


def _subtree(nodes: Sequence[Node], base: Node) -> list[Node]:
    """Descendants of `base` (not base itself), in document order."""
    ids = {id(v) for v in base.view.walk()} - {id(base.view)}
    return [n for n in nodes if id(n.view) in ids]


def _pick(found: list[Node], instance: int | None) -> list[Node]:
    if instance is None:
        return found
    return found[instance:instance + 1] if instance >= 0 else []


def find_nodes(roots: Iterable[View], selector: UiSelector) -> list[Node]:
    """All nodes the selector designates, in document order (one at most with `instance`)."""
    nodes = index_tree(roots)
    found = _pick([n for n in nodes if selector.matches(n)], selector.instance)
    for kind, sub in selector.chain:
        scope: list[Node] = []
        seen: set[int] = set()
        for node in found:
            base = node if kind == "child" else (node.parent or node)
            for candidate in _subtree(nodes, base):
                if id(candidate.view) not in seen:
                    seen.add(id(candidate.view))
                    scope.append(candidate)
        found = _pick([n for n in scope if sub.matches(n)], sub.instance)
    return found


def find_all(roots: Iterable[View], selector: UiSelector) -> list[View]:
    return [n.view for n in find_nodes(roots, selector)]


def find_one(roots: Iterable[View], selector: UiSelector) -> View | None:
    found = find_nodes(roots, selector)
    return found[0].view if found else None
