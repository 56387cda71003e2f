"""The `sync:` service: adb's file transfer protocol (AOSP SYNC.TXT), sans-IO.

Theory of operation
-------------------
Every message on a sync stream starts with a 4-byte id and a 4-byte little-endian number: a path
length for requests (STAT, LIST, SEND, RECV, STA2, LST2, LIS2, QUIT), a data length for DATA, an
mtime for DONE. `SyncReader` frames them; `SyncServer` answers them against the device's files
(`DeviceFS`, i.e. folders on the host) and yields the reply bytes. It never touches a socket, so the
edge decides how to write (with flow control) and tests drive it with plain bytes.

A SEND is a request `path,mode` followed by DATA chunks and a DONE carrying the mtime; the reply is
OKAY, or FAIL with a message. Like adbd, a failed SEND still reads until DONE before the FAIL, so the
client sees the message instead of a broken pipe, and any FAIL ends the sync session.
"""

from __future__ import annotations

import enum
import errno
import os
import stat
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from emulators.virtual.device import DeviceFS
from emulators.virtual.transport import NEED_DATA, Buffer, NeedData, RemoteProtocolError

SYNC_DATA_MAX = 64 * 1024
MAX_PATH = 1024
SYNC_HEADER = struct.Struct("<4sI")
STAT_V1 = struct.Struct("<4sIII")  # id, mode, size, mtime
DENT_V1 = struct.Struct("<4sIIII")  # id, mode, size, mtime, namelen
STAT_V2 = struct.Struct("<4sIQQIIIIQqqq")  # id, error, dev, ino, mode, nlink, uid, gid, size, a/m/ctime
DENT_V2 = struct.Struct("<4sIQQIIIIQqqqI")  # STAT_V2 + namelen
SHELL_UID = 2000
# A listing ends with a DONE the size of an entry header, all zero (the client reads a whole one).
DONE_V1 = DENT_V1.pack(b"DONE", 0, 0, 0, 0)
DONE_V2 = DENT_V2.pack(b"DONE", *([0] * 12))


class SyncId(bytes, enum.Enum):
    STAT = b"STAT"
    STA2 = b"STA2"
    LST2 = b"LST2"
    LIST = b"LIST"
    LIS2 = b"LIS2"
    DENT = b"DENT"
    DNT2 = b"DNT2"
    SEND = b"SEND"
    RECV = b"RECV"
    SND2 = b"SND2"
    RCV2 = b"RCV2"
    DATA = b"DATA"
    DONE = b"DONE"
    OKAY = b"OKAY"
    FAIL = b"FAIL"
    QUIT = b"QUIT"


REQUESTS = {SyncId.STAT, SyncId.STA2, SyncId.LST2, SyncId.LIST, SyncId.LIS2, SyncId.SEND,
            SyncId.RECV, SyncId.SND2, SyncId.RCV2, SyncId.QUIT}
# sendrecv_v2: SND2/RCV2 requests are followed by a setup record (id, [mode,] flags)
SEND_V2_SETUP = struct.Struct("<4sII")
RECV_V2_SETUP = struct.Struct("<4sI")
SYNC_FLAG_DRY_RUN = 0x80000000
SYNC_FLAGS_COMPRESSED = 0x7  # brotli, lz4, zstd: we advertise none of them


@dataclass(frozen=True)
class SyncRequest:
    id: SyncId
    path: str


@dataclass(frozen=True)
class SyncSetup:
    """The record after SND2/RCV2: the file mode (SND2 only) and the transfer flags."""

    mode: int
    flags: int


@dataclass(frozen=True)
class SyncData:
    data: bytes


@dataclass(frozen=True)
class SyncDone:
    mtime: int


SyncMessage = SyncRequest | SyncSetup | SyncData | SyncDone


# --------------------------------------------------------------------------------------------
# Framing
# --------------------------------------------------------------------------------------------


