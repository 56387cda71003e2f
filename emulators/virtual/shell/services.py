"""`dumpsys` and `cmd`: the firmware answers first; these are the stock texts when it does not.

`cmd location` is implemented here because it is the framework's (LocationManagerService shell
command), not the product's: test providers, the master switch, and the mock-location app-op check.
"""

from __future__ import annotations

from emulators.virtual.device import Fix
from emulators.virtual.shell.context import COMMANDS, Ctx, UsageError, command
from emulators.virtual.shell.framework import appop_mode

SHELL_PACKAGE = "com.android.shell"

_BATTERY = """Current Battery Service state:
  AC powered: true
  USB powered: false
  Wireless powered: false
  Max charging current: 0
  Max charging voltage: 0
  Charge counter: 10000
  status: 2
  health: 2
  present: true
  level: 100
  scale: 100
  voltage: 5000
  temperature: 250
  technology: Li-ion
"""


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
        return f"TASK {top.split('/')[0]} id=12 userId=0\n  ACTIVITY {top} 5d2e0f1 pid=1234\n"
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
    "battery": lambda ctx, args: _BATTERY,
    "window": lambda ctx, args: _window(ctx),
    "activity": _activity,
    "location": lambda ctx, args: _location(ctx),
    "telephony.registry": lambda ctx, args: _telephony(ctx),
    "iphonesubinfo": lambda ctx, args: _iphonesubinfo(ctx),
    "package": lambda ctx, args: _package(ctx, args),
    "power": lambda ctx, args: "POWER MANAGER (dumpsys power)\n  mWakefulness=Awake\n  mHoldingDisplaySuspendBlocker=true\n",
    "SurfaceFlinger": lambda ctx, args: "Display 4619827259835644672 (HWC display 0): port=0 pnpId=GGL "
                                        'displayName="EMU_display_0"\n',
    "display": lambda ctx, args: "DISPLAY MANAGER (dumpsys display)\n  mDisplayId=0\n",
}


def _package(ctx: Ctx, args: list[str]) -> str:
    pkg = ctx.device.packages.get(args[0]) if args else None
    if pkg is None:
        return "Dexopt state:\n"
    flags = "SYSTEM HAS_CODE" if pkg.system else "HAS_CODE ALLOW_CLEAR_USER_DATA"
    return (f"Packages:\n  Package [{pkg.name}] (5b1c3d2):\n    codePath={pkg.apk_path.rsplit('/', 1)[0]}\n"
            f"    versionCode={pkg.version_code} minSdk=21 targetSdk=31\n    versionName=1.0\n"
            f"    pkgFlags=[ {flags} ]\n    firstInstallTime=2026-11-25 08:00:00\n"
            f"    lastUpdateTime=2026-11-25 08:00:00\n")


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
