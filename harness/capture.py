"""`harness profile capture`: a firmware profile skeleton from the screen a device shows.

Pure functions over a uiautomator hierarchy dump and the device's facts, so they are unit-testable
with XML; the CLI only fetches the dump and writes the file. The skeleton is a loadable profile:
the screen's page with a recogniser (the outermost element of the app with an id found once on the
screen) and its title, one guessed forward action, and every tappable element listed as a candidate
for the author to turn into actions. Placeholders (`TODO`) mark what one screen cannot tell.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import yaml

from harness.notice import dump_nodes

_SYSTEM = ("com.android.systemui", "android")
_FORWARD = re.compile(r"next|continue|start|accept|agree|finish|done|ok|confirm|activate|siguiente|"
                      r"empezar|aceptar|finalizar", re.IGNORECASE)
TODO = "TODO"


@dataclass
class Screen:
    """What capture needs from one dump."""

    package: str | None
    recognise: dict[str, str]
    title: str | None
    candidates: list[dict[str, Any]] = field(default_factory=list)  # tappable: selector (+ checked)


def _app_nodes(nodes: list[ET.Element]) -> list[ET.Element]:
    return [n for n in nodes if n.get("package") not in (None, "", *_SYSTEM)]


def read_screen(xml: str) -> Screen:
    nodes = _app_nodes(dump_nodes(xml))
    package = nodes[0].get("package") if nodes else None
    ids = Counter(n.get("resource-id") for n in nodes if n.get("resource-id"))
    unique = [n for n in nodes if n.get("resource-id") and ids[n.get("resource-id")] == 1
              and not str(n.get("resource-id")).startswith("android:")]
    texts = [n for n in nodes if (n.get("text") or "").strip()]
    title_node = next((n for n in nodes if "title" in (n.get("resource-id") or "")), texts[0] if texts else None)
    title = title_node.get("text") if title_node is not None else None
    if unique:
        recognise = {"resourceId": str(unique[0].get("resource-id"))}
    else:
        recognise = {"text": title or TODO}
    candidates = [_candidate(n, ids) for n in nodes
                  if n.get("clickable") == "true" or n.get("checkable") == "true"]
    return Screen(package, recognise, title, candidates)


def _candidate(node: ET.Element, ids: Counter[str | None]) -> dict[str, Any]:
    selector: dict[str, Any] = {}
    rid = node.get("resource-id")
    if rid:
        selector["resourceId"] = rid
    text = (node.get("text") or "").strip()
    if text and (not rid or ids[rid] > 1):  # a repeated id (list items) needs its text too
        selector["text"] = text
    elif not rid:
        selector["description"] = node.get("content-desc") or TODO
    out: dict[str, Any] = {"tap": selector}
    if node.get("checkable") == "true":
        out["checked"] = node.get("checked") == "true"
    out["label"] = text
    return out


def forward_action(screen: Screen) -> dict[str, Any]:
    """The tap most likely to move on: a button saying next/continue/accept..., else the last one."""
    def says_forward(c: dict[str, Any]) -> bool:
        return bool(_FORWARD.search(c["label"]) or _FORWARD.search(str(c["tap"].get("resourceId", ""))))
    taps = [c for c in screen.candidates if "checked" not in c]
    best = next((c for c in reversed(taps) if says_forward(c)), taps[-1] if taps else None)
    return {"tap": dict(best["tap"]) if best else {"text": TODO}}


def match_rule(props: dict[str, str], package: str | None) -> dict[str, Any]:
    rule: dict[str, Any] = {"props": {"ro.product.brand": re.escape(props.get("ro.product.brand", TODO))}}
    if package:
        rule["packages"] = [package]
    return rule


def page_entry(name: str, screen: Screen, locale: str) -> dict[str, Any]:
    page: dict[str, Any] = {"name": name, "recognise": screen.recognise}
    if screen.title:
        page["titles"] = {locale.split("-")[0] or "en": screen.title}
    page["actions"] = [forward_action(screen)]
    return page


def skeleton(name: str, page: str, screen: Screen, props: dict[str, str]) -> dict[str, Any]:
    """A loadable profile with this one page; the rest are placeholders to fill in."""
    locale = props.get("persist.sys.locale", "en-US")
    return {
        "name": name,
        "description": f"captured from {props.get('ro.product.brand', '?')} {props.get('ro.product.model', '?')} "
                       f"({props.get('ro.build.fingerprint', '?')})",
        "match": [match_rule(props, screen.package)],
        "wizard": {"package": screen.package or TODO, "pages": [page_entry(page, screen, locale)],
                   "done": {"resourceId": f"{TODO}:id/home"}},
        "notice": {"selectors": [{"resourceId": f"{TODO}:id/notice"}],
                   "texts": [{"locale": "en", "title": TODO, "body": TODO}],
                   "home": [{"resourceId": f"{TODO}:id/home"}]},
    }


def add_page(profile: dict[str, Any], page: str, screen: Screen, locale: str) -> dict[str, Any]:
    """The profile with this page added (or replaced, when it has a page of that name)."""
    pages = [p for p in profile.get("wizard", {}).get("pages", []) if p.get("name") != page]
    wizard = {**profile.get("wizard", {}), "pages": [*pages, page_entry(page, screen, locale)]}
    return {**profile, "wizard": wizard}


def render(profile: dict[str, Any], page: str, screen: Screen) -> str:
    """YAML text, with the screen's tappable elements as comments to turn into actions."""
    text = yaml.safe_dump(profile, sort_keys=False, allow_unicode=True, width=110)
    lines = [f"# page {page!r}: tappable elements on the captured screen (candidate actions):"]
    for c in screen.candidates:
        entry = {k: v for k, v in c.items() if k != "label"}
        lines.append("#   - " + yaml.safe_dump(entry, default_flow_style=True, allow_unicode=True).strip())
    return text + "\n".join(lines) + "\n"
