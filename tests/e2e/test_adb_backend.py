"""`harness run --backend adb --serial S` on a device the harness did not start, as in a lab.

A virtual emulator is started by hand (as a lab phone would be plugged in); the harness gets only
its serial and an adb server. Everything between the harness and that adb server goes through a
recording TCP relay, so the test can grep what the harness asked the device. The lab's profile
directory holds a profile for this device's brand whose decision sign is the log, not the reference
firmware's property: the run must pass, pick that profile (and say why), and never ask for a
reference-only property or a virtual emulator knob, which proves the harness's firmware knowledge
comes from the profile alone. Scenarios needing a new identity or another firmware are skipped with
the reason; a factory reset uses the profile's method.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import (  # noqa: F401 -- the fixtures this test uses
    AdbServer,
    EmulatorFactory,
    adb_server,
    emulator_factory,
    virtual_home,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
HARNESS = [sys.executable, "-c", "from harness.cli import main; main()"]
# What only the reference firmware (or the virtual emulator's knobs) has: the harness must not ask.
REFERENCE_ONLY = (b"sys.activation.state", b"regionlock.policy", b"vendor.", b"dumpsys regionlock")

LOCKED_AND_RESET = """\
scenario: A lab phone activated in Havana with a Cuban SIM is locked, and a factory reset keeps it
steps:
  - sim: CU
  - location: Havana
  - activate
  - expect: locked
  - factory-reset
  - activate
  - expect: locked
"""
NEEDS_RESET = """\
scenario: Needs a factory-fresh device
steps:
  - reset
  - expect: unlocked
"""
NEEDS_FIRMWARE = """\
scenario: Needs the custom ROM build
device: {firmware: custom-rom}
steps:
  - expect: unlocked
"""


class RecordingRelay:
    """A TCP relay in front of the adb server that keeps every byte the clients sent."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.sent = bytearray()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, record: bool) -> None:
        try:
            while data := src.recv(65536):
                if record:
                    with self._lock:
                        self.sent += data
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def relay(adb_server: AdbServer) -> Iterator[RecordingRelay]:  # noqa: F811
    r = RecordingRelay(adb_server.port)
    yield r
    r.close()


def lab_profile(folder: Path) -> None:
    """The reference profile as a lab would adapt it: its brand, and the log as the decision sign."""
    data = yaml.safe_load((ROOT / "harness/data/profiles/reference.yaml").read_text())
    data.update(name="lab-redmi", description="the lab's Redmi phones",
                match=[{"props": {"ro.product.brand": "Redmi"},
                        "packages": ["com.android.provision", "com.android.regionlock"]}],
                decision={"log": {"locked": r"RegionLock: verdict=locked\b",
                                  "unlocked": r"RegionLock: verdict=activated\b",
                                  # the README's "Activation: request ..." line: a decision is coming
                                  "started": r"Activation: request sims="}, "longest_seconds": 12})
    data.pop("build")
    folder.mkdir()
    (folder / "lab-redmi.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))


def harness(workspace: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HARNESS, *args], cwd=workspace, env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def test_a_lab_device_on_the_adb_backend_is_driven_by_its_profile_alone(
        emulator_factory: EmulatorFactory, adb_server: AdbServer, relay: RecordingRelay,  # noqa: F811
        tmp_path: Path) -> None:
    phone = emulator_factory.start(firmware="reference")  # started by hand: the harness only gets a serial
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    for name, text in (("locked.yaml", LOCKED_AND_RESET), ("reset.yaml", NEEDS_RESET),
                       ("firmware.yaml", NEEDS_FIRMWARE)):
        (scenarios / name).write_text(text)
    lab_profile(tmp_path / "lab-profiles")
    env = {**adb_server.env, "ANDROID_ADB_SERVER_PORT": str(relay.port), "COLUMNS": "250",
           "PYTHONPATH": str(ROOT)}

    listed = harness(tmp_path, env, "devices", "--profiles", "lab-profiles")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert phone.serial in listed.stdout and "lab-redmi" in listed.stdout, listed.stdout
    assert "ro.product.brand=Redmi" in listed.stdout.replace("\n", " "), listed.stdout

    done = harness(tmp_path, env, "run", "scenarios", "--backend", "adb", "--serial", phone.serial,
                   "--profiles", "lab-profiles", "--alluredir", "allure", "--log", "harness-run.log")
    out = done.stdout
    assert done.returncode == 0, out + (tmp_path / "harness-run.log").read_text()
    assert "1 passed" in out and "2 skipped" in out, out
    log = (tmp_path / "harness-run.log").read_text()
    assert "reset.yaml:1: <Device|" in log and "cannot provide new-identity" in log, log
    assert "cannot provide firmware 'custom-rom'" in log, log
    env_props = (tmp_path / "allure" / "environment.properties").read_text()
    assert f"{phone.serial}.profile=lab-redmi (user profile: ro.product.brand=Redmi" in env_props, env_props

    asked = bytes(relay.sent)
    assert b"getprop" in asked and b"FACTORY_RESET" in asked  # the relay did see the harness's traffic
    for needle in REFERENCE_ONLY:
        assert needle not in asked, f"the harness asked the device about {needle!r}"
    assert phone.process.poll() is None and os.path.isdir(phone.data_dir)
