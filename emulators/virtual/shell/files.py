"""Who may write where (for the framework tools that write files), and the device's clock as text.

The shell user (uid 2000) may write only where it can on a device: /data/local/tmp and shared
storage. The system partitions are read-only even for root (no `remount` here).
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
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
