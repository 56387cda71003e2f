"""Who may write where, and how toybox shows files and times.

The shell user (uid 2000) may write only where it can on a device: /data/local/tmp and shared
storage. The system partitions are read-only even for root (no `remount` here).
"""

from __future__ import annotations

import stat
import time
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:  # pragma: no cover
    from emulators.virtual.device import VirtualDevice

READ_ONLY = ("/system", "/vendor", "/product", "/apex", "/odm", "/system_ext")
SHELL_WRITABLE = ("/data/local/tmp", "/storage/emulated/0", "/storage/self/primary")


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == pre or path.startswith(pre + "/") for pre in prefixes)


def write_denied(device: VirtualDevice, path: str, root: bool) -> str | None:
    """The errno text for writing `path` (a normalised device path), or None when allowed."""
    if _under(path, READ_ONLY) or path == "/":
        return "Read-only file system"
    if root or _under(path, SHELL_WRITABLE):
        return None
    return "Permission denied"


def owner(path: str) -> tuple[str, str]:
    """Owner and group as `ls -l` shows them (we store no ownership; derive it from the place)."""
    if _under(path, ("/data/local/tmp",)):
        return "shell", "shell"
    if _under(path, ("/storage",)):
        return "u0_a139", "media_rw"
    return "root", "root"


def mode_string(mode: int) -> str:
    return stat.filemode(mode)


def device_tz(device: VirtualDevice) -> tzinfo:
    name = device.props.get("persist.sys.timezone")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def device_time(device: VirtualDevice, epoch: float | None = None) -> datetime:
    """A device-clock instant in the device's time zone."""
    when = device.clock.now() if epoch is None else epoch
    return datetime.fromtimestamp(when, device_tz(device))


def file_time(device: VirtualDevice, host: Path) -> datetime:
    """A file's mtime as the device shows it: host mtime shifted by the device clock's offset."""
    return device_time(device, host.stat().st_mtime + device.clock.offset)


def ls_long(device: VirtualDevice, host: Path, device_path: str, name: str) -> str:
    """One `ls -l` line in toybox's format."""
    st = host.stat()
    user, group = owner(device_path)
    size = 4096 if host.is_dir() else st.st_size
    when = file_time(device, host).strftime("%Y-%m-%d %H:%M")
    links = 2 if host.is_dir() else 1
    return f"{mode_string(st.st_mode)} {links} {user} {group} {size} {when} {name}"


def touch(host: Path) -> None:
    now = time.time()
    if host.exists():
        import os

        os.utime(host, (now, now))
    else:
        host.write_bytes(b"")
