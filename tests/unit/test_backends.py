"""Backends without devices: handles cross process boundaries, ports, argv, loading, adb handles."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from harness.backends.adb import AdbBackend, AdbDeviceOps, handle_for
from harness.backends.base import BackendOptions, DeviceHandle, load_backend
from harness.backends.virtual import (
    RESERVED_CONSOLE_PORTS,
    VirtualBackend,
    console_port_candidates,
    emulator_argv,
    emulator_env,
    ephemeral_ports,
    firmware_under_test,
    free_console_port,
    write_console_token,
)
from harness.errors import CapabilityMissing


def virtual_handle(tmp_path: Path) -> DeviceHandle:
    return DeviceHandle(serial="emulator-40000", kind="virtual", adb_server_port=41000, console_port=40000,
                        data_dir=str(tmp_path / "dev"), home=str(tmp_path / "home"),
                        props={"regionlock.policy": "defect-crimea-blind", "activation.url": "http://x:1"},
                        firmware="defect-crimea-blind")


def test_handle_round_trips_through_json(tmp_path: Path) -> None:
    handle = virtual_handle(tmp_path)
    assert DeviceHandle.from_dict(json.loads(json.dumps(handle.to_dict()))) == handle
    assert handle.adb_port == 40001
    assert handle.firmware == "defect-crimea-blind"


def test_handle_refuses_unknown_keys() -> None:
    with pytest.raises(ValueError, match="unknown keys"):
        DeviceHandle.from_dict({"serial": "s", "kind": "adb", "colour": "red"})


def test_console_port_is_even_free_and_outside_the_adb_probe_range() -> None:
    port = free_console_port()
    assert port % 2 == 0 and port not in RESERVED_CONSOLE_PORTS
    for p in (port, port + 1):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", p))


def test_console_port_avoids_ports_already_given_out() -> None:
    first = free_console_port()
    assert free_console_port({first, first + 1}) not in (first, first + 1)


def test_console_port_is_never_one_the_kernel_gives_a_connect() -> None:
    # A reset restarts the emulator on the same port; an ephemeral console port could meanwhile become
    # some connect()'s local port (Linux gives connect() even ports), and the device never came back.
    ephemeral = ephemeral_ports()
    for _ in range(20):
        port = free_console_port()
        assert port not in ephemeral and port + 1 not in ephemeral
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        with socket.create_connection(listener.getsockname()) as conn:
            assert conn.getsockname()[1] in ephemeral  # the range read is the one the kernel uses


def test_console_port_candidates_fall_back_below_the_floor_then_give_up() -> None:
    assert min(console_port_candidates(range(32768, 61000))) == 20000
    low = console_port_candidates(range(20000, 65536))
    assert low and min(low) == 1024 and max(low) < 20000
    assert not {5036, 5037, *RESERVED_CONSOLE_PORTS} & ({*low} | {p + 1 for p in low})
    assert not console_port_candidates(range(1024, 65536))


def test_emulator_command_line_and_environment(tmp_path: Path) -> None:
    handle = virtual_handle(tmp_path)
    argv = emulator_argv(handle)
    assert argv[0].endswith("virtual-emulator")
    assert argv[1:] == ["-port", "40000", "-no-window", "-no-audio", "--data-dir", str(tmp_path / "dev"),
                        "-prop", "activation.url=http://x:1", "-prop", "regionlock.policy=defect-crimea-blind"]
    env = emulator_env(handle)
    assert env["HOME"] == env["ANDROID_EMULATOR_HOME"] == str(tmp_path / "home")
    assert env["ANDROID_ADB_SERVER_PORT"] == "41000"


def test_console_token_is_private_and_stable(tmp_path: Path) -> None:
    path = write_console_token(tmp_path)
    token = path.read_text()
    assert len(token) == 16 and path.stat().st_mode & 0o777 == 0o600
    assert write_console_token(tmp_path).read_text() == token


def test_load_backend_by_name_and_by_factory() -> None:
    assert isinstance(load_backend("adb", BackendOptions()), AdbBackend)
    assert isinstance(load_backend("virtual", BackendOptions()), VirtualBackend)
    backend = load_backend("harness.backends.adb:AdbBackend", BackendOptions(serials=("x",)))
    assert isinstance(backend, AdbBackend) and backend.options.serials == ("x",)
    with pytest.raises(ValueError, match="unknown backend 'avdx'"):
        load_backend("avdx", BackendOptions())


def test_virtual_backend_makes_no_work_dir_until_it_needs_one() -> None:
    backend = VirtualBackend(BackendOptions())
    assert backend._work_dir is None
    backend.teardown()  # nothing started: a no-op, and safe twice
    backend.teardown()


def test_adb_handles_know_local_emulator_consoles() -> None:
    local = handle_for("emulator-5556", "127.0.0.1", 5037)
    assert (local.console_port, local.kind) == (5556, "adb")
    assert handle_for("emulator-5556", "farm.example", 5037).console_port is None
    assert handle_for("R58M12345", "127.0.0.1", 5037).console_port is None


def test_adb_devices_cannot_be_reset_to_a_new_identity() -> None:
    ops = AdbDeviceOps(AdbBackend(BackendOptions()), handle_for("R58M1", "127.0.0.1", 5037))
    with pytest.raises(CapabilityMissing, match="new hardware identity"):
        ops.fresh_device(None, "global", None, 1)
    assert ops.proxy_for_country("CU") is None and not ops.sim_profile_supported()


@pytest.mark.parametrize(("scenario", "run", "booted"), [
    (None, None, "global"), ("global", None, "global"),
    ("global", "defect-crimea-blind", "defect-crimea-blind"), (None, "defect-every-boot", "defect-every-boot"),
    ("custom-rom", "defect-crimea-blind", "custom-rom"), ("custom-rom", None, "custom-rom"),
])
def test_run_policy_replaces_the_reference_family_only(scenario: str | None, run: str | None, booted: str) -> None:
    assert firmware_under_test(scenario, run) == booted
