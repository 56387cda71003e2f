"""Emulator benchmark: how fast one virtual emulator answers the calls a harness makes most.

    .venv/bin/python bench/bench_emulator.py [--runs N] [--boots M] [--firmware reference|builtin]
                                             [--profile-emulator OUT.prof] [--json OUT.json]

Starts its own private adb server (OS-chosen port, temporary HOME) and one virtual emulator
(`timing=fast`), then prints p50/p95 in milliseconds of:

- `shell echo` through adbutils (`device.shell("echo hi")`), what harness code pays per call;
- the same round trip at the protocol level (our own socket to the adb server, `shell:` v1 and
  `shell,v2,raw:`, and `getprop` for a framework tool), which shows what the emulator (a real mksh in
  the device's sandbox) and adb server cost without adbutils' overhead:
  adbutils closes every connection with `shutdown(SHUT_WR); sleep(0.01)` and, for a device known
  by serial, first opens a separate `host:version` connection (closed the same way), so each
  `device.shell()` carries about 20 ms of client-side sleeping;
- uiautomator2 calls: `d(text=...).exists`, `d.dump_hierarchy()`, `d.screenshot()`, and the raw
  JSON-RPC `exist` POST over an adb `tcp:9008` stream (again without adbutils' extra connection);
- start-to-`sys.boot_completed=1` of fresh emulator processes (`--boots` runs): process spawn to
  the launcher's `Boot completed` line, to the property read through adb, and the launcher's own
  figure (which excludes the Python interpreter start and imports).

`--profile-emulator OUT.prof` runs the long-lived emulator under cProfile and prints its top
emulator functions by cumulative time at the end (main thread: imports and boot path).

Run by hand; never part of the test run. Numbers depend on the machine: the targets on a 2-core box
are shell p50 <= 10 ms (protocol level, issue 8), u2 call p50 <= 10 ms, boot to ready <= 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.backends.base import ADB_SERVER_ENV
from tests.support import OutputCollector, adb_path, free_console_port, free_port

READY_MARKER = "Boot completed in"


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stats:
    name: str
    runs: int
    p50_ms: float
    p95_ms: float
    min_ms: float
    max_ms: float
    note: str = ""


def summarise(name: str, seconds: list[float], note: str = "") -> Stats:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, max(0, round(0.95 * len(ms)) - 1))]
    return Stats(name, len(ms), statistics.median(ms), p95, ms[0], ms[-1], note)


def measure(name: str, call: Callable[[], object], runs: int, warmup: int = 3, note: str = "") -> Stats:
    for _ in range(warmup):
        call()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    return summarise(name, timings, note)


# --------------------------------------------------------------------------------------------
# A private adb server and emulator processes
# --------------------------------------------------------------------------------------------

@dataclass
class Server:
    port: int
    env: dict[str, str]

    def adb(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([adb_path(), "-P", str(self.port), *args], env=self.env,
                              capture_output=True, text=True, timeout=60, check=False)


@contextmanager
def private_adb_server(home: Path) -> Iterator[Server]:
    port = free_port()
    env = {**os.environ, **ADB_SERVER_ENV, "HOME": str(home), "ANDROID_EMULATOR_HOME": str(home / ".android"),
           "ANDROID_AVD_HOME": str(home / ".android" / "avd"), "ANDROID_ADB_SERVER_PORT": str(port)}
    env.pop("ANDROID_SERIAL", None)
    (home / ".android" / "avd").mkdir(parents=True, exist_ok=True)
    server = Server(port, env)
    if server.adb("start-server").returncode != 0:
        raise SystemExit(f"adb -P {port} start-server failed")
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(port)  # adbutils/uiautomator2 defaults
    try:
        yield server
    finally:
        server.adb("kill-server")


@dataclass
class Emulator:
    serial: str
    process: subprocess.Popen[bytes]
    output: OutputCollector
    spawned_at: float  # perf_counter at Popen
    ready_at: float  # perf_counter when the ready line was read

    def launcher_ms(self) -> float:
        line = self.output.wait_for(READY_MARKER, 0) or ""
        return float(line.rsplit(READY_MARKER, 1)[-1].split()[0])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.output.join()


def spawn_emulator(server: Server, data_dir: Path, firmware: str, profile: Path | None = None) -> Emulator:
    port = free_console_port()
    python = [sys.executable]
    if profile is not None:
        python += ["-m", "cProfile", "-o", str(profile)]
    command = [*python, "-m", "emulators.virtual.launcher", "-port", str(port), "-no-window",
               "-no-audio", "--data-dir", str(data_dir), "-prop", f"firmware={firmware}",
               "-prop", "timing=fast"]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=server.env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = OutputCollector(process)
    if output.wait_for(READY_MARKER, 60) is None:
        process.kill()
        raise SystemExit(f"emulator did not boot:\n{output.text}")
    return Emulator(f"emulator-{port}", process, output, started, time.perf_counter())


# --------------------------------------------------------------------------------------------
# The adb server's smart-socket protocol, spoken directly (no adbutils)
# --------------------------------------------------------------------------------------------

class Wire:
    """One connection to the adb server: `%04x`-framed requests, OKAY/FAIL replies, then a stream."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def request(self, text: str) -> None:
        data = text.encode()
        self.sock.sendall(b"%04x" % len(data) + data)
        status = self._exactly(4)
        if status != b"OKAY":
            length = int(self._exactly(4), 16)
            raise RuntimeError(f"{text!r}: {status!r} {self._exactly(length)!r}")

    def read_to_end(self) -> bytes:
        chunks = []
        while chunk := self.sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)

    def _exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError(f"adb server closed after {data!r}")
            data += chunk
        return data

    def close(self) -> None:
        self.sock.close()


