"""Report -> scenario file text: every inferred step carries a comment quoting the words it came from."""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass

from harness.repro.places import Found
from harness.repro.reading import Fact, Report

COMMENT_COLUMN = 44


@dataclass
class Written:
    yaml: str
    assumptions: list[str]
    gaps: list[str]
    claimed: str | None  # what the report says happened: locked | unlocked | None


class _Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, text: str, why: str) -> None:
        line = f"  - {text}"
        self.lines.append(f"{line.ljust(COMMENT_COLUMN)} # {why}" if why else line)


def write(report: Report, name: str | None = None) -> Written:
    assumptions, gaps = list(report.assumptions), list(report.gaps)
    out = _Lines()
    out.step("reset", _said(report.purchase, "a new phone") if report.purchase else
             "assumed: a factory-new phone, never activated before")
    if not report.purchase:
        assumptions.append("the phone was new and had never been activated")
    sims = _sims(report, out, assumptions)
    _location(report, out, assumptions, gaps)
    if report.proxy:
        out.step(f"ip: {report.proxy.value}", _said(report.proxy))
    airplane = bool(report.airplane)
    if airplane:
        out.step("airplane: on", _said(report.airplane))
    out.step(_activate(report, sims, assumptions, gaps, airplane), _activate_why(report))
    if airplane:
        out.step("airplane: off", "assumed: airplane mode off after setup, the phone then goes online")
        assumptions.append("airplane mode was switched off after setup, where the phone then was")
        if not sims or (report.connection and report.connection.value == "wifi"):
            out.step("wifi: HomeNet", _said(report.connection, "assumed: online on Wi-Fi"))
    out.step("expect: policy", "the oracle decides; " + _claim(report))
    for kind, fact in report.later:
        _later(out, kind, fact)
    header = _header(report, assumptions, gaps)
    device = _device(report, sims)
    title = name or _title(report)
    body = "\n".join([*header, f"scenario: {json.dumps(title, ensure_ascii=False)}", "tags: [repro]",
                      f"device: {device}", "steps:", *out.lines]) + "\n"
    return Written(body, assumptions, gaps, report.outcome.value if report.outcome else None)


def _said(fact: Fact | None, fallback: str = "") -> str:
    if fact is None or not fact.quote:
        return fallback
    return '"' + fact.quote.replace('"', "'").replace("\n", " ")[:70] + '"'


def _sims(report: Report, out: _Lines, assumptions: list[str]) -> list[str]:
    if report.sims is None:
        assumptions.append("no SIM card (the report names no SIM or operator)")
        out.step("sim: none", "assumed: the report names no SIM")
        return []
    words = [str(w) for w in report.sims.value]
    if words == ["none"]:
        out.step("sim: none", _said(report.sims))
        return []
    value = words[0] if len(words) == 1 else "[" + ", ".join(words) + "]"
    out.step(f"sim: {value}", _said(report.sims))
    return words


def _location(report: Report, out: _Lines, assumptions: list[str], gaps: list[str]) -> None:
    if report.first_place is not None:
        place: Found = report.first_place.value
        out.step(f"location: {_position(place)}", _said(report.first_place) + f" ({place.source})")
    if report.location_off:
        out.step("location: off", _said(report.location_off))
    elif report.first_place is not None:
        assumptions.append("location services on (Android's default; the report does not say)")


def _position(place: Found) -> str:
    if place.source == "harness gazetteer":
        return place.name
    name = json.dumps(place.name, ensure_ascii=False)
    return f"{{lat: {place.latitude:.4f}, lon: {place.longitude:.4f}, place: {name}, territory: {place.territory}}}"


def _activate(report: Report, sims: list[str], assumptions: list[str], gaps: list[str], airplane: bool) -> str:
    if airplane:
        return "activate: {online: false}"
    if report.connection is None:
        assumptions.append("set up on home Wi-Fi (the report does not say how the phone was online)")
        return "activate: {wifi: HomeNet}"
    if report.connection.value == "wifi":
        return "activate: {wifi: HomeNet}"
    if not sims:
        gaps.append("mobile data without a SIM cannot get online: check the report")
    return "activate"


def _activate_why(report: Report) -> str:
    if report.airplane:
        return _said(report.airplane)
    return _said(report.connection, "assumed: home Wi-Fi")


def _claim(report: Report) -> str:
    if report.outcome is None:
        return "the report does not say what happened"
    if report.outcome.value is None:
        return f"the report asks: {_said(report.outcome)}"
    return f"the report says {report.outcome.value}: {_said(report.outcome)}"


def _later(out: _Lines, kind: str, fact: Fact) -> None:
    if kind == "travel":
        place: Found = fact.value
        out.step(f"travel: {_position(place)}", _said(fact))
        out.step("reboot", "a reboot where it now is: the verdict must hold")
    elif kind == "factory-reset":
        out.step("factory-reset", _said(fact))
        out.step("activate: {wifi: HomeNet}", "setup again after the reset")
    else:
        out.step("reboot", _said(fact))
    out.step("expect: policy", f"after the {kind}")


def _device(report: Report, sims: list[str]) -> str:
    parts = [f"firmware: {'custom-rom' if report.custom_rom else 'global'}"]
    if len(sims) == 2:
        parts.append("slots: 2")
    if report.device and re.search(r"redmi note 9", report.device.value, re.IGNORECASE):
        parts.append("profile: redmi-note-9")
    elif report.device and re.search(r"pixel 6", report.device.value, re.IGNORECASE):
        parts.append("profile: pixel-6")
    return "{" + ", ".join(parts) + "}"


def _title(report: Report) -> str:
    first = re.split(r"(?<=[.;!?])\s", report.text.strip().splitlines()[0])[0]
    return "Repro: " + (first[:90] + "…" if len(first) > 90 else first)


def _header(report: Report, assumptions: list[str], gaps: list[str]) -> list[str]:
    lines = ["# Reproduction of a user report (harness repro). The report:"]
    lines += ["#   " + line for line in textwrap.wrap(report.text.replace("\n", " "), 96)]
    if assumptions:
        lines.append("# Assumptions (the report does not say; stated defaults):")
        lines += [f"#   - {a}" for a in assumptions]
    if gaps:
        lines.append("# GAPS (read by a person before trusting this scenario):")
        lines += [f"#   - {g}" for g in gaps]
    return lines
