"""The adb transport, sans-IO: bytes in, events out, and a host/device pair over a fake link."""

from __future__ import annotations

import struct

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from emulators.virtual.adbauth import decode_public_key, encode_public_key, verify_signature
from emulators.virtual.transport import (
    A_VERSION,
    FEATURES,
    MAX_PAYLOAD,
    NEED_DATA,
    AuthType,
    Buffer,
    Command,
    Connected,
    DeviceConnection,
    LocalProtocolError,
    Message,
    MessageReader,
    NeedData,
    RemoteProtocolError,
    State,
    StreamClosed,
    StreamData,
    StreamOpened,
    checksum,
    device_banner,
    encode_message,
    parse_features,
)

BANNER = device_banner("sdk_phone", "Virtual Phone", "virt")
HOST_CNXN = Message(Command.CNXN, A_VERSION, 1 << 20, b"host::features=shell_v2,cmd,delayed_ack\0")


class HostPeer:
    """The adb server's side of the fake link: encodes messages, decodes the device's replies."""

    def __init__(self, device: DeviceConnection) -> None:
        self.device = device
        self.reader = MessageReader(1 << 20)

    def send(self, message: Message, *, with_checksum: bool = False) -> list[object]:
        self.device.receive_data(encode_message(message, with_checksum=with_checksum))
        return drain(self.device)

    def replies(self) -> list[Message]:
        self.reader.receive_data(self.device.data_to_send())
        out = []
        while not isinstance(message := self.reader.next_message(), NeedData):
            out.append(message)
        return out

    def connect(self) -> None:
        self.send(HOST_CNXN, with_checksum=True)
        assert [m.command for m in self.replies()] == [Command.CNXN]


def drain(device: DeviceConnection) -> list[object]:
    events = []
    while not isinstance(event := device.next_event(), NeedData):
        events.append(event)
    return events


@pytest.fixture
def device() -> DeviceConnection:
    return DeviceConnection(BANNER)


@pytest.fixture
def host(device: DeviceConnection) -> HostPeer:
    peer = HostPeer(device)
    peer.connect()
    return peer


# --- framing -------------------------------------------------------------------------------------

def test_buffer_rollback_keeps_unconsumed_bytes() -> None:
    buffer = Buffer()
    buffer.feed(b"abc")
    assert buffer.consume_exactly(2) == b"ab"
    assert buffer.consume_exactly(2) is None
    buffer.rollback()
    assert buffer.consume_exactly(3) == b"abc"
    buffer.commit()
    assert len(buffer) == 0


def test_encode_message_header_layout() -> None:
    raw = encode_message(Message(Command.WRTE, 1, 2, b"hi"))
    assert raw == struct.pack("<6I", Command.WRTE, 1, 2, 2, ord("h") + ord("i"),
                              Command.WRTE ^ 0xFFFFFFFF) + b"hi"


@pytest.mark.parametrize("message", [
    Message(Command.CNXN, A_VERSION, 4096, b"host::\0"),
    Message(Command.OPEN, 7, 0, b"shell:ls\0"),
    Message(Command.OKAY, 1, 2),
    Message(Command.WRTE, 1, 2, bytes(range(256)) * 10),
    Message(Command.CLSE, 0, 3),
    Message(Command.AUTH, AuthType.SIGNATURE, 0, b"\x01" * 256),
])
def test_reader_fed_byte_by_byte_and_merged(message: Message) -> None:
    raw = encode_message(message)
    split = MessageReader()
    results: list[object] = []
    for byte in raw:
        split.receive_data(bytes([byte]))
        results.append(split.next_message())
    assert results[:-1] == [NEED_DATA] * (len(raw) - 1)
    assert results[-1] == message
    merged = MessageReader()
    merged.receive_data(raw * 3)
    assert [merged.next_message() for _ in range(4)] == [message] * 3 + [NEED_DATA]


@pytest.mark.parametrize("mutate, error", [
    (lambda h: h[:20] + struct.pack("<I", 0x12345678), "bad magic"),
    (lambda h: struct.pack("<I", 0x41414141) + h[4:20] + struct.pack("<I", 0x41414141 ^ 0xFFFFFFFF),
     "unknown command"),
    (lambda h: h[:16] + struct.pack("<I", 999) + h[20:], "bad checksum"),
    (lambda h: h[:12] + struct.pack("<I", MAX_PAYLOAD + 1) + h[16:], "exceeds the max payload"),
])
def test_reader_rejects_bad_headers(mutate, error: str) -> None:
    raw = encode_message(Message(Command.WRTE, 1, 2, b"data"))
    reader = MessageReader()
    reader.receive_data(mutate(raw[:24]) + raw[24:])
    with pytest.raises(RemoteProtocolError, match=error):
        reader.next_message()


