"""`harness devices --farm`: one row per farm device (or per unreachable adb server)."""

from __future__ import annotations

from collections.abc import Callable

from harness.farm.discovery import FarmDevice, discover
from harness.farm.inventory import Inventory
from harness.farm.state import FarmState

COLUMNS = ("host", "serial", "state", "labels", "profile", "lease", "quarantine")


def farm_rows(inventory: Inventory, state: FarmState,
              profile_of: Callable[[FarmDevice], str]) -> list[dict[str, str]]:
    """`profile_of(device)` names the profile a ready device gets (and why); errors are its own text."""
    devices, statuses = discover(inventory)
    holders = state.holders([d.id for d in devices])
    quarantined = state.quarantined()
    rows = [{"host": s.adb, "serial": "-", "state": s.error or "", "labels": "", "profile": "", "lease": "",
             "quarantine": ""} for s in statuses if s.error]
    for device in devices:
        record = quarantined.get(device.id)
        rows.append({
            "host": device.adb, "serial": device.serial, "state": device.state, "labels": device.labels.text(),
            "profile": profile_of(device) if device.state == "device" else "-",
            "lease": holders.get(device.id, "free"),
            "quarantine": f"{record.reason} (by {record.by}): {record.evidence[-200:]}" if record else "",
        })
    listed = {d.id for d in devices}
    for ident, record in sorted(quarantined.items()):  # quarantined devices that are gone altogether
        if ident not in listed:
            adb, _, serial = ident.partition("/")
            rows.append({"host": adb, "serial": serial, "state": "missing", "labels": "", "profile": "-",
                         "lease": holders.get(ident, "free"), "quarantine": f"{record.reason} (by {record.by})"})
    return rows


def release(inventory: Inventory, state: FarmState, serial: str) -> list[str]:
    """Return quarantined devices to the farm: `SERIAL` or a full id `host:port/SERIAL`."""
    matches = [i for i in state.quarantined() if i == serial or i.partition("/")[2] == serial]
    for ident in matches:
        state.unquarantine(ident)
    return matches
