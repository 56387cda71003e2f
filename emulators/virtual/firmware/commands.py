"""`cmd SERVICE ...` answers of the device's system (every firmware family): wifi, alarm, connectivity.

(`cmd location` belongs to the shell's LocationManagerService model; the firmware only reads the
fixes and the master switch it leaves on the device.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulators.virtual.firmware import connectivity

if TYPE_CHECKING:  # pragma: no cover
    from emulators.virtual.firmware.system import SystemFirmware

Result = tuple[str, int]
USAGE = 255


def run_cmd(fw: SystemFirmware, service: str, args: list[str]) -> Result | None:
    handler = {"wifi": _wifi, "alarm": _alarm, "connectivity": _connectivity}.get(service)
    return handler(fw, args) if handler else None


def _wifi(fw: SystemFirmware, args: list[str]) -> Result:
    settings = fw.device.settings
    verb = args[0] if args else ""
    if verb == "set-wifi-enabled" and len(args) >= 2 and args[1] in ("enabled", "disabled"):
        settings.put("global", "wifi_on", "1" if args[1] == "enabled" else "0")
        return "", 0
    if verb == "connect-network" and len(args) >= 2:
        if settings.get("global", "wifi_on") != "1":
            return "Wifi is disabled\n", 1
        if not fw.connect_wifi(args[1]):
            return f"Network {args[1]} not found\n", 1
        return "Connection initiated\n", 0
    if verb in ("status", ""):
        link = fw.link()
        return connectivity.wifi_status_text(link.wifi_on and not link.airplane, link.wifi_ssid), 0
    if verb == "list-scan-results":
        link = fw.link()
        if not link.wifi_on or link.airplane:
            return "", 0
        rows = "".join(f"  00:1a:11:00:00:0{i}  2437  -{50 + 5 * i}  [ESS]  {ssid}\n"
                       for i, ssid in enumerate(connectivity.VISIBLE_NETWORKS))
        return "    BSSID              Frequency      RSSI           Flags             SSID\n" + rows, 0
    if verb == "forget-network" or verb == "disconnect":
        fw._wifi().set_ssid("")
        fw._connectivity_changed()
        return "", 0
    usage = ("Usage: cmd wifi set-wifi-enabled enabled|disabled | connect-network SSID open | status | "
             "list-scan-results | forget-network ID\n")
    return usage, USAGE


def _alarm(fw: SystemFirmware, args: list[str]) -> Result:
    if args[:1] == ["set-time"] and len(args) == 2 and args[1].isdigit():
        fw.device.clock.set(int(args[1]) / 1000.0)
        fw.device.log.i("AlarmManager", f"time set to {args[1]} ms")
        return "true\n", 0
    if args[:1] == ["set-timezone"] and len(args) == 2:
        fw.device.props.set("persist.sys.timezone", args[1])
        return "", 0
    return "Usage: cmd alarm set-time <ms> | set-timezone <Area/City>\n", USAGE


def _connectivity(fw: SystemFirmware, args: list[str]) -> Result:
    if args[:1] == ["airplane-mode"] and len(args) == 2 and args[1] in ("enable", "disable"):
        fw.device.settings.put("global", "airplane_mode_on", "1" if args[1] == "enable" else "0")
        fw.device.broadcast("android.intent.action.AIRPLANE_MODE", {"state": str(args[1] == "enable").lower()})
        return "", 0
    if args[:1] == ["airplane-mode"]:
        return ("enabled\n" if fw.device.settings.get("global", "airplane_mode_on") == "1" else "disabled\n"), 0
    return "Usage: cmd connectivity airplane-mode [enable|disable]\n", USAGE
