"""What every firmware family on this device shares: the device's own system, under the vendor's UI.

Theory of operation
-------------------
A firmware family (the reference one in reference.py, a vendor's in another package) is the
vendor's setup wizard, launcher, lock notice, identity and the way it tells that the activation
decision is in. Everything else is the device's and Android's, the same under any family, and
lives here: boot, the modem and its `gsm.*` properties, connectivity, location, `cmd`/`dumpsys`
services, factory reset by broadcast, and the activation client with its region-lock policy (so
every policy, defect variants included, applies to every family).

Everything reacts to the device's hooks (device.py `Firmware`). `boot()` publishes the identity and
the modem state, then finishes the boot (at once with `fast` timing, on a timer thread with
`realistic`), shows the wizard or the home screen, and restores the region-lock verdict kept on the
device. The activation service is a small state machine (`activation_state`: "", pending,
activated, locked) driven by `_maybe_activate()`, called on every event that can make it possible
(wizard finished, connectivity or radio change, boot): when setup is complete, the device is online
and the state is `pending`, one worker thread sends the request. How the state shows outside (a
property, a log line, nothing) is the family's `publish_state`. A `generation` counter bumps at
every boot so a timer or worker started before a reboot never touches the new system.

The radio is modelled as on a real device: `gsm.*` properties are (re)published from the modem
state only on radio events (boot, console `gsm`, airplane mode), so a root `setprop` spoof holds
until the next one. The activation reads the SIM and network from those properties.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from emulators.virtual.device import DeviceConfig, Firmware, Fix, RadioState
from emulators.virtual.firmware import activation_client, connectivity, identity, location, telephony
from emulators.virtual.firmware.policy import LOCKED, Policy, load_policy
from emulators.virtual.firmware.timing import DELAY_TAG, Timing, TimingProfile, delay_message
from emulators.virtual.firmware.timing import PROFILES as TIMING_PROFILES
from emulators.virtual.ui.view import Screen

if TYPE_CHECKING:
    from emulators.virtual.firmware.activation_server import ActivationServer

VERDICT_FILE = "/data/system/regionlock.json"
WIFI_FILE = "/data/misc/wifi/connected.json"
AIRPLANE_SAVED_FILE = "/data/misc/wifi/airplane_saved.json"
RETRY_SECONDS = 2.0
DEFAULT_SETTINGS = (
    ("secure", "location_mode", "3"), ("secure", "user_setup_complete", "0"),
    ("global", "device_provisioned", "0"), ("global", "wifi_on", "1"), ("global", "mobile_data", "1"),
    ("global", "data_roaming", "0"), ("global", "airplane_mode_on", "0"), ("global", "auto_time", "1"),
    ("global", "auto_time_zone", "1"),
)
FACTORY_RESET_ACTIONS = ("android.intent.action.FACTORY_RESET", "android.intent.action.MASTER_CLEAR")


def later(delay: float, action: Any, args: tuple[Any, ...] = ()) -> None:
    """Run `action` after `delay` on a daemon timer, so a pending timer never holds the process open."""
    timer = threading.Timer(delay, action, args)
    timer.daemon = True
    timer.start()


class SystemFirmware(Firmware):
    """The device's system; a family subclass supplies its screens, identity and decision sign."""

    name = "system"
    pages: ClassVar[tuple[str, ...]] = ()  # the family's wizard pages, in order
    wizard_component: ClassVar[str] = ""
    notice_component: ClassVar[str] = ""
    home_component: ClassVar[str] = ""
    timing_profiles: ClassVar[dict[str, TimingProfile]] = TIMING_PROFILES
    activation_tag: ClassVar[str] = "Activation"  # logcat tag of the activation client
    default_locale: ClassVar[str] = "en-US"

    def __init__(self, config: DeviceConfig) -> None:
        self.config = config
        self.profile = self.device_profile(config.knob("device.profile"))
        boot_seconds = config.knob("timing.boot_seconds")
        self.timing = Timing(config.knob("timing", "fast") or "fast", int(config.knob("timing.seed", "0") or 0),
                             float(boot_seconds) if boot_seconds else None, profiles=self.timing_profiles,
                             report=self._log_delay)
        self.policy: Policy = load_policy(config.knob("regionlock.policy", "global") or "global")
        self.slots = max(1, min(2, int(config.knob("sim.slots", "1") or 1)))
        self.lock = threading.RLock()
        self.generation = 0
        self.page = 0
        self.activation_state = ""  # "" | pending | activated | locked; volatile, like a sys.* property
        self.sims: list[telephony.SimCard] = []
        self.operators: dict[str, str] = {}
        self.networks: list[telephony.Network | None] = []
        self.identity: identity.Identity | None = None
        self._worker: threading.Thread | None = None
        self._transition_pending = False
        self._server: ActivationServer | None = None

    def _log_delay(self, kind: str, seconds: float) -> None:
        self.device.log.i(DELAY_TAG, delay_message(kind, seconds))

    # --- what a family supplies --------------------------------------------------------------
    def device_profile(self, name: str) -> identity.DeviceProfile:
        """The identity (`ro.*`) for the `device.profile` knob ("" = the family's default)."""
        raise NotImplementedError

    def home_screen(self) -> Screen:
        raise NotImplementedError

    def wizard_screen(self) -> Screen:
        """The wizard's current page (`self.pages[self.page]`)."""
        raise NotImplementedError

    def notice_screen(self) -> Screen:
        raise NotImplementedError

    def publish_state(self, state: str) -> None:
        """Show an activation state change outside the service (a property, ...); default: nothing."""

    def log_started(self) -> None:
        """A boot line saying which policy the lock service runs."""

    def log_decision(self, reply: dict[str, Any]) -> None:
        """The family's log line(s) when the server's verdict arrives."""

    def log_restored(self, stored: dict[str, Any]) -> None:
        """The family's log line when a verdict kept on the device is restored at boot."""

    def family_dumpsys(self, service: str, args: list[str]) -> str | None:
        return None

    # --- lifecycle ---------------------------------------------------------------------------
    def boot(self, delay: float | None = None) -> None:
        """`delay`: seconds until boot completes; None draws the timing profile's boot time."""
        device = self.device
        with self.lock:
            self.generation += 1
            generation = self.generation
            self.page = 0
            self._transition_pending = False
            self.activation_state = ""
        with device.lock:
            device.screens.clear()
        self.identity = identity.load_identity(self.config.data_dir / "identity.json", self.profile, self.slots)
        device.props.set_many(self.profile.props())
        device.props.set("ro.serialno", self.identity.serial)
        for ns, key, value in DEFAULT_SETTINGS:
            device.settings.put_default(ns, key, value)
        for key, value in (("persist.sys.locale", self.default_locale), ("persist.sys.timezone", "GMT")):
            if not device.props.get(key):
                device.props.set(key, value)
        self._load_modem()
        self.publish_radio()
        device.props.set("init.svc.bootanim", "running")
        self.log_started()
        if delay is None:
            delay = self.timing.boot_delay()
        if delay <= 0:
            self._finish_boot(generation)
        else:
            later(delay, self._finish_boot, (generation,))

    def _finish_boot(self, generation: int) -> None:
        if generation != self.generation:
            return
        device = self.device
        device.props.set("init.svc.bootanim", "stopped")
        self._start_ui()
        device.boot_done()
        device.log.i("ActivityManager", "System boot completed")
        self._restore_activation()

    def shutdown(self) -> None:
        with self.lock:
            self.generation += 1
        with self.device.lock:
            self.device.screens.clear()
        self.device.notify_ui()

    def on_snapshot_loaded(self) -> None:
        # the loaded state is a booted system: the load itself took the time (snapshot_load_delay)
        self.boot(delay=0.0)

    def snapshot_load_delay(self) -> float:
        return self.timing.snapshot_delay()

    def renew_identity(self) -> tuple[str, ...]:
        assert self.identity is not None, "the identity is loaded at boot"
        self.identity = identity.renew_identity(self.config.data_dir / "identity.json", self.profile, self.slots)
        self.device.props.set("ro.serialno", self.identity.serial)
        return self.identity.imeis

    # --- telephony -----------------------------------------------------------------------------
    def _load_modem(self) -> None:
        absent = {slot for slot in range(self.slots) if self.config.knob(f"sim{slot}.absent") in ("1", "true")}
        icc = self.config.knob("icc_profile")
        self.sims = telephony.load_sims(self.config.avd_dir, self.slots, absent, Path(icc) if icc else None)
        self.operators = telephony.load_operators(self.config.avd_dir)

    def _airplane(self) -> bool:
        return self.device.settings.get("global", "airplane_mode_on") == "1"

    def publish_radio(self) -> None:
        """A radio event: the framework rewrites every gsm.* property from the modem."""
        radio, airplane = self.device.radio, self._airplane()
        self.networks = [telephony.serving_network(sim, self.operators, radio.voice, not airplane)
                         for sim in self.sims]
        self.device.props.set_many(telephony.publish(self.sims, self.networks, self.operators))

    def on_radio_changed(self, radio: RadioState) -> None:
        self.publish_radio()
        self._connectivity_changed()

    # --- connectivity --------------------------------------------------------------------------
    def _wifi(self) -> connectivity.WifiStore:
        return connectivity.WifiStore(self.device.fs.host_path(WIFI_FILE))

    def link(self) -> connectivity.LinkInputs:
        settings = self.device.settings
        return connectivity.LinkInputs(
            airplane=self._airplane(), wifi_on=settings.get("global", "wifi_on") == "1",
            wifi_ssid=self._wifi().ssid(), mobile_data=settings.get("global", "mobile_data") == "1",
            data_roaming=settings.get("global", "data_roaming") == "1",
            sim_ready=any(s.present for s in self.sims), data_reg=self.device.radio.data)

    def online(self) -> bool:
        return connectivity.online(self.link())

    def wifi_enabled(self) -> bool:
        link = self.link()
        return link.wifi_on and not link.airplane

    def wifi_connected_ssid(self) -> str:
        return self.link().wifi_ssid if self.wifi_enabled() else ""

    def connect_wifi(self, ssid: str) -> bool:
        if ssid not in connectivity.VISIBLE_NETWORKS or self.device.settings.get("global", "wifi_on") != "1":
            return False
        self._wifi().set_ssid(ssid)
        self.device.log.i("WifiService", f"connected to \"{ssid}\"")
        self._connectivity_changed()
        return True

    def _tap_network(self, ssid: str) -> None:
        self.connect_wifi(ssid)

    def _set_airplane(self, on: bool) -> None:
        """The AIRPLANE_MODE broadcast: radio off/on, Wi-Fi off and back to what it was."""
        settings, saved = self.device.settings, self.device.fs.host_path(AIRPLANE_SAVED_FILE)
        if on:
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_text(json.dumps({"wifi_on": settings.get("global", "wifi_on") or "1"}))
            settings.put("global", "wifi_on", "0", notify=False)
        elif saved.exists():
            settings.put("global", "wifi_on", json.loads(saved.read_text())["wifi_on"], notify=False)
            saved.unlink()
        self.device.log.i("Telephony", f"airplane mode {'on' if on else 'off'}: radio {'off' if on else 'on'}")
        self.publish_radio()
        self._connectivity_changed()

    def _connectivity_changed(self) -> None:
        self._refresh_wizard()
        self._maybe_activate()

    # --- hooks -----------------------------------------------------------------------------------
    def on_setting_changed(self, ns: str, key: str, value: str | None) -> None:
        if key in ("wifi_on", "mobile_data", "data_roaming", "location_mode"):
            self._connectivity_changed()
        elif ns == "global" and key == "auto_time" and value == "1":
            self.device.clock.set(time.time())  # network time comes back: the manual offset is gone

    def on_prop_changed(self, key: str, value: str) -> None:
        if key == "ctl.restart" and value == "zygote":
            # ctl.* are one-shot triggers: clear it so the next restart is a change again
            self.device.props.set("ctl.restart", "", notify=False)
            self.device.log.i("Zygote", "restarting the framework")
            self._start_ui()

    def on_broadcast(self, action: str, extras: dict[str, str]) -> None:
        if action == "android.intent.action.AIRPLANE_MODE":
            self._set_airplane(self._airplane())
        elif action in FACTORY_RESET_ACTIONS:
            later(0.1, self._factory_reset_and_reboot)

    def _factory_reset_and_reboot(self) -> None:
        self.device.log.i("RecoverySystem", "factory reset requested: wiping /data and rebooting")
        self.device.wipe_data()
        self.device.reboot()

    def on_location(self, provider: str, fix: Fix) -> None:
        self.device.log.log("D", "LocationManager", f"{provider} fix {fix.latitude:.6f},{fix.longitude:.6f}")

    def location_on(self) -> bool:
        return self.device.settings.get("secure", "location_mode") not in (None, "0")

    # --- shell services: cmd / dumpsys ------------------------------------------------------------
    def cmd(self, service: str, args: list[str]) -> tuple[str, int] | None:
        from emulators.virtual.firmware.commands import run_cmd

        return run_cmd(self, service, args)

    def dumpsys(self, service: str, args: list[str]) -> str | None:
        assert self.identity is not None
        if service == "iphonesubinfo":
            return identity.dumpsys_iphonesubinfo(self.identity)
        if service == "telephony.registry":
            return telephony.dumpsys_registry(self.sims, self.networks, self.device.radio.voice,
                                              self.device.radio.data)
        if service == "location":
            return location.dumpsys_location(self.device.location, self.location_on(), self.device.clock.now())
        if service == "wifi":
            link = self.link()
            return connectivity.wifi_status_text(link.wifi_on and not link.airplane, link.wifi_ssid)
        return self.family_dumpsys(service, args)

    # --- UI --------------------------------------------------------------------------------------
    def locale(self) -> str:
        return self.device.props.get("persist.sys.locale", self.default_locale) or self.default_locale

    def setup_complete(self) -> bool:
        return self.device.settings.get("secure", "user_setup_complete") == "1"

    def _start_ui(self) -> None:
        """The screens after boot (or a framework restart): wizard or home, the notice on top if locked."""
        screens = [self.home_screen()] if self.setup_complete() else [self.wizard_screen()]
        if self.activation_state == LOCKED:
            screens.append(self.notice_screen())
        self._set_screens(screens)

    def _set_screens(self, screens: list[Screen]) -> None:
        with self.device.lock:
            self.device.screens[:] = screens
        self.device.log.i("ActivityTaskManager", f"Displayed {screens[-1].component}")
        self.device.notify_ui()

    def go_home(self) -> None:
        top = self.device.top_screen()
        if top is None or top.component in (self.notice_component, self.wizard_component):
            return  # neither the notice nor an unfinished setup can be left
        self._set_screens([self.home_screen()])

    def am_start(self, component: str, extras: dict[str, str]) -> str | None:
        if component.split("/")[0] == self.home_component.split("/")[0]:
            self.go_home()
            return None
        return super().am_start(component, extras)

    # --- wizard mechanics (the pages themselves are the family's) ---------------------------------
    def current_page(self) -> str:
        return self.pages[self.page]

    def _refresh_wizard(self) -> None:
        top = self.device.top_screen()
        if top is not None and top.component == self.wizard_component:
            self._set_screens([self.wizard_screen()])

    def _after_delay(self, action: Any) -> None:
        """Run a screen change now (fast) or after the profile's screen delay (realistic).

        Taps during a pending transition are ignored, as a real wizard ignores them mid-animation,
        so a double tap never skips a page.
        """
        with self.lock:
            if self._transition_pending:
                return
            self._transition_pending = True
        delay, generation = self.timing.screen_delay(), self.generation

        def run() -> None:
            with self.lock:
                self._transition_pending = False
            if generation == self.generation:
                action()

        if delay <= 0:
            run()
        else:
            later(delay, run)

    def _next_page(self) -> None:
        if self.page == len(self.pages) - 1:
            self._after_delay(self._finish_setup)
            return

        def advance() -> None:
            self.page = min(self.page + 1, len(self.pages) - 1)
            self._refresh_wizard()

        self._after_delay(advance)

    def _previous_page(self) -> None:
        if self.page > 0:
            self.page -= 1
            self._refresh_wizard()

    def _set_locale(self, locale: str) -> None:
        self.device.props.set("persist.sys.locale", locale)
        self._refresh_wizard()

    def _toggle_wifi(self) -> None:
        on = self.device.settings.get("global", "wifi_on") == "1"
        self.device.settings.put("global", "wifi_on", "0" if on else "1")

    def _toggle_location(self) -> None:
        self.device.settings.put("secure", "location_mode", "0" if self.location_on() else "3")

    def _finish_setup(self) -> None:
        settings = self.device.settings
        settings.put("secure", "user_setup_complete", "1")
        settings.put("global", "device_provisioned", "1")
        self.device.log.i("SetupWizard", "setup complete")
        self._set_screens([self.home_screen()])
        if self.policy.service:
            self._set_state("pending")
            self._maybe_activate()

    # --- activation and the region lock ---------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        self.activation_state = state
        self.publish_state(state)

    def stored_verdict(self) -> dict[str, Any] | None:
        path = self.device.fs.host_path(VERDICT_FILE)
        try:
            return json.loads(path.read_text()) if path.exists() else None
        except ValueError:
            return None

    def _restore_activation(self) -> None:
        """At boot: the verdict kept on the device, or pending when it must be (re)decided."""
        if not self.policy.service or not self.setup_complete():
            return
        stored = self.stored_verdict()
        if stored is not None and self.policy.decide == "first_activation":
            self._apply_state(stored["verdict"])
            self.log_restored(stored)
            return
        self._set_state("pending")
        self._maybe_activate()

    def _maybe_activate(self) -> None:
        with self.lock:
            if (not self.policy.service or self.activation_state != "pending"
                    or not self.setup_complete() or (self._worker is not None and self._worker.is_alive())):
                return
            if not self.online():
                self.device.log.i(self.activation_tag, "waiting: device offline")
                return
            self._worker = threading.Thread(target=self._activate, args=(self.generation,),
                                            name="activation", daemon=True)
            self._worker.start()

    def activation_url(self) -> str:
        url = self.config.knob("activation.url")
        if url:
            return url
        with self.lock:
            if self._server is None:
                # here, not at the top: only a device with no lab server (no `activation.url`) needs one
                from emulators.virtual.firmware.activation_server import ActivationServer

                self._server = ActivationServer(self.config.data_dir / "activation.sqlite").start()
                self.device.log.i(self.activation_tag,
                                  f"started the in-process activation server at {self._server.url}")
            return self._server.url

    def activation_request(self) -> dict[str, Any]:
        """What the device tells the server, read as an app would: props, settings, last fix."""
        props = self.device.props
        states = props.get("gsm.sim.state").split(",")
        numerics = props.get("gsm.sim.operator.numeric").split(",")
        sims = [{"slot": i, "state": state, "numeric": numerics[i] if i < len(numerics) else ""}
                for i, state in enumerate(states)]
        network = next((n for n in props.get("gsm.operator.numeric").split(",") if n), "")
        fix = location.latest_fix(self.device.location) if self.location_on() else None
        assert self.identity is not None
        return {
            "imeis": list(self.identity.imeis), "sims": sims, "network": network,
            "gps": {"provider": fix[0], "lat": fix[1].latitude, "lon": fix[1].longitude} if fix else None,
            "locale": self.locale(), "timezone": props.get("persist.sys.timezone"),
            "firmware": props.get("ro.build.version.incremental"), "model": props.get("ro.product.model"),
            "policy": self.policy.to_wire(),
        }

    def _activate(self, generation: int) -> None:
        request = self.activation_request()
        # the global proxy setting (proxy-aware apps), else the emulator's -http-proxy (all guest TCP)
        proxy = (activation_client.parse_proxy(self.device.settings.get("global", "http_proxy"))
                 or activation_client.parse_proxy(self.config.knob("http_proxy")))
        log = self.device.log
        log.i(self.activation_tag, f"request sims={request['sims']} network={request['network'] or 'none'} "
                                   f"gps={request['gps']} locale={request['locale']} tz={request['timezone']} "
                                   f"proxy={proxy}")
        try:
            url = self.activation_url()
            # drawn (and reported) only now: an attempt that fails before it never waited
            delay = self.timing.activation_delay()
            if delay:
                threading.Event().wait(delay)
            reply = activation_client.post_json(url + "/v1/activate", request, proxy)
        except (OSError, ValueError) as exc:
            log.log("E", self.activation_tag, f"{exc}; retrying in {RETRY_SECONDS:.0f} s")
            later(RETRY_SECONDS, self._retry, (generation,))
            return
        if generation != self.generation:
            return
        self._apply_reply(reply)

    def _retry(self, generation: int) -> None:
        if generation == self.generation:
            self._maybe_activate()

    def _apply_reply(self, reply: dict[str, Any]) -> None:
        self.device.log.i(self.activation_tag, f"reply verdict={reply['verdict']} ip={reply.get('client_ip')} "
                                               f"stored={reply.get('stored')}")
        self.log_decision(reply)
        if self.policy.persist in ("server", "device"):
            path = self.device.fs.host_path(VERDICT_FILE)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({k: reply.get(k) for k in ("verdict", "territory", "signal", "reason")}))
        self._apply_state(reply["verdict"])

    def _apply_state(self, verdict: str) -> None:
        self._set_state(verdict)
        top = self.device.top_screen()
        if verdict == LOCKED and (top is None or top.component != self.notice_component):
            with self.device.lock:
                screens = list(self.device.screens) + [self.notice_screen()]
            self._set_screens(screens)
        elif verdict != LOCKED and top is not None and top.component == self.notice_component:
            self._set_screens([s for s in self.device.screens if s.component != self.notice_component])
