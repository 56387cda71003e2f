"""Health probes, the restart journal, and a device that cannot be replaced (no emulator needed)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from harness.backends import health
from harness.backends.base import BackendError, BackendOptions, DeviceHandle
from harness.backends.virtual import VirtualDeviceOps
from harness.errors import ServiceDown


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_probes_of_nothing_are_false() -> None:
    port = dead_port()
    assert not health.adb_server_alive(port) and not health.http_alive("127.0.0.1", port)


def test_a_listener_that_never_answers_is_not_alive() -> None:
    # what a SIGSTOPped server looks like: the kernel accepts, nobody replies
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        assert not health.adb_server_alive(port, timeout=0.3)
        assert not health.http_alive("127.0.0.1", port, timeout=0.3)


def test_an_http_server_is_alive() -> None:
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.handle_request, daemon=True).start()
    try:
        assert health.http_alive("127.0.0.1", httpd.server_address[1])
    finally:
        httpd.server_close()


def test_process_state_sees_stopped_and_gone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        os.kill(proc.pid, 19)  # SIGSTOP (delivered asynchronously)
        deadline = time.monotonic() + 5
        while health.process_state(proc.pid) != "T" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert health.process_state(proc.pid) == "T"
    finally:
        proc.kill()
        proc.wait()
    assert health.process_state(proc.pid) is None


def test_the_journal_is_read_from_a_mark(tmp_path: Path) -> None:
    journal = health.Journal(tmp_path / "j.log")
    mark = journal.mark()
    assert mark == 0 and journal.since(mark) == []
    journal.record("adb server :1", "restarted")
    assert len(journal.since(mark)) == 1 and journal.since(journal.mark()) == []


class NoBoot:
    """A backend whose restarts always fail (no image, no disk, ...)."""

    def __init__(self) -> None:
        self.options = BackendOptions()
        self.restarts = 0

    def restart(self, handle: DeviceHandle, fresh: bool = True, props: dict[str, str] | None = None,
                **more: Any) -> DeviceHandle:
        self.restarts += 1
        raise BackendError("timed out after 90s waiting for boot")


def test_a_device_that_cannot_be_replaced_fails_fast_afterwards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "dev-1-g0"
    data.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (data / "emulator.pid").write_text(str(gone.pid))  # its emulator is gone
    handle = DeviceHandle(serial="emulator-1", kind="virtual", adb_server_port=dead_port(), console_port=1,
                          data_dir=str(data), home=str(tmp_path / "home"))
    backend = NoBoot()
    ops = VirtualDeviceOps(backend, handle)  # type: ignore[arg-type]
    monkeypatch.setattr(ops, "_revive_adb_server", lambda: None)
    monkeypatch.setattr(ops, "_revive_activation_server", lambda: None)
    with pytest.raises(ServiceDown, match="is gone; it could not be replaced: timed out"):
        ops.before_scenario()
    with pytest.raises(ServiceDown, match="could not be replaced"):
        ops.before_scenario()
    assert backend.restarts == 1, "one failed boot, not one per scenario"
    assert any("could not be replaced" in line for line in ops.journal.since(0))


def test_listens_on_tells_our_emulator_from_another_on_the_same_port() -> None:
    with socket.socket() as mine:
        mine.bind(("127.0.0.1", 0))
        mine.listen(1)
        port = mine.getsockname()[1]
        other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            assert health.listens_on(os.getpid(), port) is True
            assert health.listens_on(other.pid, port) is False  # up, but not the one on the port
        finally:
            other.kill()
            other.wait()
    assert health.listens_on(os.getpid(), port) is False  # nobody listens any more
