"""What PackageManager reads from an APK: its manifest's package, versions, SDK levels and split.

The binary XML (AXML) is decoded by apkInspector (PyPI `apkinspector`, Apache-2.0, no
dependencies, the parser androguard 4 builds on). It was chosen over our own reader (which knew the
package name only) and over androguard (dozens of dependencies) or pyaxmlparser (not maintained)
because it is maintained, small, and made to survive the malformed and obfuscated manifests real
APKs carry. Whatever it raises on a bad file becomes `InvalidApk`, which `pm install` reports as
INSTALL_FAILED_INVALID_APK.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

from apkInspector.axml import get_manifest

ANDROID = "{http://schemas.android.com/apk/res/android}"


class InvalidApk(Exception):
    """Not an APK PackageManager could parse."""


@dataclass(frozen=True)
class Manifest:
    package: str
    version_code: int
    version_name: str | None  # None: the manifest has none (dumpsys prints "null")
    min_sdk: int
    target_sdk: int
    split: str | None = None  # a split APK's name (install-multiple), None for a base APK


def read_manifest(apk: bytes) -> Manifest:
    try:
        with zipfile.ZipFile(io.BytesIO(apk)) as archive:
            raw = archive.read("AndroidManifest.xml")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise InvalidApk(f"cannot read AndroidManifest.xml: {error}") from error
    return parse_manifest(raw)


def parse_manifest(raw: bytes) -> Manifest:
    logging.getLogger("apkInspector").setLevel(logging.ERROR)
    try:
        root = ElementTree.fromstring(get_manifest(io.BytesIO(raw)))
    except Exception as error:  # the parser's errors are unchecked struct/index/value errors
        raise InvalidApk(f"corrupt binary XML manifest: {error}") from error
    package = root.get("package") if root.tag == "manifest" else None
    if not package:
        raise InvalidApk("the manifest has no package name")
    sdk = root.find("uses-sdk")
    min_sdk = _int(sdk.get(f"{ANDROID}minSdkVersion") if sdk is not None else None, 1)
    return Manifest(package, _int(root.get(f"{ANDROID}versionCode"), 0), root.get(f"{ANDROID}versionName"),
                    min_sdk, _int(sdk.get(f"{ANDROID}targetSdkVersion") if sdk is not None else None, min_sdk),
                    root.get("split"))


def _int(text: str | None, default: int) -> int:
    try:
        return int(text, 0) if text else default
    except ValueError:
        return default
