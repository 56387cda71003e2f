"""The `harness` CLI's pure parts: the pytest command line, the event file, `devices` parsing."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from harness.cli import RunRequest, app, parse_position, pytest_argv, read_events


def test_pytest_argv_carries_selection_devices_and_allure(tmp_path: Path) -> None:
    req = RunRequest(("scenarios/smoke",), 4, "havana", "cuba", "virtual", Path("out"), policy="global")
    argv = pytest_argv(req, tmp_path / "events.jsonl")
    assert argv[1:4] == ["-m", "pytest", "scenarios/smoke"]
    joined = " ".join(argv)
    for part in ("-p harness.pytest_plugin", "--backend virtual", "--alluredir out", "-n 4", "-k havana",
                 "-m cuba", "--policy global", f"--harness-summary {tmp_path / 'events.jsonl'}"):
        assert part in joined


def test_one_worker_runs_without_xdist(tmp_path: Path) -> None:
    argv = pytest_argv(RunRequest(("s",), 1, None, None, "adb", Path("a"), serials=("R1", "R2")), tmp_path / "e")
    assert "-n" not in argv and argv.count("--serial") == 2


def test_exit_proxies_reach_the_plugin(tmp_path: Path) -> None:
    req = RunRequest(("s",), 1, None, None, "adb", Path("a"), exit_proxies=("IR=10.1.2.3:3128", "CU=h:8080"))
    argv = pytest_argv(req, tmp_path / "e")
    assert argv[argv.index("--exit-proxy") + 1] == "IR=10.1.2.3:3128" and argv.count("--exit-proxy") == 2


def test_read_events_tolerates_a_half_written_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    assert read_events(path) == (None, [])
    record = {"event": "result", "scenario": "x", "outcome": "passed"}
    path.write_text(json.dumps({"event": "collected", "count": 3}) + "\n" + json.dumps(record) + '\n{"ev')
    assert read_events(path) == (3, [record])


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


def test_device_props_reach_the_plugin_and_parse(tmp_path: Path) -> None:
    import pytest

    from harness.pytest_plugin import _device_prop

    req = RunRequest(("s",), 1, None, None, "virtual", Path("a"), device_props=("firmware=norvik", "timing=fast"))
    argv = pytest_argv(req, tmp_path / "e")
    assert argv[argv.index("--device-prop") + 1] == "firmware=norvik" and argv.count("--device-prop") == 2
    assert _device_prop("firmware=norvik") == ("firmware", "norvik") and _device_prop("a.b=c=d") == ("a.b", "c=d")
    for bad in ("firmware", "=x", "a b=c"):
        with pytest.raises(pytest.UsageError, match="KEY=VALUE"):
            _device_prop(bad)
