"""Shell protocol v2 packets (`shell,v2,...:` streams), sans-IO.

Each packet is a 1-byte id, a 4-byte little-endian length and the payload (AOSP
`shell_protocol.h`). The client sends stdin, close-stdin and window-size; the device sends stdout,
stderr and one exit packet whose payload is the exit code in a single byte.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from emulators.virtual.transport import NEED_DATA, Buffer, NeedData, RemoteProtocolError

PACKET_HEADER = struct.Struct("<BI")
MAX_PACKET = 1 << 20  # larger claims are garbage, not data


class PacketId(enum.IntEnum):
    STDIN = 0
    STDOUT = 1
    STDERR = 2
    EXIT = 3
    CLOSE_STDIN = 4
    WINDOW_SIZE = 5


@dataclass(frozen=True)
class Packet:
    id: PacketId
    data: bytes = b""


def encode_packet(packet_id: PacketId, data: bytes = b"") -> bytes:
    return PACKET_HEADER.pack(packet_id, len(data)) + data


def encode_exit(code: int) -> bytes:
    return encode_packet(PacketId.EXIT, bytes([code & 0xFF]))


class PacketReader:
    """Frames packets out of the bytes of a v2 stream, in whatever pieces they arrive."""

    def __init__(self) -> None:
        self._buffer = Buffer()

    def receive_data(self, data: bytes) -> None:
        self._buffer.feed(data)

    def next_packet(self) -> Packet | NeedData:
        header = self._buffer.consume_exactly(PACKET_HEADER.size)
        if header is None:
            return NEED_DATA
        packet_id, length = PACKET_HEADER.unpack(header)
        if packet_id not in PacketId._value2member_map_:
            raise RemoteProtocolError(f"shell v2 packet with unknown id {packet_id}")
        if length > MAX_PACKET:
            raise RemoteProtocolError(f"shell v2 packet of {length} bytes (limit {MAX_PACKET})")
        data = self._buffer.consume_exactly(length)
        if data is None:
            self._buffer.rollback()
            return NEED_DATA
        self._buffer.commit()
        return Packet(PacketId(packet_id), data)


@dataclass(frozen=True)
class ShellRequest:
    """A parsed `shell[,args]:command` service string."""

    v2: bool
    pty: bool
    term: str
    command: str


def parse_shell_service(service: str) -> ShellRequest:
    """`shell,v2,TERM=xterm-256color,pty:ls` -> ShellRequest(v2=True, pty=True, ...).

    As adbd does, the default is a pty for an interactive shell (empty command) and raw pipes for
    a command; an explicit `raw` or `pty` argument wins.
    """
    head, _, command = service.partition(":")
    args = head.split(",")[1:]
    pty = command == ""
    term = ""
    for arg in args:
        if arg == "raw":
            pty = False
        elif arg == "pty":
            pty = True
        elif arg.startswith("TERM="):
            term = arg[5:]
    return ShellRequest(v2="v2" in args, pty=pty, term=term, command=command)
