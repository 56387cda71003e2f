"""adbd against the real adb server and client (from the adbutils wheel), on private ports.

Two kinds of device: real `virtual-emulator` processes from the shared fixtures (what users run),
and an in-process VirtualDevice + Adbd + Announcer where a test needs to reach inside (a fake
shell, a device-side TCP server, AUTH, the adb server restarting under the device).
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import adbutils
import pytest

from emulators.virtual.adbauth import ADB_KEYS_PATH
from emulators.virtual.adbd import Adbd, AdbPortInUse, Announcer
from emulators.virtual.device import DeviceConfig, Firmware, ShellIO, VirtualDevice
from tests.integration.conftest import AdbServer, RunningEmulator
from tests.support import adb_path, free_console_port, free_port, wait_until

pytestmark = pytest.mark.integration


# --------------------------------------------------------------------------------------------
# Real virtual-emulator processes
# --------------------------------------------------------------------------------------------

def test_devices_lists_the_emulator_with_its_identity(emulator: RunningEmulator) -> None:
    out = emulator.adb_server.adb("devices", "-l").stdout
    line = next(line for line in out.splitlines() if line.startswith(emulator.serial + " "))
    assert line.split()[1] == "device"
    for key in ("product:", "model:", "device:"):
        assert key in line


def test_shell_exit_codes_v1_and_v2(emulator: RunningEmulator) -> None:
    assert emulator.adb("shell", "exit 3").returncode == 3  # adb uses shell v2 when offered
    result = emulator.adb("shell", "echo out; echo err >&2; exit 4")
    assert (result.returncode, result.stdout, result.stderr) == (4, "out\n", "err\n")
    device = emulator.device
    v2 = device.shell2("echo hi; exit 5", v2=True)
    assert (v2.returncode, v2.output) == (5, "hi\n")
    v1 = device.shell2("false")  # v1: adbutils appends `; echo MAGIC$?` to get the status
    assert v1.returncode == 1
    assert device.shell("echo hello") == "hello"


def test_exec_out_is_binary_safe(emulator: RunningEmulator) -> None:
    result = subprocess.run(
        [adb_path(), "-P", str(emulator.adb_server.port), "-s", emulator.serial, "exec-out", "echo abc"],
        env=emulator.adb_server.env, capture_output=True, timeout=30, check=False)
    assert result.stdout == b"abc\n"


def test_push_pull_5mib_keeps_md5(emulator: RunningEmulator, tmp_path: Path) -> None:
    data = os.urandom(5 << 20)
    source, back = tmp_path / "blob.bin", tmp_path / "back.bin"
    source.write_bytes(data)
    pushed = emulator.adb("push", str(source), "/data/local/tmp/sub/blob.bin")
    assert pushed.returncode == 0, pushed.stderr
    pulled = emulator.adb("pull", "/data/local/tmp/sub/blob.bin", str(back))
    assert pulled.returncode == 0, pulled.stderr
    assert hashlib.md5(back.read_bytes()).hexdigest() == hashlib.md5(data).hexdigest()
    assert emulator.device.sync.stat("/data/local/tmp/sub/blob.bin").size == len(data)


def test_pull_missing_file_reports_adbd_message(emulator: RunningEmulator, tmp_path: Path) -> None:
    result = emulator.adb("pull", "/data/local/tmp/nope", str(tmp_path / "x"))
    assert result.returncode != 0
    assert "No such file or directory" in result.stderr


def test_root_then_id_then_reboot_drops_root(emulator: RunningEmulator) -> None:
    root = emulator.adb("root", timeout=30)
    assert root.stdout == "restarting adbd as root\n"
    assert emulator.adb("wait-for-device", timeout=30).returncode == 0
    assert emulator.device.shell("id").startswith("uid=0(root)")
    assert emulator.adb("root").stdout == "adbd is already running as root\n"
    assert emulator.adb("reboot", timeout=30).returncode == 0
    assert emulator.adb("wait-for-device", timeout=30).returncode == 0
    wait_until(lambda: emulator.device.shell("getprop sys.boot_completed").strip() == "1", 30)
    assert emulator.device.shell("id").startswith("uid=2000(shell)")


def test_unknown_service_is_refused(emulator: RunningEmulator) -> None:
    conn = emulator.device.open_transport()  # host:transport:SERIAL, then the device service
    with pytest.raises(Exception, match="closed"):  # the server's FAIL on our CLSE
        conn.send_command("nosuchservice:")
        conn.check_okay()
    conn.close()
    assert emulator.device.shell("echo still") == "still"


def test_garbage_connection_does_not_break_the_device(emulator: RunningEmulator) -> None:
    with socket.create_connection(("127.0.0.1", emulator.adb_port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + b"\xff" * 100)
        sock.settimeout(5)
        assert sock.recv(100) == b""  # closed on the bad magic
    assert emulator.device.shell("echo alive") == "alive"
    assert emulator.process.poll() is None


# --------------------------------------------------------------------------------------------
# In-process devices
# --------------------------------------------------------------------------------------------

class TestFirmware(Firmware):
    name = "test"

    def boot(self) -> None:
        self.device.props.set_many({"ro.product.name": "sdk_test", "ro.product.model": "Test Phone",
                                    "ro.product.device": "testdev", "ro.build.type": "userdebug"})
        self.device.boot_done()


def fake_shell(device: VirtualDevice, command: str, io: ShellIO) -> int:
    """Just enough sh for these tests, so they do not depend on the real shell."""
    if command.startswith("echo "):
        io.stdout(command[5:].encode() + b"\n")
        return 0
    if command == "cat":
        while data := io.stdin(4096):
            io.stdout(data)
        return 0
    if command == "id":
        io.stdout(b"uid=0(root)\n" if device.root else b"uid=2000(shell)\n")
        return 0
    io.stderr(f"/system/bin/sh: {command}: not found\n".encode())
    return 127


class InProcessDevice:
    def __init__(self, tmp_path: Path, server: AdbServer, secure: bool = False) -> None:
        console_port = free_console_port()
        config = DeviceConfig(console_port=console_port, data_dir=tmp_path / "device", adb_secure=secure)
        self.device = VirtualDevice(config, TestFirmware())
        self.device.boot()
        self.adbd = Adbd(self.device, port=config.adb_port, shell_runner=fake_shell)
        self.adbd.start()
        self.announcer = Announcer(self.adbd, server_port=server.port, interval=0.2)
        self.serial = config.serial
        self.server = server

    def start(self, state: str = "device") -> InProcessDevice:
        self.announcer.start()
        wait_until(lambda: self.server.state_of(self.serial) == state, 20, interval=0.1,
                   message=f"{self.serial} to be {state!r}")
        return self

    def stop(self) -> None:
        self.announcer.stop()
        self.adbd.stop()
        wait_until(lambda: self.server.state_of(self.serial) is None, 10, interval=0.1)

    def adb(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.server.adb("-s", self.serial, *args, timeout=30)


@pytest.fixture
def local(tmp_path: Path, adb_server: AdbServer) -> Iterator[InProcessDevice]:
    device = InProcessDevice(tmp_path, adb_server).start()
    try:
        yield device
    finally:
        device.stop()


def test_banner_and_fake_shell(local: InProcessDevice) -> None:
    out = local.server.adb("devices", "-l").stdout
    assert f"{local.serial}" in out and "product:sdk_test model:Test_Phone device:testdev" in out
    assert local.adb("shell", "nope").returncode == 127
    client = local.server.client.device(local.serial)
    assert client.shell("echo hi") == "hi"


def test_shell_v2_stdin_reaches_the_command(local: InProcessDevice) -> None:
    result = subprocess.run([adb_path(), "-P", str(local.server.port), "-s", local.serial, "shell", "cat"],
                            input="line one\nline two\n", env=local.server.env, capture_output=True,
                            text=True, timeout=30, check=False)
    assert (result.returncode, result.stdout) == (0, "line one\nline two\n")


def test_tcp_forward_reaches_device_server(local: InProcessDevice) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    local.device.tcp_servers[9008] = listener.getsockname()

    def echo_once() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(conn.recv(100).upper())

    threading.Thread(target=echo_once, daemon=True).start()
    client = local.server.client.device(local.serial)
    with client.create_connection("tcp", 9008) as conn:
        conn.sendall(b"ping")
        conn.settimeout(5)
        assert conn.recv(100) == b"PING"
    listener.close()
    with pytest.raises(adbutils.AdbError, match="closed"):  # nothing on 9009: CLSE at once
        client.create_connection("tcp", 9009)


def test_device_comes_back_after_drop(local: InProcessDevice) -> None:
    local.adbd.drop_connections()
    wait_until(lambda: local.server.state_of(local.serial) == "device", 10, interval=0.1)
    assert local.server.client.device(local.serial).shell("echo back") == "back"


def test_device_comes_back_after_adb_server_restart(tmp_path: Path, virtual_home) -> None:
    port = free_port()
    env = {**os.environ, **virtual_home.env(), "ANDROID_ADB_SERVER_PORT": str(port)}
    server = AdbServer(port, env)
    assert server.adb("start-server").returncode == 0
    try:
        device = InProcessDevice(tmp_path, server).start()
        assert server.adb("kill-server").returncode == 0
        wait_until(lambda: not device.adbd.has_online_connection(), 10)
        assert server.adb("start-server").returncode == 0
        wait_until(lambda: server.state_of(device.serial) == "device", 15, interval=0.1)
        device.stop()
    finally:
        server.adb("kill-server")


def test_port_in_use_is_a_clear_error(local: InProcessDevice) -> None:
    with pytest.raises(AdbPortInUse, match="already in use"):
        Adbd(local.device, port=local.adbd.port).start()


@pytest.fixture
def secure(tmp_path: Path, adb_server: AdbServer) -> Iterator[InProcessDevice]:
    device = InProcessDevice(tmp_path, adb_server, secure=True)
    try:
        yield device
    finally:
        device.stop()


def test_auth_accepts_public_key_then_signature(secure: InProcessDevice) -> None:
    secure.start("device")  # the server's key was unknown: RSAPUBLICKEY, "confirmed"
    keys = secure.device.fs.host_path(ADB_KEYS_PATH)
    assert keys.read_text().startswith("QAAAA")
    secure.adbd.drop_connections()  # now the signature of the stored key must be enough
    time.sleep(0.3)
    wait_until(lambda: secure.server.state_of(secure.serial) == "device", 10, interval=0.1)
    assert keys.read_text().count("\n") == 1
    assert secure.adb("shell", "echo ok").stdout == "ok\n"


def test_auth_refused_leaves_device_unauthorized(secure: InProcessDevice,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIRTUAL_ADB_AUTO_ACCEPT", "0")
    secure.start("unauthorized")
    assert not secure.device.fs.host_path(ADB_KEYS_PATH).exists()


def test_finished_shell_v2_commands_leave_no_threads(local: InProcessDevice) -> None:
    client = local.server.client.device(local.serial)
    for _ in range(5):
        assert client.shell2("echo x", v2=True).returncode == 0
    wait_until(lambda: not [t for t in threading.enumerate() if t.name.startswith("adbd-shell")], 5,
               message="shell v2 stdin threads to end")
