"""Android framework tools: getprop/setprop, settings, pm, am, appops, input, screencap, wm, ...

Each talks to the device core (props, settings, packages) or to the firmware's hooks, and prints
what the real tool prints, because harness code parses these texts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from pathlib import Path

from emulators.virtual.apk import InvalidApk, Manifest, read_manifest
from emulators.virtual.device import Package, ShellIO
from emulators.virtual.shell.context import Ctx, UsageError, command
from emulators.virtual.shell.files import write_denied
from emulators.virtual.shell.toybox import split_flags

# --- properties ----------------------------------------------------------------------------------

SHELL_SETTABLE = ("debug.", "log.", "persist.log.", "vendor.debug.", "persist.debug.", "persist.vendor.debug.")


@command("getprop")
def getprop(ctx: Ctx) -> int:
    args = [a for a in ctx.args[1:] if not a.startswith("-")]
    if not args:
        for key, value in ctx.device.props.all().items():
            ctx.out(f"[{key}]: [{value}]\n")
        return 0
    default = args[1] if len(args) > 1 else ""
    ctx.out(ctx.device.props.get(args[0], default) + "\n")
    return 0


def setprop_allowed(key: str, root: bool, current: str) -> bool:
    """SELinux's verdict on `setprop` from the shell domain (root = su domain after `adb root`)."""
    if key.startswith("ro."):
        return root and current == ""
    return root or key.startswith(SHELL_SETTABLE)


@command("setprop")
def setprop(ctx: Ctx) -> int:
    if len(ctx.args) != 3:
        raise UsageError("setprop: Needs 2 arguments", 1)
    key, value = ctx.args[1], ctx.args[2]
    if len(value) > 91 and not key.startswith("ro.") or not setprop_allowed(key, ctx.root,
                                                                             ctx.device.props.get(key)):
        raise UsageError(f"Failed to set property '{key}' to '{value}'.\nSee dmesg for error reason.", 1)
    ctx.device.props.set(key, value)
    return 0


# --- settings ------------------------------------------------------------------------------------

_SETTINGS_USAGE = "usage:  settings [--user <USER_ID> | current] get namespace key"


@command("settings")
def settings(ctx: Ctx) -> int:
    args = _drop_user(ctx.args[1:])
    if len(args) < 2:
        raise UsageError(_SETTINGS_USAGE, 255)
    verb, ns, rest = args[0], args[1], args[2:]
    if ns not in ("system", "secure", "global"):
        raise UsageError(f"Invalid namespace '{ns}'\n{_SETTINGS_USAGE}", 255)
    store = ctx.device.settings
    if verb == "get" and rest:
        value = store.get(ns, rest[0])
        ctx.out(("null" if value is None else value) + "\n")
    elif verb == "put" and len(rest) >= 2:
        store.put(ns, rest[0], rest[1])
    elif verb == "delete" and rest:
        ctx.out(f"Deleted {1 if store.delete(ns, rest[0]) else 0} rows\n")
    elif verb == "list":
        for key, value in store.list(ns).items():
            ctx.out(f"{key}={value}\n")
    elif verb == "reset":
        return 0
    else:
        raise UsageError(_SETTINGS_USAGE, 255)
    return 0


def _drop_user(args: list[str]) -> list[str]:
    out, it = [], iter(args)
    for arg in it:
        if arg == "--user":
            next(it, None)
        else:
            out.append(arg)
    return out


# --- packages ------------------------------------------------------------------------------------

@command("pm")
def pm(ctx: Ctx) -> int:
    args = _drop_user(ctx.args[1:])
    if not args:
        raise UsageError("usage: pm [list|path|install|uninstall|clear|grant] ...", 1)
    verb, rest = args[0], args[1:]
    handler = _PM.get(verb)
    if handler is None:
        raise UsageError(f"Unknown command: {verb}", 255)
    return handler(ctx, rest)


# What every image has, whatever the firmware registers: the framework's own packages.
BASE_PACKAGES = {name: Package(name, f"/system/{where}/base.apk", system=True) for name, where in (
    ("android", "framework/framework-res.apk"), ("com.android.shell", "priv-app/Shell"),
    ("com.android.systemui", "system_ext/priv-app/SystemUIGoogle"), ("com.android.phone", "priv-app/TeleService"),
    ("com.android.providers.settings", "priv-app/SettingsProvider"),
    ("com.android.inputmethod.latin", "app/LatinIME"),
)}


