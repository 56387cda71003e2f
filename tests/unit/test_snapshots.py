"""Whole-device snapshots: files and in-memory state go out and come back."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.virtual.device import DeviceConfig, Firmware, Fix, VirtualDevice
from emulators.virtual.snapshots import SnapshotError, SnapshotStore


class CountingFirmware(Firmware):
    def __init__(self) -> None:
        self.boots = 0
        self.shutdowns = 0

    def boot(self) -> None:
        self.boots += 1
        self.device.props.set("ro.product.model", "Counting")
        self.device.boot_done()

    def shutdown(self) -> None:
        self.shutdowns += 1


@pytest.fixture
def firmware() -> CountingFirmware:
    return CountingFirmware()


@pytest.fixture
def device(tmp_path: Path, firmware: CountingFirmware) -> VirtualDevice:
    device = VirtualDevice(DeviceConfig(data_dir=tmp_path / "data"), firmware)
    device.boot()
    return device


@pytest.fixture
def store(device: VirtualDevice) -> SnapshotStore:
    return SnapshotStore(device, device.config.data_dir / "snapshots")


def test_round_trip(device: VirtualDevice, store: SnapshotStore, firmware: CountingFirmware) -> None:
    file = device.fs.host_path("/data/local/tmp/note.txt")
    file.write_text("saved")
    device.props.set("persist.sys.locale", "es-ES")
    device.props.set("gsm.operator.numeric", "36801")
    device.set_fix("gps", Fix(23.1, -82.3))
    device.radio.voice = "roaming"
    device.clock.offset = 3600.0
    store.save("one")

    file.write_text("changed")
    device.fs.host_path("/data/local/tmp/extra.txt").write_text("new")
    device.props.set("persist.sys.locale", "en-US")
    device.props.set("gsm.operator.numeric", "311740")
    device.set_fix("gps", Fix(52.5, 13.4))
    device.radio.voice = "home"
    device.clock.offset = 0.0
    boots_before = firmware.boots
    store.load("one")

    assert file.read_text() == "saved"
    assert not device.fs.host_path("/data/local/tmp/extra.txt").exists()
    assert device.props.get("persist.sys.locale") == "es-ES"
    assert device.props.get("gsm.operator.numeric") == "36801"
    assert device.location.last_fix["gps"] == Fix(23.1, -82.3)
    assert device.radio.voice == "roaming"
    assert device.clock.offset == 3600.0
    assert firmware.boots == boots_before + 1 and firmware.shutdowns >= 1


def test_snapshots_folder_is_not_copied_into_itself(store: SnapshotStore) -> None:
    store.save("a")
    store.save("b")
    assert not (store.root / "b" / "data" / "snapshots").exists()
    assert [info.name for info in store.list()] == ["a", "b"]


def test_save_overwrites(store: SnapshotStore, device: VirtualDevice) -> None:
    store.save("same")
    device.props.set("persist.debug.x", "2")
    store.save("same")
    device.props.set("persist.debug.x", "3")
    store.load("same")
    assert device.props.get("persist.debug.x") == "2"


def test_errors(store: SnapshotStore) -> None:
    with pytest.raises(SnapshotError, match="snapshot 'nope' does not exist"):
        store.load("nope")
    with pytest.raises(SnapshotError, match="does not exist"):
        store.delete("nope")
    for bad in ("", "..", "a/b", "x" * 65):
        with pytest.raises(SnapshotError, match="invalid snapshot name"):
            store.save(bad)


def test_format_list(store: SnapshotStore) -> None:
    assert store.format_list() == "There is no snapshot available."
    store.save("default_boot")
    lines = store.format_list().splitlines()
    assert lines[0] == "List of snapshots present on all disks:"
    assert lines[2].startswith("--        default_boot")
