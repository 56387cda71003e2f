"""The framework's "isn't responding" dialog, which a slow cold boot of a real emulator often shows.

On a loaded CI host SystemUI misses its input deadline during boot, and the framework puts up
"System UI isn't responding" (buttons "Close app" and "Wait", ids `android:id/aerr_close` and
`android:id/aerr_wait`) over whatever is on screen. `dumpsys window` then names the dialog as the
focused window: `Application Not Responding: com.android.systemui`. The knob `anr.at_boot=PACKAGE`
(`-prop` or config.ini) makes the device show it once boot completes, so a harness can prove it
dismisses it instead of taking it for the product's screen.
"""

from __future__ import annotations

from collections.abc import Callable

from emulators.virtual.ui.view import Screen, View, column

APP_LABELS = {"com.android.systemui": "System UI"}


def window_title(package: str) -> str:
    """How WindowManager names the dialog's window (and so `mCurrentFocus`)."""
    return f"Application Not Responding: {package}"


def anr_screen(package: str, dismiss: Callable[[], None]) -> Screen:
    """The dialog; both buttons close it (Wait keeps the app, Close app would kill it)."""
    label = APP_LABELS.get(package, package)
    views = [
        View(cls="android.widget.TextView", text=f"{label} isn't responding", resource_id="android:id/alertTitle",
             style="title"),
        View(cls="android.widget.Button", text="Close app", resource_id="android:id/aerr_close", clickable=True,
             focusable=True, on_click=dismiss, style="button"),
        View(cls="android.widget.Button", text="Wait", resource_id="android:id/aerr_wait", clickable=True,
             focusable=True, on_click=dismiss, style="button"),
    ]
    return Screen(component=window_title(package), root=column("android", views))