def installed(ctx: Ctx) -> dict[str, Package]:
    """Every package PackageManager knows: the framework's, the firmware's apps, then installed APKs."""
    system = {p.name: p for p in ctx.device.firmware.system_packages()}
    with ctx.device.lock:
        return {**BASE_PACKAGES, **system, **ctx.device.packages}


def _pm_list(ctx: Ctx, args: list[str]) -> int:
    if not args or args[0] != "packages":
        raise UsageError("Error: unknown list type", 255)
    flags, _, rest = split_flags(args[1:], digit_flags=True)
    name_filter = rest[0] if rest else ""
    for pkg in sorted(installed(ctx).values(), key=lambda p: p.name):
        if ("3" in flags and pkg.system) or ("s" in flags and not pkg.system) or name_filter not in pkg.name:
            continue
        where = f"{pkg.apk_path}=" if "f" in flags else ""
        uid = f" uid:{10000 + uid_offset(pkg.name)}" if "U" in flags else ""
        ctx.out(f"package:{where}{pkg.name}{uid}\n")
    return 0


def uid_offset(name: str) -> int:
    return int(hashlib.md5(name.encode()).hexdigest()[:4], 16) % 900 + 100


def _pm_path(ctx: Ctx, args: list[str]) -> int:
    pkg = installed(ctx).get(args[0]) if args else None
    if pkg is None:
        return 1
    ctx.out("".join(f"package:{path}\n" for path in (pkg.apk_path, *pkg.split_paths)))
    return 0


def _pm_clear(ctx: Ctx, args: list[str]) -> int:
    if not args or args[0] not in installed(ctx):
        ctx.out("Failed\n")
        return 1
    ctx.device.force_stop(args[0])
    ctx.out("Success\n")
    return 0


def _pm_install(ctx: Ctx, args: list[str]) -> int:
    flags, values, rest = split_flags(args, with_value="iS")
    if "S" in values:  # `adb install` streaming: `cmd package install -S SIZE`, the APK on stdin
        data = _read_exactly(ctx, int(values["S"] or 0))
    elif not rest:
        raise UsageError("Error: APK content must be streamed", 255)
    elif not ctx.host_path(rest[-1]).is_file():
        ctx.out("Failure [INSTALL_FAILED_INVALID_URI]\n")
        return 1
    else:
        data = ctx.host_path(rest[-1]).read_bytes()
    return _commit(ctx, {"base.apk": data}, downgrade="d" in flags)


