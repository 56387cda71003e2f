"""adbutils' 10 ms sleep on close is skipped only for a connection the adb server already ended."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import adbutils._adb
import pytest

from harness.session import PrivateServerConnection


@pytest.fixture
def server() -> Iterator[tuple[int, list[socket.socket]]]:
    """A listener that answers OKAY to each connection; `keep` holds the ones it leaves open."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    kept: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.sendall(b"OKAY")
            if conn.recv(1) == b"e":  # the client asks us to end the connection
                conn.close()
            else:
                kept.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1], kept
    listener.close()
    for conn in kept:
        conn.close()


def close_sleeps(monkeypatch: pytest.MonkeyPatch, conn: PrivateServerConnection) -> list[float]:
    sleeps: list[float] = []
    monkeypatch.setattr(adbutils._adb.time, "sleep", sleeps.append)
    conn.close()
    assert conn.closed
    return sleeps


def test_a_connection_the_server_ended_closes_without_sleeping(server: tuple[int, list[socket.socket]],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    conn = PrivateServerConnection("127.0.0.1", server[0])
    conn.conn.sendall(b"e")
    assert conn.read(4) == b"OKAY" and conn.conn.recv(1) == b""  # read to the end, as a shell does
    assert close_sleeps(monkeypatch, conn) == []


def test_a_connection_still_open_keeps_adbutils_pause(server: tuple[int, list[socket.socket]],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # a fire-and-forget request (root:, reboot:): the server must read it before our close lands
    conn = PrivateServerConnection("127.0.0.1", server[0])
    conn.conn.sendall(b"k")
    assert close_sleeps(monkeypatch, conn) == [0.01]


def test_unread_data_keeps_the_pause(server: tuple[int, list[socket.socket]], monkeypatch: pytest.MonkeyPatch) -> None:
    conn = PrivateServerConnection("127.0.0.1", server[0])
    conn.conn.sendall(b"e")
    threading.Event().wait(0.05)  # OKAY and the end are both waiting, unread
    assert close_sleeps(monkeypatch, conn) == [0.01]
