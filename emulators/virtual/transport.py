"""The adb transport protocol, device side, without any networking (sans-IO, like h11).

Theory of operation
-------------------
Bytes from the peer go in with `receive_data()`; `next_event()` hands out what they mean (a
`StreamOpened`, `StreamData`, `StreamClosed`, `Connected`) or `NEED_DATA`. What we must send piles
up in an outbox that the socket edge drains with `data_to_send()`. The edge never builds packets.

Wire format (AOSP adb protocol.txt): a 24-byte little-endian header
`command, arg0, arg1, data_length, data_check, magic` followed by `data_length` payload bytes.
`magic` is `command ^ 0xffffffff`; `data_check` is the byte sum of the payload, which peers at
version 0x01000001 or later may leave 0.

Streams: the peer opens one with OPEN(its id, 0, "service\\0"); we answer OKAY(our id, its id) or
CLSE(0, its id). Each WRTE is answered with an OKAY. We keep at most one WRTE in flight per stream
until the peer's OKAY, as adbd does when `delayed_ack` is not negotiated (we never advertise it), and
split writes at the negotiated max payload. A stream we close sends CLSE only after its pending data
has gone out.

A protocol violation raises `RemoteProtocolError`; the edge closes that one connection.
"""

from __future__ import annotations

import enum
import os
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

# --------------------------------------------------------------------------------------------
# Wire constants
# --------------------------------------------------------------------------------------------


class Command(enum.IntEnum):
    CNXN = 0x4E584E43
    AUTH = 0x48545541
    OPEN = 0x4E45504F
    OKAY = 0x59414B4F
    CLSE = 0x45534C43
    WRTE = 0x45545257


class AuthType(enum.IntEnum):
    TOKEN = 1
    SIGNATURE = 2
    RSAPUBLICKEY = 3


A_VERSION_MIN = 0x01000000
A_VERSION_SKIP_CHECKSUM = 0x01000001
A_VERSION = 0x01000001
MAX_PAYLOAD = 256 * 1024  # what we offer; the link uses min(ours, the peer's)
HEADER = struct.Struct("<6I")
TOKEN_SIZE = 20

# Only what this adbd really implements (sync.py, shellv2.py, abb/abb_exec and cmd in adbd.py).
FEATURES = ("shell_v2", "cmd", "stat_v2", "ls_v2", "fixed_push_mkdir", "abb", "abb_exec",
            "fixed_push_symlink_timestamp", "sendrecv_v2")


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class TransportError(Exception):
    """Base of the transport's errors."""


class RemoteProtocolError(TransportError):
    """The peer broke the protocol; the connection must be closed."""


class LocalProtocolError(TransportError):
    """We were asked to do something the protocol forbids (a bug on our side)."""


# --------------------------------------------------------------------------------------------
# Buffer (wsproto's shape) and raw messages
# --------------------------------------------------------------------------------------------