class SyncReader:
    def __init__(self) -> None:
        self._buffer = Buffer()
        self._setup: SyncId | None = None  # SND2/RCV2 seen: its setup record comes next

    def receive_data(self, data: bytes) -> None:
        self._buffer.feed(data)

    def next_message(self) -> SyncMessage | NeedData:
        if self._setup is not None:
            return self._next_setup(self._setup)
        header = self._buffer.consume_exactly(SYNC_HEADER.size)
        if header is None:
            return NEED_DATA
        raw_id, value = SYNC_HEADER.unpack(header)
        if raw_id == SyncId.DONE.value:
            self._buffer.commit()
            return SyncDone(value)
        sync_id = self._identify(raw_id, value)
        body = self._buffer.consume_exactly(value)
        if body is None:
            self._buffer.rollback()
            return NEED_DATA
        self._buffer.commit()
        if sync_id is SyncId.DATA:
            return SyncData(body)
        if sync_id in (SyncId.SND2, SyncId.RCV2):
            self._setup = sync_id
        return SyncRequest(sync_id, body.decode("utf-8", "surrogateescape"))

    def _next_setup(self, sync_id: SyncId) -> SyncSetup | NeedData:
        record = SEND_V2_SETUP if sync_id is SyncId.SND2 else RECV_V2_SETUP
        raw = self._buffer.consume_exactly(record.size)
        if raw is None:
            return NEED_DATA
        self._buffer.commit()
        self._setup = None
        fields = record.unpack(raw)
        if fields[0] != sync_id.value:
            raise RemoteProtocolError(f"{sync_id.name} followed by {fields[0]!r}, not its setup")
        return SyncSetup(fields[1], fields[2]) if sync_id is SyncId.SND2 else SyncSetup(0, fields[1])

    @staticmethod
    def _identify(raw_id: bytes, value: int) -> SyncId:
        try:
            sync_id = SyncId(raw_id)
        except ValueError:
            raise RemoteProtocolError(f"unknown sync message id {raw_id!r}") from None
        if sync_id is SyncId.DATA and value > SYNC_DATA_MAX:
            raise RemoteProtocolError(f"sync DATA of {value} bytes (limit {SYNC_DATA_MAX})")
        if sync_id is not SyncId.DATA and sync_id not in REQUESTS:
            raise RemoteProtocolError(f"sync message {raw_id!r} is not a request")
        if sync_id is not SyncId.DATA and value > MAX_PATH:
            raise RemoteProtocolError(f"sync path of {value} bytes (limit {MAX_PATH})")
        return sync_id


def encode_request(sync_id: SyncId, path: str) -> bytes:
    raw = path.encode("utf-8", "surrogateescape")
    return SYNC_HEADER.pack(sync_id.value, len(raw)) + raw


def encode_data(data: bytes) -> bytes:
    return SYNC_HEADER.pack(SyncId.DATA.value, len(data)) + data


def encode_done(value: int = 0) -> bytes:
    return SYNC_HEADER.pack(SyncId.DONE.value, value)


def encode_okay() -> bytes:
    return SYNC_HEADER.pack(SyncId.OKAY.value, 0)


def encode_fail(message: str) -> bytes:
    raw = message.encode()
    return SYNC_HEADER.pack(SyncId.FAIL.value, len(raw)) + raw


def fail_errno(what: str, error: OSError) -> str:
    """adbd's `SendSyncFailErrno`: "open failed: No such file or directory"."""
    return f"{what}: {os.strerror(error.errno or errno.EIO)}"


# --------------------------------------------------------------------------------------------
# Stat records
# --------------------------------------------------------------------------------------------


def _v2_fields(st: os.stat_result | None, error: int) -> tuple[int, ...]:
    if st is None:
        return (error, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    uid = 0 if st.st_uid == 0 else SHELL_UID  # the host's uid means nothing on the device
    return (0, st.st_dev, st.st_ino, st.st_mode, st.st_nlink, uid, uid, st.st_size,
            int(st.st_atime), int(st.st_mtime), int(st.st_ctime))


def encode_stat_v1(st: os.stat_result | None) -> bytes:
    if st is None:
        return STAT_V1.pack(SyncId.STAT.value, 0, 0, 0)
    return STAT_V1.pack(SyncId.STAT.value, st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime))