def test_zero_checksum_is_accepted_only_from_new_peers() -> None:
    raw = encode_message(Message(Command.WRTE, 1, 2, b"data"), with_checksum=False)
    old = MessageReader()
    old.receive_data(raw)
    with pytest.raises(RemoteProtocolError, match="bad checksum"):
        old.next_message()
    new = MessageReader()
    new.peer_version = A_VERSION
    new.receive_data(raw)
    assert new.next_message() == Message(Command.WRTE, 1, 2, b"data")


def test_parse_features() -> None:
    assert parse_features(b"host::features=shell_v2,cmd\0") == {"shell_v2", "cmd"}
    assert parse_features(BANNER.encode()) == set(FEATURES)
    assert parse_features(b"host::") == frozenset()


# --- handshake -----------------------------------------------------------------------------------

def test_cnxn_answers_with_banner_and_negotiated_payload(device: DeviceConnection) -> None:
    peer = HostPeer(device)
    events = peer.send(Message(Command.CNXN, A_VERSION, 64 * 1024, b"host::features=shell_v2\0"),
                       with_checksum=True)
    assert events == [Connected(A_VERSION, 64 * 1024, frozenset({"shell_v2"}))]
    (reply,) = peer.replies()
    assert (reply.command, reply.arg0, reply.arg1) == (Command.CNXN, A_VERSION, MAX_PAYLOAD)
    assert reply.payload.decode() == (
        "device::ro.product.name=sdk_phone;ro.product.model=Virtual Phone;ro.product.device=virt;"
        "features=shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir,abb,abb_exec,fixed_push_symlink_timestamp,"
            "sendrecv_v2")
    assert "delayed_ack" not in reply.payload.decode()
    assert device.max_payload == 64 * 1024


def test_stream_traffic_before_cnxn_is_ignored(device: DeviceConnection) -> None:
    peer = HostPeer(device)
    assert peer.send(Message(Command.OPEN, 1, 0, b"shell:\0"), with_checksum=True) == []
    assert peer.replies() == []


def test_cnxn_with_absurd_max_payload_is_a_protocol_error(device: DeviceConnection) -> None:
    with pytest.raises(RemoteProtocolError, match="max payload"):
        HostPeer(device).send(Message(Command.CNXN, A_VERSION, 10, b"host::\0"), with_checksum=True)


# --- streams -------------------------------------------------------------------------------------

def test_open_accept_write_close_round_trip(device: DeviceConnection, host: HostPeer) -> None:
    assert host.send(Message(Command.OPEN, 5, 0, b"shell:echo hi\0")) == [StreamOpened(5, "shell:echo hi")]
    local = device.accept_stream(5)
    assert host.replies() == [Message(Command.OKAY, local, 5)]
    assert host.send(Message(Command.WRTE, 5, local, b"stdin")) == [StreamData(local, b"stdin")]
    assert host.replies() == [Message(Command.OKAY, local, 5)]
    device.write(local, b"hi\n")
    device.close_stream(local)
    assert host.replies() == [Message(Command.WRTE, local, 5, b"hi\n")]  # CLSE waits for the OKAY
    host.send(Message(Command.OKAY, 5, local))
    assert host.replies() == [Message(Command.CLSE, local, 5)]
    assert not device.is_open(local)


def test_refuse_sends_clse_with_zero_local_id(device: DeviceConnection, host: HostPeer) -> None:
    host.send(Message(Command.OPEN, 9, 0, b"nope:\0"))
    device.refuse_stream(9)
    assert host.replies() == [Message(Command.CLSE, 0, 9)]


def test_one_write_in_flight_and_split_at_max_payload(device: DeviceConnection) -> None:
    host = HostPeer(device)
    host.send(Message(Command.CNXN, A_VERSION, 4096, b"host::\0"), with_checksum=True)
    host.replies()
    host.send(Message(Command.OPEN, 1, 0, b"exec:cat\0"))
    local = device.accept_stream(1)
    host.replies()
    device.write(local, b"x" * 10000)
    sizes = []
    for _ in range(3):
        (message,) = host.replies()
        sizes.append(len(message.payload))
        host.send(Message(Command.OKAY, 1, local))
    assert sizes == [4096, 4096, 1808]
    assert host.replies() == [] and device.pending_bytes(local) == 0


