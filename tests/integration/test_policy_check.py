"""A bad --policy is refused on the console before any device starts (pytest -n 2 and harness run)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BAD = "extends: global\nservice: \"false\"\nprohibited: {territories: [CU]}\n"


def test_pytest_with_two_workers_reports_a_bad_policy_as_a_usage_error(tmp_path: Path) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text(BAD)
    work = tmp_path / "lab"
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(REPO / "scenarios" / "smoke"),
                             "-n", "2", "--policy", str(policy), "--harness-workdir", str(work)],
                            cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 4, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"{policy}: service: Input should be a valid boolean, got 'false'" in result.stderr
    assert not work.exists() or not list(work.glob("dev-*")), "a device was started"
    assert time.monotonic() - started < 60


def test_harness_run_reports_a_bad_policy_before_pytest(tmp_path: Path) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text("extends: global\nprohibited: {territories: [CUB]}\n")
    result = subprocess.run([str(REPO / ".venv" / "bin" / "harness"), "run", str(REPO / "scenarios" / "smoke"),
                             "-n", "2", "--policy", str(policy), "--alluredir", str(tmp_path / "allure")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
                            env={"COLUMNS": "300", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 4, result.stdout + result.stderr
    shown = " ".join(result.stdout.split())  # rich wraps to the terminal's width
    assert "unknown territory code 'CUB'" in shown and "did you mean CU?" in shown
    assert "pytest exited" not in shown
    assert not (tmp_path / "allure").exists()


@pytest.mark.parametrize("name", ["global", "defect-crimea-blind", "custom-rom"])
def test_shipped_policies_pass_the_check(name: str) -> None:
    from harness.backends.virtual import check_policy

    check_policy(name)
