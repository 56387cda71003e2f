"""A farm on this machine for tests and bench: H "hosts" (adb servers on free loopback ports), D virtual
emulators on each under a supervisor that boots a factory-fresh one when one exits (what a farm host's
systemd unit or Kubernetes' restart does), one activation server, and the farm.yaml describing it.

Test-side code: it stands in for the farm's hosts, so it shares nothing with harness/farm.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.backends.base import ADB_SERVER_ENV
from tests.support import (
    REPO_ROOT,
    VENV_BIN,
    adb_path,
    free_console_port,
    free_port,
    virtual_emulator_command,
)

READY = b"Boot completed"


@dataclass
class SupervisedEmulator:
    """One emulator slot: a console port that always has a booted emulator on it, until `stop()`."""

    port: int
    adb_port: int
    root: Path
    env: dict[str, str]
    props: dict[str, str]
    respawn: bool = True
    generation: int = 0
    proc: subprocess.Popen[bytes] | None = None
    _thread: threading.Thread | None = None
    _ready: threading.Event = field(default_factory=threading.Event)

    @property
    def serial(self) -> str:
        return f"emulator-{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"supervise-{self.port}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            self.generation += 1
            data = self.root / f"{self.serial}-g{self.generation}"  # a new dir: a new identity
            argv = [*virtual_emulator_command(), "-port", str(self.port), "-no-window", "-no-audio",
                    "--data-dir", str(data)]
            for key, value in self.props.items():
                argv += ["-prop", f"{key}={value}"]
            log = open(data.with_suffix(".log"), "wb")  # noqa: SIM115 -- closed when the process ends
            self.proc = subprocess.Popen(argv, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
            self.proc.wait()
            log.close()
            self._ready.clear()
            if not self.respawn:
                return
            time.sleep(0.2)  # the console port must close before the next one binds it

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.root / f"{self.serial}-g{self.generation}.log"
            if log.exists() and READY in log.read_bytes():
                return
            time.sleep(0.1)
        raise TimeoutError(f"{self.serial} did not boot within {timeout} s")

    def kill9(self, respawn: bool = False) -> None:
        """A crash: SIGKILL, and (by default) no supervisor bringing it back."""
        self.respawn = respawn
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)

    def stop(self) -> None:
        self.respawn = False
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self._thread is not None:
            self._thread.join(15)


@dataclass
class Host:
    adb_port: int
    env: dict[str, str]
    emulators: list[SupervisedEmulator]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.adb_port}"

    def adb(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([adb_path(), "-P", str(self.adb_port), *args], env=self.env, capture_output=True,
                              text=True, timeout=30, check=False)

    def kill_server(self) -> None:
        """kill -9 of this host's adb server (the process listening on its port)."""
        for pid in _listeners(self.adb_port):
            os.kill(pid, signal.SIGKILL)


@dataclass
class FarmLab:
    root: Path
    hosts: list[Host]
    activation: subprocess.Popen[bytes]
    inventory: Path
    token: Path

    @property
    def emulators(self) -> list[SupervisedEmulator]:
        return [e for h in self.hosts for e in h.emulators]

    def stop(self) -> None:
        for emulator in self.emulators:
            emulator.stop()
        for host in self.hosts:
            host.adb("kill-server")
        self.activation.terminate()
        self.activation.wait(10)


def start_farm(root: Path, hosts: int, per_host: int, name: str = "lab", boot_timeout: float = 30) -> FarmLab:
    root.mkdir(parents=True, exist_ok=True)
    home = root / "home"
    home.mkdir(exist_ok=True)
    token = home / ".emulator_console_auth_token"
    token.write_text(base64.b64encode(os.urandom(12)).decode())
    token.chmod(0o600)
    act_log = root / "activation.log"
    activation = subprocess.Popen([str(VENV_BIN / "activation-server"), "--port", "0", "--db",
                                   str(root / "activation.db")], stdout=open(act_log, "wb"),  # noqa: SIM115
                                  stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    url = _wait_url(act_log)
    lab_hosts = []
    taken: set[int] = set()
    for _ in range(hosts):
        adb_port = free_port()
        env = {**os.environ, **ADB_SERVER_ENV, "HOME": str(home), "ANDROID_EMULATOR_HOME": str(home),
               "ANDROID_ADB_SERVER_PORT": str(adb_port)}
        subprocess.run([adb_path(), "-P", str(adb_port), "start-server"], env=env, check=True,
                       capture_output=True, timeout=30)
        emulators = []
        for _ in range(per_host):
            port = free_console_port()
            while port in taken or port + 1 in taken:
                port = free_console_port()
            taken |= {port, port + 1}
            emulators.append(SupervisedEmulator(port, adb_port, root, env,
                                                {"activation.url": url, "timing": "fast"}))
        lab_hosts.append(Host(adb_port, env, emulators))
    for host in lab_hosts:
        for emulator in host.emulators:
            emulator.start()
    inventory = root / "farm.yaml"
    inventory.write_text(farm_yaml(name, lab_hosts, token, boot_timeout))
    lab = FarmLab(root, lab_hosts, activation, inventory, token)
    for emulator in lab.emulators:
        emulator.wait_ready()
    for host in lab_hosts:  # every emulator listed as `device` on its host's server
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            listed = host.adb("devices").stdout
            if all(re.search(rf"^{e.serial}\s+device", listed, re.MULTILINE) for e in host.emulators):
                break
            time.sleep(0.2)
    return lab


def farm_yaml(name: str, hosts: list[Host], token: Path, boot_timeout: float = 30) -> str:
    lines = [f"name: {name}", "labels: {firmware: global, kind: emulator, api: 33, sim_slots: 1}", "hosts:"]
    for host in hosts:
        lines += [f"  - adb: {host.address}", "    respawn: true", f"    boot_timeout: {boot_timeout:g}",
                  f"    console_token: {token}",
                  # the adb server also adopts emulators of other runs on this machine (its 5555-5585 scan)
                  f"    only: [{', '.join(e.serial for e in host.emulators)}]"]
    return "\n".join(lines) + "\n"


def _wait_url(log: Path, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(r"http://127\.0\.0\.1:\d+", log.read_text(errors="replace")) if log.exists() else None
        if match:
            return match.group(0)
        time.sleep(0.1)
    raise TimeoutError("the activation server did not print its URL")


def _listeners(port: int) -> list[int]:
    """Pids with a listening socket on 127.0.0.1:port (from /proc, no extra tools)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            parts = row.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    pids.append(int(proc.name))
                    break
        except OSError:
            continue
    return pids
