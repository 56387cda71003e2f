"""`harness profile capture` against a virtual emulator showing its setup wizard.

The skeleton must load as a profile, recognise the page it was captured on (and not the next one),
and its guessed forward tap must move the wizard on; a second capture adds the next page.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.notice import dump_nodes, find_node
from harness.profiles import read_profile
from harness.session import DeviceSession

pytestmark = pytest.mark.integration


def capture(adb_server: Any, serial: str, page: str, out: Path) -> str:
    result = CliRunner().invoke(app, ["profile", "capture", "--serial", serial, "--page", page, "-o", str(out),
                                      "--port", str(adb_server.port)])
    assert result.exit_code == 0, result.output
    return result.output


def test_capture_writes_a_skeleton_that_recognises_and_walks_the_page(
        reference_emulator: Any, adb_server: Any, session: DeviceSession, tmp_path: Path) -> None:
    out = tmp_path / "lab" / "acme.yaml"
    said = capture(adb_server, reference_emulator.serial, "welcome", out)
    assert "page 'welcome' recognised by" in said
    text = out.read_text()
    assert "# page 'welcome': tappable elements" in text and "language_es" in text  # candidates as comments
    profile = read_profile(out)
    page = profile.wizard.page("welcome")
    assert profile.name == "acme" and profile.wizard.package == "com.android.provision"
    assert page.recognise == {"resourceId": "com.android.provision:id/page_welcome"}
    assert page.titles == {"en": "Welcome"}
    assert profile.match[0].props == {"ro.product.brand": "Redmi"}
    assert profile.match[0].packages == ["com.android.provision"]
    assert page.actions[0].tap == {"resourceId": "com.android.provision:id/next"}

    # the guessed tap moves on, and the skeleton's recogniser no longer matches
    session.ui_call(lambda d: d(**page.actions[0].tap).click(), "tap next")
    deadline = time.monotonic() + 10
    while find_node(dump_nodes(session.dump_hierarchy()), page.recognise) is not None:
        assert time.monotonic() < deadline, "the wizard did not leave the welcome page"
        time.sleep(0.2)
    capture(adb_server, reference_emulator.serial, "sim", out)
    again = read_profile(out)
    assert [p.name for p in again.wizard.pages] == ["welcome", "sim"]
    assert again.wizard.page("sim").recognise == {"resourceId": "com.android.provision:id/page_sim"}
