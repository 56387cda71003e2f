"""`dumpsys` and `cmd`: the firmware answers first; these are the stock texts when it does not.

`cmd location` is implemented here because it is the framework's (LocationManagerService shell
command), not the product's: test providers, the master switch, and the mock-location app-op check.
"""

from __future__ import annotations

import hashlib

from emulators.virtual import display
from emulators.virtual.device import Fix
from emulators.virtual.shell.context import COMMANDS, Ctx, UsageError, command
from emulators.virtual.shell.files import device_time
from emulators.virtual.shell.framework import appop_mode, installed, uid_offset

SHELL_PACKAGE = "com.android.shell"

# BatteryManager's BATTERY_STATUS_* and BATTERY_HEALTH_* codes, as dumpsys prints them
_BATTERY_STATUS = {"Unknown": 1, "Charging": 2, "Discharging": 3, "Not charging": 4, "Full": 5}
_BATTERY_HEALTH = {"Unknown": 1, "Good": 2, "Overheat": 3, "Dead": 4, "Overvoltage": 5, "Failure": 6}


def _battery(ctx: Ctx) -> str:
    """BatteryService's dump of what the emulator's battery (console `power`) reports."""
    b = ctx.device.battery
    return ("Current Battery Service state:\n"
            f"  AC powered: {str(b.ac == 'online').lower()}\n  USB powered: false\n"
            "  Wireless powered: false\n  Max charging current: 0\n  Max charging voltage: 0\n"
            f"  Charge counter: {b.capacity * 100}\n  status: {_BATTERY_STATUS.get(b.status, 1)}\n"
            f"  health: {_BATTERY_HEALTH.get(b.health, 1)}\n  present: {str(b.present).lower()}\n"
            f"  level: {b.capacity}\n  scale: 100\n  voltage: 5000\n  temperature: 250\n"
            "  technology: Li-ion\n")


def full_component(component: str) -> str:
    """`pkg/.Act` -> `pkg/pkg.Act`, the way WindowManager names a window."""
    package, _, activity = component.partition("/")
    return f"{package}/{package}{activity}" if activity.startswith(".") else component


def _top(ctx: Ctx) -> str | None:
    screen = ctx.device.top_screen()
    return screen.component if screen is not None else None


def _window(ctx: Ctx) -> str:
    top = _top(ctx)
    if top is None:
        return "WINDOW MANAGER WINDOWS (dumpsys window windows)\n  mCurrentFocus=null\n  mFocusedApp=null\n"
    return ("WINDOW MANAGER WINDOWS (dumpsys window windows)\n"
            f"  Window #0 Window{{8f2d1c4 u0 {full_component(top)}}}:\n"
            f"  mCurrentFocus=Window{{8f2d1c4 u0 {full_component(top)}}}\n"
            f"  mFocusedApp=ActivityRecord{{3c1a2b7 u0 {top} t12}}\n")


def _activity(ctx: Ctx, args: list[str]) -> str:
    top = _top(ctx)
    if args[:1] == ["top"]:
        if top is None:
            return "TASK null id=-1\n"
        package = top.split("/")[0]
        # the app's own process in the device's process table: what `ps` and `pidof` show
        from emulators.virtual.sandbox.userland import userland_for

        pid = userland_for(ctx.device).app_pid(package)
        return f"TASK {package} id=12 userId=0\n  ACTIVITY {top} 5d2e0f1 pid={pid}\n"
    if top is None:
        return "ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)\n  mResumedActivity: null\n"
    return ("ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)\n"
            "Display #0 (activities from top to bottom):\n"
            f"  * Task{{9a8b7c6 #12 type=standard A=10104:{top.split('/')[0]} U=0 visible=true}}\n"
            f"    mResumedActivity: ActivityRecord{{5d2e0f1 u0 {top} t12}}\n"
            f"  ResumedActivity: ActivityRecord{{5d2e0f1 u0 {top} t12}}\n")


def location_enabled(ctx: Ctx) -> bool:
    return (ctx.device.settings.get("secure", "location_mode") or "3") != "0"


