"""The console's TCP edge: token file handling and a real loopback session."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from emulators.virtual.console import ConsoleState
from emulators.virtual.console_server import ConsoleServer, PortInUse, bind_listener, read_or_create_token
from emulators.virtual.device import DeviceConfig, Firmware, VirtualDevice
from tests.support import ConsoleClient


def test_token_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / ".emulator_console_auth_token"
    token = read_or_create_token(path)
    assert token is not None and len(token) == 16
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_or_create_token(path) == token


@pytest.mark.parametrize("content", ["", "\n", "  "])
def test_empty_token_file_disables_auth(tmp_path: Path, content: str) -> None:
    path = tmp_path / "token"
    path.write_text(content)
    assert read_or_create_token(path) is None


def test_taken_port(tmp_path: Path) -> None:
    holder = bind_listener(0, "Console")
    port = holder.getsockname()[1]
    try:
        with pytest.raises(PortInUse, match=f"Console port {port} is already in use"):
            bind_listener(port, "Console")
    finally:
        holder.close()


def test_session_over_loopback_and_kill(tmp_path: Path) -> None:
    device = VirtualDevice(DeviceConfig(data_dir=tmp_path / "data"), Firmware())
    device.boot()
    killed = threading.Event()
    token_file = tmp_path / "token"
    server = ConsoleServer(device, ConsoleState(), 0, killed.set, token_file=lambda: token_file)
    server.bind()  # port 0: the OS chooses
    port = server.port
    server.start()
    try:
        token = token_file.read_text()  # written at start, before any client connects
        with ConsoleClient(port, token) as console:
            assert console.command("ping") == ["I am alive!"]
            assert console.command("kill") == ["OK: killing emulator, bye bye"]
        assert killed.wait(5)
    finally:
        server.stop()