def _commit(ctx: Ctx, apks: dict[str, bytes], downgrade: bool) -> int:
    """Parse, check and install a base APK with its splits; prints PackageManager's verdict."""
    try:
        manifests = {name: read_manifest(data) for name, data in apks.items()}
    except InvalidApk:
        ctx.out("Failure [INSTALL_PARSE_FAILED_NOT_APK: Failed to parse APK]\n")
        return 1
    bases = [m for m in manifests.values() if m.split is None]
    failure = _install_failure(ctx, bases, list(manifests.values()), downgrade)
    if failure:
        ctx.out(f"Failure [{failure}]\n")
        return 1
    base = bases[0]
    folder = _install_folder(base.package)
    for name, data in apks.items():
        target = ctx.device.fs.host_path(f"{folder}/{_apk_name(manifests[name])}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    splits = sorted(f"{folder}/{_apk_name(m)}" for m in manifests.values() if m.split)
    ctx.device.install_package(Package(base.package, f"{folder}/base.apk", base.version_code,
                                       version_name=base.version_name, min_sdk=base.min_sdk,
                                       target_sdk=base.target_sdk, split_paths=splits,
                                       installed_at=ctx.device.clock.now()))
    ctx.out("Success\n")
    return 0


def _install_failure(ctx: Ctx, bases: list[Manifest], manifests: list[Manifest], downgrade: bool) -> str:
    if len(bases) != 1:
        return "INSTALL_FAILED_INVALID_APK: Full install must include a base package"
    base = bases[0]
    if any(m.package != base.package for m in manifests):
        return "INSTALL_FAILED_INVALID_APK: Split packages have different package names"
    sdk = int(ctx.device.props.get("ro.build.version.sdk") or 31)
    if base.min_sdk > sdk:
        return (f"INSTALL_FAILED_OLDER_SDK: Failed parse during installPackageLI: Requires newer sdk "
                f"version #{base.min_sdk} (current version is #{sdk})")
    old = installed(ctx).get(base.package)
    if old is not None and old.system:
        return f"INSTALL_FAILED_UPDATE_INCOMPATIBLE: Package {base.package} is a system app"
    if old is not None and base.version_code < old.version_code and not downgrade:
        return (f"INSTALL_FAILED_VERSION_DOWNGRADE: Downgrade detected: Update version code "
                f"{base.version_code} is older than current {old.version_code}")
    return ""


def _apk_name(manifest: Manifest) -> str:
    return f"split_{manifest.split}.apk" if manifest.split else "base.apk"


def _read_exactly(ctx: Ctx, size: int) -> bytes:
    chunks, left = [], size
    while left > 0 and (chunk := ctx.stdin(min(left, 65536))):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _install_folder(name: str) -> str:
    """Where PackageManager keeps an app's APKs: /data/app/~~RAND==/NAME-RAND==."""
    digest = hashlib.sha1(f"{name}{time.time_ns()}".encode()).hexdigest()
    return f"/data/app/~~{digest[:22]}==/{name}-{digest[22:40]}=="


# --- install sessions (`adb install-multiple`: install-create, install-write, install-commit) ----

SESSIONS_DIR = "/data/app"


def _session_dir(ctx: Ctx, session: str) -> Path | None:
    if not session.isdigit():
        return None
    path = ctx.device.fs.host_path(f"{SESSIONS_DIR}/vmdl{session}.tmp")
    return path if path.is_dir() else None


def _pm_install_create(ctx: Ctx, args: list[str]) -> int:
    session = str(int.from_bytes(os.urandom(3), "big") + 1)
    ctx.device.fs.host_path(f"{SESSIONS_DIR}/vmdl{session}.tmp").mkdir(parents=True)
    ctx.out(f"Success: created install session [{session}]\n")
    return 0


def _pm_install_write(ctx: Ctx, args: list[str]) -> int:
    _, values, rest = split_flags(args, with_value="S")
    folder = _session_dir(ctx, rest[0]) if rest else None
    if folder is None or len(rest) < 2 or "/" in rest[1] or rest[1] in (".", ".."):
        raise UsageError("Error: invalid session or split name", 255)
    if "S" in values and (len(rest) < 3 or rest[2] == "-"):
        data = _read_exactly(ctx, int(values["S"] or 0))
    elif len(rest) >= 3 and ctx.host_path(rest[2]).is_file():
        data = ctx.host_path(rest[2]).read_bytes()
    else:
        raise UsageError("Error: APK content must be streamed", 255)
    (folder / rest[1]).write_bytes(data)
    ctx.out(f"Success: streamed {len(data)} bytes\n")
    return 0


def _pm_install_commit(ctx: Ctx, args: list[str]) -> int:
    folder = _session_dir(ctx, args[0]) if args else None
    if folder is None:
        raise UsageError(f"Error: invalid session id {args[0] if args else ''}", 255)
    apks = {f.name: f.read_bytes() for f in sorted(folder.iterdir()) if f.is_file()}
    shutil.rmtree(folder)
    return _commit(ctx, apks, downgrade=False)


def _pm_install_abandon(ctx: Ctx, args: list[str]) -> int:
    folder = _session_dir(ctx, args[0]) if args else None
    if folder is not None:
        shutil.rmtree(folder)
    ctx.out("Success\n")
    return 0


def _pm_uninstall(ctx: Ctx, args: list[str]) -> int:
    _, _, rest = split_flags(args)
    pkg = ctx.device.packages.get(rest[0]) if rest else None
    if pkg is None or pkg.system:
        ctx.out("Failure [DELETE_FAILED_INTERNAL_ERROR]\n")
        return 1
    ctx.device.force_stop(pkg.name)
    with ctx.device.lock:
        ctx.device.packages.pop(pkg.name, None)
        ctx.device._save_packages()
    ctx.out("Success\n")
    return 0


def _pm_quiet(ctx: Ctx, args: list[str]) -> int:
    """grant / revoke / disable-user...: accepted for installed packages, no output."""
    if args and args[0] not in installed(ctx):
        raise UsageError(f"Exception occurred while executing:\n"
                         f"java.lang.IllegalArgumentException: Unknown package: {args[0]}", 255)
    return 0


_PM = {"list": _pm_list, "path": _pm_path, "clear": _pm_clear, "install": _pm_install,
       "install-create": _pm_install_create, "install-write": _pm_install_write,
       "install-commit": _pm_install_commit, "install-abandon": _pm_install_abandon,
       "uninstall": _pm_uninstall, "grant": _pm_quiet, "revoke": _pm_quiet}


# --- activities and broadcasts -------------------------------------------------------------------

ROOT_ONLY_BROADCASTS = ("android.intent.action.FACTORY_RESET", "android.intent.action.MASTER_CLEAR",
                        "android.intent.action.BOOT_COMPLETED")
_EXTRA_FLAGS = {"--es": str, "--ez": str, "--ei": str, "--el": str, "--ef": str, "--eu": str}


def parse_intent(args: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(options, extras) from am's intent arguments: -n -a -d -c -f and --es/--ez/--ei k v."""
    options: dict[str, str] = {}
    extras: dict[str, str] = {}
    it = iter(args)
    for arg in it:
        if arg in _EXTRA_FLAGS:
            key = next(it, "")
            extras[key] = next(it, "")
        elif arg in ("-n", "-a", "-d", "-c", "-f", "-t", "--user", "-p", "--receiver-permission"):
            options[arg] = next(it, "")
        elif arg.startswith("-"):
            options[arg] = ""
        elif "-n" not in options and "/" in arg:
            options["-n"] = arg
    return options, extras


def _intent_text(options: dict[str, str], flags: str = "") -> str:
    parts = []
    if "-a" in options:
        parts.append(f"act={options['-a']}")
    if "-d" in options:
        parts.append(f"dat={options['-d']}")
    if flags:
        parts.append(f"flg={flags}")
    if "-n" in options:
        parts.append(f"cmp={options['-n']}")
    return "Intent { " + " ".join(parts) + " }"


@command("am")
def am(ctx: Ctx) -> int:
    args = ctx.args[1:]
    if not args:
        raise UsageError("usage: am [start|force-stop|broadcast] ...", 1)
    verb, rest = args[0], args[1:]
    if verb in ("start", "start-activity"):
        return _am_start(ctx, rest)
    if verb in ("force-stop", "kill"):
        if rest:
            ctx.device.force_stop(_drop_user(rest)[0])
        return 0
    if verb == "broadcast":
        return _am_broadcast(ctx, rest)
    raise UsageError(f"Unknown command: {verb}", 255)


def _am_start(ctx: Ctx, args: list[str]) -> int:
    options, extras = parse_intent(args)
    component = options.get("-n") or options.get("-a", "")
    ctx.out(f"Starting: {_intent_text(options)}\n")
    started = time.monotonic()
    error = ctx.device.firmware.am_start(component, extras)
    if error is not None:
        ctx.err(f"Error type 3\n{error}\n")
        return 1
    if "-W" in options:
        took = max(1, int((time.monotonic() - started) * 1000))
        ctx.out(f"Status: ok\nLaunchState: COLD\nActivity: {component}\nTotalTime: {took}\n"
                f"WaitTime: {took + 5}\nComplete\n")
    return 0


@command("monkey")
def monkey(ctx: Ctx) -> int:
    """Only the launch idiom (`monkey -p PKG -c android.intent.category.LAUNCHER 1`, used by
    uiautomator2's app_start): the firmware's am_start gets the bare package name to resolve."""
    _, values, _ = split_flags(ctx.args[1:], with_value="pcs")
    package = values.get("p", "")
    if not package or ctx.device.firmware.am_start(package, {}) is not None:
        ctx.err("** No activities found to run, monkey aborted.\n")
        return 252
    ctx.out("Events injected: 1\n## Network stats: elapsed time=12ms (0ms mobile, 0ms wifi, 12ms not connected)\n")
    return 0


def _am_broadcast(ctx: Ctx, args: list[str]) -> int:
    options, extras = parse_intent(args)
    action = options.get("-a", "")
    ctx.out(f"Broadcasting: {_intent_text(options, '0x400000')}\n")
    if action in ROOT_ONLY_BROADCASTS and not ctx.root:
        ctx.err(f"Security exception: Permission Denial: not allowed to send broadcast {action} "
                f"from pid={ctx.shell.pid}, uid=2000\n")
        return 255
    ctx.device.broadcast(action, extras)
    from emulators.virtual.shell.ime import adb_keyboard_receiver

    answer = adb_keyboard_receiver(ctx, action, extras)
    ctx.out(f"Broadcast completed: {answer or 'result=0'}\n")
    return 0


# --- app ops ---------------------------------------------------------------------------------------

APPOPS_FILE = "/data/system/appops.json"
APPOP_MODES = ("allow", "ignore", "deny", "default", "foreground", "errored")


def _op_name(op: str) -> str:
    """`android:mock_location` and `MOCK_LOCATION` are the same op."""
    return op.removeprefix("android:").upper()


def _load_appops(ctx: Ctx) -> dict[str, dict[str, str]]:
    host = ctx.device.fs.host_path(APPOPS_FILE)
    return json.loads(host.read_text()) if host.is_file() else {}


def appop_mode(ctx: Ctx, package: str, op: str) -> str:
    """The mode `appops set` gave (persisted in /data like Android's appops.xml), else `default`."""
    return _load_appops(ctx).get(package, {}).get(_op_name(op), "default")


@command("appops")
def appops(ctx: Ctx) -> int:
    args = _drop_user(ctx.args[1:])
    if len(args) >= 4 and args[0] == "set":
        _, package, op, mode = args[:4]
        if mode not in APPOP_MODES:
            raise UsageError(f"Error: Mode {mode} is not valid", 255)
        ops = _load_appops(ctx)
        ops.setdefault(package, {})[_op_name(op)] = mode
        host = ctx.device.fs.host_path(APPOPS_FILE)
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_text(json.dumps(ops, indent=1, sort_keys=True))
        return 0
    if len(args) >= 2 and args[0] == "get":
        modes = _load_appops(ctx).get(args[1], {})
        wanted = {_op_name(o) for o in args[2:]}
        shown = {k: v for k, v in modes.items() if not wanted or k in wanted}
        if not shown:
            ctx.out("No operations.\n" if not wanted else
                    "".join(f"{name}: default\n" for name in sorted(wanted)))
        for name, mode in sorted(shown.items()):
            ctx.out(f"{name}: {mode}\n")
        return 0
    raise UsageError("usage: appops set [--user N] PACKAGE OP MODE | appops get PACKAGE [OP]", 255)


# --- input, screen, window manager -----------------------------------------------------------------

_INPUT_SOURCES = ("touchscreen", "keyboard", "mouse", "touchpad", "dpad", "gamepad", "stylus", "trackball")


@command("input")
def input_(ctx: Ctx) -> int:
    from emulators.virtual.ui import input as ui_input

    args = [a for a in ctx.args[1:] if a not in _INPUT_SOURCES and a not in ("--longpress", "-d", "0")]
    if not args:
        raise UsageError("Usage: input [<source>] <command> [<arg>...]", 1)
    verb, rest = args[0], args[1:]
    try:
        if verb == "tap" and len(rest) == 2:
            ui_input.tap(ctx.device, int(float(rest[0])), int(float(rest[1])))
        elif verb in ("swipe", "draganddrop") and len(rest) >= 4:
            x1, y1, x2, y2 = (int(float(v)) for v in rest[:4])
            ms = int(rest[4]) if len(rest) > 4 else 300
            # the finger moves for the time asked; what it does lands when it lifts
            if ctx.wait(ms / 1000):
                return 130
            ui_input.swipe(ctx.device, x1, y1, x2, y2, ms)
        elif verb == "text" and rest:
            ui_input.text(ctx.device, " ".join(rest).replace("%s", " "))
        elif verb == "keyevent" and rest:
            return _keyevents(ctx, rest)
        else:
            raise UsageError(f"Error: Unknown command: {verb}", 1)
    except ValueError as error:
        raise UsageError(f"Error: bad number: {error}", 1) from error
    return 0


def _keyevents(ctx: Ctx, names: list[str]) -> int:
    from emulators.virtual.ui import input as ui_input

    for name in names:
        code = ui_input.key_code(name)
        if code is None:
            raise UsageError(f"Error: Unknown keycode: {name}", 1)
        ui_input.key(ctx.device, code)
    return 0


@command("screencap")
def screencap(ctx: Ctx) -> int:
    from emulators.virtual.ui import render

    flags, _, rest = split_flags(ctx.args[1:], with_value="d")
    target = rest[0] if rest else None
    png = "p" in flags or (target is not None and target.endswith(".png"))
    data = render.render_png(ctx.device) if png else render.render_raw(ctx.device)
    if target is None:
        ctx.stdout(data)
        return 0
    return _write_file(ctx, target, data)


def _write_file(ctx: Ctx, target: str, data: bytes) -> int:
    denied = write_denied(ctx.device, ctx.device_path(target), ctx.root)
    host = ctx.host_path(target)
    if denied or not host.parent.is_dir():
        ctx.err(f"Error opening file: {target} ({denied or 'No such file or directory'})\n")
        return 1
    host.write_bytes(data)
    return 0


@command("uiautomator")
def uiautomator(ctx: Ctx) -> int:
    from emulators.virtual.ui import hierarchy

    args = ctx.args[1:]
    if not args or args[0] != "dump":
        ctx.out("Usage: uiautomator <subcommand> [options]\n\nAvailable subcommands:\n\n"
                "dump: creates an XML dump of current UI hierarchy\n")
        return 0 if not args else 1
    flags = [a for a in args[1:] if a.startswith("--")]
    files = [a for a in args[1:] if not a.startswith("--")]
    target = files[0] if files else "/sdcard/window_dump.xml"
    xml = hierarchy.dump_xml(ctx.device, compressed="--compressed" in flags)
    if target in ("/dev/tty", "/proc/self/fd/1"):
        ctx.out(xml + "\nUI hierchary dumped to: /dev/tty\n")
        return 0
    status = _write_file(ctx, target, xml.encode())
    if status == 0:
        ctx.out(f"UI hierchary dumped to: {target}\n")
    return status


_WM_USAGE = "Window manager (window) commands:\n  size [reset|WxH|WdpxHdp]\n  density [reset|DENSITY]"


@command("wm")
def wm(ctx: Ctx) -> int:
    """WindowManagerShellCommand's size and density: show, force (`WxH`, `D`) or `reset`."""
    from emulators.virtual import display

    args = _drop_user([a for a in ctx.args[1:] if a not in ("-d", "0")])
    verb, rest = (args[0], args[1:]) if args else ("", [])
    g = display.geometry(ctx.device)
    if verb == "size" and not rest:
        ctx.out(f"Physical size: {g.physical[0]}x{g.physical[1]}\n")
        if g.override:
            ctx.out(f"Override size: {g.override[0]}x{g.override[1]}\n")
    elif verb == "size":
        display.set_size(ctx.device, None if rest[0] == "reset" else _wm_size(rest[0], g.density))
    elif verb == "density" and not rest:
        ctx.out(f"Physical density: {g.physical_density}\n")
        if g.override_density:
            ctx.out(f"Override density: {g.override_density}\n")
    elif verb == "density":
        if rest[0] != "reset" and not (rest[0].isdigit() and int(rest[0]) > 0):
            raise UsageError(f"Error: bad number For input string: \"{rest[0]}\"", 255)
        display.set_density(ctx.device, None if rest[0] == "reset" else int(rest[0]))
    else:
        raise UsageError(_WM_USAGE, 255)
    return 0


def _wm_size(text: str, density: int) -> tuple[int, int]:
    """`WxH` in pixels, or `WdpxHdp` in dp at the current density."""
    width, sep, height = text.lower().partition("x")
    try:
        values = [int(v.removesuffix("dp")) * (density / 160 if v.endswith("dp") else 1)
                  for v in (width, height)]
    except ValueError:
        values = []
    if not sep or len(values) != 2 or min(values) <= 0:
        raise UsageError(f"Error: bad size {text}", 255)
    return int(values[0]), int(values[1])


# --- power, radios, the uiautomator2 server -------------------------------------------------------

@command("reboot")
def reboot(ctx: Ctx) -> int:
    def later() -> None:
        time.sleep(0.05)  # let this command's exit status reach the client first
        ctx.device.reboot()

    threading.Thread(target=later, name="reboot", daemon=True).start()
    return 0


_SVC_SETTINGS = {"wifi": "wifi_on", "data": "mobile_data"}


@command("svc")
def svc(ctx: Ctx) -> int:
    args = ctx.args[1:]
    handled = ctx.device.firmware.cmd("svc", args)
    if handled is not None:
        output, status = handled
        ctx.out(output)
        return status
    if len(args) == 2 and args[0] in _SVC_SETTINGS and args[1] in ("enable", "disable"):
        ctx.device.settings.put("global", _SVC_SETTINGS[args[0]], "1" if args[1] == "enable" else "0")
        return 0
    raise UsageError("Usage: svc [wifi|data|power|usb|nfc|bluetooth] ...", 1)


# --- ip (iproute2, /system/bin/ip): the emulator's interfaces -----------------------------------

def _wifi_up(ctx: Ctx) -> bool:
    settings = ctx.device.settings
    return settings.get("global", "wifi_on") != "0" and settings.get("global", "airplane_mode_on") != "1"


def _interfaces(ctx: Ctx) -> dict[str, str]:
    """Interface -> `ip addr` block. wlan0 carries the address while Wi-Fi is on, as on API 31."""
    lo = ("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n"
          "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
          "    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n")
    up = _wifi_up(ctx)
    address = ctx.device.firmware.ip_address()
    wlan = (f"3: wlan0: <BROADCAST,MULTICAST{',UP,LOWER_UP' if up else ''}> mtu 1500 qdisc mq "
            f"state {'UP' if up else 'DOWN'} group default qlen 1000\n"
            "    link/ether 02:15:b2:00:00:00 brd ff:ff:ff:ff:ff:ff\n")
    if up:
        prefix = address.rsplit(".", 1)[0]
        wlan += (f"    inet {address}/24 brd {prefix}.255 scope global wlan0\n"
                 "       valid_lft forever preferred_lft forever\n")
    return {"lo": lo, "wlan0": wlan}


@command("ip")
def ip(ctx: Ctx) -> int:
    args = [a for a in ctx.args[1:] if a not in ("-4", "-6", "-o")]
    obj, rest = (args[0], args[1:]) if args else ("", [])
    if obj in ("a", "addr", "address"):
        names = [a for a in rest if a not in ("show", "list", "dev")]
        blocks = _interfaces(ctx)
        if names and names[0] not in blocks:
            raise UsageError(f'Device "{names[0]}" does not exist.', 1)
        ctx.out("".join(blocks[n] for n in (names[:1] or list(blocks))))
        return 0
    if obj in ("r", "route"):
        if _wifi_up(ctx):
            address = ctx.device.firmware.ip_address()
            ctx.out(f"{address.rsplit('.', 1)[0]}.0/24 dev wlan0 proto kernel scope link src {address}\n")
        return 0
    raise UsageError('Object "' + obj + '" is unknown, try "ip help".', 1)


U2_MAIN = "com.wetest.uia2.Main"


@command("app_process", "app_process64")
def app_process(ctx: Ctx) -> int:
    """Only uiautomator2's server launch: `CLASSPATH=/data/local/tmp/u2.jar app_process / MAIN -p PORT`."""
    args = ctx.args[1:]
    main = next((a for a in args[1:] if not a.startswith("-")), "")
    classpath = ctx.env.get("CLASSPATH", "")
    if main != U2_MAIN or not classpath or not ctx.host_path(classpath).is_file():
        ctx.err(f"Error: Could not find or load main class {main or '(none)'}\n"
                f"Caused by: java.lang.ClassNotFoundException: {main}\n")
        return 1
    port = int(args[args.index("-p") + 1]) if "-p" in args and args.index("-p") + 1 < len(args) else 9008
    from emulators.virtual import u2server

    return u2server.serve(ctx.device, port, ShellIO(ctx.stdin, ctx.stdout, ctx.stderr, ctx.closed))
