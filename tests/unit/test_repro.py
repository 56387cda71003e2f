"""`harness repro`: realistic reports -> scenarios whose oracle verdict is the report's outcome."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from harness.cli import app
from harness.oracle import explain
from harness.repro.places import find, fold, lookup
from harness.repro.reading import UnreadableReport, read
from harness.repro.writing import write
from harness.scenario import load_text

REPORTS = yaml.safe_load((Path(__file__).parents[1] / "data" / "repro_reports.yaml").read_text("utf-8"))


@pytest.mark.parametrize("case", REPORTS, ids=[c["family"] for c in REPORTS])
def test_each_report_gives_a_scenario_with_the_reports_verdict(case: dict[str, str]) -> None:
    written = write(read(case["text"]))
    (scenario,) = load_text(written.yaml)
    checks = [i for i, step in enumerate(scenario.steps) if step.kind == "expect"]
    states = [explain(scenario, upto=i).state for i in checks]
    assert states and set(states) == {case["expect"]}, written.yaml
    assert not written.gaps, written.gaps
    for line in written.yaml.splitlines():
        if line.startswith("  - ") and line.split("-", 1)[1].split(":")[0].strip() not in ("expect",):
            assert " # " in line, f"step without the words it came from: {line}"


def test_reports_cover_every_phrase_family() -> None:
    assert len(REPORTS) >= 20
    text = " ".join(c["text"] for c in REPORTS).lower()
    for phrase in ("location turned off", "airplane mode", "wi-fi only", "no sim", "factory reset", "rebooted",
                   "custom rom", "bought", "then", "vpn", "dual sim"):
        assert phrase in text, phrase


def test_places_with_accents_and_aliases() -> None:
    assert fold("Holguín") == "holguin"
    assert [(p.name, p.territory) for p in find("in Holguín, La Habana, Sebastopol and Simferopol")] == [
        ("Holguín", "CU"), ("Havana", "CU"), ("Sevastopol", "crimea"), ("Simferopol", "crimea")]
    assert lookup("Yevpatoria") is not None and lookup("Yevpatoria").territory == "crimea"  # GeoNames UA/11
    assert lookup("Spain") is None  # a country is not a place of first use


def test_assumptions_are_stated() -> None:
    written = write(read("Set up in Kherson with a Kyivstar SIM, location on. Is it locked?"))
    assert written.claimed is None
    assert "set up on home Wi-Fi (the report does not say how the phone was online)" in written.assumptions
    assert "# Assumptions" in written.yaml and "the report asks" in written.yaml


def test_a_structured_ticket() -> None:
    ticket = ("device: Redmi Note 9\nfirst_boot: {place: Holguín, sim: Cubacel, wifi: true, location: true}\n"
              "then: [{travel: Madrid}, reboot]\noutcome: locked\n")
    (scenario,) = load_text(write(read(ticket)).yaml)
    assert [s.kind for s in scenario.steps].count("expect") == 3
    assert explain(scenario).state == "locked"


@pytest.mark.parametrize("text", ["", "help", "My phone is broken, what do I do now please"])
def test_unreadable_reports_are_a_clear_message(text: str) -> None:
    with pytest.raises(UnreadableReport):
        read(text)
    result = CliRunner().invoke(app, ["repro", "-"], input=text)
    assert result.exit_code == 2 and "cannot read this report" in result.output
    assert "Traceback" not in result.output


def test_repro_command_prints_assumptions_and_the_scenario(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text(REPORTS[0]["text"], encoding="utf-8")
    result = CliRunner().invoke(app, ["repro", str(report)])
    assert result.exit_code == 0
    assert "assumption: the phone was new and had never been activated" in result.output
    assert "sim: Cubacel" in result.output and "expect: policy" in result.output
