"""DeviceSession against a real adb server and a virtual emulator (reference firmware)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import DeviceError, InfrastructureError
from harness.session import DeviceKind, DeviceSession

pytestmark = pytest.mark.integration


def test_facts_are_read_once_from_the_props(session: DeviceSession) -> None:
    facts = session.facts
    assert facts.is_emulator and facts.sdk == 31 and facts.model == "Redmi Note 9"
    assert facts.kind is DeviceKind.EMULATOR_MODERN
    assert facts.root == "adbd"
    assert facts.incremental
    assert session.facts is facts


def test_shell_quotes_every_word(session: DeviceSession) -> None:
    result = session.shell(["echo", "; reboot; ", "$HOME", "a'b"])
    assert result.ok
    assert result.output.rstrip("\n") == "; reboot;  $HOME a'b"


def test_exit_codes_come_back(session: DeviceSession) -> None:
    assert session.shell(["false"]).exit_code != 0
    with pytest.raises(DeviceError):
        session.check(["false"])


def test_root_and_setprop_read_back_in_one_listing(session: DeviceSession) -> None:
    session.root()
    session.setprop("gsm.sim.operator.alpha", '"; reboot; "')
    assert session.getprops()["gsm.sim.operator.alpha"] == '"; reboot; "'
    assert session.getprop("sys.boot_completed") == "1"


def test_settings_round_trip(session: DeviceSession) -> None:
    session.settings_put("global", "mobile_data", "0")
    assert session.settings_get("global", "mobile_data") == "0"
    assert session.settings_get("global", "no_such_key_here") is None


def test_console_through_the_session(session: DeviceSession) -> None:
    assert session.console.ping()
    session.console_command("geo fix -82.3666 23.1136")


def test_reboot_waits_for_the_new_boot(session: DeviceSession) -> None:
    session.root()
    session.reboot_and_wait(timeout=60)
    assert session.getprop("sys.boot_completed") == "1"
    assert session.getprop("debug.harness.boot") == ""


def test_ui_dump_screenshot_and_log(session: DeviceSession) -> None:
    mark = session.log_mark()
    assert "com.android.provision" in session.dump_hierarchy()
    assert session.screenshot_png().startswith(b"\x89PNG")
    session.shell(["log", "-t", "HarnessTest", "after the mark"])
    assert "after the mark" in session.logcat_since(mark)


def test_a_dead_device_is_an_infrastructure_error(session: DeviceSession, reference_emulator: Any) -> None:
    session.facts  # noqa: B018 -- read while alive
    reference_emulator.kill()
    with pytest.raises(InfrastructureError):
        session.shell(["echo", "hi"], timeout=5)


def test_root_is_regained_after_a_reboot_the_device_triggers_itself(session: DeviceSession) -> None:
    def reboot_as_root() -> None:  # the trigger needs root; after it, adbd is no longer root
        session.shell(["reboot"], root=True, timeout=5)

    session.reboot_and_wait(timeout=60, trigger=reboot_as_root)
    session.setprop("gsm.sim.operator.numeric", "41701")
    assert session.getprop("gsm.sim.operator.numeric") == "41701"
