"""Generated matrices: `generate:` instead of hand-written rows, each row's expectation from the oracle.

A scenario document may say

    generate:
      pairwise:            # or `cartesian:`
        place: [Havana, Madrid, Simferopol, Kherson]
        sims: [none, CU, ES, [ES, CU]]          # 0, 1 or 2 SIM cards
        registration: [home, roaming, searching]
        location: ["on", "off"]
        connection: [wifi, mobile]
        ip: [direct, IR, ES]
        travel: [none, Havana, Madrid]          # after activation: travel there, reboot, check again

instead of `steps:`. Each factor is optional (a missing one keeps the device default). Rows come from
`itertools.product` (cartesian) or `allpairspy` (pairwise: every pair of values of any two factors
appears in some row, in far fewer rows). Rows in which the device could never get online (mobile data
without a SIM registered at home) are left out, since nothing would be decided; the count left out is
kept in `Plan.pruned`. Each row becomes ordinary steps (parsed like hand-written ones, so a bad place
is an error at the `generate:` line) ending in `expect: policy`: the expectation is the oracle's, never
a guess by the author.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.errors import ScenarioError
from harness.scenario.yamlsource import LineDict, LineList

MODES = ("pairwise", "cartesian", "sweep")
SWEEP_KEYS = ("crossings", "distances_km")
FACTORS = ("place", "sims", "registration", "location", "connection", "ip", "travel")
_CHOICES: dict[str, tuple[str, ...]] = {
    "registration": ("home", "roaming", "searching", "denied", "off"),
    "location": ("on", "off"),
    "connection": ("wifi", "mobile"),
}
MAX_ROWS = 500  # a cartesian product grows fast; more rows than this is a mistake, not a test plan
Row = dict[str, Any]


@dataclass
class Plan:
    mode: str
    factors: dict[str, list[Any]]
    rows: list[Row] = field(default_factory=list)
    pruned: int = 0


def plan(raw: Any, file: str, line: int) -> Plan:
    """Validate `generate:` and compute its rows (ScenarioError at file:line on bad input)."""
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ScenarioError(file, line, "generate", f"expected one of {', '.join(MODES)} with a mapping of factors")
    (mode, factors), = raw.items()
    if mode not in MODES:
        raise ScenarioError(file, line, "generate", f"unknown mode {mode!r}; valid: {', '.join(MODES)}",
                            difflib.get_close_matches(str(mode), MODES, n=1))
    if mode == "sweep":
        return Plan("sweep", {}, _sweep_rows(factors, file, line))
    checked = _factors(factors, file, line)
    result = Plan(str(mode), checked)
    candidates = _combinations(result.mode, checked)
    result.rows = [row for row in candidates if can_decide(row)]
    result.pruned = len(candidates) - len(result.rows)
    if not result.rows:
        raise ScenarioError(file, line, "generate", "every row was left out: no combination gets the device online")
    if len(result.rows) > MAX_ROWS:
        raise ScenarioError(file, line, "generate", f"{len(result.rows)} rows (more than {MAX_ROWS}); "
                            "use pairwise or fewer values")
    return result


def _factors(raw: Any, file: str, line: int) -> dict[str, list[Any]]:
    if not isinstance(raw, dict) or not raw:
        raise ScenarioError(file, line, "generate", f"expected a mapping of factors ({', '.join(FACTORS)})")
    out: dict[str, list[Any]] = {}
    for name, values in raw.items():
        where = raw.line_of(name) if isinstance(raw, LineDict) else line
        if name not in FACTORS:
            raise ScenarioError(file, where, f"generate.{name}", f"unknown factor; valid: {', '.join(FACTORS)}",
                                difflib.get_close_matches(str(name), FACTORS, n=2))
        if not isinstance(values, list) or not values:
            raise ScenarioError(file, where, f"generate.{name}", "expected a non-empty list of values")
        out[name] = [_value(name, v, file, where) for v in values]
    return out


def _value(name: str, value: Any, file: str, line: int) -> Any:
    if isinstance(value, bool):  # YAML 1.1 reads a bare on/off as a boolean
        value = "on" if value else "off"
    if name == "sims":
        cards = value if isinstance(value, list) else [value]
        if not 1 <= len(cards) <= 2 or (len(cards) == 2 and "none" in map(str, cards)):
            raise ScenarioError(file, line, "generate.sims", f"a value is none, one SIM or two SIMs, got {value!r}")
        return [str(c) for c in cards] if isinstance(value, list) else str(value)
    text = str(value)
    choices = _CHOICES.get(name)
    if choices and text not in choices:
        raise ScenarioError(file, line, f"generate.{name}", f"unknown value {text!r}; valid: {', '.join(choices)}")
    return text


def _combinations(mode: str, factors: dict[str, list[Any]]) -> list[Row]:
    names = list(factors)
    if mode == "cartesian" or len(names) < 2:
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*factors.values())]
    from allpairspy import AllPairs  # lazy: only pairwise plans need it

    def allowed(partial: list[Any]) -> bool:
        return can_decide(dict(zip(names, partial, strict=False)))

    rows = [dict(zip(names, row, strict=True)) for row in AllPairs(list(factors.values()), filter_func=allowed)]
    return _complete(rows, factors)


def _complete(rows: list[Row], factors: dict[str, list[Any]]) -> list[Row]:
    """Add a row for every allowed pair allpairspy's greedy search missed (it can, with a filter)."""
    names = list(factors)
    for a, b in itertools.combinations(names, 2):
        for va, vb in itertools.product(factors[a], factors[b]):
            if any(r[a] == va and r[b] == vb for r in rows):
                continue
            others = [factors[n] if n not in (a, b) else [va if n == a else vb] for n in names]
            extra = next((row for combo in itertools.product(*others)
                          if can_decide(row := dict(zip(names, combo, strict=True)))), None)
            if extra is not None:  # None: no allowed row has this pair at all
                rows.append(extra)
    return rows


