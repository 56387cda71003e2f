"""The `sdk` backend end to end, through a real SDK layout whose emulator is the virtual one.

The SDK folder, the AVDs (as avdmanager writes them, with the image's modem files) and the
activation server are made once per session; every test uses only what the harness reads of a real
SDK: `--sdk`/`ANDROID_SDK_ROOT`, `--avd`, `ANDROID_AVD_HOME`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.backends.base import BackendError, BackendOptions, adb_client
from harness.backends.sdk import SdkBackend
from harness.scenario.model import SimSpec
from tests.sdk_layout import SdkLayout, make_avd, make_sdk, start_activation_server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
AVD = "regionlock_api33"
CUSTOM_AVD = "custom_rom_api33"


@pytest.fixture(scope="session")
def sdk_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SdkLayout]:
    folder = tmp_path_factory.mktemp("sdk-lab")
    layout = make_sdk(folder)
    server, url = start_activation_server(folder)
    make_avd(layout, AVD, **{"activation.url": url, "timing": "fast"})
    make_avd(layout, CUSTOM_AVD, **{"activation.url": url, "timing": "fast", "regionlock.policy": "custom-rom"})
    try:
        yield layout
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture
def lab_env(sdk_lab: SdkLayout, monkeypatch: pytest.MonkeyPatch) -> SdkLayout:
    for key, value in sdk_lab.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("ANDROID_HOME", raising=False)
    return sdk_lab


def imei(handle: Any) -> str:
    match = re.search(r"IMEI\) slot 0: (\d+)", adb_client(handle).device(handle.serial).shell("dumpsys iphonesubinfo"))
    assert match
    return match.group(1)


def emulator_pids(marker: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker.encode() in (proc / "environ").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def test_instances_sims_in_the_modem_and_a_clean_teardown(lab_env: SdkLayout) -> None:
    with socket.socket() as squatter:  # someone else's listener on the first console port: left alone
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            squatter.bind(("127.0.0.1", 5554))
            squatter.listen(1)
            squatted = True
        except OSError:  # taken by someone (another test's emulator) who may let go of it any time
            squatted = False
        backend = SdkBackend(BackendOptions(avd=(AVD,)))
        try:
            first, second = backend.provision(2)
            ports = {first.console_port, second.console_port}
            assert not (squatted and 5554 in ports)
            assert all(p and p % 2 == 0 and 5554 <= p <= 5682 for p in ports)
            assert first.adb_server_port not in (5037, None)
            work = Path(str(first.data_dir)).parent
            cmdline = Path(f"/proc/{(Path(str(first.data_dir)) / 'emulator.pid').read_text()}/cmdline")
            argv = cmdline.read_bytes().split(b"\0")
            assert {b"-no-window", b"-no-audio", b"-no-boot-anim", b"-wipe-data", b"-avd"} <= set(argv)
            assert backend.facts(first)["avd"] == AVD

            ops = backend.device_ops(first)
            cuban = (SimSpec(mcc="368", mnc="01", operator="Cubacel"),)
            session = ops.fresh_device_with_sims(ops.current_session(), None, None, 1, cuban)
            assert session.getprop("gsm.sim.operator.numeric") == "36801"
            assert "mMcc=368" in session.check(["dumpsys", "telephony.registry"])  # the modem registered
            before = imei(ops.handle)
            session.check(["settings", "put", "global", "harness_marker", "kept"])
            session = ops.reboot_with_sims(session, (SimSpec(mcc="214", mnc="07"),))
            assert session.getprop("gsm.sim.operator.numeric") == "21407"
            assert imei(ops.handle) == before, "a new SIM is not a new device"
            assert session.settings_get("global", "harness_marker") == "kept", "a SIM swap keeps the data"
            assert "36801" not in (lab_env.avd_home / f"{AVD}.avd" / "modem_simulator" /
                                   "iccprofile_for_sim0.xml").read_text()
        finally:
            backend.teardown()
    assert not emulator_pids(str(work)), "an emulator outlived teardown"
    assert not work.exists(), "the instance folders outlived teardown"


def test_a_boot_timeout_names_what_it_still_waits_for(lab_env: SdkLayout) -> None:
    slow = "slow_boot"
    make_avd(lab_env, slow, **{"timing": "realistic", "timing.boot_seconds": "60"})
    backend = SdkBackend(BackendOptions(avd=(slow,)))
    backend.boot_timeout = 3.0
    try:
        # a loaded host may not even have the emulator on adb within 3 s: either stage is named, with the log
        with pytest.raises(BackendError, match=r"still waiting for: (sys\.boot_completed=1|the adb server to list "
                                               r"the device).*; last log lines \(.*emulator\.log\)"):
            backend.provision(1)
    finally:
        backend.teardown()
    work = backend.work_dir
    assert work is not None and not work.exists() and not emulator_pids(str(work)), "a failed boot leaves nothing"
    shutil.rmtree(lab_env.avd_home / f"{slow}.avd")
    (lab_env.avd_home / f"{slow}.ini").unlink()


def test_a_system_ui_anr_dialog_at_boot_is_dismissed_with_wait(lab_env: SdkLayout) -> None:
    make_avd(lab_env, "anr_boot", **{"timing": "fast", "anr.at_boot": "com.android.systemui"})
    backend = SdkBackend(BackendOptions(avd=("anr_boot",)))
    try:
        handle = backend.provision(1)[0]
        device = adb_client(handle).device(handle.serial)
        assert "Application Not Responding" not in device.shell("dumpsys window")
        assert "ANR in com.android.systemui" in device.shell("logcat -d")  # it was there, and went
        assert "aerr_wait" in device.shell("logcat -d")
    finally:
        backend.teardown()


def test_smoke_catalogue_on_the_sdk_backend(sdk_lab: SdkLayout, tmp_path: Path) -> None:
    """The smoke catalogue, plus an IP-only scenario whose IP country is the emulator's -http-proxy."""
    from harness.backends.exitproxy import ExitProxyPool

    shutil.copytree(ROOT / "scenarios" / "smoke", tmp_path / "scenarios")
    shutil.copy(ROOT / "scenarios" / "edge" / "ip-country-only.yaml", tmp_path / "scenarios")
    proxies = ExitProxyPool()
    iran = proxies.for_country("IR").address  # the lab's exit in Iran (a stand-in)
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT), "ANDROID_AVD_HOME": str(sdk_lab.avd_home)}
    env.pop("ANDROID_SDK_ROOT", None)
    result = subprocess.run(
        [sys.executable, "-c", "from harness.cli import main; main()", "run", "scenarios", "-n", "2",
         "--backend", "sdk", "--sdk", str(sdk_lab.root), "--avd", AVD, "--avd", f"custom-rom={CUSTOM_AVD}",
         "--exit-proxy", f"IR={iran}", "--alluredir", "allure"], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=600, check=False)
    proxies.stop_all()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "7 passed" in result.stdout
    readbacks = [json.loads(p.read_text()) for p in (tmp_path / "allure").glob("*-attachment.json")]
    sims = [r for r in readbacks if r.get("signal") == "sim"]
    assert sims and all(r["strategy"] == "icc-profile" for r in sims), "SIMs must come from the modem"
    havana = [r for r in sims if r["observed"]["gsm.sim.operator.numeric"] == "36801"]
    assert havana and havana[0]["observed"]["telephony.registry"] == {"0": "36801"}
    assert havana[0]["observed"]["status bar"].casefold() == "cubacel"  # SystemUI names the modem's network
    ips = [r for r in readbacks if r.get("signal") == "ip"]
    assert [r["strategy"] for r in ips] == ["emulator-http-proxy"] and ips[0]["observed"]["-http-proxy"] == iran
