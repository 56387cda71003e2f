"""Which peer-suite tests cannot run against a virtual emulator, and why (the only skip list).

Three reasons are accepted, as issue 8 puts it: the test needs the internet, a USB cable, or an
APK that runs Dalvik code (the virtual emulator installs and lists APKs but runs no app code).
Everything else in the suites must pass; the runner reports any other failure as unexpected.
"""

from __future__ import annotations

USB = "needs a USB-attached device (waits on transport=usb)"
INTERNET = "needs the internet"
API_DEMOS = ("needs ApiDemos-debug.apk (io.appium.android.apis) installed and running its Dalvik code; "
             "its runtest.sh downloads it from GitHub")
U2_DEMO = "needs the u2testdemo APK (com.example.u2testdemo) installed and running its Dalvik code"

# suite -> test id (file::name, parameters stripped) -> reason
BY_NAME: dict[str, dict[str, str]] = {
    "adbutils": {
        "test_adb.py::test_wait_for": USB,
    },
    "u2-demo": {
        # these take the plain `d` fixture but start or inspect the demo app by package name
        **{f"test_app.py::{name}": U2_DEMO for name in (
            "test_wait_activity", "test_app_start_stop", "test_app_clear", "test_app_info",
            "test_auto_grant_permissions", "test_session")},
    },
}

# suite -> fixture that starts the suite's demo app -> reason
BY_FIXTURE: dict[str, dict[str, str]] = {
    "u2-mobile": {"dev": API_DEMOS},
    "u2-demo": {"app": U2_DEMO},
}


# Tests that should pass here but do not yet: each names what is missing. They run as strict xfails,
# so the day one passes the run fails until it is taken off this list.
KNOWN_GAPS: dict[str, dict[str, str]] = {}


def known_gap(suite: str, nodeid: str) -> str | None:
    return KNOWN_GAPS.get(suite, {}).get(nodeid.split("[", 1)[0].rsplit("/", 1)[-1])


def not_runnable(suite: str, nodeid: str, fixtures: tuple[str, ...]) -> str | None:
    """The reason `nodeid` cannot run here, or None when it must pass."""
    name = nodeid.split("[", 1)[0].rsplit("/", 1)[-1]
    reason = BY_NAME.get(suite, {}).get(name)
    if reason is not None:
        return reason
    return next((why for fixture, why in BY_FIXTURE.get(suite, {}).items() if fixture in fixtures), None)
