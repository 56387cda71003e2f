"""The sync protocol, sans-IO: framing tables and a SyncServer over a temporary device fs."""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path

import pytest

from emulators.virtual.device import DeviceFS
from emulators.virtual.sync import (
    DENT_V1,
    DENT_V2,
    NEED_DATA,
    STAT_V1,
    STAT_V2,
    SYNC_DATA_MAX,
    SyncData,
    SyncDone,
    SyncId,
    SyncReader,
    SyncRequest,
    SyncServer,
    encode_data,
    encode_done,
    encode_request,
)
from emulators.virtual.transport import RemoteProtocolError


@pytest.fixture
def fs(tmp_path: Path) -> DeviceFS:
    device_fs = DeviceFS(tmp_path / "fs")
    device_fs.ensure_skeleton()
    return device_fs


def serve(fs: DeviceFS, *chunks: bytes) -> tuple[SyncServer, bytes]:
    server = SyncServer(fs)
    out = b""
    for chunk in chunks:
        server.receive_data(chunk)
        out += b"".join(server.responses())
    return server, out


# --- framing -------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, message", [
    (b"STAT\x05\x00\x00\x00/data", SyncRequest(SyncId.STAT, "/data")),
    (b"SEND\x0d\x00\x00\x00/sdcard/a,420", SyncRequest(SyncId.SEND, "/sdcard/a,420")),
    (b"DATA\x03\x00\x00\x00abc", SyncData(b"abc")),
    (b"DONE\x10\x00\x00\x00", SyncDone(16)),
    (b"QUIT\x00\x00\x00\x00", SyncRequest(SyncId.QUIT, "")),
])
def test_reader_table(raw: bytes, message: object) -> None:
    reader = SyncReader()
    for byte in raw[:-1]:
        reader.receive_data(bytes([byte]))
        assert reader.next_message() is NEED_DATA
    reader.receive_data(raw[-1:])
    assert reader.next_message() == message


@pytest.mark.parametrize("raw, error", [
    (b"ABCD\x00\x00\x00\x00", "unknown sync message"),
    (b"DATA" + struct.pack("<I", SYNC_DATA_MAX + 1), "sync DATA of"),
    (b"STAT" + struct.pack("<I", 5000), "sync path of"),
    (b"OKAY\x00\x00\x00\x00", "not a request"),
])
def test_reader_rejects(raw: bytes, error: str) -> None:
    reader = SyncReader()
    reader.receive_data(raw)
    with pytest.raises(RemoteProtocolError, match=error):
        reader.next_message()


def test_encoders() -> None:
    assert encode_request(SyncId.RECV, "/a") == b"RECV\x02\x00\x00\x00/a"
    assert encode_data(b"xy") == b"DATA\x02\x00\x00\x00xy"
    assert encode_done(7) == b"DONE\x07\x00\x00\x00"


# --- the server ----------------------------------------------------------------------------------

def test_send_then_recv_round_trip_in_chunks(fs: DeviceFS) -> None:
    data = os.urandom(200_000)
    upload = encode_request(SyncId.SEND, "/data/local/tmp/new/dir/f.bin,33188")
    for start in range(0, len(data), SYNC_DATA_MAX):
        upload += encode_data(data[start:start + SYNC_DATA_MAX])
    upload += encode_done(1_600_000_000)
    pieces = [upload[i:i + 1000] for i in range(0, len(upload), 1000)]
    _, out = serve(fs, *pieces)
    assert out == b"OKAY\x00\x00\x00\x00"
    host = fs.host_path("/data/local/tmp/new/dir/f.bin")  # parents made: fixed_push_mkdir
    assert host.read_bytes() == data
    assert stat.S_IMODE(host.stat().st_mode) == 0o644 and int(host.stat().st_mtime) == 1_600_000_000
    _, out = serve(fs, encode_request(SyncId.RECV, "/data/local/tmp/new/dir/f.bin"))
    reader = SyncReader()  # DATA/DONE replies frame exactly like requests
    reader.receive_data(out)
    got = b""
    while isinstance(message := reader.next_message(), SyncData):
        got += message.data
    assert got == data and message == SyncDone(0)


def test_recv_missing_file_fails_like_adbd(fs: DeviceFS) -> None:
    server, out = serve(fs, encode_request(SyncId.RECV, "/sdcard/nope"))
    message = b"open failed: No such file or directory"
    assert out == b"FAIL" + struct.pack("<I", len(message)) + message
    assert server.finished


def test_send_onto_a_directory_fails_after_done(fs: DeviceFS) -> None:
    request = encode_request(SyncId.SEND, "/data/local/tmp,33188")
    server, out = serve(fs, request + encode_data(b"x"))
    assert out == b""  # adbd reads up to DONE before it answers
    out = b"".join((server.receive_data(encode_done()), *server.responses())[1:])
    assert out.startswith(b"FAIL") and b"couldn't create file: Is a directory" in out


