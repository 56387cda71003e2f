"""How a run's results are told: exit codes, failure kinds (Allure categories), failure messages.

One table each, so the plugin (Allure categories, messages), the CLI (exit codes, table) and the
README say the same thing.

Messages are written for grouping: they start with the place and territory the scenario is about and
hold no paths, serials or timings, so Allure's Categories page groups equal failures together
("Sevastopol (Crimea): expected locked, seen unlocked — home screen, decision 'activated'").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

import pycountry

from harness.errors import (
    DeviceError,
    HarnessError,
    InfrastructureError,
    ServiceDown,
    SpoofMismatch,
    UndecidedDevice,
    VerdictMismatch,
)

if TYPE_CHECKING:
    from harness.scenario.model import Scenario


class ExitCode(IntEnum):
    """`harness run` / `pytest` exit codes. 2-5 are pytest's own."""

    PASSED = 0  # every scenario passed
    PRODUCT_FAILURE = 1  # at least one wrong lock decision (a product defect)
    INTERRUPTED = 2  # pytest: interrupted, or a scenario file did not load (collection error)
    INTERNAL_ERROR = 3  # pytest: internal error
    USAGE_ERROR = 4  # pytest: bad command line or config
    NO_SCENARIOS = 5  # pytest: nothing collected
    INFRASTRUCTURE = 8  # no wrong decision, but the lab (or the harness) failed scenarios, after retries
    NOTHING_TESTED = 9  # every scenario was skipped (see --allow-all-skipped)


EXIT_MEANING = {
    ExitCode.PASSED: "every scenario passed",
    ExitCode.PRODUCT_FAILURE: "a product failure: at least one wrong lock decision",
    ExitCode.INTERRUPTED: "interrupted, or a scenario file did not load (its file:line message is printed)",
    ExitCode.INTERNAL_ERROR: "internal error in pytest or a plugin",
    ExitCode.USAGE_ERROR: "bad command line or config file",
    ExitCode.NO_SCENARIOS: "no scenario was collected",
    ExitCode.INFRASTRUCTURE: "no wrong decision, but scenarios could not be judged: the lab failed (after retries)",
    ExitCode.NOTHING_TESTED: "every scenario was skipped: nothing was tested (--allow-all-skipped to accept)",
}


@dataclass(frozen=True)
class Category:
    """One Allure category: a kind of failure, matched by status and by the message's wording."""

    name: str
    status: str  # failed (product) | broken (lab) | skipped
    pattern: str  # Allure matches the whole message (Java `matches`)
    description: str


CATEGORIES: tuple[Category, ...] = (
    Category("missed lock", "failed", r".*expected locked, seen unlocked.*",
             "The device should have locked (activated in a prohibited territory) and did not."),
    Category("false lock", "failed", r".*expected unlocked, seen locked.*",
             "The device locked although it should not have."),
    Category("wrong notice text", "failed", r".*notice matching.*",
             "The lock notice appeared, with the wrong text."),
    Category("product: other", "failed",
             r"(?s)(?!.*(?:expected locked, seen unlocked|expected unlocked, seen locked|notice matching)).*",
             "Another wrong behaviour of the device."),
    Category("infrastructure: device lost", "broken", r".*: device lost: .*",
             "The device went offline or stopped answering: not judged."),
    Category("infrastructure: spoof did not take", "broken", r".*: spoof did not take: .*",
             "A spoofed signal read back different from what was set: not judged."),
    Category("infrastructure: wizard stuck", "broken", r".*: wizard stuck: .*",
             "The setup wizard could not be walked: not judged."),
    Category("infrastructure: timeout", "broken", r".*: timeout: .*",
             "The scenario hit its overall time limit: not judged."),
    Category("infrastructure: no decision", "broken", r".*: no decision: .*",
             "The device stayed undecided although online (its activation answer never came): not judged."),
    Category("infrastructure: service down", "broken", r".*: service down: .*",
             "A server or emulator the harness started was down or restarted during the scenario: not judged."),
    Category("infrastructure: lab", "broken", r".*: lab: .*", "Another lab failure: not judged."),
    Category("harness error", "broken", r"(?s).*: harness error: .*", "A bug in the harness: not judged."),
    Category("oracle uncertain", "skipped", r"(?s).*oracle uncertain.*",
             "The harness's own data cannot place the device surely (too close to its border data): "
             "reported apart, never given a guessed verdict."),
    Category("unsupported by device", "skipped", r"(?s).*cannot provide.*",
             "The device cannot produce a signal the scenario needs."),
)

