"""Snapshots of the whole device: the instance's data files plus the state that lives in memory.

A snapshot is a folder `<snapshots root>/<NAME>/` holding a copy of everything in the data
directory (except the snapshots themselves) under `data/`, and `state.json` with what a reboot
would lose: all properties (not only persist.*), GPS fixes, test providers, radio registration and
the clock offset. Loading puts the files back, restores that state and lets the firmware resume
(`Firmware.on_snapshot_loaded`), which is what the SDK emulator's `avd snapshot load` looks like
from outside: the same /data, properties and location, with the UI as the firmware rebuilds it.

The device clock keeps its offset to the host, so after a load the device time is "now", as an SDK
emulator re-syncs its clock after a snapshot load.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulators.virtual.device import DeviceError, Fix

if TYPE_CHECKING:  # pragma: no cover
    from emulators.virtual.device import VirtualDevice

STATE_FILE = "state.json"
DATA_FOLDER = "data"
_NAME = re.compile(r"^[A-Za-z0-9_.@+-]{1,64}$")


class SnapshotError(DeviceError):
    """A snapshot command failed; the message is what the console prints after `KO: `."""


@dataclass(frozen=True)
class SnapshotInfo:
    name: str
    size_bytes: int
    saved_at: float  # host time, seconds since the epoch
    uptime_seconds: float  # how long the instance had run when it was saved


class SnapshotStore:
    """Save, load, list and delete snapshots of one device, kept under `root`."""

    def __init__(self, device: VirtualDevice, root: Path) -> None:
        self.device = device
        self.root = root
        self._started = time.monotonic()

    # --- queries ------------------------------------------------------------------------
    def list(self) -> list[SnapshotInfo]:
        if not self.root.is_dir():
            return []
        infos = [self._info(path) for path in sorted(self.root.iterdir()) if (path / STATE_FILE).is_file()]
        return [info for info in infos if info is not None]

    def exists(self, name: str) -> bool:
        return (self._folder(name) / STATE_FILE).is_file()

    def format_list(self) -> str:
        """The listing as the SDK console prints it for `avd snapshot list`."""
        infos = self.list()
        if not infos:
            return "There is no snapshot available."
        lines = ["List of snapshots present on all disks:",
                 "ID        TAG                 VM SIZE                DATE       VM CLOCK"]
        for info in infos:
            date = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.saved_at))
            lines.append(f"--        {info.name:<18}{_human_size(info.size_bytes):>8} {date}   "
                         f"{_clock(info.uptime_seconds)}")
        return "\n".join(lines)

    # --- commands -------------------------------------------------------------------------
    def save(self, name: str) -> SnapshotInfo:
        folder = self._folder(name)
        staging = self.root / f".{name}.saving"
        shutil.rmtree(staging, ignore_errors=True)
        device = self.device
        with device.lock:
            self._copy_data(device.config.data_dir, staging / DATA_FOLDER)
            state = self._capture_state()
        (staging / STATE_FILE).write_text(json.dumps(state, indent=1, sort_keys=True))
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
        device.log.i("EmulatorSnapshot", f"saved snapshot '{name}'")
        info = self._info(folder)
        assert info is not None
        return info

    def load(self, name: str) -> None:
        folder = self._folder(name)
        if not (folder / STATE_FILE).is_file():
            raise SnapshotError(f"snapshot '{name}' does not exist")
        state = json.loads((folder / STATE_FILE).read_text())
        device = self.device
        device.firmware.shutdown()
        time.sleep(device.firmware.snapshot_load_delay())  # the VM is paused while its state is read back
        with device.lock:
            self._replace_data(folder / DATA_FOLDER, device.config.data_dir)
            self._restore_state(state)
        device.log.i("EmulatorSnapshot", f"loaded snapshot '{name}'")
        device.firmware.on_snapshot_loaded()

    def delete(self, name: str) -> None:
        folder = self._folder(name)
        if not folder.is_dir():
            raise SnapshotError(f"snapshot '{name}' does not exist")
        shutil.rmtree(folder)

    # --- files ------------------------------------------------------------------------------
    def _folder(self, name: str) -> Path:
        if not _NAME.match(name) or name in (".", ".."):
            raise SnapshotError(f"invalid snapshot name '{name}'")
        return self.root / name

    def _excluded(self, path: Path) -> bool:
        """The snapshots folder may live inside the data directory: never copy it into itself."""
        return path.resolve() == self.root.resolve()

    def _copy_data(self, source: Path, target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        if not source.is_dir():
            return
        for entry in source.iterdir():
            if self._excluded(entry):
                continue
            if entry.is_dir():
                shutil.copytree(entry, target / entry.name, symlinks=True)
            else:
                shutil.copy2(entry, target / entry.name)

    def _replace_data(self, source: Path, target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        for entry in target.iterdir():
            if self._excluded(entry):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        self._copy_data(source, target)

    def _info(self, folder: Path) -> SnapshotInfo | None:
        try:
            state = json.loads((folder / STATE_FILE).read_text())
        except (OSError, ValueError):
            return None
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        return SnapshotInfo(folder.name, size, float(state.get("saved_at", 0.0)),
                            float(state.get("uptime", 0.0)))

    # --- in-memory state --------------------------------------------------------------------
    def _capture_state(self) -> dict[str, Any]:
        device = self.device
        return {
            "saved_at": time.time(),
            "uptime": time.monotonic() - self._started,
            "props": device.props.all(),
            "fixes": {provider: asdict(fix) for provider, fix in device.location.last_fix.items()},
            "test_providers": dict(device.location.test_providers),
            "radio": asdict(device.radio),
            "clock_offset": device.clock.offset,
            "root": device.root,
        }

    def _restore_state(self, state: dict[str, Any]) -> None:
        device = self.device
        device.props.restore(dict(state.get("props", {})))
        device.settings.load()
        device.packages.clear()
        device._load_packages()
        device.location.last_fix = {p: Fix(**f) for p, f in state.get("fixes", {}).items()}
        device.location.test_providers = dict(state.get("test_providers", {}))
        for key, value in state.get("radio", {}).items():
            if hasattr(device.radio, key):
                setattr(device.radio, key, value)
        device.clock.offset = float(state.get("clock_offset", 0.0))
        device.root = bool(state.get("root", False))


def _human_size(size: int) -> str:
    for unit in ("", "K", "M", "G"):
        if size < 1024 or unit == "G":
            return f"{size}{unit}" if unit == "" else f"{size:.0f}{unit}"
        size = size / 1024  # type: ignore[assignment]
    return str(size)


def _clock(seconds: float) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours):02d}:{int(minutes):02d}:{secs:06.3f}"


__all__ = ["SnapshotError", "SnapshotInfo", "SnapshotStore"]