class Buffer:
    """Bytes received but not yet parsed. `consume_exactly` + `commit`/`rollback` let a parser
    take a header, find the payload is incomplete, and put the header back."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._pos = 0  # read position of the uncommitted consumption

    def feed(self, data: bytes) -> None:
        self._data += data

    def consume_exactly(self, n: int) -> bytes | None:
        if len(self._data) - self._pos < n:
            return None
        chunk = bytes(self._data[self._pos:self._pos + n])
        self._pos += n
        return chunk

    def commit(self) -> None:
        del self._data[:self._pos]
        self._pos = 0

    def rollback(self) -> None:
        self._pos = 0

    def __len__(self) -> int:
        return len(self._data)


@dataclass(frozen=True)
class Message:
    command: Command
    arg0: int
    arg1: int
    payload: bytes = b""


def checksum(payload: bytes) -> int:
    return sum(payload) & 0xFFFFFFFF


def encode_message(message: Message, *, with_checksum: bool = True) -> bytes:
    check = checksum(message.payload) if with_checksum else 0
    header = HEADER.pack(message.command, message.arg0, message.arg1, len(message.payload), check,
                         message.command ^ 0xFFFFFFFF)
    return header + message.payload


class NeedData:
    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = NeedData()


class MessageReader:
    """Frames raw messages out of a byte stream and validates them. Used by both ends in tests."""

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self.peer_version = A_VERSION_MIN  # until the peer's CNXN says otherwise
        self._buffer = Buffer()

    def receive_data(self, data: bytes) -> None:
        self._buffer.feed(data)

    def next_message(self) -> Message | NeedData:
        header = self._buffer.consume_exactly(HEADER.size)
        if header is None:
            return NEED_DATA
        command, arg0, arg1, length, check, magic = HEADER.unpack(header)
        self._check_header(command, length, magic)
        payload = self._buffer.consume_exactly(length)
        if payload is None:
            self._buffer.rollback()
            return NEED_DATA
        self._buffer.commit()
        self._check_payload(command, arg0, payload, check)
        if command == Command.CNXN:
            self.peer_version = arg0  # from now on its checksums may be 0
        return Message(Command(command), arg0, arg1, payload)

    def _check_header(self, command: int, length: int, magic: int) -> None:
        if magic != command ^ 0xFFFFFFFF:
            raise RemoteProtocolError(f"bad magic 0x{magic:08x} for command 0x{command:08x}")
        if command not in Command._value2member_map_:
            raise RemoteProtocolError(f"unknown command 0x{command:08x}")
        if length > self.max_payload:
            raise RemoteProtocolError(
                f"payload of {length} bytes exceeds the max payload of {self.max_payload}")

    def _check_payload(self, command: int, arg0: int, payload: bytes, check: int) -> None:
        version = arg0 if command == Command.CNXN else self.peer_version
        if check == 0 and version >= A_VERSION_SKIP_CHECKSUM:
            return  # newer peers may skip the checksum
        if check != checksum(payload):
            raise RemoteProtocolError(
                f"bad checksum 0x{check:08x} (payload sums to 0x{checksum(payload):08x})")


# --------------------------------------------------------------------------------------------
# Events handed to the edge
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Connected:
    """The handshake (and AUTH, if required) is done; `features` are the peer's."""

    version: int
    max_payload: int
    features: frozenset[str]


@dataclass(frozen=True)
class StreamOpened:
    """The peer wants `service`; answer with `accept_stream(remote_id)` or `refuse_stream`."""

    remote_id: int
    service: str


@dataclass(frozen=True)
class StreamData:
    local_id: int
    data: bytes


@dataclass(frozen=True)
class StreamClosed:
    """The peer closed the stream (CLSE); pending output for it is dropped."""

    local_id: int


Event = Connected | StreamOpened | StreamData | StreamClosed


class Authenticator(Protocol):
    def verify(self, token: bytes, signature: bytes) -> bool: ...

    def accept_public_key(self, public_key: bytes) -> bool: ...


# --------------------------------------------------------------------------------------------
# The device-side connection
# --------------------------------------------------------------------------------------------


class State(enum.Enum):
    WAIT_CNXN = "wait-cnxn"
    WAIT_AUTH = "wait-auth"
    ONLINE = "online"


@dataclass
class _Stream:
    local_id: int
    remote_id: int
    pending: deque[bytes] = field(default_factory=deque)
    in_flight: bool = False  # a WRTE awaits the peer's OKAY
    closing: bool = False


