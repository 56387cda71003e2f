"""Spoofing: set a signal the region-lock service reads, then read back the device's own view.

Theory of operation
-------------------
Each signal has one strategy per kind of device (see /work/shared/spoofing.md and the firmware
contract). A strategy is chosen from `DeviceFacts` before anything is sent; when this device cannot
produce the signal at all, `SpoofUnsupported` says why, and the runner SKIPS the scenario with that
reason: a scenario is never passed on a device that could not be put in the state it describes.

After applying, every spoof reads the device's own view back (`getprop`, `dumpsys location`,
`settings get`, `date +%s`) and raises `SpoofMismatch` when it differs: a spoof that did not take is
an infrastructure failure, never a silent pass. Each call returns its read-back as a plain dict,
which the runner attaches to the Allure step as JSON.

Radio properties (`gsm.*`) hold only until the next radio event (boot, console `gsm`, airplane
toggle), which republishes them from the modem. The `Spoofer` therefore remembers the radio state
it was asked for and `reapply_radio()` writes it again; the runner calls it after reboots, airplane
toggles and right before activation. Commands go out in batches (one adb round trip), and one
`getprop` listing reads all the properties back.
"""

from __future__ import annotations

import re
import shlex
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness import radio
from harness.errors import CapabilityMissing, SpoofMismatch
from harness.scenario.model import NetworkSpec, Position, SimSpec
from harness.session import DeviceKind, DeviceOps, DeviceSession, poll

SIM_PROPS = ("gsm.sim.state", "gsm.sim.operator.numeric", "gsm.sim.operator.alpha",
             "gsm.sim.operator.iso-country")
NETWORK_PROPS = ("gsm.operator.numeric", "gsm.operator.alpha", "gsm.operator.iso-country",
                 "gsm.operator.isroaming")
GPS_TOLERANCE_DEG = 1e-4
CLOCK_TOLERANCE_S = 10
_LAST_LOCATION = re.compile(r"last location=Location\[(?P<provider>\w+) (?P<lat>-?[\d.]+),(?P<lon>-?[\d.]+)")
_UNREGISTERED = ("searching", "denied", "off")
_PHONE_ID = re.compile(r"Phone Id=(\d+)")
_SYSTEMUI = "com.android.systemui:id/"
_REGISTRY_PLMN = re.compile(r"mMcc=(\d{3})\W+mMnc=(\d{2,3})")


class SpoofUnsupported(CapabilityMissing):
    """This device cannot produce the signal; the scenario is skipped with this reason."""


# ---------------------------------------------------------------------------------------------
# Pure parts: property values, commands, parsers (unit-tested without a device)
# ---------------------------------------------------------------------------------------------

def split_slots(value: str, slots: int) -> list[str]:
    """`gsm.*` values are comma-joined per slot; pad/trim to `slots` entries."""
    parts = value.split(",") if value else []
    return (parts + [""] * slots)[:slots]


def slot_count(props: dict[str, str], wanted: int = 1) -> int:
    """How many slots the device publishes (from gsm.sim.state), at least `wanted`."""
    published = len(props.get("gsm.sim.state", "").split(",")) if props.get("gsm.sim.state") else 1
    return max(published, wanted)


def sim_values(sim: SimSpec) -> tuple[str, str, str, str]:
    """(state, numeric, alpha, iso-country) for one slot, as Android publishes them."""
    if sim.absent or sim.mcc is None or sim.mnc is None:
        return ("ABSENT", "", "", "")
    op = radio.operator(sim.mcc, sim.mnc)
    country = sim.country or radio.plmn_country(sim.mcc, sim.mnc) or ""
    alpha = sim.operator or (op.name if op else "")
    return ("READY", f"{sim.mcc}{sim.mnc}", alpha, country.lower())