def encode_stat_v2(sync_id: SyncId, st: os.stat_result | None, error: int = 0) -> bytes:
    return STAT_V2.pack(sync_id.value, *_v2_fields(st, error))


def encode_dent_v1(name: bytes, st: os.stat_result) -> bytes:
    return DENT_V1.pack(SyncId.DENT.value, st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime),
                        len(name)) + name


def encode_dent_v2(name: bytes, st: os.stat_result) -> bytes:
    return DENT_V2.pack(SyncId.DNT2.value, *_v2_fields(st, 0), len(name)) + name


def _try_stat(path: Path, follow: bool) -> tuple[os.stat_result | None, int]:
    try:
        return (path.stat() if follow else path.lstat()), 0
    except OSError as error:
        return None, error.errno or errno.EIO


# --------------------------------------------------------------------------------------------
# The file service
# --------------------------------------------------------------------------------------------


@dataclass
class _Upload:
    device_path: str
    mode: int
    chunks: list[bytes]
    failure: str = ""
    dry_run: bool = False


class SyncServer:
    """One `sync:` session. Feed it bytes; iterate `responses()` for what to send back."""

    def __init__(self, fs: DeviceFS, write_denied: Callable[[str], str | None] = lambda path: None) -> None:
        self.fs = fs
        self.write_denied = write_denied  # device path -> errno text when this user may not write there
        self.finished = False  # QUIT or FAIL: the edge closes the stream
        self._reader = SyncReader()
        self._upload: _Upload | None = None
        self._v2: SyncRequest | None = None  # a SND2/RCV2 waiting for its setup record

    def receive_data(self, data: bytes) -> None:
        self._reader.receive_data(data)

    def responses(self) -> Iterator[bytes]:
        while not self.finished:
            message = self._reader.next_message()
            if isinstance(message, NeedData):
                return
            yield from self._dispatch(message)

    def _dispatch(self, message: SyncMessage) -> Iterator[bytes]:
        if self._v2 is not None:
            yield from self._start_v2(self._v2, message)
        elif self._upload is not None:
            yield from self._continue_upload(message)
        elif not isinstance(message, SyncRequest):
            raise RemoteProtocolError(f"sync {type(message).__name__} outside a SEND")
        elif message.id is SyncId.QUIT:
            self.finished = True
        elif message.id in (SyncId.SND2, SyncId.RCV2):
            self._v2 = message
        elif message.id is SyncId.SEND:
            self._start_upload(message.path)
        elif message.id is SyncId.RECV:
            yield from self._download(message.path)
        elif message.id in (SyncId.LIST, SyncId.LIS2):
            yield from self._list(message.path, v2=message.id is SyncId.LIS2)
        else:
            yield self._stat(message)

    def _start_v2(self, request: SyncRequest, setup: SyncMessage) -> Iterator[bytes]:
        self._v2 = None
        if not isinstance(setup, SyncSetup):
            raise RemoteProtocolError(f"{request.id.name} without its setup record")
        if setup.flags & SYNC_FLAGS_COMPRESSED:
            raise RemoteProtocolError(f"{request.id.name} asks for compression we never offered")
        if request.id is SyncId.RCV2:
            yield from self._download(request.path)
        else:
            self._upload = _Upload(request.path, setup.mode, [], dry_run=bool(setup.flags & SYNC_FLAG_DRY_RUN))

    # --- STAT / LIST -----------------------------------------------------------------------
    def _stat(self, request: SyncRequest) -> bytes:
        path = self.fs.host_path(request.path)
        if request.id is SyncId.STAT:
            return encode_stat_v1(_try_stat(path, follow=False)[0])
        st, error = _try_stat(path, follow=request.id is SyncId.STA2)
        return encode_stat_v2(request.id, st, error)

    def _list(self, device_path: str, v2: bool) -> Iterator[bytes]:
        path = self.fs.host_path(device_path)
        names = [".", ".."]
        try:
            names += sorted(os.listdir(path))
        except OSError:
            names = []  # adbd answers a missing directory with an empty listing
        for name in names:
            st, _ = _try_stat(path / name, follow=False)
            if st is not None:
                raw = name.encode("utf-8", "surrogateescape")
                yield encode_dent_v2(raw, st) if v2 else encode_dent_v1(raw, st)
        yield DONE_V2 if v2 else DONE_V1

    # --- RECV ------------------------------------------------------------------------------
    def _download(self, device_path: str) -> Iterator[bytes]:
        try:
            handle = open(self.fs.host_path(device_path), "rb")  # noqa: SIM115 - closed below
        except OSError as error:
            yield self._fail(fail_errno("open failed", error))
            return
        with handle:
            while True:
                try:
                    chunk = handle.read(SYNC_DATA_MAX)
                except OSError as error:
                    yield self._fail(fail_errno("read failed", error))
                    return
                if not chunk:
                    break
                yield encode_data(chunk)
        yield encode_done()

    # --- SEND ------------------------------------------------------------------------------
    def _start_upload(self, spec: str) -> None:
        device_path, _, mode_text = spec.rpartition(",")
        if not device_path:
            device_path, mode_text = spec, "420"
        try:
            mode = int(mode_text)
        except ValueError:
            raise RemoteProtocolError(f"SEND with a bad mode: {spec!r}") from None
        self._upload = _Upload(device_path, mode, [])

    def _continue_upload(self, message: SyncMessage) -> Iterator[bytes]:
        upload = self._upload
        assert upload is not None
        if isinstance(message, SyncData):
            upload.chunks.append(message.data)
        elif isinstance(message, SyncDone):
            self._upload = None
            failure = upload.failure or self._store(upload, message.mtime)
            yield self._fail(failure) if failure else encode_okay()
        else:
            raise RemoteProtocolError(f"sync {type(message).__name__} inside a SEND")

    def _store(self, upload: _Upload, mtime: int) -> str:
        """Write the uploaded file; return adbd's failure message, or "" on success."""
        denied = self.write_denied(self.fs.normalise(upload.device_path))
        if denied:
            return f"couldn't create file: {denied}"
        if upload.dry_run:
            return ""
        target = self.fs.host_path(upload.device_path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)  # fixed_push_mkdir
        except OSError as error:
            return fail_errno(f"failed to create parent directory '{target.parent.name}'", error)
        data = b"".join(upload.chunks)
        try:
            if stat.S_ISLNK(upload.mode):
                # adb sends readlink()'s text with its terminating NUL
                link_to = data.rstrip(b"\0").decode("utf-8", "surrogateescape")
                _replace_symlink(target, self._contained_link(upload.device_path, link_to))
                return ""
            if target.is_dir():
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            target.write_bytes(data)
            os.chmod(target, stat.S_IMODE(upload.mode) or 0o644)
            if mtime:
                os.utime(target, (mtime, mtime))
        except OSError as error:
            return fail_errno("couldn't create file", error)
        return ""

    def _contained_link(self, device_path: str, link_to: str) -> str:
        """The host-side text of a device symlink: relative, and resolved the device's way, so a
        link to `/etc/passwd` or `../../..` points into this device's root, never at the host's."""
        parent = self.fs.normalise(device_path).rsplit("/", 1)[0] or "/"
        target = self.fs.host_path(link_to, cwd=parent)
        return os.path.relpath(target, self.fs.host_path(parent))

    def _fail(self, message: str) -> bytes:
        self.finished = True
        return encode_fail(message)


def _replace_symlink(target: Path, link_to: str) -> None:
    if target.is_symlink() or target.exists():
        target.unlink()
    os.symlink(link_to, target)