def _location(ctx: Ctx) -> str:
    lines = ["Location Manager State:", f"  Location Enabled: {str(location_enabled(ctx)).lower()}",
             "  Location Providers:"]
    with ctx.device.lock:
        fixes = dict(ctx.device.location.last_fix)
        tests = dict(ctx.device.location.test_providers)
    for provider in sorted(set(fixes) | {"gps", "network", "fused", "passive"} | set(tests)):
        lines.append(f"    {provider} provider:")
        if provider in tests:
            lines.append(f"      test provider: enabled={str(tests[provider]).lower()}")
        fix = fixes.get(provider)
        if fix is not None:
            lines.append(f"      last location={format_location(ctx, provider, fix)}")
    return "\n".join(lines) + "\n"


def format_location(ctx: Ctx, provider: str, fix: Fix) -> str:
    age_ms = max(0, int((ctx.device.clock.now() - fix.time) * 1000)) if fix.time else 0
    mock = " mock" if fix.mock else ""
    return (f"Location[{provider} {fix.latitude:.6f},{fix.longitude:.6f} hAcc=5.0 et=+{age_ms}ms "
            f"alt={fix.altitude:.1f}{mock}]")


def _telephony(ctx: Ctx) -> str:
    props = ctx.device.props
    return (f"last known state:\n  Phone Id=0\n  mCallState=0\n"
            f"  mServiceState={{mVoiceRegState=0(IN_SERVICE), mDataRegState=0(IN_SERVICE), "
            f"mOperatorAlphaLong={props.get('gsm.operator.alpha')}, "
            f"mOperatorNumeric={props.get('gsm.operator.numeric')}}}\n")


def _iphonesubinfo(ctx: Ctx) -> str:
    imei = ctx.device.props.get("vendor.imei", "") or ctx.device.props.get("ro.serialno", "")
    return f"Phone Subscriber Info:\n  Phone Type = GSM\n  Device ID = {imei}\n"


@command("dumpsys")
def dumpsys(ctx: Ctx) -> int:
    args = ctx.args[1:]
    if not args or args[0] == "-l":
        ctx.out("Currently running services:\n" + "".join(f"  {s}\n" for s in sorted(_DEFAULTS)))
        return 0
    service, rest = args[0], args[1:]
    text = ctx.device.firmware.dumpsys(service, rest)
    if text is None and service in _DEFAULTS:
        text = _DEFAULTS[service](ctx, rest)
    if text is None:
        ctx.err(f"Can't find service: {service}\n")
        return 0
    ctx.out(text if text.endswith("\n") or not text else text + "\n")
    return 0


_DEFAULTS = {
    "battery": lambda ctx, args: _battery(ctx),
    "window": lambda ctx, args: _window(ctx),
    "activity": _activity,
    "location": lambda ctx, args: _location(ctx),
    "telephony.registry": lambda ctx, args: _telephony(ctx),
    "iphonesubinfo": lambda ctx, args: _iphonesubinfo(ctx),
    "package": lambda ctx, args: _package(ctx, args),
    "power": lambda ctx, args: "POWER MANAGER (dumpsys power)\n  mWakefulness=Awake\n  mHoldingDisplaySuspendBlocker=true\n",
    "SurfaceFlinger": lambda ctx, args: "Display 4619827259835644672 (HWC display 0): port=0 pnpId=GGL "
                                        'displayName="EMU_display_0"\n',
    "display": lambda ctx, args: display.dumpsys_display(ctx.device),
}


def _package(ctx: Ctx, args: list[str]) -> str:
    """`dumpsys package NAME`: PackageManager's record, with the versions from the manifest."""
    pkg = installed(ctx).get(args[0]) if args else None
    if pkg is None:
        return "Dexopt state:\n"
    flags = "SYSTEM HAS_CODE PRIVILEGED" if pkg.system else "HAS_CODE ALLOW_CLEAR_USER_DATA"
    stamp = (device_time(ctx.device, pkg.installed_at).strftime("%Y-%m-%d %H:%M:%S") if pkg.installed_at
             else "2008-12-31 16:00:00")  # the image's packages carry the build's fixed time
    uid = 10000 + uid_offset(pkg.name)
    return (f"Packages:\n  Package [{pkg.name}] ({hashlib.md5(pkg.name.encode()).hexdigest()[:7]}):\n"
            f"    userId={uid}\n    pkg=Package{{{hashlib.md5(pkg.apk_path.encode()).hexdigest()[:7]} {pkg.name}}}\n"
            f"    codePath={pkg.apk_path.rsplit('/', 1)[0]}\n    resourcePath={pkg.apk_path.rsplit('/', 1)[0]}\n"
            f"    versionCode={pkg.version_code} minSdk={pkg.min_sdk} targetSdk={pkg.target_sdk}\n"
            f"    versionName={pkg.version_name if pkg.version_name is not None else 'null'}\n"
            f"    splits=[base{''.join(', ' + p.rsplit('/', 1)[1][6:-4] for p in pkg.split_paths)}]\n"
            f"    pkgFlags=[ {flags} ]\n    timeStamp={stamp}\n    firstInstallTime={stamp}\n"
            f"    lastUpdateTime={stamp}\n    installerPackageName={'null' if pkg.system else 'com.android.shell'}\n"
            f"    signatures=PackageSignatures{{{hashlib.md5(pkg.name.encode()).hexdigest()[7:14]} version:2, "
            f"signatures:[{hashlib.md5(pkg.name.encode()).hexdigest()[14:22]}], past signatures:[]}}\n")


