"""The virtual emulator's modem behaves like an API 31+ SDK emulator's, so a harness strategy that
would fail on the real thing fails here: `gsm.*` is republished from the modem at every radio event,
`-prop gsm.*` only reaches `vendor.gsm.*`, and `dumpsys telephony.registry` tells the modem's truth.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_firmware import CUBACEL_ICC, CUBACEL_OPERATORS, make_avd

pytestmark = pytest.mark.integration


def sh(emulator: Any, command: str) -> str:
    return str(emulator.device.shell(command)).strip()


def until(emulator: Any, command: str, expected: str, timeout: float = 10.0) -> str:
    """The command's output once it is `expected` (adb may drop meanwhile: root, reboot)."""
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        try:
            seen = sh(emulator, command)
        except Exception:  # noqa: BLE001 -- adbd restarting
            seen = "(offline)"
        if seen == expected:
            break
        time.sleep(0.1)
    return seen


def test_a_runtime_setprop_holds_only_until_the_next_radio_event(emulator_factory: Any, virtual_home: Any) -> None:
    avd = make_avd(virtual_home, "modem", icc=CUBACEL_ICC, operators=CUBACEL_OPERATORS)
    emulator = emulator_factory.start(firmware="reference", avd=avd,
                                      props={"gsm.sim.operator.numeric": "21407", "timing": "fast"})
    # -prop is a boot property: goldfish renames it, the modem's value stands
    assert sh(emulator, "getprop vendor.gsm.sim.operator.numeric") == "21407"
    assert sh(emulator, "getprop gsm.sim.operator.numeric") == "36801"
    emulator.adb("root")
    until(emulator, "id -u", "0", 15)
    events = {
        "console gsm": lambda: emulator.console_command("gsm voice home"),
        "airplane toggle": lambda: [sh(emulator, f"settings put global airplane_mode_on {v} && am broadcast "
                                                 f"-a android.intent.action.AIRPLANE_MODE --ez state {s}")
                                    for v, s in (("1", "true"), ("0", "false"))],
    }
    for name, event in events.items():
        sh(emulator, "setprop gsm.sim.operator.numeric 21407")
        sh(emulator, "setprop gsm.operator.numeric 21407")
        assert sh(emulator, "getprop gsm.sim.operator.numeric") == "21407"
        assert "mMcc=368" in sh(emulator, "dumpsys telephony.registry"), "a setprop is not the modem"
        event()
        assert until(emulator, "getprop gsm.sim.operator.numeric", "36801") == "36801", name
        assert until(emulator, "getprop gsm.operator.numeric", "36801") == "36801", name
    sh(emulator, "setprop gsm.sim.operator.numeric 21407")
    emulator.adb("reboot")
    assert until(emulator, "getprop sys.boot_completed", "1", 20) == "1"
    assert until(emulator, "getprop gsm.sim.operator.numeric", "36801") == "36801", "boot"


def test_icc_profile_flag_and_read_only_refuse_a_snapshot_save(emulator_factory: Any, virtual_home: Any,
                                                             tmp_path: Path) -> None:
    avd = make_avd(virtual_home, "shared", operators=CUBACEL_OPERATORS)
    icc = tmp_path / "cubacel.xml"
    icc.write_text(CUBACEL_ICC)
    emulator = emulator_factory.start("-read-only", "-no-boot-anim", "-wipe-data", "-no-snapshot",
                                      "-icc-profile", str(icc), "-http-proxy", "127.0.0.1:9",
                                      firmware="reference", avd=avd, props={"timing": "fast"})
    assert "unknown option" not in emulator.output.text
    assert sh(emulator, "getprop gsm.sim.operator.numeric") == "36801"
    assert sh(emulator, "getprop gsm.operator.numeric") == "36801"
    assert emulator.console_command("avd snapshot save s1") == [
        'KO: Snapshot save is disabled because "-read-only" was specified']
