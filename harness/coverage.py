"""What a catalogue exercises: territory x deciding signal x flow, from the scenarios alone.

Each `expect` of a scenario is one observation. The oracle (harness.oracle.explain) says which
signal decided and which territory it placed the device in; the steps before the `expect` say the
flow: `first-activation`, or, once the device has activated, `factory-reset`, `travel` or `reboot`
(the strongest that happened since). Nothing runs on a device, so `harness coverage` is instant and
the same labels go on every Allure result (Behaviors tab: feature = territory, story = flow).

Empty cells are what the catalogue does not check: a prohibited territory never reached by IP, a
travel flow never tried for Crimea. Rows list every prohibited territory of the reference policy
(empty or not) and every other territory some scenario reaches.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from harness import territory as terr
from harness.oracle import PROHIBITED, SIGNALS, OracleUnknown, explain
from harness.scenario import model as m

FLOWS = ("first-activation", "travel", "reboot", "factory-reset")
NO_SIGNAL = "none"  # nothing placed the device (or no activation service)
UNPLACED = "unplaced"


@dataclass(frozen=True)
class Cell:
    territory: str  # canonical territory, UNPLACED, or "uncertain"
    signal: str  # gps | network | sim | ip | none
    flow: str


def flow_at(steps: Iterable[m.Step]) -> str:
    """The flow an `expect` after these steps checks."""
    activated, seen = False, set[str]()
    for step in steps:
        if step.kind == "reset":
            activated, seen = False, set[str]()
        elif step.kind == "activate":
            activated = True
        elif activated and step.kind in FLOWS:
            seen.add(step.kind)
    return next((f for f in ("factory-reset", "travel", "reboot") if f in seen), "first-activation")


def cells(scenario: m.Scenario) -> list[Cell]:
    """One cell per `expect` step of the scenario (none when the oracle has no model for it)."""
    out = []
    for index, step in enumerate(scenario.steps):
        if step.kind != "expect":
            continue
        try:
            answer = explain(scenario, upto=index)
        except OracleUnknown:
            continue
        place = "uncertain" if answer.state == "uncertain" else answer.territory or UNPLACED
        out.append(Cell(place, answer.signal or NO_SIGNAL, flow_at(scenario.steps[:index])))
    return out


def labels(scenario: m.Scenario) -> dict[str, list[str]]:
    """Allure labels: territory, deciding signal and flow (each distinct value once)."""
    found = cells(scenario)
    return {"territory": sorted({c.territory for c in found}), "signal": sorted({c.signal for c in found}),
            "flow": [f for f in FLOWS if f in {c.flow for c in found}]}


@dataclass
class Picture:
    counts: Counter[Cell]
    scenarios: int

    def territories(self) -> list[str]:
        prohibited = sorted(PROHIBITED["global"], key=lambda t: (t != t.lower(), t))
        others = sorted({c.territory for c in self.counts} - set(prohibited))
        return prohibited + others

    def count(self, territory: str, signal: str, flow: str) -> int:
        return self.counts[Cell(territory, signal, flow)]

    def empty_prohibited(self) -> list[tuple[str, str, str]]:
        """Prohibited territory x signal x flow cells no scenario checks (and some scenario could)."""
        return [(t, s, f) for t in sorted(PROHIBITED["global"]) for s in SIGNALS for f in FLOWS
                if possible(t, s) and not self.count(t, s, f)]


def possible(territory: str, signal: str) -> bool:
    """A region (Crimea) has no MCC of its own: a SIM or network can never place a device there."""
    return not (territory in terr.REGIONS and signal in ("network", "sim"))


def picture(scenarios: Iterable[m.Scenario]) -> Picture:
    counts: Counter[Cell] = Counter()
    total = 0
    for sc in scenarios:
        total += 1
        counts.update(cells(sc))
    return Picture(counts, total)


COLUMNS = (*SIGNALS, NO_SIGNAL)


def text(pic: Picture) -> str:
    """One grid per flow: territories down, deciding signals across, number of checks in each cell."""
    lines = [f"{pic.scenarios} scenarios, {sum(pic.counts.values())} checks"]
    width = max(len(_name(t)) for t in pic.territories())
    for flow in FLOWS:
        lines += ["", f"{flow}:", " " * width + "".join(f"{c:>9}" for c in COLUMNS)]
        for t in pic.territories():
            row = [pic.count(t, s, flow) or ("." if possible(t, s) else "n/a") for s in COLUMNS]
            lines.append(_name(t).ljust(width) + "".join(f"{n:>9}" for n in row))
    empty = pic.empty_prohibited()
    cells_total = sum(possible(t, s) for t in PROHIBITED["global"] for s in SIGNALS) * len(FLOWS)
    lines += ["", f"empty prohibited cells: {len(empty)} of {cells_total}"]
    return "\n".join(lines)


def _name(territory: str) -> str:
    return territory if territory in (UNPLACED, "uncertain") else f"{territory} {'*' if _prohibited(territory) else ''}"


def _prohibited(territory: str) -> bool:
    return territory in PROHIBITED["global"]


def html_page(pic: Picture) -> str:
    """A self-contained page: one SVG heat grid per flow, prohibited rows marked, empty cells red."""
    parts = ["<!doctype html><meta charset='utf-8'><title>Catalogue coverage</title>",
             "<style>body{font:14px sans-serif;margin:2em}svg text{font:12px sans-serif}</style>",
             (f"<h1>Catalogue coverage</h1><p>{pic.scenarios} scenarios, {sum(pic.counts.values())} checks. "
             "Rows: territories (prohibited in bold), columns: the signal that decided; a number is how many "
             "checks; red: a prohibited territory no scenario checks this way (grey: cannot happen, or not "
              "prohibited).</p>")]
    parts += [f"<h2>{flow}</h2>{_svg(pic, flow)}" for flow in FLOWS]
    return "\n".join(parts)


def _svg(pic: Picture, flow: str) -> str:
    rows, cell, left, top = pic.territories(), 44, 300, 24
    peak = max([pic.count(t, s, flow) for t in rows for s in COLUMNS] + [1])
    out = [(f"<svg xmlns='http://www.w3.org/2000/svg' width='{left + cell * len(COLUMNS) + 10}' "
           f"height='{top + cell * len(rows) + 10}'>")]
    out += [f"<text x='{left + i * cell + cell / 2}' y='16' text-anchor='middle'>{c}</text>"
            for i, c in enumerate(COLUMNS)]
    for r, t in enumerate(rows):
        y = top + r * cell
        weight = "bold" if _prohibited(t) else "normal"
        label = html.escape(terr.label(t) if t not in (UNPLACED, "uncertain") else t)
        out.append(f"<text x='4' y='{y + cell / 2 + 4}' font-weight='{weight}'>{label}</text>")
        for i, s in enumerate(COLUMNS):
            n = pic.count(t, s, flow)
            fill = (f"rgba(46,160,67,{0.25 + 0.75 * n / peak:.2f})" if n
                    else "#f4c7c3" if _prohibited(t) and s != NO_SIGNAL and possible(t, s) else "#f2f2f2")
            x = left + i * cell
            out.append(f"<rect x='{x}' y='{y}' width='{cell - 2}' height='{cell - 2}' fill='{fill}'/>")
            if n:
                out.append(f"<text x='{x + cell / 2 - 1}' y='{y + cell / 2 + 4}' text-anchor='middle'>{n}</text>")
    out.append("</svg>")
    return "".join(out)