def sim_props(current: dict[str, str], sims: Sequence[SimSpec], slots: int) -> dict[str, str]:
    """The gsm.sim.* values after replacing the given slots (others keep what they publish)."""
    columns = {key: split_slots(current.get(key, ""), slots) for key in SIM_PROPS}
    for sim in sims:
        if sim.slot >= slots:
            raise SpoofUnsupported(f"SIM slot {sim.slot}", None, f"the device has {slots} slot(s)")
        for key, value in zip(SIM_PROPS, sim_values(sim), strict=True):
            columns[key][sim.slot] = value
    return {key: ",".join(values) for key, values in columns.items()}


def parse_registry(dumpsys: str) -> dict[int, str]:
    """`dumpsys telephony.registry`: phone id -> the serving PLMN the modem reports (`mMcc`/`mMnc`)."""
    plmns: dict[int, str] = {}
    marks = list(_PHONE_ID.finditer(dumpsys))
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        block = dumpsys[mark.end(): following.start() if following else len(dumpsys)]
        found = _REGISTRY_PLMN.search(block)
        if found:
            plmns[int(mark.group(1))] = found.group(1) + found.group(2)
    return plmns


def status_bar_operator(hierarchy_xml: str) -> str | None:
    """The carrier text SystemUI shows (status bar `operator_name`, or a `carrier_text`), if it shows one."""
    try:
        root = ET.fromstring(hierarchy_xml)
    except ET.ParseError:
        return None
    for node in root.iter("node"):
        rid = node.get("resource-id", "")
        if rid.startswith(_SYSTEMUI) and rid.endswith(("operator_name", "carrier_text")) and node.get("text"):
            return node.get("text")
    return None


def modem_sim_expectations(sims: Sequence[SimSpec], slots: int) -> dict[str, dict[int, str]]:
    """What the modem publishes per slot for these cards: state, numeric, country (the harness's table)."""
    expected: dict[str, dict[int, str]] = {key: {} for key in (SIM_PROPS[0], SIM_PROPS[1], SIM_PROPS[3])}
    for sim in sims:
        if sim.slot >= slots:
            raise SpoofUnsupported(f"SIM slot {sim.slot}", None, f"the device has {slots} slot(s)")
        state, numeric, _, country = sim_values(sim)
        expected[SIM_PROPS[0]][sim.slot] = state
        expected[SIM_PROPS[1]][sim.slot] = numeric
        expected[SIM_PROPS[3]][sim.slot] = country
    return expected


def modem_sim_mismatch(expected: dict[str, dict[int, str]], props: dict[str, str],
                       slots: int) -> tuple[str, str, str] | None:
    """The first (property[slot], expected, seen) that differs, or None when the modem shows the cards."""
    for key, per_slot in expected.items():
        seen = split_slots(props.get(key, ""), slots)
        for slot, value in per_slot.items():
            if seen[slot] != value:
                return f"{key}[{slot}]", value, seen[slot]
    return None


def network_props(sim_state: dict[str, str], spec: NetworkSpec, slots: int) -> dict[str, str]:
    """gsm.operator.* for every slot with a READY SIM; the spec's PLMN or else the SIM's own."""
    states = split_slots(sim_state.get("gsm.sim.state", ""), slots)
    sim_numeric = split_slots(sim_state.get("gsm.sim.operator.numeric", ""), slots)
    columns: dict[str, list[str]] = {key: [""] * slots for key in NETWORK_PROPS}
    for slot in range(slots):
        if states[slot] != "READY" or spec.registration in _UNREGISTERED:
            continue
        plmn = spec.plmn or sim_numeric[slot]
        if not plmn:
            continue
        mcc, mnc = plmn[:3], plmn[3:]
        op = radio.operator(mcc, mnc)
        country = spec.country or radio.plmn_country(mcc, mnc) or ""
        roaming = spec.registration == "roaming" or mcc != sim_numeric[slot][:3]
        values = (plmn, spec.operator or (op.name if op else ""), country.lower(),
                  "true" if roaming else "false")
        for key, value in zip(NETWORK_PROPS, values, strict=True):
            columns[key][slot] = value
    return {key: ",".join(values) for key, values in columns.items()}


def setprop_commands(props: dict[str, str]) -> list[list[str]]:
    return [["setprop", key, value] for key, value in props.items()]


