"""Shared integration fixtures: a private adb server per xdist worker and virtual emulators on it.

Everything is isolated per worker: the adb server listens on an OS-chosen port (never 5037), the
emulators use OS-chosen even console ports outside the SDK range, and HOME points at a per-session
temporary folder, so the console token, `~/.android/adbkey` and AVDs never touch the real home.

Fixtures:
- `virtual_home` (session): the HOME every child process gets; `.token` is the console token.
- `adb_server` (session): `.port`, `.adb(*args)`, `.client` (adbutils), `.env` (for children).
- `emulator_factory` (function): `start(*args, firmware=..., props=..., avd=...) -> RunningEmulator`.
- `emulator` (function): one emulator started with the defaults.
- `redis_url` (module): a real redis-server for the module.
- `farm` (module): tests/farmlab.py's farm of 3 hosts x 2 virtual emulators for the module.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.backends.base import ADB_SERVER_ENV
from tests.farmlab import FarmLab, start_farm
from tests.redis_server import redis_server
from tests.support import (
    ConsoleClient,
    OutputCollector,
    adb_path,
    free_console_port,
    free_port,
    virtual_emulator_command,
    wait_until,
)

READY_MARKER = "Boot completed in"
PORT_IN_USE_MARKER = "is already in use"


# --------------------------------------------------------------------------------------------
# HOME and the console token
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VirtualHome:
    path: Path
    token: str

    @property
    def avd_home(self) -> Path:
        return self.path / ".android" / "avd"

    @property
    def token_file(self) -> Path:
        return self.path / ".emulator_console_auth_token"

    def env(self) -> dict[str, str]:
        return {
            "HOME": str(self.path),
            "ANDROID_EMULATOR_HOME": str(self.path / ".android"),
            "ANDROID_AVD_HOME": str(self.avd_home),
        }


@pytest.fixture(scope="session")
def virtual_home(tmp_path_factory: pytest.TempPathFactory) -> VirtualHome:
    """A per-worker HOME with a console token written up front (emulators and `adb emu` share it)."""
    path = tmp_path_factory.mktemp("home")
    token = base64.b64encode(os.urandom(12)).decode()  # 16 base64 chars, like the emulator's
    home = VirtualHome(path, token)
    home.avd_home.mkdir(parents=True)
    home.token_file.write_text(token)
    home.token_file.chmod(0o600)
    return home


# --------------------------------------------------------------------------------------------
# The adb server
# --------------------------------------------------------------------------------------------

@dataclass
class AdbServer:
    port: int
    env: dict[str, str]

    def adb(self, *args: str, timeout: float = 60.0, check: bool = False) -> subprocess.CompletedProcess[str]:
        """Runs the real adb client against this server (`adb -P PORT ARGS`)."""
        return subprocess.run([adb_path(), "-P", str(self.port), *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=check)

    @property
    def client(self) -> Any:
        import adbutils

        return adbutils.AdbClient(host="127.0.0.1", port=self.port)

    def state_of(self, serial: str) -> str | None:
        """The serial's state in `adb devices` (`device`, `offline`, ...), or None when absent."""
        for line in self.adb("devices").stdout.splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 2 and parts[0] == serial:
                return parts[1]
        return None


@pytest.fixture(scope="session")
def adb_server(virtual_home: VirtualHome) -> Iterator[AdbServer]:
    """One private adb server per xdist worker, on an OS-chosen port; killed at the end."""
    port = free_port()
    env = {**os.environ, **ADB_SERVER_ENV, **virtual_home.env(), "ANDROID_ADB_SERVER_PORT": str(port)}
    env.pop("ANDROID_SERIAL", None)
    server = AdbServer(port, env)
    started = server.adb("start-server", timeout=60)
    if started.returncode != 0:
        pytest.fail(f"adb -P {port} start-server failed:\n{started.stdout}\n{started.stderr}")
    previous = os.environ.get("ANDROID_ADB_SERVER_PORT")
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(port)  # for code that builds its own adbutils client
    try:
        yield server
    finally:
        if previous is None:
            os.environ.pop("ANDROID_ADB_SERVER_PORT", None)
        else:
            os.environ["ANDROID_ADB_SERVER_PORT"] = previous
        server.adb("kill-server", timeout=30)


# --------------------------------------------------------------------------------------------
# Virtual emulators
# --------------------------------------------------------------------------------------------

def adbd_available() -> bool:
    """Until the adbd module exists, emulators are reachable through their console only."""
    return importlib.util.find_spec("emulators.virtual.adbd") is not None


