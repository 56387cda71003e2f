"""The harness's adb client never starts an adb server (adbutils would, on the default port 5037)."""

from __future__ import annotations

import socket
import subprocess
import time
from typing import Any

import adbutils
import pytest

from harness.session import VersionCachingClient


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: nothing listens there


def test_a_dead_private_server_is_an_error_not_a_new_server(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Any] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: started.append(a))  # what adbutils would call
    client = VersionCachingClient("127.0.0.1", dead_port(), socket_timeout=2)
    t0 = time.monotonic()
    with pytest.raises(adbutils.AdbError):
        client.device_list()
    assert started == [], "adbutils tried to start an adb server"
    assert time.monotonic() - t0 < 1


def test_plain_adbutils_would_have_started_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # the reason for the class above: keep this test honest about the library's behaviour
    started: list[Any] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: started.append(a))
    with pytest.raises(adbutils.AdbError):
        adbutils.AdbClient("127.0.0.1", dead_port(), socket_timeout=2).device_list()
    assert started and "start-server" in started[0][0]
