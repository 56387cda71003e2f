"""What the plugin writes into Allure results besides the runner's evidence (harness.evidence).

Per scenario: title, `feature` = territory and `story` = deciding signal (Behaviors groups by them),
parameters that keep the history id stable across runs (the device is shown but excluded), the
scenario's YAML, and the failure message in the report's own wording. Per run: `categories.json`
(harness.outcomes.CATEGORIES), `environment.properties` (device facts), and cleaning earlier results
(never `history/`).
"""

from __future__ import annotations

import json
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

from harness.outcomes import CATEGORIES, ScenarioFacts


def set_labels(item: Any, facts: ScenarioFacts, serial: str) -> None:
    """Allure title, Behaviors grouping, parameters and the scenario's YAML (allure-pytest active)."""
    import allure

    scenario = item.scenario
    allure.dynamic.title(scenario.name)
    allure.dynamic.feature(facts.territory or "territory unknown")
    allure.dynamic.story(f"decided by {facts.signal}" if facts.signal else "deciding signal unknown")
    _set_coverage_labels(allure, scenario)
    if facts.territory:
        allure.dynamic.parameter("territory", facts.territory, excluded=True)
    for key, value in scenario.params.items():
        allure.dynamic.parameter(key, value)
    allure.dynamic.parameter("device", serial, excluded=True)
    if scenario.description:
        allure.dynamic.description(scenario.description)
    try:
        allure.attach(item.path.read_text(encoding="utf-8"), name=f"scenario: {item.path.name}",
                      attachment_type=allure.attachment_type.YAML)
    except OSError:
        pass  # evidence is best effort; the run itself does not need the file again


def _set_coverage_labels(allure: Any, scenario: Any) -> None:
    """Labels `territory`, `signal`, `flow` per expectation (harness.coverage), for `harness coverage`-style
    filtering of the report (first activation, travel, reboot, factory reset)."""
    from harness.coverage import labels

    for name, values in labels(scenario).items():
        for value in values:
            allure.dynamic.label(name, value)


def set_message(item: pytest.Item, message: str) -> None:
    """Replace the failure message allure-pytest took from the exception (`module.Class: text`) with
    the report's own (place and territory first, no paths or timings), so Categories group by it.

    allure-pytest has no public call for this; its listener is reached by its registered name, and
    when that ever changes the report keeps allure's own message (nothing else breaks)."""
    listener: Any = item.config.pluginmanager.get_plugin("allure_listener")
    try:
        result = listener.allure_logger.get_test(listener._cache.get(item.nodeid))
    except (AttributeError, KeyError):
        return
    if result is not None and result.statusDetails is not None:
        result.statusDetails.message = message



def write_allure_extras(alluredir: Path, facts: dict[str, dict[str, str]]) -> None:
    alluredir.mkdir(parents=True, exist_ok=True)
    categories = [{"name": c.name, "matchedStatuses": [c.status], "messageRegex": c.pattern,
                   "description": c.description} for c in CATEGORIES]
    (alluredir / "categories.json").write_text(json.dumps(categories, indent=1))
    lines = [f"harness.devices={','.join(sorted(facts))}"]
    for serial, device_facts in sorted(facts.items()):
        for key, value in sorted(device_facts.items()):
            lines.append(f"{serial}.{key}={_properties_escape(value)}")
    (alluredir / "environment.properties").write_text("\n".join(lines) + "\n")


def _properties_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


RESULT_FILES = ("*-result.json", "*-container.json", "*-attachment*", "categories.json", "environment.properties",
                "executor.json")


def clean_results(config: pytest.Config) -> None:
    """Remove an earlier run's Allure results (never `history/`, which carries Trend forward)."""
    alluredir = getattr(config.option, "allure_report_dir", None)
    if not alluredir or not Path(alluredir).is_dir():
        return
    for path in Path(alluredir).iterdir():
        if path.is_file() and any(fnmatch(path.name, pattern) for pattern in RESULT_FILES):
            path.unlink(missing_ok=True)


__all__ = ["RESULT_FILES", "clean_results", "set_labels", "set_message", "write_allure_extras"]