@dataclass
class RunningEmulator:
    serial: str
    console_port: int
    process: subprocess.Popen[bytes]
    output: OutputCollector
    data_dir: Path
    home: VirtualHome
    adb_server: AdbServer
    args: list[str] = field(default_factory=list)

    @property
    def adb_port(self) -> int:
        return self.console_port + 1

    @property
    def device(self) -> Any:
        """The adbutils device on the private server."""
        return self.adb_server.client.device(self.serial)

    def console(self, authenticate: bool = True) -> ConsoleClient:
        return ConsoleClient(self.console_port, self.home.token if authenticate else None)

    def console_command(self, text: str) -> list[str]:
        with self.console() as console:
            return console.command(text)

    def adb(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        return self.adb_server.adb("-s", self.serial, *args, timeout=timeout)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait; SIGKILL when it does not exit in time. Returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.output.join()
        return int(self.process.returncode)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.output.join()


class EmulatorStartError(Exception):
    def __init__(self, message: str, output: str) -> None:
        super().__init__(f"{message}\n--- emulator output ---\n{output}")
        self.output = output


class EmulatorFactory:
    def __init__(self, adb_server: AdbServer, home: VirtualHome, tmp_path: Path) -> None:
        self.adb_server = adb_server
        self.home = home
        self.tmp_path = tmp_path
        self.started: list[RunningEmulator] = []

    def start(self, *args: str, firmware: str = "builtin", props: dict[str, str] | None = None,
              avd: str | None = None, timeout: float = 30.0, wait_for_device: bool = True,
              data_dir: Path | None = None) -> RunningEmulator:
        """Starts `virtual-emulator -port N -no-window ARGS` and waits until it is booted (and on adb)."""
        for attempt in range(4):
            port = free_console_port()
            try:
                emulator = self._spawn(port, list(args), firmware, props or {}, avd, timeout, data_dir)
            except EmulatorStartError as error:
                if PORT_IN_USE_MARKER in error.output and attempt < 3:
                    continue  # another process took the port between our check and the bind
                raise
            if wait_for_device and adbd_available():
                self._wait_on_adb(emulator, timeout)
            return emulator
        raise AssertionError("unreachable")

    def _spawn(self, port: int, args: list[str], firmware: str, props: dict[str, str], avd: str | None,
               timeout: float, data_dir: Path | None) -> RunningEmulator:
        data_dir = data_dir or self.tmp_path / f"emulator-{port}"
        command = [*virtual_emulator_command(), "-port", str(port), "-no-window", "-no-audio",
                   "--data-dir", str(data_dir), "-prop", f"firmware={firmware}"]
        for key, value in props.items():
            command += ["-prop", f"{key}={value}"]
        if avd is not None:
            command += ["-avd", avd]
        command += args
        process = subprocess.Popen(command, env=self.adb_server.env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output = OutputCollector(process)
        emulator = RunningEmulator(f"emulator-{port}", port, process, output, data_dir, self.home,
                                   self.adb_server, command)
        self.started.append(emulator)
        if output.wait_for(READY_MARKER, timeout) is None:
            emulator.kill()
            raise EmulatorStartError(
                f"{' '.join(command)} did not print {READY_MARKER!r} within {timeout} s "
                f"(exit code {process.returncode})", output.text)
        return emulator

    def _wait_on_adb(self, emulator: RunningEmulator, timeout: float) -> None:
        try:
            wait_until(lambda: self.adb_server.state_of(emulator.serial) == "device", timeout,
                       interval=0.2, message=f"{emulator.serial} to be 'device' in adb devices")
        except TimeoutError as error:
            raise EmulatorStartError(str(error), emulator.output.text) from None

    def stop_all(self) -> None:
        for emulator in self.started:
            emulator.stop(timeout=5.0)


@pytest.fixture
def emulator_factory(adb_server: AdbServer, virtual_home: VirtualHome,
                     tmp_path: Path) -> Iterator[EmulatorFactory]:
    factory = EmulatorFactory(adb_server, virtual_home, tmp_path)
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture
def emulator(emulator_factory: EmulatorFactory) -> RunningEmulator:
    """One virtual emulator with the built-in firmware, booted and on the private adb server."""
    return emulator_factory.start()


@pytest.fixture
def reference_emulator(emulator_factory: EmulatorFactory) -> RunningEmulator:
    """One virtual emulator running the reference firmware (setup wizard, region lock)."""
    return emulator_factory.start(firmware="reference")


@pytest.fixture
def session(reference_emulator: RunningEmulator, adb_server: AdbServer) -> Iterator[Any]:
    """A harness DeviceSession on `reference_emulator` (the harness is imported only here)."""
    from harness.session import DeviceSession

    s = DeviceSession(reference_emulator.serial, adb_server.client, reference_emulator.console_port,
                      reference_emulator.home.token_file)
    try:
        yield s
    finally:
        s.close()


# --------------------------------------------------------------------------------------------
# Redis and a farm, per module: a module whose test breaks its farm gets a farm of its own
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[FarmLab]:
    """A module sets FARM_BOOT_TIMEOUT to bound the wait for a respawn (farm.yaml `boot_timeout`)."""
    lab = start_farm(tmp_path_factory.mktemp("farm"), hosts=3, per_host=2,
                     boot_timeout=getattr(request.module, "FARM_BOOT_TIMEOUT", 30))
    try:
        yield lab
    finally:
        lab.stop()
