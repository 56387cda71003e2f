"""The coverage picture: territory x deciding signal x flow per `expect`, labels, text and HTML."""

from __future__ import annotations

import textwrap
from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app
from harness.coverage import Cell, cells, flow_at, html_page, labels, picture, text
from harness.scenario import load_text

ROOT = Path(__file__).resolve().parents[2]


def _sc(steps: str):
    return load_text("scenario: x\ndevice: {firmware: global}\nsteps:\n" + textwrap.dedent(steps))[0]


def test_each_expect_is_a_cell_with_its_flow() -> None:
    sc = _sc("- reset\n- sim: ES\n- location: Madrid\n- activate\n- expect: unlocked\n- travel: Havana\n"
             "- reboot\n- expect: unlocked\n- factory-reset\n- activate\n- expect: unlocked\n")
    assert cells(sc) == [Cell("ES", "gps", "first-activation"), Cell("ES", "gps", "travel"),
                         Cell("ES", "gps", "factory-reset")]
    assert labels(sc) == {"territory": ["ES"], "signal": ["gps"],
                          "flow": ["first-activation", "travel", "factory-reset"]}
    assert flow_at(sc.steps[:4]) == "first-activation"
    assert flow_at([*sc.steps[:5], sc.steps[6]]) == "reboot"


def test_uncertain_and_unplaced_are_their_own_rows() -> None:
    assert cells(_sc("- reset\n- location: {lat: 1, lon: 1}\n- activate: {wifi: HomeNet}\n- expect: unlocked\n")) \
        == [Cell("uncertain", "gps", "first-activation")]
    assert cells(_sc("- reset\n- location: 'off'\n- activate: {wifi: HomeNet}\n- expect: unlocked\n")) \
        == [Cell("unplaced", "none", "first-activation")]


def test_picture_of_the_catalogue_names_empty_prohibited_cells(tmp_path: Path) -> None:
    pic = picture(load_text("scenario: x\ndevice: {firmware: global}\nsteps: [reset, {sim: CU}, activate, "
                            "{expect: locked}]\n"))
    assert pic.count("CU", "network", "first-activation") == 1
    assert ("crimea", "gps", "first-activation") in pic.empty_prohibited()
    assert ("crimea", "sim", "first-activation") not in pic.empty_prohibited()  # a SIM cannot say Crimea
    shown = text(pic)
    assert "first-activation:" in shown and "crimea *" in shown and "empty prohibited cells: 87 of 88" in shown
    page = html_page(pic)
    assert page.count("<svg") == 4 and "Crimea (UA-43/UA-40)" in page


def test_harness_coverage_command(tmp_path: Path) -> None:
    out = tmp_path / "coverage.html"
    result = CliRunner().invoke(app, ["coverage", str(ROOT / "scenarios" / "smoke"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "6 scenarios" in result.output and out.read_text().startswith("<!doctype html>")
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario: x\nsteps: [{location: Atlantis}]\n")
    result = CliRunner().invoke(app, ["coverage", str(bad)])
    assert result.exit_code == 2 and "unknown place 'Atlantis'" in result.output
