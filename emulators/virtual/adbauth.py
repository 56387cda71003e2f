"""adb's RSA authentication, device side (`ro.adb.secure=1`).

The host signs our 20-byte random token with its private key (`~/.android/adbkey`); the signature is
RSA PKCS#1 v1.5 over the token taken as a ready-made SHA-1 digest (adb calls `RSA_sign(NID_sha1,
token, ...)`). We check it against the keys this device trusts: `/data/misc/adb/adb_keys` (where
adbd keeps the keys the user allowed) and the `.pub` files named by `$ANDROID_VENDOR_KEYS` /
`$ADB_VENDOR_KEYS` (colon-separated files or folders), like a vendor image's /adb_keys.

A host with no trusted key then sends its public key. A real device asks the user; here the user
"confirms" unless `VIRTUAL_ADB_AUTO_ACCEPT=0`, and the key is remembered in adb_keys.

Public keys use adb's own encoding (`android_pubkey.cpp`): base64 of
`u32 words, u32 n0inv, modulus[words*4] (little-endian), rr[words*4], u32 exponent`, then
` user@host`.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
import threading
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from emulators.virtual.device import VirtualDevice

ADB_KEYS_PATH = "/data/misc/adb/adb_keys"


class KeyFormatError(ValueError):
    """A public key that is not in adb's format."""


def decode_public_key(text: bytes | str) -> rsa.RSAPublicKey:
    """`QAAAA...= user@host` -> an RSA public key."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    blob_b64 = text.strip().split(" ", 1)[0]
    try:
        blob = base64.b64decode(blob_b64, validate=True)
    except binascii.Error as error:
        raise KeyFormatError(f"adb public key is not base64: {error}") from None
    if len(blob) < 8:
        raise KeyFormatError("adb public key is too short")
    words = struct.unpack_from("<I", blob)[0]
    size = words * 4
    if len(blob) != 8 + 2 * size + 4:
        raise KeyFormatError(f"adb public key of {len(blob)} bytes does not fit {words} words")
    modulus = int.from_bytes(blob[8:8 + size], "little")
    exponent = struct.unpack_from("<I", blob, 8 + 2 * size)[0]
    return rsa.RSAPublicNumbers(exponent, modulus).public_key()


def encode_public_key(key: rsa.RSAPublicKey, comment: str = "virtual@host") -> str:
    """The inverse of `decode_public_key` (what `adb keygen` writes into adbkey.pub)."""
    numbers = key.public_numbers()
    words = (key.key_size + 31) // 32
    size = words * 4
    n0inv = (-pow(numbers.n, -1, 1 << 32)) % (1 << 32)
    rr = pow(2, size * 8 * 2, numbers.n)
    blob = (struct.pack("<II", words, n0inv) + numbers.n.to_bytes(size, "little")
            + rr.to_bytes(size, "little") + struct.pack("<I", numbers.e))
    return f"{base64.b64encode(blob).decode()} {comment}"


def verify_signature(key: rsa.RSAPublicKey, token: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, token, padding.PKCS1v15(), Prehashed(hashes.SHA1()))
    except (InvalidSignature, ValueError):
        return False
    return True


def _vendor_key_files() -> list[Path]:
    files: list[Path] = []
    for var in ("ANDROID_VENDOR_KEYS", "ADB_VENDOR_KEYS"):
        for entry in filter(None, os.environ.get(var, "").split(":")):
            path = Path(entry)
            if path.is_dir():
                files += sorted(path.glob("*.pub"))
            elif path.suffix == ".pub":
                files.append(path)
            elif path.with_name(path.name + ".pub").exists():
                files.append(path.with_name(path.name + ".pub"))
    return files


class DeviceAuthenticator:
    """The `Authenticator` adbd hands to each transport when the device is secure."""

    def __init__(self, device: VirtualDevice) -> None:
        self.device = device
        self._lock = threading.Lock()

    def trusted_keys(self) -> list[rsa.RSAPublicKey]:
        lines: list[str] = []
        for path in [self.device.fs.host_path(ADB_KEYS_PATH), *_vendor_key_files()]:
            if path.is_file():
                lines += path.read_text(errors="replace").splitlines()
        keys = []
        for line in filter(str.strip, lines):
            try:
                keys.append(decode_public_key(line))
            except (KeyFormatError, ValueError):
                continue  # one bad line must not lock everyone out
        return keys

    def verify(self, token: bytes, signature: bytes) -> bool:
        return any(verify_signature(key, token, signature) for key in self.trusted_keys())

    def accept_public_key(self, public_key: bytes) -> bool:
        try:
            decode_public_key(public_key)
        except (KeyFormatError, ValueError):
            return False
        if os.environ.get("VIRTUAL_ADB_AUTO_ACCEPT", "1") == "0":
            self.device.log.log("W", "adbd", "RSA key not accepted: the user did not confirm")
            return False
        self._remember(public_key.decode("ascii", "replace").strip())
        return True

    def _remember(self, line: str) -> None:
        path = self.device.fs.host_path(ADB_KEYS_PATH)
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a") as handle:
                handle.write(line + "\n")


__all__ = ["DeviceAuthenticator", "KeyFormatError", "decode_public_key", "encode_public_key",
           "verify_signature"]
