"""Shell protocol v2 packet framing and the `shell,...:` service string."""

from __future__ import annotations

import pytest

from emulators.virtual.shellv2 import (
    NEED_DATA,
    Packet,
    PacketId,
    PacketReader,
    ShellRequest,
    encode_exit,
    encode_packet,
    parse_shell_service,
)
from emulators.virtual.transport import RemoteProtocolError


@pytest.mark.parametrize("packet_id, data, raw", [
    (PacketId.STDOUT, b"hi", b"\x01\x02\x00\x00\x00hi"),
    (PacketId.STDERR, b"", b"\x02\x00\x00\x00\x00"),
    (PacketId.STDIN, b"x" * 256, b"\x00\x00\x01\x00\x00" + b"x" * 256),
])
def test_encode_is_little_endian(packet_id: PacketId, data: bytes, raw: bytes) -> None:
    assert encode_packet(packet_id, data) == raw


def test_exit_packet_carries_one_byte() -> None:
    assert encode_exit(3) == b"\x03\x01\x00\x00\x00\x03"
    assert encode_exit(256 + 7)[-1] == 7


def test_reader_byte_by_byte_and_merged() -> None:
    raw = (encode_packet(PacketId.STDIN, b"ls\n") + encode_packet(PacketId.CLOSE_STDIN)
           + encode_packet(PacketId.WINDOW_SIZE, b"24x80,0x0\0"))
    expected = [Packet(PacketId.STDIN, b"ls\n"), Packet(PacketId.CLOSE_STDIN),
                Packet(PacketId.WINDOW_SIZE, b"24x80,0x0\0")]
    split = PacketReader()
    got = []
    for byte in raw:
        split.receive_data(bytes([byte]))
        while (packet := split.next_packet()) is not NEED_DATA:
            got.append(packet)
    assert got == expected
    merged = PacketReader()
    merged.receive_data(raw)
    assert [merged.next_packet() for _ in range(4)] == expected + [NEED_DATA]


@pytest.mark.parametrize("raw, error", [
    (b"\x09\x00\x00\x00\x00", "unknown id 9"),
    (b"\x00\xff\xff\xff\x7f", "packet of"),
])
def test_reader_rejects_garbage(raw: bytes, error: str) -> None:
    reader = PacketReader()
    reader.receive_data(raw)
    with pytest.raises(RemoteProtocolError, match=error):
        reader.next_packet()


@pytest.mark.parametrize("service, request_", [
    ("shell:ls -l", ShellRequest(v2=False, pty=False, term="", command="ls -l")),
    ("shell:", ShellRequest(v2=False, pty=True, term="", command="")),
    ("shell,v2,raw:", ShellRequest(v2=True, pty=False, term="", command="")),
    ("shell,v2,TERM=xterm-256color,pty:", ShellRequest(True, True, "xterm-256color", "")),
    ("shell,v2:echo a:b", ShellRequest(v2=True, pty=False, term="", command="echo a:b")),
    ("shell,v2,pty:top", ShellRequest(v2=True, pty=True, term="", command="top")),
])
def test_parse_shell_service(service: str, request_: ShellRequest) -> None:
    assert parse_shell_service(service) == request_