def raw_service(port: int, serial: str, service: str, payload: bytes = b"") -> bytes:
    """`host:transport:SERIAL`, then SERVICE on the same connection; returns all it sends."""
    wire = Wire(port)
    try:
        wire.request(f"host:transport:{serial}")
        wire.request(service)
        if payload:
            wire.sock.sendall(payload)
        return wire.read_to_end()
    finally:
        wire.close()


def raw_shell_v2_stdout(port: int, serial: str, command: str) -> bytes:
    """Shell v2 packets are `id(1) length(4, LE) data`; id 1 = stdout, id 3 = exit."""
    data, out = raw_service(port, serial, f"shell,v2,raw:{command}"), b""
    while data:
        kind, length = data[0], int.from_bytes(data[1:5], "little")
        if kind == 1:
            out += data[5:5 + length]
        data = data[5 + length:]
    return out


def raw_jsonrpc(port: int, serial: str, method: str, params: Any) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = (b"POST /jsonrpc/0 HTTP/1.1\r\nHost: 127.0.0.1:9008\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body)) + body
    reply = raw_service(port, serial, "tcp:9008", request)  # the u2 server closes after replying
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    return reply


# --------------------------------------------------------------------------------------------
# The measurements
# --------------------------------------------------------------------------------------------

def bench_shell(server: Server, serial: str, runs: int) -> list[Stats]:
    import adbutils

    client = adbutils.AdbClient(host="127.0.0.1", port=server.port)
    by_serial = client.device(serial)
    transport_id = next(info.transport_id for info in client.list(extended=True) if info.serial == serial)
    by_id = client.device(transport_id=transport_id)
    assert raw_service(server.port, serial, "shell:echo hi") == b"hi\n"
    assert raw_shell_v2_stdout(server.port, serial, "echo hi") == b"hi\n"
    return [
        measure("shell echo: adbutils device(serial).shell", lambda: by_serial.shell("echo hi"), runs,
                note="2 connections (host:version + shell), each closed with a 10 ms sleep"),
        measure("shell echo: adbutils device(transport_id).shell", lambda: by_id.shell("echo hi"), runs,
                note="1 connection, one 10 ms close sleep"),
        measure("shell echo: protocol, shell: v1", lambda: raw_service(server.port, serial, "shell:echo hi"),
                runs, note="no client sleeps: adb server + emulator only"),
        measure("shell echo: protocol, shell,v2", lambda: raw_shell_v2_stdout(server.port, serial, "echo hi"),
                runs, note="what `adb shell` uses"),
        measure("shell getprop: protocol, shell,v2",
                lambda: raw_shell_v2_stdout(server.port, serial, "getprop ro.product.model"), runs,
                note="mksh + a framework tool asking the device process"),
        measure("shell echo: adb binary (subprocess)", lambda: server.adb("-s", serial, "shell", "echo hi"),
                max(5, runs // 5), warmup=1, note="includes starting the adb client process"),
    ]


def visible_text(xml: str) -> str:
    """A text on the current screen, so `exists` has something real to find."""
    import re

    for text in re.findall(r' text="([^"]+)"', xml):
        return text
    raise SystemExit("the current screen shows no text to look for")


def no_delay_device(client: Any, serial: str, transport_id: int) -> Any:
    """An adbutils device that skips the two client-side stalls of every uiautomator2 call.

    http.client sends the request's headers and body in two writes; on a socket without
    TCP_NODELAY, Nagle holds the body until the adb server ACKs the headers, and the server delays
    that ACK (40 ms on Linux). Addressing the device by transport id also skips adbutils'
    `host:version` connection and its 10 ms close sleep. Nothing on the device side changes.
    """
    import adbutils

    class NoDelayDevice(adbutils.AdbDevice):
        def create_connection(self, network: Any, address: Any) -> socket.socket:
            sock: socket.socket = super().create_connection(network, address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock

    return NoDelayDevice(client, serial, transport_id)


def bench_u2(server: Server, serial: str, runs: int) -> list[Stats]:
    import adbutils
    import uiautomator2

    client = adbutils.AdbClient(host="127.0.0.1", port=server.port)
    started = time.perf_counter()
    d = uiautomator2.connect(client.device(serial))
    d.info  # noqa: B018 - the first call pushes u2.jar, starts the server and waits for it
    setup = summarise("u2: connect + first call (push jar, start server)", [time.perf_counter() - started])
    transport_id = next(info.transport_id for info in client.list(extended=True) if info.serial == serial)
    fast = uiautomator2.connect(no_delay_device(client, serial, transport_id))
    text = visible_text(d.dump_hierarchy())
    selector = {"mask": 1, "childOrSibling": [], "childOrSiblingSelector": [], "text": text}
    raw_exist = raw_jsonrpc(server.port, serial, "exist", [selector])
    assert b'"result": true' in raw_exist or b'"result":true' in raw_exist, raw_exist
    assert d(text=text).exists and fast(text=text).exists
    few = max(5, runs // 5)

    def raw(method: str, params: Any) -> Callable[[], bytes]:
        return lambda: raw_jsonrpc(server.port, serial, method, params)

    try:
        return [
            setup,
            measure(f"u2: d(text={text!r}).exists", lambda: bool(d(text=text).exists), runs,
                    note="+40 ms Nagle/delayed ACK, +10 ms adbutils close sleep (client side)"),
            measure("u2: .exists, TCP_NODELAY + transport id", lambda: bool(fast(text=text).exists), runs,
                    note="same u2 call without the client-side stalls"),
            measure("u2: exist, protocol level", raw("exist", [selector]), runs,
                    note="one write, no sleeps: adb server + emulator only"),
            measure("u2: d.dump_hierarchy()", d.dump_hierarchy, runs),
            measure("u2: dump_hierarchy, TCP_NODELAY + transport id", fast.dump_hierarchy, runs),
            measure("u2: dumpWindowHierarchy, protocol level", raw("dumpWindowHierarchy", [False, 50]), runs),
            measure("u2: d.screenshot()", d.screenshot, few, warmup=1,
                    note="client stalls + base64 + PIL decode; frame cached"),
            measure("u2: screenshot, TCP_NODELAY + transport id", fast.screenshot, few, warmup=1),
            measure("u2: takeScreenshot, protocol level", raw("takeScreenshot", [1, 80]), few, warmup=1,
                    note="cache hit: the unchanged screen's JPEG is reused"),
        ]
    finally:
        d.stop_uiautomator(wait=False)


def bench_render(work: Path, firmware: str, runs: int) -> list[Stats]:
    """The cost of a screenshot after the screen changed, which the protocol rows never see.

    The emulator caches the rendered frame and its JPEG/PNG until the screen's content changes, so
    repeated screenshots of one screen are cache hits. Here the current screen of an in-process
    device is drawn and encoded from scratch each time, as after every wizard tap.
    """
    import io

    from emulators.virtual.device import DeviceConfig, VirtualDevice
    from emulators.virtual.launcher import make_firmware
    from emulators.virtual.ui.hierarchy import clock_text, operator_name
    from emulators.virtual.ui.render import draw_frame, encode_jpeg

    config = DeviceConfig(data_dir=work / "render", boot_props={"firmware": firmware, "timing": "fast"})
    device = VirtualDevice(config, make_firmware(config))
    device.boot()
    if not device.booted.wait(10):
        raise SystemExit("in-process device did not boot")

    def frame() -> Any:
        return draw_frame(device.top_screen(), operator_name(device), clock_text(device))

    def png() -> bytes:
        out = io.BytesIO()
        frame().save(out, format="PNG", compress_level=1)
        return out.getvalue()

    few = max(5, runs // 5)
    try:
        return [
            measure("render: draw frame (uncached)", frame, few, warmup=1, note="PIL drawing, 1080x1920"),
            measure("render: draw + JPEG q80 (uncached takeScreenshot)", lambda: encode_jpeg(frame(), 1.0, 80),
                    few, warmup=1),
            measure("render: draw + PNG (uncached screencap -p)", png, few, warmup=1),
        ]
    finally:
        device.shutdown()


def wait_boot_completed(port: int, serial: str, deadline: float) -> float:
    """Polls `getprop sys.boot_completed` through the adb server; perf_counter when it read 1."""
    while time.perf_counter() < deadline:
        try:
            if raw_service(port, serial, "shell:getprop sys.boot_completed").strip() == b"1":
                return time.perf_counter()
        except (RuntimeError, ConnectionError, OSError):
            pass  # not on the adb server yet
        time.sleep(0.005)
    raise SystemExit(f"{serial}: sys.boot_completed never read 1")


def bench_boot(server: Server, work: Path, firmware: str, boots: int) -> list[Stats]:
    to_line, to_prop, inside = [], [], []
    for i in range(boots):
        emulator = spawn_emulator(server, work / f"boot-{i}", firmware)
        try:
            prop_at = wait_boot_completed(server.port, emulator.serial, time.perf_counter() + 30)
            to_line.append(emulator.ready_at - emulator.spawned_at)
            to_prop.append(prop_at - emulator.spawned_at)
            inside.append(emulator.launcher_ms() / 1000)
        finally:
            emulator.stop()
    return [
        summarise("boot: spawn -> 'Boot completed' line", to_line, "includes interpreter start + imports"),
        summarise("boot: spawn -> sys.boot_completed=1 via adb", to_prop, "includes adb server attach"),
        summarise("boot: launcher's own figure", inside, "device start to boot_done, no imports"),
        import_time(),
    ]


def import_time() -> Stats:
    """What the interpreter start plus the launcher's imports cost alone (part of every boot)."""
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import emulators.virtual.launcher as l; l.make_firmware"],
                       cwd=ROOT, check=True)
        timings.append(time.perf_counter() - started)
    return summarise("boot: python start + import launcher", timings, "a floor under the spawn figures")


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------

def print_table(rows: list[Stats]) -> None:
    width = max(len(r.name) for r in rows)
    print(f"{'measurement':<{width}} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8} {'min':>7} {'max':>7}  note")
    for r in rows:
        print(f"{r.name:<{width}} {r.runs:>5} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f} {r.min_ms:>7.1f} "
              f"{r.max_ms:>7.1f}  {r.note}")


def print_profile(path: Path, top: int = 25) -> None:
    """cProfile sees the emulator's main thread only: the imports and the boot path.

    Requests are served on adbd/u2 threads, which cProfile does not follow; the protocol-level
    rows above are their measure (everything the emulator does per request is inside them).
    """
    import pstats

    if not path.exists():
        print(f"(no profile written to {path})")
        return
    print(f"\nemulator main thread ({path}), top {top} emulator functions by cumulative time:")
    pstats.Stats(str(path)).sort_stats("cumulative").print_stats("emulators", top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50, help="samples per round-trip measurement")
    parser.add_argument("--boots", type=int, default=5, help="fresh emulator processes to time")
    parser.add_argument("--firmware", default="reference", choices=["reference", "builtin"])
    parser.add_argument("--profile-emulator", type=Path, default=None, metavar="OUT.prof")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-emulator-"))
    rows: list[Stats] = []
    try:
        with private_adb_server(work / "home") as server:
            emulator = spawn_emulator(server, work / "main", args.firmware, args.profile_emulator)
            try:
                wait_boot_completed(server.port, emulator.serial, time.perf_counter() + 30)
                rows += bench_shell(server, emulator.serial, args.runs)
                rows += bench_u2(server, emulator.serial, args.runs)
            finally:
                emulator.stop()
            rows += bench_render(work, args.firmware, args.runs)
            rows += bench_boot(server, work, args.firmware, args.boots)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"virtual emulator, firmware={args.firmware}, timing=fast; {os.cpu_count()} CPUs; "
          f"Python {sys.version.split()[0]}")
    print_table(rows)
    if args.profile_emulator:
        print_profile(args.profile_emulator)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))


if __name__ == "__main__":
    main()