_DEVICE_LOST = re.compile(r"offline|device .*not found|connection (?:refused|reset|closed|aborted)|reset by peer"
                          r"|disconnected|died|device lost|\bEOF\b|broken pipe", re.IGNORECASE)


class ScenarioTimeout(InfrastructureError):
    """The scenario ran past its overall time limit (a hung device, a stopped process)."""


def infrastructure_kind(exc: BaseException) -> str:
    """The category word of a lab failure (matches a `CATEGORIES` pattern)."""
    if isinstance(exc, ScenarioTimeout) or type(exc).__name__ == "ScenarioOverran":
        return "timeout"
    if isinstance(exc, UndecidedDevice):
        return "no decision"
    if isinstance(exc, ServiceDown):
        return "service down"
    if isinstance(exc, SpoofMismatch):
        return "spoof did not take"
    if type(exc).__name__ == "WizardStuck":  # harness.wizard imports the runtime: named, not imported
        return "wizard stuck"
    if isinstance(exc, DeviceError) and _DEVICE_LOST.search(exc.msg):
        return "device lost"
    if isinstance(exc, InfrastructureError):
        return "lab"
    return "harness error"


_SERIAL = re.compile(r"<Device\|[^>]*>\s*")
_PATH = re.compile(r"(?:[\w.~-]*/)+[\w.-]+(?::\d+)?:?\s?")  # a/b/c.yaml:12: and /tmp/x
_TIMING = re.compile(r"\s*\(?\b\d+ checks over [\d.]+\s?s\b[,)]?|\s*\b(?:in|after|over|within) [\d.]+\s?m?s\b"
                     r"|\s*\b[\d.]+\s?m?s\b")


def scrub(text: str) -> str:
    """Drop serials, paths and timings: what differs between two runs of the same failure."""
    for pattern in (_SERIAL, _PATH, _TIMING):
        text = pattern.sub("", text)
    return re.sub(r"\s{2,}", " ", text).strip(" ,:")


def territory_name(code: str | None) -> str | None:
    """`CU` -> `Cuba`, `crimea` -> `Crimea`, `UA-43` -> `UA-43`."""
    if not code:
        return None
    if len(code) == 2 and code.isalpha():
        country = pycountry.countries.get(alpha_2=code.upper())
        if country is not None:
            return str(getattr(country, "common_name", None) or country.name)
        return code.upper()
    return code[:1].upper() + code[1:] if code.islower() else code


def place_label(place: str | None, territory: str | None) -> str:
    """`Sevastopol (Crimea)`, `Cuba`, or `` when nothing is known."""
    name = territory_name(territory)
    if place and name and place != name:
        return f"{place} ({name})"
    return place or name or ""


def verdict_message(where: str, exc: VerdictMismatch) -> str:
    """`Sevastopol (Crimea): expected locked, seen unlocked — home screen, decision 'activated'`."""
    seen = exc.seen or scrub(exc.details)
    head = f"{where}: " if where else ""
    return f"{head}expected {exc.expected}, seen {exc.observed}" + (f" — {seen}" if seen else "")


def infrastructure_message(where: str, exc: BaseException) -> str:
    """`Havana (Cuba): device lost: adb: device offline` (the category word is in the message)."""
    head = f"{where}: " if where else ""
    return f"{head}{infrastructure_kind(exc)}: {scrub(str(exc))}"


@dataclass(frozen=True)
class ScenarioFacts:
    """What is known of a scenario before it runs (the policy model's view): for the table, the
    Allure labels and the failure messages."""

    expected: str = ""
    signal: str = ""
    territory: str = ""  # `Sevastopol (Crimea)`


def scenario_facts(scenario: Scenario) -> ScenarioFacts:
    from harness.oracle import OracleUnknown, decision_basis, expected_state
    from harness.scenario.model import ExpectStep

    expects = [step for step in scenario.steps if isinstance(step, ExpectStep)]
    expected = str(expects[-1].state) if expects else ""
    try:
        if expected == "policy":
            expected = expected_state(scenario)
        basis = decision_basis(scenario)
    except (OracleUnknown, HarnessError):
        basis = None
    if basis is None:
        places = [p for p in (getattr(s, "position", None) for s in scenario.steps) if p is not None]
        where = place_label(places[-1].place, places[-1].territory) if places else ""
        return ScenarioFacts(expected, "", where)
    return ScenarioFacts(expected, basis.signal, place_label(basis.place, basis.territory))


__all__ = ["CATEGORIES", "EXIT_MEANING", "Category", "ExitCode", "ScenarioFacts", "ScenarioTimeout",
           "infrastructure_kind", "infrastructure_message", "place_label", "scenario_facts", "scrub", "territory_name",
           "verdict_message"]
