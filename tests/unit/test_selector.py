"""UiSelector matching as uiautomator2 serialises selectors (mask bits, child/sibling, instance)."""

from __future__ import annotations

from typing import Any

import pytest
from uiautomator2._selector import Selector  # type: ignore[import-untyped]

from emulators.virtual.ui.selector import (
    MASKS,
    SelectorError,
    find_all,
    parse_selector,
)
from emulators.virtual.ui.view import View


def tree() -> list[View]:
    """Two windows: an app page with a list of rows, and a status bar."""
    rows = [
        View(cls="android.widget.LinearLayout", resource_id="pkg:id/row", children=[
            View(cls="android.widget.TextView", text="Wi-Fi", resource_id="pkg:id/label"),
            View(cls="android.widget.Switch", resource_id="pkg:id/toggle", checkable=True,
                 checked=True, clickable=True),
        ]),
        View(cls="android.widget.LinearLayout", resource_id="pkg:id/row", children=[
            View(cls="android.widget.TextView", text="Location", resource_id="pkg:id/label"),
            View(cls="android.widget.Switch", resource_id="pkg:id/toggle", checkable=True,
                 checked=False, clickable=True),
        ]),
    ]
    page = View(cls="android.widget.FrameLayout", package="com.example", children=[
        View(cls="android.widget.TextView", text="Welcome to Android", content_desc="greeting",
             resource_id="pkg:id/title", selected=True),
        View(cls="android.widget.Button", text="Next", resource_id="pkg:id/next",
             clickable=True, focusable=True, long_clickable=True),
        View(cls="android.widget.Button", text="Skip", resource_id="pkg:id/skip",
             clickable=True, enabled=False),
        View(cls="android.widget.EditText", text="", resource_id="pkg:id/name", focused=True,
             scrollable=True),
        *rows,
    ])
    for view in page.walk():
        view.package = "com.example"
    bar = View(cls="android.widget.FrameLayout", package="com.android.systemui", children=[
        View(cls="android.widget.TextView", text="Android", package="com.android.systemui",
             resource_id="com.android.systemui:id/operator_name"),
    ])
    return [page, bar]


def texts(views: list[View]) -> list[str]:
    return [v.text or v.resource_id for v in views]


CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({"text": "Next"}, ["Next"]),
    ({"text": "next"}, []),
    ({"textContains": "to And"}, ["Welcome to Android"]),
    ({"textMatches": "Wel.*"}, ["Welcome to Android"]),
    ({"textMatches": "Wel"}, []),  # Java matches(): the whole text
    ({"textStartsWith": "Sk"}, ["Skip"]),
    ({"className": "android.widget.Button"}, ["Next", "Skip"]),
    ({"classNameMatches": r".*\.Switch"}, ["pkg:id/toggle", "pkg:id/toggle"]),
    ({"description": "greeting"}, ["Welcome to Android"]),
    ({"descriptionContains": "eet"}, ["Welcome to Android"]),
    ({"descriptionMatches": "gr.*ng"}, ["Welcome to Android"]),
    ({"descriptionStartsWith": "gre"}, ["Welcome to Android"]),
    ({"checkable": True, "checked": True}, ["pkg:id/toggle"]),
    ({"className": "android.widget.Switch", "checked": False}, ["pkg:id/toggle"]),
    ({"clickable": True, "enabled": False}, ["Skip"]),
    ({"longClickable": True}, ["Next"]),
    ({"scrollable": True}, ["pkg:id/name"]),
    ({"focusable": True, "className": "android.widget.Button"}, ["Next"]),
    ({"focused": True}, ["pkg:id/name"]),
    ({"selected": True}, ["Welcome to Android"]),
    ({"packageName": "com.android.systemui", "className": "android.widget.TextView"}, ["Android"]),
    ({"packageNameMatches": "com\\.android\\..*", "text": "Android"}, ["Android"]),
    ({"resourceId": "pkg:id/next"}, ["Next"]),
    ({"resourceIdMatches": ".*:id/(next|skip)"}, ["Next", "Skip"]),
    ({"className": "android.widget.Button", "index": 2}, ["Skip"]),
    ({"className": "android.widget.Button", "instance": 1}, ["Skip"]),
    ({"className": "android.widget.Button", "instance": 5}, []),
    ({"text": "Android"}, ["Android"]),  # the status bar window is searched too
]


@pytest.mark.parametrize(("kwargs", "expected"), CASES, ids=[str(c[0]) for c in CASES])
def test_criteria(kwargs: dict[str, Any], expected: list[str]) -> None:
    assert texts(find_all(tree(), parse_selector(Selector(**kwargs)))) == expected


def test_mask_decides_not_key_presence() -> None:
    raw = dict(Selector(text="Next"))
    raw["resourceId"] = "pkg:id/skip"  # present but its bit is not set: ignored
    assert texts(find_all(tree(), parse_selector(raw))) == ["Next"]


def test_deleted_instance_clears_its_bit() -> None:
    sel = Selector(className="android.widget.Button", instance=1)
    del sel["instance"]
    assert sel["mask"] & MASKS["instance"] == 0
    assert texts(find_all(tree(), parse_selector(sel))) == ["Next", "Skip"]


def test_empty_selector_matches_everything_in_document_order() -> None:
    found = find_all(tree(), parse_selector(Selector()))
    assert found[0].cls == "android.widget.FrameLayout" and found[0].package == "com.example"
    assert len(found) == sum(1 for root in tree() for _ in root.walk())


def test_child_searches_descendants() -> None:
    sel = Selector(resourceId="pkg:id/row", instance=1).child(className="android.widget.Switch")
    (switch,) = find_all(tree(), parse_selector(sel))
    assert switch.checked is False


def test_sibling_searches_the_parents_subtree() -> None:
    sel = Selector(text="Location").sibling(className="android.widget.Switch")
    (switch,) = find_all(tree(), parse_selector(sel))
    assert switch.checked is False


def test_instance_on_child_as_uiautomator2_indexes_it() -> None:
    sel = Selector(resourceId="pkg:id/row").child(resourceId="pkg:id/label")
    sel.update_instance(1)  # what d(...).child(...)[1] sends
    assert texts(find_all(tree(), parse_selector(sel))) == ["Location"]


@pytest.mark.parametrize("raw", [
    {"mask": 0x04, "textMatches": "(unclosed", "childOrSibling": [], "childOrSiblingSelector": []},
    {"mask": 0, "childOrSibling": ["cousin"], "childOrSiblingSelector": [{"mask": 0}]},
    {"mask": 0, "childOrSibling": ["child"], "childOrSiblingSelector": []},
    {"mask": "x"},
    ["not", "a", "dict"],
])
def test_malformed_selectors_raise(raw: Any) -> None:
    with pytest.raises(SelectorError):
        find_all(tree(), parse_selector(raw))


def test_selector_prints_like_uiselector() -> None:
    assert str(parse_selector(Selector(text="Next", instance=0))) == \
        "UiSelector[TEXT=Next, INSTANCE=0]"