def geo_fix_command(position: Position) -> str:
    """Console `geo fix`: LONGITUDE FIRST. Values are floats from the model: no quoting needed."""
    return f"geo fix {_num(position.longitude)} {_num(position.latitude)}"


def mock_location_commands(position: Position) -> list[list[str]]:
    """API 31+ without a console: a shell test provider. `--location` is LATITUDE FIRST."""
    where = f"{_num(position.latitude)},{_num(position.longitude)}"
    return [
        ["appops", "set", "com.android.shell", "android:mock_location", "allow"],
        ["cmd", "location", "providers", "add-test-provider", "gps"],
        ["cmd", "location", "providers", "set-test-provider-enabled", "gps", "true"],
        ["cmd", "location", "providers", "set-test-provider-location", "gps", "--location", where],
    ]


def parse_last_locations(dumpsys: str) -> dict[str, tuple[float, float]]:
    """`dumpsys location`: provider -> (lat, lon) of its `last location=Location[...]`."""
    return {m["provider"]: (float(m["lat"]), float(m["lon"])) for m in _LAST_LOCATION.finditer(dumpsys)}


def clock_commands(epoch_ms: int, kind: DeviceKind) -> list[list[str]]:
    """Stop network time first (it would undo us), then set the wall clock."""
    stop_sync = ["settings", "put", "global", "auto_time", "0"]
    if kind in (DeviceKind.EMULATOR_LEGACY,):
        stamp = time.strftime("%m%d%H%M%Y.%S", time.gmtime(epoch_ms / 1000))
        return [stop_sync, ["date", "-u", stamp]]
    return [stop_sync, ["cmd", "alarm", "set-time", str(epoch_ms)]]


