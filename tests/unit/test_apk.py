from __future__ import annotations

import io
import zipfile

import pytest

from emulators.virtual.apk import InvalidApk, read_manifest
from tests.integration.test_adb_clients import u2_apk


def test_manifest_of_a_real_apk() -> None:
    manifest = read_manifest(u2_apk().read_bytes())
    assert (manifest.package, manifest.version_code, manifest.version_name) == ("com.github.uiautomator", 2004001,
                                                                                "2.4.0")
    assert (manifest.min_sdk, manifest.target_sdk, manifest.split) == (19, 32, None)


def _zip(**files: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("apk", [b"not a zip", _zip(other=b"x"), _zip(AndroidManifest_xml=b"x"),
                                 _zip(**{"AndroidManifest.xml": b"\x03\x00\x08\x00garbage"})])
def test_anything_else_is_an_invalid_apk(apk: bytes) -> None:
    with pytest.raises(InvalidApk):
        read_manifest(apk)
