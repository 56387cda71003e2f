"""`ime` (InputMethodManager's shell command) and uiautomator2's AdbKeyboard broadcast receiver.

uiautomator2's `send_keys` installs its APK (package com.github.uiautomator), selects the
`AdbKeyboard` input method with `ime enable/set`, then sends `am broadcast -a
ADB_KEYBOARD_INPUT_TEXT --es text <base64>` and requires `result=-1` back. On a device the IME app
answers that broadcast; here this module does, for the same package, only while it is selected.
"""

from __future__ import annotations

import base64
import binascii

from emulators.virtual.shell.context import Ctx, UsageError, command

LATIN_IME = "com.android.inputmethod.latin/.LatinIME"
ADB_KEYBOARD = "com.github.uiautomator/.AdbKeyboard"
ENABLED_KEY = "enabled_input_methods"
DEFAULT_KEY = "default_input_method"


def available(ctx: Ctx) -> list[str]:
    """Input methods of installed packages: the stock keyboard, plus AdbKeyboard once installed."""
    ids = [LATIN_IME]
    if ADB_KEYBOARD.split("/")[0] in ctx.device.packages:
        ids.append(ADB_KEYBOARD)
    return ids


def current(ctx: Ctx) -> str:
    return ctx.device.settings.get("secure", DEFAULT_KEY) or LATIN_IME


def _enabled(ctx: Ctx) -> list[str]:
    value = ctx.device.settings.get("secure", ENABLED_KEY)
    return value.split(":") if value else [LATIN_IME]


@command("ime")
def ime(ctx: Ctx) -> int:
    args = [a for a in ctx.args[1:] if a not in ("--user", "0", "current")]
    verb, rest = (args[0], args[1:]) if args else ("", [])
    if verb == "list":
        ids = available(ctx) if "-a" in rest else [i for i in available(ctx) if i in _enabled(ctx)]
        ctx.out("".join(f"{i}\n" for i in ids) if "-s" in rest else
                "".join(f"{i}:\n  mId={i}\n" for i in ids))
        return 0
    if verb in ("enable", "disable", "set") and rest:
        return _change(ctx, verb, rest[0])
    raise UsageError("ime <command>:\n  list [-a] [-s]\n  enable ID\n  disable ID\n  set ID", 255)


def _change(ctx: Ctx, verb: str, ime_id: str) -> int:
    if ime_id not in available(ctx):
        ctx.err(f'Unknown input method {ime_id} cannot be {"selected" if verb == "set" else verb + "d"}'
                " for user #0\n")
        return 255
    enabled = _enabled(ctx)
    settings = ctx.device.settings
    if verb == "set":
        settings.put("secure", DEFAULT_KEY, ime_id)
        ctx.out(f"Input method {ime_id} selected for user #0\n")
    elif verb == "enable":
        state = "already enabled" if ime_id in enabled else "now enabled"
        settings.put("secure", ENABLED_KEY, ":".join(dict.fromkeys([*enabled, ime_id])))
        ctx.out(f"Input method {ime_id}: {state} for user #0\n")
    else:
        settings.put("secure", ENABLED_KEY, ":".join(i for i in enabled if i != ime_id))
        if current(ctx) == ime_id:
            settings.put("secure", DEFAULT_KEY, LATIN_IME)
        ctx.out(f"Input method {ime_id}: now disabled for user #0\n")
    return 0


def adb_keyboard_receiver(ctx: Ctx, action: str, extras: dict[str, str]) -> str | None:
    """The AdbKeyboard app's answer (`result=-1, data="success"`), or None when it does not listen."""
    if not action.startswith("ADB_KEYBOARD_") or current(ctx) != ADB_KEYBOARD:
        return None
    from emulators.virtual.ui import input as ui_input

    if action == "ADB_KEYBOARD_INPUT_TEXT":
        try:
            text = base64.b64decode(extras.get("text", "")).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return 'result=-1, data="error: bad base64"'
        ui_input.text(ctx.device, text)
    elif action == "ADB_KEYBOARD_CLEAR_TEXT":
        view = ui_input.focused_edit(ctx.device)
        if view is not None:
            ui_input.set_text(ctx.device, view, "")
    return 'result=-1, data="success"'
