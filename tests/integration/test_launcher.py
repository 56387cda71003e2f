"""The `virtual-emulator` process: start, ports, AVDs, data across restarts, stopping, adb presence."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import EmulatorFactory, RunningEmulator, VirtualHome
from tests.support import OutputCollector, child_env, virtual_emulator_command, wait_until


def run_launcher(home: VirtualHome, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*virtual_emulator_command(), *args], env=child_env(**home.env()), check=False,
                          capture_output=True, text=True, timeout=timeout)


def test_ready_line_and_console_answer(emulator: RunningEmulator) -> None:
    assert "INFO    | Boot completed in" in emulator.output.text
    assert emulator.console_command("ping") == ["I am alive!"]
    assert emulator.console_command("avd status") == ["virtual device is running"]


def test_shows_up_in_adb_devices(emulator: RunningEmulator) -> None:
    assert emulator.adb_server.state_of(emulator.serial) == "device"
    assert emulator.device.shell("getprop sys.boot_completed").strip() == "1"


def test_console_kill_exits_zero_and_leaves_adb(emulator: RunningEmulator) -> None:
    with emulator.console() as console:
        assert console.command("kill") == ["OK: killing emulator, bye bye"]
    assert emulator.process.wait(10) == 0
    wait_until(lambda: emulator.adb_server.state_of(emulator.serial) is None, 10,
               message=f"{emulator.serial} to leave adb devices")


def test_sigterm_exits_cleanly(emulator: RunningEmulator) -> None:
    emulator.process.send_signal(signal.SIGTERM)
    assert emulator.process.wait(10) == 0
    emulator.output.join()
    assert "Emulator stopped" in emulator.output.text
    assert "Traceback" not in emulator.output.text


def test_kill_9_drops_it_from_adb_devices(emulator: RunningEmulator) -> None:
    emulator.kill()
    wait_until(lambda: emulator.adb_server.state_of(emulator.serial) is None, 10, interval=0.2,
               message=f"{emulator.serial} to leave adb devices after SIGKILL")


def test_taken_console_port_fails_clearly(emulator: RunningEmulator, virtual_home: VirtualHome,
                                          tmp_path: Path) -> None:
    second = run_launcher(virtual_home, "-port", str(emulator.console_port), "-no-window",
                          "--data-dir", str(tmp_path / "second"), "-prop", "firmware=builtin")
    assert second.returncode == 1
    assert f"ERROR   | Console port {emulator.console_port} is already in use" in second.stderr
    assert emulator.console_command("ping") == ["I am alive!"]  # the first one is untouched


def test_taken_adb_port_fails_clearly(virtual_home: VirtualHome, tmp_path: Path) -> None:
    from tests.support import free_console_port

    port = free_console_port()
    import socket

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port + 1))
        blocker.listen(1)
        result = run_launcher(virtual_home, "-port", str(port), "--data-dir", str(tmp_path / "d"),
                              "-prop", "firmware=builtin")
    assert result.returncode == 1
    assert f"ADB port {port + 1} is already in use" in result.stderr


def test_odd_port_is_refused(virtual_home: VirtualHome) -> None:
    result = run_launcher(virtual_home, "-port", "40001")
    assert result.returncode == 1
    assert "ERROR   | Invalid port number: 40001" in result.stderr


def test_unknown_avd(virtual_home: VirtualHome) -> None:
    result = run_launcher(virtual_home, "-avd", "NoSuchAvd")
    assert result.returncode == 1
    assert "ERROR   | Unknown AVD name [NoSuchAvd], use -list-avds to see valid list." in result.stderr


def make_avd(home: VirtualHome, name: str, config: str = "") -> Path:
    folder = home.avd_home / f"{name}.avd"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.ini").write_text(config)
    (home.avd_home / f"{name}.ini").write_text(f"avd.ini.encoding=UTF-8\npath={folder}\npath.rel=avd/{name}.avd\n")
    return folder


def test_list_avds(virtual_home: VirtualHome) -> None:
    make_avd(virtual_home, "Listed_A")
    make_avd(virtual_home, "Listed_B")
    result = run_launcher(virtual_home, "-list-avds")
    assert result.returncode == 0
    assert {"Listed_A", "Listed_B"} <= set(result.stdout.split())


def test_avd_config_is_used(emulator_factory: EmulatorFactory, virtual_home: VirtualHome) -> None:
    make_avd(virtual_home, "Configured", "hw.lcd.density=420\nfirmware=builtin\n")
    emulator = emulator_factory.start(avd="Configured")
    assert emulator.console_command("avd name") == ["Configured"]


def test_unknown_option_warns_but_runs(emulator_factory: EmulatorFactory) -> None:
    emulator = emulator_factory.start("-foo", "-gpu", "swiftshader_indirect")
    assert "WARNING | unknown option: -foo" in emulator.output.text
    assert emulator.console_command("ping") == ["I am alive!"]


def test_data_survives_restart_and_wipe_data_clears_it(emulator_factory: EmulatorFactory,
                                                       tmp_path: Path) -> None:
    data_dir = tmp_path / "persistent"
    first = emulator_factory.start(data_dir=data_dir)
    first.device.shell("setprop persist.debug.marker kept")
    assert first.stop() == 0
    second = emulator_factory.start(data_dir=data_dir)
    assert second.device.shell("getprop persist.debug.marker").strip() == "kept"
    assert second.stop() == 0
    third = emulator_factory.start("-wipe-data", data_dir=data_dir)
    assert third.device.shell("getprop persist.debug.marker").strip() == ""


def test_boot_props_are_vendor_props(emulator_factory: EmulatorFactory) -> None:
    emulator = emulator_factory.start(props={"gsm.sim.operator.numeric": "36801"})
    assert emulator.device.shell("getprop vendor.gsm.sim.operator.numeric").strip() == "36801"


def test_four_instances_at_once(emulator_factory: EmulatorFactory) -> None:
    emulators = [emulator_factory.start() for _ in range(4)]
    serials = {e.serial for e in emulators}
    assert len(serials) == 4
    for emulator in emulators:
        assert emulator.adb_server.state_of(emulator.serial) == "device"
        assert emulator.console_command("ping") == ["I am alive!"]
    for emulator in emulators:
        assert emulator.stop() == 0


def test_read_only_instances_share_an_avd(emulator_factory: EmulatorFactory, virtual_home: VirtualHome) -> None:
    make_avd(virtual_home, "Shared", "firmware=builtin\n")
    one = emulator_factory.start("-read-only", avd="Shared")
    two = emulator_factory.start("-read-only", avd="Shared")
    one.device.shell("setprop persist.debug.only_one 1")
    assert two.device.shell("getprop persist.debug.only_one").strip() == ""
    assert one.console_command("avd snapshot save nope") == [
        'KO: Snapshot save is disabled because "-read-only" was specified']


def test_no_stray_process_after_stop(emulator: RunningEmulator) -> None:
    pid = emulator.process.pid
    assert emulator.stop() == 0
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


@pytest.mark.parametrize("flag", ["-no-snapshot", "-no-boot-anim", "-no-audio", "-no-sim"])
def test_sdk_flags_are_accepted(emulator_factory: EmulatorFactory, flag: str) -> None:
    emulator = emulator_factory.start(flag)
    assert "unknown option" not in emulator.output.text


def test_output_collector_sees_exit(virtual_home: VirtualHome) -> None:
    process = subprocess.Popen([*virtual_emulator_command(), "-list-avds"], env=child_env(**virtual_home.env()),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    collector = OutputCollector(process)
    assert collector.wait_for("never printed", timeout=10) is None
    assert process.wait(10) == 0


def test_named_snapshot_is_saved_at_exit_and_loaded_at_start(emulator_factory: EmulatorFactory,
                                                             tmp_path: Path) -> None:
    data_dir = tmp_path / "quickboot"
    first = emulator_factory.start("-snapshot", "quick", data_dir=data_dir)
    assert first.console_command("geo fix 2.3522 48.8566") == []
    assert first.stop() == 0
    second = emulator_factory.start("-snapshot", "quick", data_dir=data_dir)
    assert "48.856600,2.352200" in second.device.shell("dumpsys location")
    assert second.stop() == 0
    cold = emulator_factory.start("-snapshot", "quick", "-no-snapshot-load", data_dir=data_dir)
    assert "48.856600" not in cold.device.shell("dumpsys location")


def test_change_locale(emulator_factory: EmulatorFactory) -> None:
    emulator = emulator_factory.start("-change-locale", "es-ES")
    assert emulator.device.shell("getprop persist.sys.locale").strip() == "es-ES"
