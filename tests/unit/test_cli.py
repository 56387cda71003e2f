"""The `harness` CLI's pure parts: the pytest command line, the event file, the table, `devices` parsing."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from harness.cli import (
    RunRequest,
    app,
    carry_history,
    option_value,
    parse_position,
    progress_line,
    pytest_argv,
    read_all_events,
    read_events,
    summary_table,
    with_default_paths,
)


def test_pytest_argv_passes_every_argument_through_untouched(tmp_path: Path) -> None:
    args = ("scenarios/smoke", "-n", "auto", "-k", "havana", "--lf", "--junitxml", "j.xml", "--maxfail=2", "-x")
    argv = pytest_argv(RunRequest(args, Path("out")), tmp_path / "events.jsonl")
    assert argv[1:3] == ["-m", "pytest"] and tuple(argv[3:3 + len(args)]) == args
    joined = " ".join(argv)
    assert "--alluredir out" in joined and f"--harness-summary {tmp_path / 'events.jsonl'}" in joined
    assert "-p harness.pytest_plugin" not in joined  # the entry point registers it; twice would be an error
    assert "--harness-clean-results" not in joined  # a fresh run folder needs no cleaning


def test_an_explicit_alluredir_is_kept_and_cleaned_only_by_the_plugin(tmp_path: Path) -> None:
    args = ("s", "--alluredir=mine")
    argv = pytest_argv(RunRequest(args, Path("mine"), clean_results=True), tmp_path / "e")
    assert argv.count("--alluredir") == 0 and "--alluredir=mine" in argv and "--harness-clean-results" in argv
    assert option_value(["--alluredir", "a", "--alluredir=b"], "--alluredir") == "b"
    assert option_value(["-k", "x"], "--alluredir") is None


def test_scenarios_is_the_default_path_only_when_none_was_given(tmp_path: Path) -> None:
    assert with_default_paths(["-m", "smoke"], tmp_path) == ("-m", "smoke")  # no scenarios/ here
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "mine").mkdir()
    assert with_default_paths(["-m", "smoke"], tmp_path) == ("scenarios", "-m", "smoke")
    assert with_default_paths(["mine", "-x"], tmp_path) == ("mine", "-x", "--scenario-dir", "mine")


def test_read_events_tolerates_a_half_written_line_and_keeps_the_last_attempt(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    assert read_events(path) == (None, [])
    first = {"event": "result", "nodeid": "a", "scenario": "x", "outcome": "error"}
    second = {**first, "outcome": "passed"}
    error = {"event": "collect-error", "where": "s/t.yaml", "message": "s/t.yaml:3: steps[0]: unknown step"}
    left_out = {"event": "not-collected", "files": [["checks/x.yaml", "not under a scenario folder"]]}
    lines = [{"event": "collected", "count": 3}, left_out, first, second, error]
    path.write_text("".join(json.dumps(e) + "\n" for e in lines) + '{"ev')
    run = read_all_events(path)
    assert (run.total, run.records, run.errors) == (3, [second], [error])
    assert run.left_out == [("checks/x.yaml", "not under a scenario folder")]


RECORDS = [
    {"nodeid": "a", "id": "ok", "scenario": "ok", "outcome": "passed", "duration": 1.0},
    {"nodeid": "b", "id": "first[place=Sevastopol]", "scenario": "b", "outcome": "failed", "kind": "product",
     "duration": 2.5, "expected": "locked", "observed": "unlocked", "territory": "Sevastopol (Crimea)",
     "signal": "gps", "device": "emulator-1", "message": "Sevastopol (Crimea): expected locked, seen unlocked"},
]


def test_the_table_puts_failures_first_with_territory_and_signal() -> None:
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(summary_table(RECORDS))
    lines = [ln for ln in console.export_text().splitlines() if "│" in ln]
    assert "first[place=Sevastopol]" in lines[0] and "Sevastopol (Crimea)" in lines[0] and "gps" in lines[0]
    assert "ok" in lines[1]


def test_a_progress_line_is_plain_text_with_the_reason() -> None:
    line = progress_line(RECORDS[1], 2, 40)
    assert line.startswith("[2/40]  FAILED") and "first[place=Sevastopol]" in line
    assert line.endswith("Sevastopol (Crimea): expected locked, seen unlocked")


def test_carry_history_copies_the_previous_reports_history(tmp_path: Path) -> None:
    report, results = tmp_path / "report", tmp_path / "results"
    results.mkdir()
    assert not carry_history(report, results)
    (report / "history").mkdir(parents=True)
    (report / "history" / "history.json").write_text("{}")
    assert carry_history(report, results) and (results / "history" / "history.json").exists()


def test_parse_position_reads_dumpsys_location() -> None:
    text = "  gps provider:\n    last location=Location[gps 23.113600,-82.366600 hAcc=5 et=+1s alt=0.0]\n"
    assert parse_position(text) == "gps 23.113600,-82.366600"
    assert parse_position("no fixes") == "-"


def test_report_without_results_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", "--alluredir", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "run `harness run` first" in result.output


def test_schema_writes_a_json_schema(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    result = CliRunner().invoke(app, ["schema", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert isinstance(json.loads(out.read_text()), dict)


def test_device_props_parse_for_the_plugin() -> None:
    import pytest

    from harness.pytest_plugin import _device_prop

    assert _device_prop("firmware=norvik") == ("firmware", "norvik") and _device_prop("a.b=c=d") == ("a.b", "c=d")
    for bad in ("firmware", "=x", "a b=c"):
        with pytest.raises(pytest.UsageError, match="KEY=VALUE"):
            _device_prop(bad)


def test_a_lone_surrogate_in_a_name_does_not_break_the_table(tmp_path: Path) -> None:
    from rich.console import Console

    path = tmp_path / "events.jsonl"
    path.write_text('{"event": "result", "nodeid": "a", "scenario": "bad \\ud800 name", "outcome": "passed", '
                    '"duration": 1.0}\n')
    _, records = read_events(path)
    console = Console(width=120, file=open(tmp_path / "out.txt", "w", encoding="utf-8"))  # noqa: SIM115
    console.print(summary_table(records))
    assert "bad ? name" in records[0]["scenario"]