# --- cmd -----------------------------------------------------------------------------------------

_CMD_ALIASES = {"package": "pm", "activity": "am", "settings": "settings", "appops": "appops"}


@command("cmd")
def cmd(ctx: Ctx) -> int:
    args = ctx.args[1:]
    if not args:
        raise UsageError("cmd: No service specified; use -l to list all running services", 20)
    service, rest = args[0], args[1:]
    if service == "location":
        result = _cmd_location(ctx, rest)
        if result is not None:
            return result
    alias = _CMD_ALIASES.get(service)
    if alias is not None:  # these services' shell commands are what the old tools wrap
        ctx.args = [alias, *rest]
        return COMMANDS[alias](ctx)
    handled = ctx.device.firmware.cmd(service, rest)
    if handled is None:
        ctx.err(f"cmd: Can't find service: {service}\n")
        return 20
    output, status = handled
    ctx.out(output)
    return status


def _cmd_location(ctx: Ctx, args: list[str]) -> int | None:
    """LocationManagerService's shell commands; None lets the firmware answer the rest."""
    if args[:1] == ["is-location-enabled"]:
        ctx.out(f"{str(location_enabled(ctx)).lower()}\n")
        return 0
    if args[:1] == ["set-location-enabled"] and len(args) >= 2:
        ctx.device.settings.put("secure", "location_mode", "3" if args[1] == "true" else "0")
        return 0
    if args[:1] == ["providers"] and len(args) >= 3:
        return _providers(ctx, args[1], args[2], args[3:])
    return None


def _providers(ctx: Ctx, verb: str, name: str, rest: list[str]) -> int:
    if appop_mode(ctx, SHELL_PACKAGE, "android:mock_location") != "allow":
        ctx.err(f"Exception occurred while executing '{verb}':\njava.lang.SecurityException: "
                f"{SHELL_PACKAGE} from uid 2000 not allowed to perform MOCK_LOCATION\n")
        return 255
    state = ctx.device.location
    if verb == "add-test-provider":
        with ctx.device.lock:
            state.test_providers.setdefault(name, False)
        return 0
    if verb == "remove-test-provider":
        with ctx.device.lock:
            state.test_providers.pop(name, None)
        return 0
    if name not in state.test_providers:
        ctx.err(f"Exception occurred while executing '{verb}':\njava.lang.IllegalArgumentException: "
                f"provider \"{name}\" is not a test provider\n")
        return 255
    if verb == "set-test-provider-enabled":
        with ctx.device.lock:
            state.test_providers[name] = rest[:1] == ["true"]
        return 0
    if verb == "set-test-provider-location":
        return _set_test_location(ctx, name, rest)
    raise UsageError(f"Unknown command: {verb}", 255)


def _set_test_location(ctx: Ctx, name: str, args: list[str]) -> int:
    options = dict(zip(args[::2], args[1::2]))
    try:
        lat_text, lon_text = options["--location"].split(",")
        latitude, longitude = float(lat_text), float(lon_text)
        when = float(options["--time"]) / 1000 if "--time" in options else ctx.device.clock.now()
    except (KeyError, ValueError) as error:
        raise UsageError("Exception occurred while executing 'set-test-provider-location':\n"
                         "java.lang.IllegalArgumentException: --location LAT,LONG is required", 255) from error
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise UsageError("java.lang.IllegalArgumentException: invalid location", 255)
    ctx.device.set_fix(name, Fix(latitude, longitude, time=when, mock=True))
    return 0
