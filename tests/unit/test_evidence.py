"""Evidence works with Allure installed but not configured, and records steps and attachments."""

from __future__ import annotations

import json

import pytest

from harness.errors import DeviceError, VerdictMismatch
from harness.evidence import AllureEvidence, Evidence


@pytest.mark.parametrize("use_allure", [True, False])
def test_steps_and_attachments_are_recorded(use_allure: bool) -> None:
    evidence = Evidence(use_allure=use_allure)
    with evidence.step("sim: mcc=368", {"line": 4, "slots": [{"mcc": "368"}]}):
        evidence.attach_json("read-back: sim", {"observed": {"gsm.sim.operator.numeric": "36801"}})
    evidence.attach_png("screen", b"\x89PNG....")
    evidence.attach_xml("hierarchy", "<hierarchy/>")
    evidence.attach_text("log", "line")
    step = evidence.steps[0]
    assert (step.status, step.params) == ("passed", {"line": "4", "slots": '[{"mcc": "368"}]'})
    assert json.loads(str(evidence.named("json")[0].body))["observed"]["gsm.sim.operator.numeric"] == "36801"
    assert [a.kind for a in evidence.attachments] == ["json", "png", "xml", "text"]


def test_a_wrong_verdict_fails_the_step_and_a_dead_device_breaks_it() -> None:
    evidence = Evidence()
    with pytest.raises(VerdictMismatch), evidence.step("expect: locked"):
        raise VerdictMismatch("locked", "unlocked")
    with pytest.raises(DeviceError), evidence.step("sim"):
        raise DeviceError("emulator-5554", "gone")
    assert [(s.status, s.error is not None) for s in evidence.steps] == [("failed", True), ("broken", True)]


def test_the_plugin_can_build_it_without_arguments() -> None:
    evidence = AllureEvidence()
    evidence.set_environment({"serial": "emulator-5554"})
    assert evidence.environment == {"serial": "emulator-5554"}