class DeviceConnection:
    """One adb transport as adbd sees it: handshake, optional AUTH, streams, flow control."""

    def __init__(self, banner: str, authenticator: Authenticator | None = None,
                 token_factory: Callable[[], bytes] = lambda: os.urandom(TOKEN_SIZE)) -> None:
        self.banner = banner  # "device::ro.product.name=...;features=..."
        self.state = State.WAIT_CNXN
        self.max_payload = MAX_PAYLOAD
        self._auth = authenticator
        self._token_factory = token_factory
        self._token = b""
        self._reader = MessageReader(MAX_PAYLOAD)
        self._out = bytearray()
        self._events: deque[Event] = deque()
        self._streams: dict[int, _Stream] = {}
        self._next_id = 1
        self._peer: tuple[int, int, frozenset[str]] = (A_VERSION_MIN, MAX_PAYLOAD, frozenset())

    # --- input ---------------------------------------------------------------------------
    def receive_data(self, data: bytes) -> None:
        self._reader.receive_data(data)

    def next_event(self) -> Event | NeedData:
        while not self._events:
            message = self._reader.next_message()
            if isinstance(message, NeedData):
                return NEED_DATA
            self._handle(message)
        return self._events.popleft()

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    # --- stream verbs for the edge ---------------------------------------------------------
    def accept_stream(self, remote_id: int) -> int:
        local_id = self._next_id
        self._next_id += 1
        self._streams[local_id] = _Stream(local_id, remote_id)
        self._send(Command.OKAY, local_id, remote_id)
        return local_id

    def open_stream(self, service: str) -> int:
        """Open a stream to the host (adb reverse): OPEN now, writable once its OKAY is in."""
        local_id = self._next_id
        self._next_id += 1
        self._streams[local_id] = _Stream(local_id, 0, in_flight=True)  # remote id 0 until OKAY
        self._send(Command.OPEN, local_id, 0, service.encode() + b"\0")
        return local_id

    def refuse_stream(self, remote_id: int) -> None:
        self._send(Command.CLSE, 0, remote_id)

    def write(self, local_id: int, data: bytes) -> None:
        stream = self._streams.get(local_id)
        if stream is None:
            raise LocalProtocolError(f"write on stream {local_id}, which is closed")
        if stream.closing:
            raise LocalProtocolError(f"write on stream {local_id} after close")
        view = memoryview(data)
        for start in range(0, len(data), self.max_payload):
            stream.pending.append(bytes(view[start:start + self.max_payload]))
        self._pump(stream)

    def close_stream(self, local_id: int) -> None:
        """Close our side; CLSE goes out once pending data has been sent. Idempotent."""
        stream = self._streams.get(local_id)
        if stream is None or stream.closing:
            return
        stream.closing = True
        self._pump(stream)

    def pending_bytes(self, local_id: int) -> int:
        stream = self._streams.get(local_id)
        return sum(map(len, stream.pending)) if stream else 0

    def is_open(self, local_id: int) -> bool:
        return local_id in self._streams

    def stream_ids(self) -> list[int]:
        return list(self._streams)

    # --- internals -------------------------------------------------------------------------
    def _handle(self, message: Message) -> None:
        if message.command == Command.CNXN:
            self._on_cnxn(message)
        elif message.command == Command.AUTH:
            self._on_auth(message)
        elif self.state is not State.ONLINE:
            return  # adbd ignores stream traffic before the handshake
        elif message.command == Command.OPEN:
            self._on_open(message)
        elif message.command == Command.WRTE:
            self._on_write(message)
        elif message.command == Command.OKAY:
            self._on_okay(message)
        elif message.command == Command.CLSE:
            self._on_close(message)

    def _on_cnxn(self, message: Message) -> None:
        version, max_payload = message.arg0, message.arg1
        if max_payload < 4096 or version < A_VERSION_MIN:
            raise RemoteProtocolError(f"CNXN with version 0x{version:08x}, max payload {max_payload}")
        self._peer = (version, max_payload, parse_features(message.payload))
        for local_id in list(self._streams):  # a new CNXN resets the transport, as in adbd
            self._events.append(StreamClosed(local_id))
        self._streams.clear()
        if self._auth is None or self.state is State.ONLINE:
            self._go_online()
        else:
            self.state = State.WAIT_AUTH
            self._send_token()

    def _on_auth(self, message: Message) -> None:
        if self.state is not State.WAIT_AUTH or self._auth is None:
            return
        if message.arg0 == AuthType.SIGNATURE:
            if self._auth.verify(self._token, message.payload):
                self._go_online()
            else:
                self._send_token()  # the host tries its next key
        elif message.arg0 == AuthType.RSAPUBLICKEY:
            if self._auth.accept_public_key(message.payload.rstrip(b"\0")):
                self._go_online()
        else:
            raise RemoteProtocolError(f"AUTH of type {message.arg0} from the host")

    def _send_token(self) -> None:
        self._token = self._token_factory()
        self._send(Command.AUTH, AuthType.TOKEN, 0, self._token)

    def _go_online(self) -> None:
        version, peer_max, features = self._peer
        self.max_payload = min(MAX_PAYLOAD, peer_max)
        self._reader.max_payload = MAX_PAYLOAD
        self.state = State.ONLINE
        self._send(Command.CNXN, A_VERSION, MAX_PAYLOAD, self.banner.encode())
        self._events.append(Connected(min(version, A_VERSION), self.max_payload, features))

    def _on_open(self, message: Message) -> None:
        if message.arg0 == 0:
            raise RemoteProtocolError("OPEN with local-id 0")
        service = message.payload.rstrip(b"\0").decode("utf-8", "replace")
        self._events.append(StreamOpened(message.arg0, service))

    def _on_write(self, message: Message) -> None:
        stream = self._streams.get(message.arg1)
        if stream is None or stream.remote_id != message.arg0:
            return  # a late WRTE for a stream already closed: adbd drops it
        self._send(Command.OKAY, stream.local_id, stream.remote_id)
        self._events.append(StreamData(stream.local_id, message.payload))

    def _on_okay(self, message: Message) -> None:
        stream = self._streams.get(message.arg1)
        if stream is not None and stream.remote_id == 0:  # the host accepted our OPEN
            stream.remote_id = message.arg0
        if stream is None or stream.remote_id != message.arg0:
            return
        stream.in_flight = False
        self._pump(stream)

    def _on_close(self, message: Message) -> None:
        stream = self._streams.get(message.arg1)
        if stream is None or stream.remote_id not in (message.arg0, 0):
            return
        del self._streams[stream.local_id]
        self._events.append(StreamClosed(stream.local_id))

    def _pump(self, stream: _Stream) -> None:
        if stream.in_flight:
            return
        if stream.pending:
            stream.in_flight = True
            self._send(Command.WRTE, stream.local_id, stream.remote_id, stream.pending.popleft())
        elif stream.closing:
            del self._streams[stream.local_id]
            self._send(Command.CLSE, stream.local_id, stream.remote_id)

    def _send(self, command: Command, arg0: int, arg1: int, payload: bytes = b"") -> None:
        # Once both sides know each other's version (after our CNXN), peers from 0x01000001 on
        # ignore the checksum; skipping the byte sum saves CPU on pushes. Until then, send it.
        with_checksum = (self._peer[0] < A_VERSION_SKIP_CHECKSUM or command == Command.CNXN
                         or self.state is not State.ONLINE)
        self._out += encode_message(Message(command, arg0, arg1, payload), with_checksum=with_checksum)


def parse_features(payload: bytes) -> frozenset[str]:
    """Features from a CNXN banner like `host::features=shell_v2,cmd` (or `device::k=v;features=`)."""
    text = payload.rstrip(b"\0").decode("utf-8", "replace")
    _, _, props = text.partition("::")
    for item in props.split(";"):
        key, _, value = item.partition("=")
        if key == "features":
            return frozenset(f for f in value.split(",") if f)
    return frozenset()


def device_banner(name: str, model: str, device: str, features: tuple[str, ...] = FEATURES) -> str:
    return (f"device::ro.product.name={name};ro.product.model={model};ro.product.device={device};"
            f"features={','.join(features)}")
