"""`harness run` as QA and CI use it, on the fake lab (tests/fakelab.py): pytest's options pass
through, errors reach the console with pytest's codes, CI gets a line per scenario, signals stop the
run cleanly and a killed run leaves nothing the next one does not clean up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.fakelab import events, write_lab
from tests.support import wait_until

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
HARNESS = [sys.executable, "-c", "from harness.cli import main; main()"]
SCENARIOS = {
    "havana": ("First activation in Havana locks", "smoke"),
    "wrong": ("A wrong expectation in Madrid", "smoke"),
    "roaming": ("Roaming needs a call box", "edge"),
}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A QA engineer's own folder: scenarios, a config file naming the lab, nothing of this repo."""
    write_lab(tmp_path, SCENARIOS)
    (tmp_path / "harness.toml").write_text('backend = "fakelab:FakeLab"\n')
    return tmp_path


def env(workspace: Path) -> dict[str, str]:
    return {**os.environ, "COLUMNS": "200", "PYTHONPATH": f"{workspace}{os.pathsep}{ROOT}",
            "FAKELAB_LOG": str(workspace / "fakelab.jsonl")}


def harness(workspace: Path, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HARNESS, *args], cwd=workspace, env={**env(workspace), **(extra_env or {})},
                          capture_output=True, text=True,
                          timeout=120, check=False)


