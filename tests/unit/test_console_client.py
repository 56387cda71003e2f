"""The console client: reply parsing as tables, then the socket edge against a tiny fake console."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.console import (
    ConsoleClient,
    Reply,
    ReplyReader,
    console_port_from_serial,
    encode_command,
    read_token,
)
from harness.errors import ConsoleError, InfrastructureError

# --- sans-IO: bytes in, replies out ------------------------------------------------------------

REPLY_TABLE: list[tuple[bytes, list[Reply]]] = [
    (b"OK\r\n", [Reply((), "OK")]),
    (b"I am alive!\r\nOK\r\n", [Reply(("I am alive!",), "OK")]),
    (b"KO: unknown command, try 'help'\r\n", [Reply((), "KO: unknown command, try 'help'")]),
    (b"KO:  bad sub-command\r\n", [Reply((), "KO:  bad sub-command")]),
    (b"OK: killing emulator, bye bye\r\n", [Reply((), "OK: killing emulator, bye bye")]),
    (b"a\r\nb\r\nOK\r\nKO: x\r\n", [Reply(("a", "b"), "OK"), Reply((), "KO: x")]),
    (b"no crlf\nOK\n", [Reply(("no crlf",), "OK")]),
    (b"partial line", []),
    (b"line\r\n", []),
]


@pytest.mark.parametrize(("data", "expected"), REPLY_TABLE)
def test_reply_reader_table(data: bytes, expected: list[Reply]) -> None:
    reader = ReplyReader()
    reader.feed(data)
    got = []
    while (reply := reader.next_reply()) is not None:
        got.append(reply)
    assert got == expected


def test_reply_reader_byte_by_byte_gives_the_same_replies() -> None:
    reader = ReplyReader()
    got = []
    for byte in b"Android Console: type 'help'\r\nOK\r\nI am alive!\r\nOK\r\n":
        reader.feed(bytes([byte]))
        if (reply := reader.next_reply()) is not None:
            got.append(reply)
    assert got == [Reply(("Android Console: type 'help'",), "OK"), Reply(("I am alive!",), "OK")]


@pytest.mark.parametrize(("status", "ok", "reason"), [
    ("OK", True, ""),
    ("OK: killing emulator, bye bye", True, "killing emulator, bye bye"),
    ("KO: invalid longitude value. Should be in [-180,+180] range", False,
     "invalid longitude value. Should be in [-180,+180] range"),
    ("KO:  bad sub-command", False, "bad sub-command"),
])
def test_reply_status(status: str, ok: bool, reason: str) -> None:
    reply = Reply((), status)
    assert (reply.ok, reply.reason) == (ok, reason)


def test_pending_lines_keep_output_without_status() -> None:
    reader = ReplyReader()
    reader.feed(b"half\r\n")
    assert reader.next_reply() is None
    assert reader.pending_lines() == ("half",)


@pytest.mark.parametrize(("serial", "port"), [
    ("emulator-5554", 5554), ("emulator-40012", 40012), ("127.0.0.1:5555", None), ("R58M123", None),
])
def test_console_port_from_serial(serial: str, port: int | None) -> None:
    assert console_port_from_serial(serial) == port


def test_a_command_with_a_line_break_is_refused() -> None:
    with pytest.raises(ConsoleError) as info:
        encode_command("geo fix 1 2\r\nkill")
    assert isinstance(info.value, InfrastructureError)


def test_read_token(tmp_path: Path) -> None:
    assert read_token(tmp_path / "missing") is None
    (tmp_path / "t").write_text("abcdEFGH12345678\n")
    assert read_token(tmp_path / "t") == "abcdEFGH12345678"


# --- socket edge against a fake console ---------------------------------------------------------

class FakeConsole:
    """A one-connection-at-a-time console on a free port; `handler(line) -> reply bytes | None`."""

    def __init__(self, token: str | None, handler: Callable[[str], bytes | None]) -> None:
        self.token = token
        self.handler = handler
        self.received: list[str] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                self._session(conn)

    def _session(self, conn: socket.socket) -> None:
        authed = self.token is None
        if authed:
            conn.sendall(b"Android Console: type 'help' for a list of commands\r\nOK\r\n")
        else:
            conn.sendall(b"Android Console: Authentication required\r\n"
                         b"Android Console: type 'auth <auth_token>' to authenticate\r\nOK\r\n")
        for line in conn.makefile("rb"):
            text = line.decode().rstrip("\r\n")
            self.received.append(text)
            if text.startswith("auth "):
                good = text == f"auth {self.token}"
                authed = authed or good
                conn.sendall(b"Android Console: type 'help'\r\nOK\r\n" if good else
                             b"KO: authentication token does not match ~/.emulator_console_auth_token\r\n")
                continue
            if not authed:
                conn.sendall(b"KO: unknown command, try 'help'\r\n")
                continue
            reply = self.handler(text)
            if reply is not None:
                conn.sendall(reply)
            if text == "kill":
                return

    def close(self) -> None:
        self.server.close()


def _handler(line: str) -> bytes | None:
    if line == "ping":
        return b"I am alive!\r\nOK\r\n"
    if line == "avd name":
        return b"Pixel_6_API_33\r\nOK\r\n"
    if line.startswith("geo fix"):
        lon = float(line.split()[2])
        return b"OK\r\n" if -180 <= lon <= 180 else b"KO: invalid longitude value. Should be in [-180,+180] range\r\n"
    if line == "silent":
        return None
    if line == "kill":
        return b"OK: killing emulator, bye bye\r\n"
    return b"KO: unknown command, try 'help'\r\n"


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / ".emulator_console_auth_token"
    path.write_text("s3cr3tT0ken00000")
    return path


@pytest.fixture
def console(token_file: Path) -> Iterator[FakeConsole]:
    fake = FakeConsole("s3cr3tT0ken00000", _handler)
    yield fake
    fake.close()


def test_authenticates_and_runs_commands(console: FakeConsole, token_file: Path) -> None:
    with ConsoleClient(console.port, token_file, timeout=2) as client:
        assert client.ping()
        assert client.avd_name() == "Pixel_6_API_33"
    assert console.received[0] == "auth s3cr3tT0ken00000"


def test_geo_fix_sends_longitude_first(console: FakeConsole, token_file: Path) -> None:
    with ConsoleClient(console.port, token_file, timeout=2) as client:
        client.geo_fix(-82.3666, 23.1136)
    assert console.received[-1] == "geo fix -82.3666 23.1136"


def test_ko_raises_console_error_with_command_and_reply(console: FakeConsole, token_file: Path) -> None:
    with ConsoleClient(console.port, token_file, timeout=2) as client, pytest.raises(ConsoleError) as info:
        client.command("geo fix 200 10")
    assert info.value.command == "geo fix 200 10"
    assert "invalid longitude" in info.value.reply


def test_silent_command_times_out_as_console_error(console: FakeConsole, token_file: Path) -> None:
    with ConsoleClient(console.port, token_file, timeout=0.3) as client, pytest.raises(ConsoleError) as info:
        client.command("silent")
    assert "no OK/KO" in info.value.reply


def test_wrong_token_is_a_console_error(console: FakeConsole, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_text("wrongwrongwrong0")
    with pytest.raises(ConsoleError) as info:
        ConsoleClient(console.port, bad, timeout=2).connect()
    assert "does not match" in info.value.reply


def test_token_is_reread_on_each_connect(console: FakeConsole, token_file: Path) -> None:
    client = ConsoleClient(console.port, token_file, timeout=2)
    client.connect()
    client.close()
    token_file.write_text("rotated-token-00")
    console.token = "rotated-token-00"
    client.connect()
    assert client.ping()
    client.close()


def test_no_auth_banner_needs_no_token(tmp_path: Path) -> None:
    fake = FakeConsole(None, _handler)
    try:
        with ConsoleClient(fake.port, tmp_path / "missing", timeout=2) as client:
            assert client.ping()
    finally:
        fake.close()


def test_kill_closes_the_connection(console: FakeConsole, token_file: Path) -> None:
    client = ConsoleClient(console.port, token_file, timeout=2)
    client.connect()
    client.kill()
    assert not client.connected


def test_unreachable_console_is_a_console_error(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(ConsoleError):
        ConsoleClient(port, tmp_path / "t", timeout=1).connect()
