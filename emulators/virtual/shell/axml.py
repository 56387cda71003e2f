"""Sans-IO reader of Android binary XML (AXML), just enough for `pm install`: the package name.

An APK's AndroidManifest.xml is compiled: a chunk stream (ResChunk_header: u16 type, u16 header
size, u32 size) holding a string pool and XML nodes whose names and attribute values point into
that pool. We read the pool, then the first start tag named `manifest`, and return its `package`.
"""

from __future__ import annotations

import io
import struct
import zipfile

RES_XML_TYPE = 0x0003
RES_STRING_POOL_TYPE = 0x0001
RES_XML_START_ELEMENT_TYPE = 0x0102
UTF8_FLAG = 1 << 8
TYPE_STRING = 0x03
NO_ENTRY = 0xFFFFFFFF


class InvalidApk(Exception):
    """Not an APK we can read; `pm install` reports INSTALL_FAILED_INVALID_APK."""


def package_from_apk(data: bytes) -> str:
    """The `package` attribute of an APK's manifest (the APK given as bytes)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as apk:
            manifest = apk.read("AndroidManifest.xml")
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        raise InvalidApk(f"cannot read AndroidManifest.xml: {error}") from error
    return package_from_manifest(manifest)


def package_from_manifest(data: bytes) -> str:
    try:
        return _package(data)
    except (struct.error, IndexError, UnicodeDecodeError) as error:
        raise InvalidApk(f"truncated or corrupt binary XML: {error}") from error


def _package(data: bytes) -> str:
    kind, header_size, _ = struct.unpack_from("<HHI", data, 0)
    if kind != RES_XML_TYPE:
        raise InvalidApk(f"not binary XML (chunk type {kind:#06x})")
    strings: list[str] = []
    offset = header_size
    while offset + 8 <= len(data):
        kind, header_size, size = struct.unpack_from("<HHI", data, offset)
        if size < 8:
            raise InvalidApk(f"bad chunk size {size} at {offset}")
        if kind == RES_STRING_POOL_TYPE:
            strings = string_pool(data[offset:offset + size])
        elif kind == RES_XML_START_ELEMENT_TYPE:
            name, attrs = _start_element(data, offset, header_size, strings)
            if name == "manifest":
                if "package" not in attrs:
                    raise InvalidApk("manifest has no package attribute")
                return attrs["package"]
        offset += size
    raise InvalidApk("no manifest element")


def string_pool(chunk: bytes) -> list[str]:
    """Decode a ResStringPool chunk (UTF-8 or UTF-16)."""
    _, _, _, count, _, flags, strings_start, _ = struct.unpack_from("<HHIIIIII", chunk, 0)
    offsets = struct.unpack_from(f"<{count}I", chunk, 28)
    utf8 = bool(flags & UTF8_FLAG)
    return [_string(chunk, strings_start + off, utf8) for off in offsets]


def _string(chunk: bytes, pos: int, utf8: bool) -> str:
    if utf8:
        pos = _skip_len8(chunk, pos)  # length in characters (unused)
        length = chunk[pos]
        if length & 0x80:
            length = ((length & 0x7F) << 8) | chunk[pos + 1]
            pos += 1
        pos += 1
        return chunk[pos:pos + length].decode("utf-8")
    (length,) = struct.unpack_from("<H", chunk, pos)
    pos += 2
    if length & 0x8000:
        (low,) = struct.unpack_from("<H", chunk, pos)
        length = ((length & 0x7FFF) << 16) | low
        pos += 2
    return chunk[pos:pos + 2 * length].decode("utf-16-le")


def _skip_len8(chunk: bytes, pos: int) -> int:
    return pos + (2 if chunk[pos] & 0x80 else 1)


def _start_element(data: bytes, offset: int, header_size: int,
                   strings: list[str]) -> tuple[str, dict[str, str]]:
    ext = offset + header_size
    _, name_idx, attr_start, attr_size, attr_count = struct.unpack_from("<IIHHH", data, ext)
    attrs: dict[str, str] = {}
    for i in range(attr_count):
        pos = ext + attr_start + i * attr_size
        _, attr_name, raw, _, _, data_type, value = struct.unpack_from("<IIIHBBI", data, pos)
        if raw != NO_ENTRY:
            attrs[strings[attr_name]] = strings[raw]
        elif data_type == TYPE_STRING:
            attrs[strings[attr_name]] = strings[value]
    return strings[name_idx], attrs
