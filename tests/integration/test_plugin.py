"""The pytest plugin, end to end in a pytester sandbox with a fake lab (no emulators).

The fake backend records each provision/teardown and the fake runner (the plugin's
`pytest_harness_run_scenario` hook) records which worker ran which scenario on which device, so the
hand-out across xdist workers is observable from outside.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakelab import events, write_lab

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

@pytest.fixture
def lab(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = pytester.path / "fakelab.jsonl"
    monkeypatch.setenv("FAKELAB_LOG", str(log))
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider --backend fakelab:FakeLab\n")
    write_lab(pytester.path, {
        "havana": ("First activation in Havana locks", "smoke, cuba"),
        "tehran": ("First activation in Tehran locks", "smoke, iran"),
        "wrong": ("A wrong expectation in Madrid", "smoke"),
        "dies": ("The device dies mid-run", "edge"),
        "roaming": ("Roaming needs a call box", "edge"),
    })
    return log


def test_two_workers_get_two_distinct_devices_from_one_provisioning(pytester: pytest.Pytester, lab: Path) -> None:
    result = pytester.runpytest_subprocess("-n", "2", "scenarios", "-m", "smoke or edge")
    result.stdout.fnmatch_lines(["*wrong.yaml:1: wrong verdict: expected the device locked, but it was unlocked*",
                                 "*1 failed, 2 passed, 1 skipped, 1 error*"])
    assert [e["count"] for e in events(lab, "provision")] == [2]
    assert len(events(lab, "teardown")) == 1
    runs = events(lab, "run")
    by_worker = {(e["worker"], e["serial"]) for e in runs}
    assert {w for w, _ in by_worker} == {"gw0", "gw1"} or len(runs) < 2
    assert len({s for _, s in by_worker}) == len({w for w, _ in by_worker}), "a device was shared"


def test_infrastructure_errors_are_errors_and_verdicts_are_failures(pytester: pytest.Pytester, lab: Path) -> None:
    result = pytester.runpytest_subprocess("scenarios", "-rfEs")
    result.stdout.fnmatch_lines([
        "*ERROR at call of scenario: The device dies mid-run*",
        "scenarios/dies.yaml:1: infrastructure: <Device|fake-0> adb: device offline",
        "*FAILURES*",
        "scenarios/wrong.yaml:1: wrong verdict: expected the device locked, but it was unlocked*",
        "*short test summary info*",
        "FAILED scenarios/wrong.yaml::wrong*",
        "ERROR scenarios/dies.yaml::dies*",
        "SKIPPED [[]1[]] scenarios/roaming.yaml:1: <Device|fake-0> cannot provide roaming: stock emulator",
    ])
    result.assert_outcomes(passed=2, failed=1, errors=1, skipped=1)


def test_tags_are_markers(pytester: pytest.Pytester, lab: Path) -> None:
    by_tag = pytester.runpytest_subprocess("scenarios", "-m", "cuba", "--strict-markers")
    by_tag.assert_outcomes(passed=1)


def test_names_are_keywords(pytester: pytest.Pytester, lab: Path) -> None:
    by_name = pytester.runpytest_subprocess("scenarios", "-k", "tehran or Madrid")
    by_name.assert_outcomes(passed=1, failed=1)


@pytest.mark.parametrize("workers", [["-n", "2"], []], ids=["xdist", "single"])
def test_no_scenarios_no_devices(pytester: pytest.Pytester, lab: Path, workers: list[str]) -> None:
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    pytester.runpytest_subprocess(*workers, "test_plain.py").assert_outcomes(passed=1)
    assert not lab.exists() or not events(lab, "provision")


def test_fewer_devices_than_workers_is_a_usage_error(pytester: pytest.Pytester, lab: Path) -> None:
    result = pytester.runpytest_subprocess("-n", "2", "--devices", "1", "scenarios")
    result.stderr.fnmatch_lines(["*--devices 1 is fewer than the 2 xdist workers*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_allure_categories_environment_and_statuses(pytester: pytest.Pytester, lab: Path) -> None:
    alluredir = pytester.path / "allure"
    summary = pytester.path / "summary.jsonl"
    pytester.runpytest_subprocess("-n", "2", "scenarios", f"--alluredir={alluredir}",
                                  f"--harness-summary={summary}")
    categories = json.loads((alluredir / "categories.json").read_text())
    names = {c["name"]: c["matchedStatuses"] for c in categories}
    assert names["missed lock"] == names["false lock"] == ["failed"]
    assert names["infrastructure: device lost"] == ["broken"]
    environment = (alluredir / "environment.properties").read_text()
    assert "fake-0.model=Fake Phone" in environment and "fake-1.model=Fake Phone" in environment
    statuses = {}
    for path in alluredir.glob("*-result.json"):
        result = json.loads(path.read_text())
        statuses[result["name"]] = result["status"]
    assert statuses == {"First activation in Havana locks": "passed", "First activation in Tehran locks": "passed",
                        "A wrong expectation in Madrid": "failed", "The device dies mid-run": "broken",
                        "Roaming needs a call box": "skipped"}
    lines = [json.loads(line) for line in summary.read_text().splitlines()]
    assert lines[0] == {"event": "collected", "count": 5}
    records = {r["scenario"]: r for r in lines[1:]}
    assert records["The device dies mid-run"]["outcome"] == "error"
    assert records["The device dies mid-run"]["kind"] == "infrastructure"
    assert records["A wrong expectation in Madrid"]["outcome"] == "failed"
    assert {r["device"] for r in records.values()} <= {"fake-0", "fake-1"}


TYPO = "scenario: A typo\nsteps:\n  - reset\n  - locaton: Havana\n  - expect: locked\n"


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["single", "xdist"])
def test_a_scenario_that_does_not_load_stops_the_run_with_the_loaders_message(
        pytester: pytest.Pytester, lab: Path, workers: list[str]) -> None:
    (pytester.path / "scenarios" / "typo.yaml").write_text(TYPO)
    earlier = pytester.path / "allure" / "earlier-result.json"
    earlier.parent.mkdir()
    earlier.write_text("{}")
    result = pytester.runpytest_subprocess("scenarios", "-rfE", "--alluredir", "allure", "--harness-clean-results",
                                           *workers)
    result.stdout.fnmatch_lines(["*scenarios/typo.yaml:4: steps[[]1[]]: unknown step 'locaton'*did you mean location*"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert not events(lab, "run"), "a run with a broken scenario file must not start scenarios"
    assert earlier.exists(), "results are cleaned only once collection succeeded"


def test_lab_failures_are_retried_and_exit_8(pytester: pytest.Pytester, lab: Path) -> None:
    only_lab = pytester.runpytest_subprocess("scenarios", "-k", "dies")
    assert only_lab.ret == 8
    assert [e["id"] for e in events(lab, "run")] == ["dies", "dies"]  # --retries 1 by default


def test_lab_failures_are_retried_and_verdicts_are_never_retried(pytester: pytest.Pytester, lab: Path) -> None:
    with_verdict = pytester.runpytest_subprocess("scenarios", "-k", "dies or wrong", "--retries", "2")
    assert with_verdict.ret == pytest.ExitCode.TESTS_FAILED
    ran = [e["id"] for e in events(lab, "run")]
    assert ran.count("dies") == 3 and ran.count("wrong") == 1


def test_a_hung_scenario_times_out_as_a_lab_error(pytester: pytest.Pytester, lab: Path) -> None:
    (pytester.path / "scenarios" / "hangs.yaml").write_text(scenario_text("The device hangs"))
    result = pytester.runpytest_subprocess("scenarios/hangs.yaml", "--scenario-timeout", "0.5", "--retries", "0",
                                           "-rE")
    result.stdout.fnmatch_lines(["*hangs.yaml:1: infrastructure: the scenario did not finish within its limit*"])
    assert result.ret == 8


def test_all_skipped_is_not_green_and_says_why(pytester: pytest.Pytester, lab: Path) -> None:
    result = pytester.runpytest_subprocess("scenarios", "-k", "roaming")
    result.stdout.fnmatch_lines(["*nothing was tested*", "*all 1 scenarios were skipped; exit 9*",
                                 "*1 x <Device|fake-0> cannot provide roaming: stock emulator*"])
    assert result.ret == 9


def test_allow_all_skipped_makes_an_all_skipped_run_green(pytester: pytest.Pytester, lab: Path) -> None:
    assert pytester.runpytest_subprocess("scenarios", "-k", "roaming", "--allow-all-skipped").ret == 0


def write_pyproject_config(pytester: pytest.Pytester) -> None:
    (pytester.path / "pyproject.toml").write_text(
        '[tool.regionlock]\nretries = 3\nexit-proxy = {IR = "127.0.0.1:3128"}\nallow_all_skipped = true\n')


def test_the_config_file_sets_options_and_the_command_line_wins(pytester: pytest.Pytester, lab: Path) -> None:
    write_pyproject_config(pytester)
    shown = pytester.runpytest_subprocess("--harness-config", "--retries", "0")
    shown.stdout.fnmatch_lines(["config file: *pyproject.toml", "allow_all_skipped = True  (file)",
                                "exit_proxy = [[]IR=127.0.0.1:3128[]]  (file)", "retries = 0  (command line)"])


def test_a_run_takes_its_options_from_the_config_file(pytester: pytest.Pytester, lab: Path) -> None:
    write_pyproject_config(pytester)
    assert pytester.runpytest_subprocess("scenarios", "-k", "roaming").ret == 0  # allow_all_skipped from the file


def test_a_nearer_config_file_wins_and_its_unknown_key_is_a_usage_error(pytester: pytest.Pytester,
                                                                       lab: Path) -> None:
    write_pyproject_config(pytester)
    (pytester.path / "harness.toml").write_text("retires = 2\n")  # nearer than pyproject: it wins, and is wrong
    wrong = pytester.runpytest_subprocess("scenarios")
    assert wrong.ret == pytest.ExitCode.USAGE_ERROR
    wrong.stderr.fnmatch_lines(["*harness.toml: unknown key 'retires' (did you mean retries?)*"])


def write_checks_folder(pytester: pytest.Pytester) -> None:
    """A scenario in a folder of another name, and a YAML under scenarios/ that is no scenario."""
    mine = pytester.path / "checks"
    mine.mkdir()
    (mine / "kyiv.yaml").write_text(scenario_text("First activation in Kyiv"))
    (pytester.path / "scenarios" / "notes.yaml").write_text("owner: qa\n")


def test_left_out_yaml_is_reported(pytester: pytest.Pytester, lab: Path) -> None:
    write_checks_folder(pytester)
    everything = pytester.runpytest_subprocess("-k", "havana or kyiv")
    everything.stdout.fnmatch_lines(["*YAML files not collected*", "*checks/kyiv.yaml: not under a scenario folder*",
                                     "*scenarios/notes.yaml: no top-level `scenario:` key*"])
    everything.assert_outcomes(passed=1)


@pytest.mark.parametrize(("args", "passed"), [
    (["checks/kyiv.yaml"], 1),  # a file named: collected
    (["checks"], 0),  # a folder of another name: reported, not run
    (["--scenario-dir", "checks", "-k", "kyiv"], 1),
], ids=["file-named", "other-folder-named", "scenario-dir"])
def test_scenario_folders_are_configurable(pytester: pytest.Pytester, lab: Path, args: list[str],
                                           passed: int) -> None:
    write_checks_folder(pytester)
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=passed)


def test_last_failed_reruns_only_the_failed_scenario(pytester: pytest.Pytester, lab: Path) -> None:
    pytester.makeini("[pytest]\naddopts = --backend fakelab:FakeLab\n")  # the cache on, as in a user's folder
    pytester.runpytest_subprocess("scenarios", "-m", "smoke")
    lab.unlink()
    again = pytester.runpytest_subprocess("scenarios", "--lf")
    assert [e["id"] for e in events(lab, "run")] == ["wrong"]
    assert again.ret == pytest.ExitCode.TESTS_FAILED


def test_allure_results_group_by_territory_and_keep_history_ids_stable(pytester: pytest.Pytester,
                                                                        lab: Path) -> None:
    alluredir = pytester.path / "allure"
    ids = []
    for devices in ("1", "2"):  # other serials, same history ids
        pytester.runpytest_subprocess("-n", devices, "scenarios", f"--alluredir={alluredir}", "--harness-clean-results")
        results = {r["name"]: r for r in map(json.loads, (p.read_text() for p in alluredir.glob("*-result.json")))}
        ids.append({name: r["historyId"] for name, r in results.items()})
    assert ids[0] == ids[1] and len(ids[0]) == 5  # cleaned between runs: one result per scenario
    wrong = results["A wrong expectation in Madrid"]
    assert wrong["statusDetails"]["message"] == ("Havana (Cuba): expected locked, seen unlocked — home screen, "
                                                 "decision 'activated'")
    assert [s["status"] for s in wrong["steps"]] == ["failed"]  # the verdict step is red, not "broken"
    labels = {(label["name"], label["value"]) for label in wrong["labels"]}
    assert {("feature", "Havana (Cuba)"), ("story", "decided by gps")} <= labels
    device = [p for p in wrong["parameters"] if p["name"] == "device"]
    assert device and device[0].get("excluded") is True
    assert any(a["name"] == "scenario: wrong.yaml" for a in wrong["attachments"])
    dies = results["The device dies mid-run"]
    assert dies["statusDetails"]["message"] == "Havana (Cuba): device lost: adb: device offline"


def scenario_text(name: str) -> str:
    from tests.fakelab import scenario

    return scenario(name, "edge")
