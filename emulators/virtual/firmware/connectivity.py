"""Wi-Fi, mobile data, airplane mode and the resulting online state.

The Wi-Fi switch is `settings global wifi_on`; the network the device joined is kept in
/data/misc/wifi (wiped by a factory reset, like WifiConfigStore). Airplane mode, as on Android,
takes effect on its broadcast: the radio goes off and Wi-Fi goes off, and both come back after.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

VISIBLE_NETWORKS = ("HomeNet", "CafeGuest")


@dataclass(frozen=True)
class LinkInputs:
    """What decides whether each path is up (read from settings, modem and Wi-Fi state)."""

    airplane: bool
    wifi_on: bool
    wifi_ssid: str
    mobile_data: bool
    data_roaming: bool
    sim_ready: bool
    data_reg: str  # the console's `gsm data` state


def wifi_connected(link: LinkInputs) -> bool:
    return link.wifi_on and not link.airplane and bool(link.wifi_ssid)


def mobile_up(link: LinkInputs) -> bool:
    registered = link.data_reg in ("home", "on") or (link.data_reg == "roaming" and link.data_roaming)
    return link.mobile_data and not link.airplane and link.sim_ready and registered


def online(link: LinkInputs) -> bool:
    return wifi_connected(link) or mobile_up(link)


class WifiStore:
    """The joined network, persisted under /data/misc/wifi."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def ssid(self) -> str:
        try:
            return str(json.loads(self.path.read_text()).get("ssid", ""))
        except (OSError, ValueError):
            return ""

    def set_ssid(self, ssid: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"ssid": ssid}))


def wifi_status_text(enabled: bool, ssid: str) -> str:
    if not enabled:
        return "Wifi is disabled\n"
    if ssid:
        return f'Wifi is enabled\nWifi is connected to "{ssid}"\n'
    return "Wifi is enabled\nWifi is not connected\n"
