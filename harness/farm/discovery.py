"""What is on the farm right now: each adb server asked once, network devices connected through theirs."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from harness.farm.inventory import AdbAddress, Inventory, Labels

ADB_TIMEOUT = 5.0


@dataclass(frozen=True)
class FarmDevice(AdbAddress):
    adb: str  # "host:port" of the adb server that has it
    serial: str
    state: str  # adb's word: device | offline | unauthorized | ...
    labels: Labels

    @property
    def id(self) -> str:
        return f"{self.adb}/{self.serial}"


@dataclass(frozen=True)
class HostStatus:
    adb: str
    error: str | None  # None: reachable


def adb_client(adb: str) -> Any:
    """A client of a farm host's adb server that never starts one: adbutils' own runs a local
    `adb start-server` (default port 5037) when a connect is refused, which never brings back a
    farm host and starts a server nobody asked for; a host that is down is a lab fault."""
    from harness.session import VersionCachingClient

    host, _, port = adb.rpartition(":")
    return VersionCachingClient(host=host, port=int(port), socket_timeout=ADB_TIMEOUT)


def discover(inventory: Inventory) -> tuple[list[FarmDevice], list[HostStatus]]:
    """Every device the farm's adb servers list, with its labels; unreachable servers as statuses."""
    devices: list[FarmDevice] = []
    statuses: list[HostStatus] = []
    for adb in inventory.adb_servers():
        client = adb_client(adb)
        try:
            for net in inventory.network:
                if net.via == adb:
                    _connect(client, net.connect)
            listed = client.list()
        except Exception as exc:  # noqa: BLE001 -- adbutils raises several types for a dead server
            statuses.append(HostStatus(adb, f"unreachable: {exc or type(exc).__name__}"))
            continue
        statuses.append(HostStatus(adb, None))
        for info in listed:
            if inventory.belongs(adb, info.serial):
                devices.append(FarmDevice(adb, info.serial, info.state,
                                          inventory.labels_for(adb, info.serial)))
    return devices, statuses


def _connect(client: Any, address: str) -> None:
    # a phone that is away shows as missing or offline in the listing, not as an error here
    with contextlib.suppress(Exception):
        client.connect(address, timeout=ADB_TIMEOUT)