def test_peer_close_drops_pending_and_reports(device: DeviceConnection, host: HostPeer) -> None:
    host.send(Message(Command.OPEN, 1, 0, b"shell:\0"))
    local = device.accept_stream(1)
    device.write(local, b"a")
    device.write(local, b"b")
    assert host.send(Message(Command.CLSE, 1, local)) == [StreamClosed(local)]
    assert not device.is_open(local)
    with pytest.raises(LocalProtocolError):
        device.write(local, b"c")


def test_late_write_for_unknown_stream_is_dropped(device: DeviceConnection, host: HostPeer) -> None:
    assert host.send(Message(Command.WRTE, 1, 42, b"late")) == []
    assert host.replies() == []


def test_second_cnxn_resets_streams(device: DeviceConnection, host: HostPeer) -> None:
    host.send(Message(Command.OPEN, 1, 0, b"shell:\0"))
    local = device.accept_stream(1)
    events = host.send(HOST_CNXN, with_checksum=True)
    assert StreamClosed(local) in events and not device.is_open(local)


# --- AUTH ----------------------------------------------------------------------------------------

class FakeAuth:
    def __init__(self, key: rsa.RSAPublicKey, accept: bool = True) -> None:
        self.key, self.accept, self.offered = key, accept, []

    def verify(self, token: bytes, signature: bytes) -> bool:
        return verify_signature(self.key, token, signature)

    def accept_public_key(self, public_key: bytes) -> bool:
        self.offered.append(public_key)
        return self.accept


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign(key: rsa.RSAPrivateKey, token: bytes) -> bytes:
    return key.sign(token, padding.PKCS1v15(), Prehashed(hashes.SHA1()))


def test_auth_signature_from_a_trusted_key(private_key: rsa.RSAPrivateKey) -> None:
    device = DeviceConnection(BANNER, FakeAuth(private_key.public_key()), token_factory=lambda: b"T" * 20)
    host = HostPeer(device)
    assert host.send(HOST_CNXN, with_checksum=True) == []
    assert host.replies() == [Message(Command.AUTH, AuthType.TOKEN, 0, b"T" * 20)]
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert host.send(Message(Command.AUTH, AuthType.SIGNATURE, 0, sign(other, b"T" * 20))) == []
    assert [m.command for m in host.replies()] == [Command.AUTH]  # a fresh token: try the next key
    events = host.send(Message(Command.AUTH, AuthType.SIGNATURE, 0, sign(private_key, b"T" * 20)))
    assert [type(e) for e in events] == [Connected] and device.state is State.ONLINE


def test_auth_public_key_accepted_or_not(private_key: rsa.RSAPrivateKey) -> None:
    pub = encode_public_key(private_key.public_key()).encode() + b"\0"
    refusing = FakeAuth(private_key.public_key(), accept=False)
    device = DeviceConnection(BANNER, refusing)
    host = HostPeer(device)
    host.send(HOST_CNXN, with_checksum=True)
    assert host.send(Message(Command.AUTH, AuthType.RSAPUBLICKEY, 0, pub)) == []
    assert device.state is State.WAIT_AUTH and refusing.offered == [pub.rstrip(b"\0")]
    device = DeviceConnection(BANNER, FakeAuth(private_key.public_key()))
    host = HostPeer(device)
    host.send(HOST_CNXN, with_checksum=True)
    assert [type(e) for e in host.send(Message(Command.AUTH, AuthType.RSAPUBLICKEY, 0, pub))] == [Connected]


def test_adb_public_key_format_round_trip(private_key: rsa.RSAPrivateKey) -> None:
    text = encode_public_key(private_key.public_key(), "me@host")
    assert text.endswith(" me@host") and text.startswith("QAAAA")  # 64 words, as adb writes
    decoded = decode_public_key(text)
    assert decoded.public_numbers() == private_key.public_key().public_numbers()
    assert verify_signature(decoded, b"t" * 20, sign(private_key, b"t" * 20))


def test_checksum_is_byte_sum() -> None:
    assert checksum(b"\xff\x01") == 256