def test_send_symlink(fs: DeviceFS) -> None:
    mode = stat.S_IFLNK | 0o777
    _, out = serve(fs, encode_request(SyncId.SEND, f"/data/local/tmp/link,{mode}")
                   + encode_data(b"target") + encode_done())
    assert out.startswith(b"OKAY") and os.readlink(fs.host_path("/data/local/tmp/link")) == "target"


def test_stat_v1_and_v2(fs: DeviceFS) -> None:
    fs.host_path("/sdcard/a.txt").write_bytes(b"12345")
    _, out = serve(fs, encode_request(SyncId.STAT, "/sdcard/a.txt"))
    sync_id, mode, size, _ = STAT_V1.unpack(out)
    assert (sync_id, stat.S_ISREG(mode), size) == (b"STAT", True, 5)
    _, out = serve(fs, encode_request(SyncId.STAT, "/missing"))
    assert out == b"STAT" + bytes(12)
    _, out = serve(fs, encode_request(SyncId.STA2, "/missing"))
    fields = STAT_V2.unpack(out)
    assert fields[0] == b"STA2" and fields[1] == 2  # ENOENT
    _, out = serve(fs, encode_request(SyncId.LST2, "/data/local/tmp"))
    fields = STAT_V2.unpack(out)
    assert fields[0] == b"LST2" and fields[1] == 0 and stat.S_ISDIR(fields[4])


@pytest.mark.parametrize("sync_id, dent", [(SyncId.LIST, DENT_V1), (SyncId.LIS2, DENT_V2)])
def test_list_entries_then_done(fs: DeviceFS, sync_id: SyncId, dent: struct.Struct) -> None:
    fs.host_path("/data/local/tmp/b").write_bytes(b"bb")
    _, out = serve(fs, encode_request(sync_id, "/data/local/tmp"))
    names, pos = [], 0
    while True:
        fields = dent.unpack_from(out, pos)
        pos += dent.size
        if fields[0] == b"DONE":
            break
        names.append(out[pos:pos + fields[-1]].decode())
        pos += fields[-1]
    assert names == [".", "..", "b"] and pos == len(out)


def test_quit_finishes(fs: DeviceFS) -> None:
    server, out = serve(fs, encode_request(SyncId.QUIT, ""))
    assert server.finished and out == b""


def test_data_outside_send_is_a_protocol_error(fs: DeviceFS) -> None:
    with pytest.raises(RemoteProtocolError):
        serve(fs, encode_data(b"x"))


# --- sendrecv_v2, symlinks as adb sends them, permissions ---------------------------------------

def _snd2(path: str, mode: int, data: bytes, flags: int = 0) -> bytes:
    return (encode_request(SyncId.SND2, path) + struct.pack("<4sII", b"SND2", mode, flags) + encode_data(data)
            + encode_done(1_700_000_000))


def test_snd2_then_rcv2_round_trip(fs: DeviceFS) -> None:
    _, out = serve(fs, _snd2("/data/local/tmp/v2.txt", stat.S_IFREG | 0o644, b"two"))
    assert out == b"OKAY\x00\x00\x00\x00"
    _, out = serve(fs, encode_request(SyncId.RCV2, "/data/local/tmp/v2.txt") + struct.pack("<4sI", b"RCV2", 0))
    assert out == encode_data(b"two") + encode_done()


def test_snd2_dry_run_writes_nothing_and_compression_is_refused(fs: DeviceFS) -> None:
    _, out = serve(fs, _snd2("/data/local/tmp/dry", stat.S_IFREG | 0o644, b"x", flags=0x80000000))
    assert out.startswith(b"OKAY") and not fs.host_path("/data/local/tmp/dry").exists()
    with pytest.raises(RemoteProtocolError, match="compression"):
        serve(fs, _snd2("/data/local/tmp/z", stat.S_IFREG | 0o644, b"x", flags=1))


@pytest.mark.parametrize("target, inside", [("a.txt\0", "data/local/tmp/a.txt"), ("/etc/passwd\0", "etc/passwd"),
                                            ("../../../../../../etc\0", "etc")])
def test_pushed_symlink_stays_in_the_device_root(fs: DeviceFS, target: str, inside: str) -> None:
    _, out = serve(fs, _snd2("/data/local/tmp/link", stat.S_IFLNK | 0o777, target.encode()))
    assert out.startswith(b"OKAY")
    link = fs.host_path("/data/local/tmp/link")
    assert Path(os.path.realpath(link)) == Path(os.path.realpath(fs.root)) / inside


def test_send_where_the_user_may_not_write_fails_with_the_reason(fs: DeviceFS) -> None:
    server = SyncServer(fs, lambda path: "Read-only file system" if path.startswith("/system") else None)
    server.receive_data(_snd2("/system/x", stat.S_IFREG | 0o644, b"x"))
    out = b"".join(server.responses())
    assert out.startswith(b"FAIL") and b"couldn't create file: Read-only file system" in out
    assert not fs.host_path("/system/x").exists()