def _num(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# ---------------------------------------------------------------------------------------------
# Strategy selection
# ---------------------------------------------------------------------------------------------

def radio_strategy(session: DeviceSession) -> str:
    """SIM and network: `setprop gsm.*` as root (telephony_status_prop) is the only runtime way."""
    if session.facts.root is None:
        raise SpoofUnsupported("SIM/network spoof", session.serial,
                               "gsm.* properties need root (adb root or su); this build has neither")
    return "setprop-root"


def gps_strategy(session: DeviceSession) -> str:
    if session.facts.is_emulator and session.has_console:
        return "console-geo-fix"
    if session.facts.sdk >= 31:
        return "test-provider"
    raise SpoofUnsupported("GPS position", session.serial,
                           f"no emulator console and SDK {session.facts.sdk} < 31 has no shell test provider")


def locale_strategy(session: DeviceSession) -> str:
    if session.facts.root is None:
        raise SpoofUnsupported("locale", session.serial, "setprop persist.sys.locale needs root")
    return "setprop-restart-zygote"


# ---------------------------------------------------------------------------------------------
# The spoofer: stateful per session (remembers the radio state to re-apply)
# ---------------------------------------------------------------------------------------------

@dataclass
class Spoofer:
    """Applies and verifies spoofs on one session. Every method returns its read-back dict."""

    session: DeviceSession
    ops: DeviceOps | None = None
    slots_wanted: int = 1
    radio_props: dict[str, str] = field(default_factory=dict)  # what reapply_radio() writes
    network: NetworkSpec | None = None
    positions: list[Position] = field(default_factory=list)  # the last GPS fix, if any
    settle_timeout: float = 5.0  # how long a set value may take to show in the read-back

    # --- SIM and serving network ---------------------------------------------------------------
    def sims(self, sims: Sequence[SimSpec]) -> dict[str, Any]:
        strategy = radio_strategy(self.session)
        current = self.session.getprops()
        slots = slot_count(current, max([self.slots_wanted, *(s.slot + 1 for s in sims)]))
        self.radio_props.update(sim_props(current, sims, slots))
        if self.network is not None:  # the serving network follows the SIM unless it was pinned
            self.radio_props.update(network_props(self.radio_props, self.network, slots))
        else:
            self.radio_props.update(network_props(self.radio_props, NetworkSpec(), slots))
        return self._apply_radio("sim", strategy)

    def serving_network(self, spec: NetworkSpec) -> dict[str, Any]:
        strategy = radio_strategy(self.session)
        current = self.session.getprops()
        slots = slot_count(current, self.slots_wanted)
        if self.session.has_console and spec.registration != (self.network or NetworkSpec()).registration:
            # registration is a modem state; the console command also republishes gsm.* (a radio
            # event), which is why the props are written after it
            self.session.console_command(f"gsm voice {spec.registration}")
            self.session.console_command(f"gsm data {spec.registration}")
        self.network = spec
        sim_view = {**{k: current.get(k, "") for k in SIM_PROPS}, **self.radio_props}
        self.radio_props.update({k: v for k, v in sim_view.items() if k in SIM_PROPS})
        self.radio_props.update(network_props(sim_view, spec, slots))
        return self._apply_radio("network", strategy)

    def verify_modem_sims(self, sims: Sequence[SimSpec]) -> dict[str, Any]:
        """Read back SIMs the modem booted with: `gsm.sim.*` and the serving network it registered on."""
        slots = slot_count(self.session.getprops(), max([self.slots_wanted, *(s.slot + 1 for s in sims)]))
        expected = modem_sim_expectations(sims, slots)
        props = poll(lambda: self._modem_shows(expected, slots), self.settle_timeout) or self.session.getprops()
        mismatch = modem_sim_mismatch(expected, props, slots)
        if mismatch is not None:
            raise SpoofMismatch(*mismatch, self.session.serial)
        registry = parse_registry(self.session.check(["dumpsys", "telephony.registry"]))
        observed: dict[str, Any] = {key: props.get(key, "") for key in (*SIM_PROPS, *NETWORK_PROPS)}
        observed["telephony.registry"] = {str(slot): plmn for slot, plmn in sorted(registry.items())}
        if self.network is None or (self.network.plmn is None and self.network.registration == "home"):
            self._check_registered(sims, registry)
            observed["status bar"] = self._check_status_bar(split_slots(props.get("gsm.operator.alpha", ""), 1)[0])
        return _readback("sim", "icc-profile", {k: {str(s): v for s, v in per.items()}
                                                for k, per in expected.items()}, observed)

    def _modem_shows(self, expected: dict[str, dict[int, str]], slots: int) -> dict[str, str] | None:
        props = self.session.getprops()
        return None if modem_sim_mismatch(expected, props, slots) else props

    def _check_registered(self, sims: Sequence[SimSpec], registry: dict[int, str]) -> None:
        """The modem registered each card on its home PLMN (we listed it in numeric_operator.xml)."""
        for sim in sims:
            if sim.plmn is not None and registry.get(sim.slot) != sim.plmn:
                raise SpoofMismatch(f"telephony.registry[{sim.slot}]", sim.plmn, registry.get(sim.slot),
                                    self.session.serial)

    def _check_status_bar(self, network_name: str) -> str | None:
        """Where SystemUI shows a carrier text, it names the network the modem registered on."""
        shown = status_bar_operator(self.session.dump_hierarchy())
        if shown is not None and network_name and network_name not in shown:
            raise SpoofMismatch("status bar operator", network_name, shown, self.session.serial)
        return shown

    def after_sim_boot(self, session: DeviceSession) -> dict[str, Any]:
        """The device cold-booted with new cards: go on with `session`, put back what a boot loses.

        Remembered `gsm.sim.*` values belonged to the old cards; a pinned serving network is derived
        again from the new ones. The GPS fix does not survive a cold boot.
        """
        self.session = session
        restored: dict[str, Any] = {}
        for key in SIM_PROPS:
            self.radio_props.pop(key, None)
        if self.network is not None:  # the boot put the modem back to `home`: say it again
            pinned, self.network = self.network, None
            restored["network"] = self.serving_network(pinned)
        else:
            self.radio_props.clear()
        if self.positions:
            restored["location"] = self.location(self.positions[-1])
        return restored

    def reapply_radio(self) -> dict[str, Any]:
        """Write the remembered gsm.* values again (after a boot, airplane toggle or SIM reload)."""
        if not self.radio_props:
            return {"signal": "radio", "strategy": "none", "expected": {}, "observed": {}}
        return self._apply_radio("radio", radio_strategy(self.session))

    def _apply_radio(self, signal: str, strategy: str) -> dict[str, Any]:
        self.session.shell_batch(setprop_commands(self.radio_props), root=True)
        observed = self.session.getprops()
        view = {key: observed.get(key, "") for key in self.radio_props}
        for key, value in self.radio_props.items():
            if view[key] != value:
                raise SpoofMismatch(key, value, view[key], self.session.serial)
        return _readback(signal, strategy, dict(self.radio_props), view)

    # --- location ---------------------------------------------------------------------------------
    def location(self, position: Position) -> dict[str, Any]:
        """Move the GPS fix only: location services keep the state the scenario left them in."""
        self.positions[:] = [position]
        strategy = gps_strategy(self.session)
        if strategy == "console-geo-fix":
            self.session.console_command(geo_fix_command(position))
        else:
            self.session.shell_batch(mock_location_commands(position))
        expected = (position.latitude, position.longitude)
        seen = poll(lambda: self._gps_matches(expected), self.settle_timeout)
        fix = parse_last_locations(self.session.check(["dumpsys", "location"])).get("gps")
        if not seen:
            raise SpoofMismatch("gps", f"{expected[0]},{expected[1]}", fix, self.session.serial)
        return _readback("location", strategy,
                         {"latitude": position.latitude, "longitude": position.longitude,
                          "place": position.place},
                         {"gps": list(fix) if fix else None})

    def _gps_matches(self, expected: tuple[float, float]) -> bool:
        fix = parse_last_locations(self.session.check(["dumpsys", "location"])).get("gps")
        return fix is not None and all(abs(a - b) <= GPS_TOLERANCE_DEG for a, b in zip(fix, expected))

    def location_services(self, on: bool) -> dict[str, Any]:
        """The master switch (`location_mode` 3 or 0), read back from the device."""
        wanted = "3" if on else "0"
        observed = self._location_mode(wanted)
        return _readback("location", "settings-location-mode", {"location_mode": wanted},
                         {"location_mode": observed})

    def location_enabled(self) -> bool:
        """The switch as the device has it now (what the setup wizard's toggle will show)."""
        return self.session.check(["settings", "get", "secure", "location_mode"]).strip() not in ("0", "")

    def _location_mode(self, mode: str) -> str:
        return self._setting("secure", "location_mode", mode, "location_mode")

    # --- locale, time zone, clock -----------------------------------------------------------------
    def locale(self, locale: str) -> dict[str, Any]:
        strategy = locale_strategy(self.session)
        if self.session.getprop("persist.sys.locale") != locale:
            self.session.shell_batch([["setprop", "persist.sys.locale", locale],
                                      ["setprop", "ctl.restart", "zygote"]], root=True)
            self.session.forget_ui()  # the framework restarted under the u2 server
            self.session.wait_boot_completed(timeout=90)
        observed = self.session.getprop("persist.sys.locale")
        if observed != locale:
            raise SpoofMismatch("locale", locale, observed, self.session.serial)
        return _readback("locale", strategy, {"persist.sys.locale": locale},
                         {"persist.sys.locale": observed})

    def timezone(self, zone: str) -> dict[str, Any]:
        self.session.shell_batch([["settings", "put", "global", "auto_time_zone", "0"],
                                  ["cmd", "alarm", "set-timezone", zone]])
        observed = self.session.getprop("persist.sys.timezone")
        if observed != zone:
            raise SpoofMismatch("timezone", zone, observed, self.session.serial)
        return _readback("timezone", "cmd-alarm", {"persist.sys.timezone": zone},
                         {"persist.sys.timezone": observed})

    def clock(self, epoch_seconds: float) -> dict[str, Any]:
        kind = self.session.facts.kind
        root = kind is DeviceKind.EMULATOR_LEGACY
        self.session.shell_batch(clock_commands(int(epoch_seconds * 1000), kind), root=root)
        observed = self.session.device_time()
        if abs(observed - epoch_seconds) > CLOCK_TOLERANCE_S:
            raise SpoofMismatch("clock", int(epoch_seconds), observed, self.session.serial)
        return _readback("clock", "date-root" if root else "cmd-alarm-set-time",
                         {"epoch_seconds": int(epoch_seconds)}, {"date +%s": observed})

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self.clock(self.session.device_time() + seconds)

    # --- connectivity -----------------------------------------------------------------------------
    def wifi(self, on: bool, ssid: str | None = None) -> dict[str, Any]:
        commands = [["cmd", "wifi", "set-wifi-enabled", "enabled" if on else "disabled"]]
        if on and ssid:
            commands.append(["cmd", "wifi", "connect-network", ssid, "open"])
        self.session.shell_batch(commands)
        wifi_on = self._await_setting("global", "wifi_on", "1" if on else "0", "wifi")
        observed: dict[str, Any] = {"wifi_on": wifi_on}
        if on and ssid:
            status = poll(lambda: _has_ssid(self.session.shell(["cmd", "wifi", "status"]).output, ssid),
                          self.settle_timeout)
            observed["connected_ssid"] = ssid if status else None
            if not status:
                raise SpoofMismatch("wifi.ssid", ssid, self.session.shell(["cmd", "wifi", "status"]).text,
                                    self.session.serial)
        return _readback("wifi", "cmd-wifi", {"wifi_on": "1" if on else "0", "ssid": ssid}, observed)

    def mobile_data(self, on: bool) -> dict[str, Any]:
        observed = self._setting("global", "mobile_data", "1" if on else "0", "mobile_data")
        return _readback("data", "settings", {"mobile_data": "1" if on else "0"}, {"mobile_data": observed})

    def airplane(self, on: bool) -> dict[str, Any]:
        value = "1" if on else "0"
        root = self.session.facts.root is not None  # the broadcast is protected on real builds
        self.session.shell_batch([["settings", "put", "global", "airplane_mode_on", value],
                                  ["am", "broadcast", "-a", "android.intent.action.AIRPLANE_MODE",
                                   "--ez", "state", "true" if on else "false"]], root=root)
        observed = self._await_setting("global", "airplane_mode_on", value, "airplane_mode_on")
        readback = _readback("airplane", "settings-broadcast", {"airplane_mode_on": value},
                             {"airplane_mode_on": observed})
        if not on and self.radio_props:  # radio back on: the modem republished gsm.*
            readback["radio"] = self.reapply_radio()
        return readback

    def ip_country(self, country: str | None) -> dict[str, Any]:
        proxy = ":0"
        if country is not None:
            found = self.ops.proxy_for_country(country) if self.ops is not None else None
            if found is None:
                raise SpoofUnsupported(f"IP country {country}", self.session.serial,
                                       "the lab has no proxy exiting in that country")
            proxy = found
        observed = self._setting("global", "http_proxy", proxy, "http_proxy")
        return _readback("ip", "settings-http-proxy", {"country": country, "http_proxy": proxy},
                         {"http_proxy": observed})

    # --- helpers ------------------------------------------------------------------------------------
    def _setting(self, namespace: str, key: str, value: str, signal: str) -> str:
        self.session.settings_put(namespace, key, value)
        return self._await_setting(namespace, key, value, signal)

    def _await_setting(self, namespace: str, key: str, value: str, signal: str) -> str:
        observed = poll(lambda: _matches(self.session.settings_get(namespace, key), value),
                        self.settle_timeout)
        if observed is None:
            raise SpoofMismatch(signal, value, self.session.settings_get(namespace, key),
                                self.session.serial)
        return value


def _matches(observed: str | None, value: str) -> str | None:
    return observed if observed == value else None


def _has_ssid(status: str, ssid: str) -> bool:
    return f'"{ssid}"' in status or f"SSID: {ssid}" in status or shlex.quote(ssid) in status.split()


def _readback(signal: str, strategy: str, expected: dict[str, Any], observed: dict[str, Any]) -> dict[str, Any]:
    return {"signal": signal, "strategy": strategy, "expected": expected, "observed": observed}