def can_decide(row: Row) -> bool:
    """False when the device could never get online in this row (so the firmware decides nothing)."""
    if row.get("connection", "wifi") != "mobile":
        return True
    sims = row.get("sims", "none")
    return sims != "none" and row.get("registration", "home") == "home"


def _sweep_rows(raw: Any, file: str, line: int) -> list[Row]:
    """`sweep: {crossings: [...], distances_km: [...]}`: one row per point (harness.borders)."""
    from harness import borders

    raw = raw or {}
    if not isinstance(raw, dict) or set(raw) - set(SWEEP_KEYS):
        raise ScenarioError(file, line, "generate.sweep", f"expected a mapping with {', '.join(SWEEP_KEYS)}")
    names = raw.get("crossings")
    distances = raw.get("distances_km", list(borders.DEFAULT_DISTANCES_KM))
    if not isinstance(distances, list) or not all(isinstance(d, int | float) and d > 0 for d in distances):
        raise ScenarioError(file, line, "generate.sweep.distances_km", "expected a list of positive numbers (km)")
    try:
        points = borders.sweep_all(list(names) if names else None, tuple(float(d) for d in distances))
    except KeyError as exc:
        raise ScenarioError(file, line, "generate.sweep.crossings", str(exc.args[0])) from None
    return [{"crossing": p.crossing, "near": p.near, "km": f"{p.km:g}", "point": p} for p in points]


# --- a row as steps -------------------------------------------------------------------------------

def steps(row: Row, line: int) -> LineList:
    """The row as raw steps (the surface a person would write), every one at the `generate:` line."""
    raw: list[Any] = ["reset", {"sim": row.get("sims", "none")}]
    if row.get("sims", "none") != "none" and row.get("registration", "home") != "home":
        raw.append({"network": row["registration"]})
    if "place" in row:
        raw.append({"location": row["place"]})
    if "point" in row:  # a border-sweep point: the harness's territory, or none when it is unsure
        point = row["point"]
        where = {"lat": point.latitude, "lon": point.longitude, "place": f"{point.label}"}
        raw.append({"location": where if point.territory is None else {**where, "territory": point.territory}})
    if row.get("location") == "off":
        raw.append({"location": "off"})
    if row.get("ip", "direct") != "direct":
        raw.append({"ip": row["ip"]})
    raw.append({"activate": {"wifi": "HomeNet"}} if row.get("connection", "wifi") == "wifi" else "activate")
    raw.append({"expect": "policy"})
    if row.get("travel", "none") != "none":
        raw += [{"travel": row["travel"]}, "reboot", {"expect": "policy"}]
    out = LineList(raw)
    out.line, out.item_lines = line, [line] * len(raw)
    return out


def device(row: Row, base: Any) -> LineDict:
    """Device hints for the row: two slots for two SIMs, `roaming` when the row roams."""
    hints = LineDict(base or {})
    hints.line, hints.key_lines = (base.line, dict(base.key_lines)) if isinstance(base, LineDict) else (0, {})
    if isinstance(row.get("sims"), list) and len(row["sims"]) == 2:
        hints["slots"] = 2
    if row.get("registration") == "roaming" and row.get("sims", "none") != "none":
        caps = hints.get("capabilities") or []
        hints["capabilities"] = [*([caps] if isinstance(caps, str) else caps), "roaming"]
    return hints


def param(value: Any) -> str:
    return "+".join(map(str, value)) if isinstance(value, list) else str(value)


def expand(doc: LineDict, file: str, build: Callable[[LineDict, dict[str, str]], Any]) -> list[Any]:
    """One scenario per row of the document's `generate:`; `build(body, params)` makes each."""
    line = doc.line_of("generate")
    if "steps" in doc or "matrix" in doc:
        raise ScenarioError(file, line, "generate", "`generate:` builds the steps and the rows itself; "
                            "drop `steps:` and `matrix:`")
    generated = plan(doc["generate"], file, line)
    return [build(_body(doc, row, line), {k: param(v) for k, v in row.items() if k != "point"})
            for row in generated.rows]


def _body(doc: LineDict, row: Row, line: int) -> LineDict:
    body = LineDict({k: v for k, v in doc.items() if k != "generate"})
    body.line, body.key_lines = doc.line, {**doc.key_lines, "steps": line, "device": doc.key_lines.get("device", line)}
    body["steps"] = steps(row, line)
    body["device"] = device(row, doc.get("device"))
    return body


def describe(rows: Iterable[Row]) -> str:
    """Rows as a small text table (for `harness generate --show` and reports)."""
    rows = list(rows)
    names = list(rows[0]) if rows else []
    widths = {n: max(len(n), *(len(param(r[n])) for r in rows)) for n in names}
    lines = ["  ".join(n.ljust(widths[n]) for n in names)]
    lines += ["  ".join(param(r[n]).ljust(widths[n]) for n in names) for r in rows]
    return "\n".join(lines)