def start(workspace: Path, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([*HARNESS, "run", *args], cwd=workspace, env={**env(workspace), **(extra_env or {})},
                            text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_a_typo_prints_the_loaders_message_and_exits_with_pytests_code(workspace: Path) -> None:
    (workspace / "scenarios" / "typo.yaml").write_text("scenario: typo\nsteps:\n  - reset\n  - locaton: Havana\n")
    done = harness(workspace, "run", "-n", "2")
    assert done.returncode == 2, done.stdout
    assert "scenarios/typo.yaml:4: steps[1]: unknown step 'locaton'" in done.stdout
    assert "did you mean location" in done.stdout and "Traceback" not in done.stdout + done.stderr
    assert not events(workspace / "fakelab.jsonl", "run")


def test_last_failed_reruns_only_the_failed_scenario(workspace: Path) -> None:
    assert harness(workspace, "run", "-m", "smoke").returncode == 1
    (workspace / "fakelab.jsonl").unlink()
    again = harness(workspace, "run", "--lf")
    assert again.returncode == 1, again.stdout
    assert [e["id"] for e in events(workspace / "fakelab.jsonl", "run")] == ["wrong"]


def test_junitxml_has_one_testcase_per_scenario(workspace: Path) -> None:
    done = harness(workspace, "run", "--junitxml", "junit.xml", "-x", "--maxfail", "5")
    assert done.returncode == 1
    cases = [case.get("name") for case in ET.parse(workspace / "junit.xml").iter("testcase")]
    assert sorted(cases) == ["havana", "roaming", "wrong"]


def test_a_run_where_everything_was_skipped_is_not_green(workspace: Path) -> None:
    done = harness(workspace, "run", "-m", "edge")
    assert done.returncode == 9, done.stdout
    assert "nothing was tested" in done.stdout and "cannot provide roaming" in done.stdout


def test_ci_gets_a_line_per_scenario_as_it_ends(workspace: Path) -> None:
    write_lab(workspace, {"a-quick": ("Quick", "smoke"), "b-slow": ("Slow", "smoke")}, folder="ci")
    proc = start(workspace, "ci")
    assert proc.stdout is not None
    first = proc.stdout.readline()
    still_running = proc.poll() is None
    rest = proc.communicate(timeout=60)[0]
    assert first.startswith("[1/2]  PASSED   a-quick"), first + rest
    assert still_running, "the first scenario's line must come while the second still runs"
    assert "[2/2]  PASSED   b-slow" in rest and proc.returncode == 0


def test_sigterm_stops_pytest_and_its_devices_and_prints_what_finished(workspace: Path) -> None:
    write_lab(workspace, {"a-quick": ("Quick", "smoke"), "b-hangs": ("Hangs", "smoke")}, folder="sig")
    proc = start(workspace, "sig")
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("[1/2]  PASSED")
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=60)[0]
    assert proc.returncode == 128 + signal.SIGTERM, out
    assert "a-quick" in out and "stopped by signal 15" in out
    assert events(workspace / "fakelab.jsonl", "teardown"), "the devices were not torn down"
    assert not Path(tempfile.gettempdir(), f"harness-run-{proc.pid}").exists()


def test_what_a_sigkilled_run_leaves_the_next_run_cleans_up_after_its_teardown(workspace: Path) -> None:
    write_lab(workspace, {"hangs": ("Hangs", "smoke")}, folder="sig")
    # a private TMPDIR: runs of other tests sweep the shared one, and would clean up before we look
    tmp = workspace / "tmp"
    tmp.mkdir()
    own = {"TMPDIR": str(tmp)}
    proc = start(workspace, "sig", extra_env={**own, "FAKELAB_TEARDOWN_SECONDS": "2"})
    wait_until(lambda: events(workspace / "fakelab.jsonl", "run"), timeout=60, message="the scenario to start")
    orphan = events(workspace / "fakelab.jsonl", "provision")[0]["pid"]  # the run's pytest
    leftover = subprocess.Popen(["sleep", "300"], env={**env(workspace), "HARNESS_RUN_OWNER": str(proc.pid)})
    proc.kill()
    proc.wait(timeout=10)
    # pytest learns of its parent's death (PDEATHSIG) and tears the devices down
    wait_until(lambda: events(workspace / "fakelab.jsonl", "teardown-start"), timeout=60, message="teardown")
    # a run started meanwhile (another CI job) leaves that teardown its grace instead of killing it
    assert harness(workspace, "run", "-m", "smoke", "scenarios", extra_env=own).returncode == 1
    wait_until(lambda: any(e["pid"] == orphan for e in events(workspace / "fakelab.jsonl", "teardown")),
               timeout=30, message="the killed run's pytest to finish its teardown")
    wait_until(lambda: not Path(f"/proc/{orphan}").exists(), timeout=30, message="the killed run's pytest to end")
    scratch = tmp / f"harness-run-{proc.pid}"
    assert scratch.exists() and leftover.poll() is None  # SIGKILL: nobody cleaned up yet
    assert harness(workspace, "run", "-m", "smoke", "scenarios", extra_env=own).returncode == 1
    assert not scratch.exists()
    assert leftover.wait(timeout=10) == -signal.SIGKILL


def test_two_runs_in_one_folder_never_share_results_or_logs(workspace: Path) -> None:
    first, second = start(workspace, "-m", "smoke"), start(workspace, "-m", "smoke")
    outs = [p.communicate(timeout=120)[0] for p in (first, second)]
    runs = sorted(p for p in (workspace / "harness-runs").iterdir() if p.name != "latest")
    assert len(runs) == 2, outs
    for run in runs:
        assert (run / "harness-run.log").exists()
        assert len(list((run / "allure-results").glob("*-result.json"))) == 2


def checks_workspace(tmp_path: Path) -> Path:
    """A scenario in `checks/`, a folder of another name than the scenario folders."""
    write_lab(tmp_path, {"kyiv": ("First activation in Kyiv", "smoke")}, folder="checks")
    (tmp_path / "harness.toml").write_text('backend = "fakelab:FakeLab"\n')
    return tmp_path


def test_scenario_files_outside_the_scenario_folders_are_named_on_the_console(tmp_path: Path) -> None:
    checks_workspace(tmp_path)
    done = harness(tmp_path, "run")
    assert done.returncode == 5, done.stdout  # pytest's "nothing collected", and why:
    assert "not collected: checks/kyiv.yaml: not under a scenario folder (scenarios)" in done.stdout


@pytest.mark.parametrize("args", [["checks"], ["--scenario-dir", "checks"]], ids=["named", "scenario-dir"])
def test_scenario_files_in_a_folder_named_on_the_command_line_run(tmp_path: Path, args: list[str]) -> None:
    checks_workspace(tmp_path)
    assert harness(tmp_path, "run", *args).returncode == 0  # named on the command line: collected
